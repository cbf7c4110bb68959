/** A line's options checked and completed with the defaults, each error naming the line and the field. */
import type { BackoffOptions } from './backoff';
import type { LineOptions } from './line-types';
import { charTimeMs, silentIntervalMs } from './transport-create';
import type { TransportConfig } from './transport-types';

export interface LineSettings {
  timeoutMs: number;
  retries: number;
  maxOutstanding: number;
  interRequestDelayMs: number;
  queueTimeoutMs: number;
  maxQueuedDemand: number;
  reconnectAfterTimeouts: number;
  unitBackoff: BackoffOptions;
  reconnect: BackoffOptions;
  random: () => number;
}

const DEFAULTS = {
  timeoutMs: 1000,
  retries: 1,
  maxOutstanding: 1,
  queueTimeoutMs: 10000,
  maxQueuedDemand: 256,
  reconnectAfterTimeouts: 3,
  unitBackoff: { initialMs: 1000, maxMs: 60000, factor: 2, jitter: 0.2 },
  reconnect: { initialMs: 500, maxMs: 30000, factor: 2, jitter: 0.2 },
};

/** `serial`: the transport carries one request at a time (RTU), whatever the options say. */
export function lineSettings(options: LineOptions, serial: boolean): LineSettings {
  const name = options.name;
  return {
    timeoutMs: positive(options.timeoutMs ?? DEFAULTS.timeoutMs, 'timeoutMs', name),
    retries: nonNegativeInt(options.retries ?? DEFAULTS.retries, 'retries', name),
    maxOutstanding: serial ? 1 : Math.max(1, nonNegativeInt(options.maxOutstanding ?? DEFAULTS.maxOutstanding, 'maxOutstanding', name)),
    interRequestDelayMs: nonNegative(options.interRequestDelayMs ?? defaultTurnaround(options.transport), 'interRequestDelayMs', name),
    queueTimeoutMs: positive(options.queueTimeoutMs ?? DEFAULTS.queueTimeoutMs, 'queueTimeoutMs', name),
    maxQueuedDemand: Math.max(1, nonNegativeInt(options.maxQueuedDemand ?? DEFAULTS.maxQueuedDemand, 'maxQueuedDemand', name)),
    reconnectAfterTimeouts:
      options.transport.kind === 'rtu' ? 0 : nonNegativeInt(options.reconnectAfterTimeouts ?? DEFAULTS.reconnectAfterTimeouts, 'reconnectAfterTimeouts', name),
    unitBackoff: { ...DEFAULTS.unitBackoff, ...options.unitBackoff },
    reconnect: { ...DEFAULTS.reconnect, ...options.reconnect },
    random: options.random ?? Math.random,
  };
}

function defaultTurnaround(cfg: TransportConfig): number {
  if (cfg.kind !== 'rtu' || !(cfg.baudRate > 0)) return 0;
  const charMs = charTimeMs(cfg.baudRate, cfg.dataBits ?? 8, cfg.parity ?? 'none', cfg.stopBits ?? 1);
  return Math.ceil(silentIntervalMs(cfg.baudRate, charMs));
}

function positive(value: number, field: string, line: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`line "${line}": ${field} ${value} must be a number > 0`);
  return value;
}

function nonNegative(value: number, field: string, line: string): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`line "${line}": ${field} ${value} must be a number >= 0`);
  return value;
}

function nonNegativeInt(value: number, field: string, line: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`line "${line}": ${field} ${value} must be an integer >= 0`);
  return value;
}
