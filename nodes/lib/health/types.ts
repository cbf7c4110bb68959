/**
 * What the health node reports. Sources (pollers, lines, queues) hand in
 * whatever figures they keep; the registry normalises them into these shapes.
 */

export type DeviceStatus = 'online' | 'offline' | 'stale' | 'unknown';

export interface BackoffState {
  active: boolean;
  /** When the next attempt is due (ms since epoch). */
  retryAt?: number;
  /** The current backoff period (ms). */
  backoffMs?: number;
}

/** What a device source reports; every field optional, missing ones are derived. */
export interface DeviceHealthInput {
  line?: string;
  status?: DeviceStatus;
  /** Last reading with good quality (ms since epoch). */
  lastGoodAt?: number;
  /** Last poll, good or not. */
  lastPollAt?: number;
  /** Share of successful polls, 0..1, over the source's own window. */
  successRate?: number;
  polls?: number;
  failures?: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  consecutiveFailures?: number;
  backoff?: boolean | BackoffState;
  lastError?: string;
  /** Poll interval, to tell a silent device (stale) from a slow one. */
  intervalMs?: number;
}

export interface DeviceHealth {
  device: string;
  line?: string;
  status: DeviceStatus;
  lastGoodAt: number | null;
  lastPollAt: number | null;
  successRate: number | null;
  polls: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  consecutiveFailures: number;
  backoff: BackoffState;
  lastError?: string;
  /** Where the figures came from: a registered poller, or readings seen by the health node. */
  source: 'registered' | 'readings';
}

/** Structurally a subset of the line engine's LineStats, so `() => line.stats()` registers as is. */
export interface LineHealthInput {
  connected: boolean;
  state?: string;
  queueDepth: number;
  inFlight?: number;
  requestsPerSec: number;
  devices?: number;
  lastError?: string;
  unitsBackingOff?: { unitId: number }[];
}

export interface LineHealth {
  line: string;
  connected: boolean;
  state: string;
  queueDepth: number;
  requestsPerSec: number;
  devices: number | null;
  unitsBackingOff: number[];
  lastError?: string;
}

/** Structurally a subset of the durable queue's QueueStats. */
export interface QueueHealthInput {
  depth: number;
  oldestAgeMs: number;
  drops: number;
  inFlight?: number;
  diskError?: string | null;
  memoryOnly?: boolean;
}

export interface QueueHealth {
  queue: string;
  depth: number;
  oldestAgeMs: number;
  drops: number;
  diskError: string | null;
  memoryOnly: boolean;
}

export interface ClockHealth {
  server: string;
  /** Server clock minus local clock: positive when this machine is behind. */
  offsetMs: number | null;
  delayMs: number | null;
  stratum: number | null;
  checkedAt: number | null;
  error?: string;
}

export interface SystemHealth {
  /** This process, percent of one core. */
  cpuPercent: number;
  /** All cores of the machine, percent of total. */
  systemCpuPercent: number;
  load1m: number;
  rssBytes: number;
  heapUsedBytes: number;
  memoryTotalBytes: number;
  memoryFreeBytes: number;
  memoryUsedPercent: number;
  disk: { path: string; freeBytes: number; totalBytes: number; freePercent: number } | { path: string; error: string };
  eventLoopLagMs: { mean: number; p99: number; max: number };
  processUptimeS: number;
  systemUptimeS: number;
  clock?: ClockHealth;
}

/** One IEC 104 outstation or master, as its node reports it. */
export interface Iec104Health {
  role: 'outstation' | 'master';
  state: string;
  connections: Array<{ remote: string; state: string; active?: boolean; unacked: number; queued: number; buffered?: number; dropped?: number; iSent: number; iReceived: number }>;
  counts: Record<string, number>;
  /** Outstation: master's clock minus this RTU's at the last clock synchronisation. */
  clockOffsetMs?: number;
  lastError?: string;
}

export interface HealthSnapshot {
  timestamp: number;
  system?: SystemHealth;
  devices: Record<string, DeviceHealth>;
  lines: Record<string, LineHealth>;
  queues: Record<string, QueueHealth>;
  /** IEC 104 outstations and masters, when any are deployed. */
  iec104?: Record<string, Iec104Health>;
  /** Sources that failed to report, with why. */
  errors: string[];
}
