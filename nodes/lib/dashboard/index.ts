export * from './types';
export { DashboardModel } from './model';
export type { ChartMessage, DashboardModelOptions } from './model';
export { DEFAULT_KEY_POINTS, explainStatus, formatValue, keyValues } from './format';
