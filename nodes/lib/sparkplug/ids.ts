/**
 * The Sparkplug B topic namespace: `spBv1.0/<group>/<type>/<edge node>[/<device>]` and
 * `spBv1.0/STATE/<host>`. Ids are MQTT topic levels, so they may not be empty and may not
 * contain `/`, `+` or `#`.
 */

export const NAMESPACE = 'spBv1.0';

export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';

/** The reason an id cannot be a topic level, or undefined when it can. */
export function idProblem(value: string): string | undefined {
  if (!value) return 'is empty';
  const bad = /[/+#]/.exec(value);
  if (bad) return `contains "${bad[0]}" (not allowed in a Sparkplug id)`;
  return undefined;
}

/** Throws `<field> "<value>" <problem>` when the id cannot be used. */
export function checkId(field: string, value: string): string {
  const problem = idProblem(value);
  if (problem) throw new Error(`${field} "${value}" ${problem}`);
  return value;
}

export interface EdgeIds {
  groupId: string;
  edgeNodeId: string;
}

export function nodeTopic(ids: EdgeIds, type: NodeMessageType): string {
  return `${NAMESPACE}/${ids.groupId}/${type}/${ids.edgeNodeId}`;
}

export function deviceTopic(ids: EdgeIds, type: DeviceMessageType, deviceId: string): string {
  return `${NAMESPACE}/${ids.groupId}/${type}/${ids.edgeNodeId}/${deviceId}`;
}

export function stateTopic(hostId: string): string {
  return `${NAMESPACE}/STATE/${hostId}`;
}

/** The device id of a DCMD topic of this edge node, or undefined for any other topic. */
export function dcmdDevice(ids: EdgeIds, topic: string): string | undefined {
  const prefix = `${NAMESPACE}/${ids.groupId}/DCMD/${ids.edgeNodeId}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const device = topic.slice(prefix.length);
  return device && !device.includes('/') ? device : undefined;
}
