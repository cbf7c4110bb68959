/** Maps line and device statistics onto the health registry's inputs. */
import type { DeviceHealthInput, LineHealthInput } from '../health/types';
import type { DeviceStats } from './device-poller';
import type { LineStats } from './line';

export function deviceHealthInput(s: DeviceStats): DeviceHealthInput {
  const polls = s.polls.ok + s.polls.partial + s.polls.failed;
  return {
    line: s.line,
    lastGoodAt: s.lastGoodAt,
    lastPollAt: s.lastPollAt,
    successRate: polls ? (s.polls.ok + s.polls.partial) / polls : undefined,
    polls,
    failures: s.polls.failed,
    latencyP50Ms: s.latencyMs.p50,
    latencyP95Ms: s.latencyMs.p95,
    consecutiveFailures: s.consecutiveFailures,
    backoff: s.unit.backingOff
      ? { active: true, retryAt: s.unit.retryAt, backoffMs: s.unit.backoffMs }
      : false,
    lastError: s.lastError,
    intervalMs: s.intervalMs,
  };
}

export function lineHealthInput(s: LineStats): LineHealthInput {
  return {
    connected: s.connected,
    state: s.state,
    queueDepth: s.queueDepth,
    inFlight: s.inFlight,
    requestsPerSec: s.requestsPerSec,
    devices: s.devices,
    lastError: s.lastError,
    unitsBackingOff: s.unitsBackingOff,
  };
}
