/** The health registry's view of any device poller's statistics (Modbus or IEC 61850). */
import type { DeviceHealthInput } from './types';

export interface PollStatistics {
  polls: { ok: number; partial: number; failed: number };
  lastGoodAt?: number;
  lastPollAt?: number;
  consecutiveFailures: number;
  latencyMs: { p50?: number; p95?: number };
  lastError?: string;
  /** 0 when the device has no fixed interval (flat out, or reports only). */
  intervalMs: number;
}

export function pollHealthInput(s: PollStatistics, line: string): DeviceHealthInput {
  const polls = s.polls.ok + s.polls.partial + s.polls.failed;
  return {
    line,
    lastGoodAt: s.lastGoodAt,
    lastPollAt: s.lastPollAt,
    successRate: polls ? (s.polls.ok + s.polls.partial) / polls : undefined,
    polls,
    failures: s.polls.failed,
    latencyP50Ms: s.latencyMs.p50,
    latencyP95Ms: s.latencyMs.p95,
    consecutiveFailures: s.consecutiveFailures,
    lastError: s.lastError,
    intervalMs: s.intervalMs || undefined,
  };
}
