export { RegisterCache } from './cache';
export type { CacheOptions, CacheRead, DeviceSnapshot, DeviceWriter } from './cache';
export { RegisterTable } from './register-table';
