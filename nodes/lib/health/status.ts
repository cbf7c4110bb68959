/**
 * One rule for a device's status, whether its figures come from a registered
 * poller or from readings:
 * - offline: the unit is backing off, or its last `offlineAfterFailures` polls failed
 * - stale: no good reading for `staleAfterMs` (default three poll intervals, at least 10 s)
 *   while polls do not fail outright: the poller stopped, or the values come from a cache
 * - unknown: nothing heard yet
 */
import type { BackoffState, DeviceStatus } from './types';

/** Failed polls in a row after which a device counts as offline, unless the rules say otherwise. */
export const OFFLINE_AFTER_FAILURES = 3;

export interface StatusRules {
  offlineAfterFailures?: number;
  staleAfterMs?: number;
}

export interface StatusFacts {
  lastGoodAt: number | null;
  lastPollAt: number | null;
  consecutiveFailures: number;
  backoff: BackoffState;
  intervalMs?: number;
}

function staleLimitMs(facts: Pick<StatusFacts, 'intervalMs'>, rules: StatusRules): number {
  return rules.staleAfterMs ?? Math.max(3 * (facts.intervalMs ?? 0), 10000);
}

export function deriveStatus(f: StatusFacts, now: number, rules: StatusRules = {}): DeviceStatus {
  if (f.lastPollAt === null && f.lastGoodAt === null) return 'unknown';
  if (f.backoff.active || f.consecutiveFailures >= (rules.offlineAfterFailures ?? OFFLINE_AFTER_FAILURES)) return 'offline';
  const limit = staleLimitMs(f, rules);
  const heard = Math.max(f.lastPollAt ?? 0, f.lastGoodAt ?? 0);
  if (now - heard > limit) return 'stale';
  if (f.lastGoodAt === null) return f.consecutiveFailures > 0 ? 'offline' : 'unknown';
  if (now - f.lastGoodAt > limit) return 'stale';
  return 'online';
}
