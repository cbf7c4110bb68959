export { ModbusGateway, checkDeviceMap } from './gateway';
export { answerFor, carryWrite, WriteTimeoutError } from './write-carrier';
export type { CarryResult, LateAnswer } from './write-carrier';
export type { GatewayDevice, GatewayOptions, GatewayStats, WriteEvent } from './gateway';
export { parseAllowEntry, permissionForPoint } from './allow-list';
export type { AllowEntry, WritePermission, WriteRule } from './allow-list';
export { gatewaySettings, DEFAULT_GATEWAY_PORT } from './config';
export type { GatewayNodeFields, GatewaySettings } from './config';
