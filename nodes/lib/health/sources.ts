/**
 * Adapters from the engine's own statistics to health sources, so wiring a
 * poller is one line: `registerPoller(health, poller)`.
 */
import type { DeviceStats } from '../modbus/device-poller';
import type { HealthRegistry } from './registry';
import type { DeviceHealthInput } from './types';

/** A Modbus device poller's stats as device health (success rate since the poller started). */
export function pollerHealth(s: DeviceStats): DeviceHealthInput {
  const polls = s.polls.ok + s.polls.partial + s.polls.failed;
  return {
    line: s.line,
    lastGoodAt: s.lastGoodAt,
    lastPollAt: s.lastPollAt,
    polls,
    failures: s.polls.failed,
    successRate: polls ? (s.polls.ok + s.polls.partial) / polls : undefined,
    latencyP50Ms: s.latencyMs.p50,
    latencyP95Ms: s.latencyMs.p95,
    consecutiveFailures: s.consecutiveFailures,
    backoff: { active: s.unit.backingOff, retryAt: s.unit.retryAt, backoffMs: s.unit.backoffMs },
    lastError: s.lastError,
    intervalMs: s.intervalMs,
  };
}

export function registerPoller(registry: HealthRegistry, poller: { stats(): DeviceStats }, id = poller.stats().device): () => void {
  return registry.registerDevice(id, () => pollerHealth(poller.stats()));
}
