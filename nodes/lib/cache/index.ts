export { RegisterCache } from './cache';
export type { CacheOptions, CacheRead, DeviceSnapshot, DeviceWriteOptions, DeviceWriter } from './cache';
export { RegisterTable } from './register-table';
export { answerQuery, queryOf, valuesByDevice } from './query';
export type { CacheQuery, QueryAnswer, QueryMessage } from './query';
