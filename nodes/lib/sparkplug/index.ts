export { checkId, idProblem, nodeTopic, deviceTopic, stateTopic, NAMESPACE } from './ids';
export type { EdgeIds } from './ids';
export { SparkplugEdgeNode } from './edge-node';
export type { CommandEvent, EdgeNodeOptions, EdgeState, EdgeStats, NodeMetricDef, StoredEvent } from './edge-node';
export type { ConnectionSettings } from './connection';
export { QUALITY_CODE, sparkplugType } from './metrics';
export { sparkplugSettings, parseWriteAllowList } from './settings';
export type { SparkplugFields, SparkplugSettings } from './settings';
export { NODE_METRICS, nodeHealthReader } from './node-health';
