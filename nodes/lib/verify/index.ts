export * from './types';
export { verifyDevices, verifyReading, summarise } from './verify';
export type { VerifyOptions } from './verify';
export { VerifySession } from './session';
export type { TestModePanel } from './session';
