/**
 * One rule on one point of one device: its condition, its delays and its
 * active alert. The engine keeps one tracker per (device, point, rule) it has
 * seen; the step functions below are the hot path and allocate nothing unless
 * the alert changes state.
 */
import type { PointValue } from '../reading';
import type { AlertPayload, Rule } from './types';

export interface Tracker {
  readonly rule: Rule;
  readonly id: string;
  readonly device: string;
  readonly point: string;
  unit: string;
  alert: AlertPayload | undefined;
  /** When the alarm condition started holding (NaN: it does not hold). */
  pendingSince: number;
  /** When the return to normal started holding (NaN: it does not hold). */
  clearingSince: number;
  /** The value and crossed limit behind the pending condition, for a delayed raise. */
  pendingValue: PointValue;
  pendingLimit: PointValue;
  clearValue: PointValue;
  /** Rate rules: the previous sample. */
  lastValue: number;
  lastTs: number;
  /** Stale rules: the last good value; offline rules: the last reading. */
  lastSeenAt: number;
  /** A type mismatch was reported already. */
  warned: boolean;
}

export function newTracker(rule: Rule, device: string, point: string, unit: string, seenAt: number): Tracker {
  return {
    rule,
    id: `${device}/${point}/${rule.id}`,
    device,
    point,
    unit,
    alert: undefined,
    pendingSince: NaN,
    clearingSince: NaN,
    pendingValue: null,
    pendingLimit: null,
    clearValue: null,
    lastValue: NaN,
    lastTs: NaN,
    lastSeenAt: seenAt,
    warned: false,
  };
}

/** 1: alarm condition; -1: back to normal (beyond the deadband); 0: in between, nothing changes. */
export type Condition = 1 | 0 | -1;

/**
 * Condition of a limit rule for a numeric value. Sets `t.pendingLimit` to the
 * limit crossed (for band rules, the side).
 */
export function limitCondition(t: Tracker, v: number): Condition {
  const r = t.rule;
  switch (r.kind) {
    case 'high':
    case 'highHigh':
      t.pendingLimit = r.limit;
      return v > r.limit ? 1 : v <= r.limit - r.deadband ? -1 : 0;
    case 'low':
    case 'lowLow':
      t.pendingLimit = r.limit;
      return v < r.limit ? 1 : v >= r.limit + r.deadband ? -1 : 0;
    case 'band':
      if (v > r.high) {
        t.pendingLimit = r.high;
        return 1;
      }
      if (v < r.low) {
        t.pendingLimit = r.low;
        return 1;
      }
      return v >= r.low + r.deadband && v <= r.high - r.deadband ? -1 : 0;
    default:
      return 0;
  }
}

/** Change per `per` seconds between the previous sample and this one; NaN on the first sample. */
export function rateOf(t: Tracker, v: number, ts: number): number {
  const dt = ts - t.lastTs;
  const rate = dt > 0 ? ((v - t.lastValue) / dt) * 1000 * t.rule.per : NaN;
  if (!(dt < 0)) {
    t.lastValue = v;
    t.lastTs = ts;
  }
  return rate;
}

export function rateCondition(t: Tracker, rate: number): Condition {
  const r = t.rule;
  t.pendingLimit = r.direction === 'fall' ? -r.limit : r.limit;
  const up = rate > r.limit;
  const down = rate < -r.limit;
  const alarm = r.direction === 'rise' ? up : r.direction === 'fall' ? down : up || down;
  if (alarm) return 1;
  const calm = r.limit - r.deadband;
  const normal = r.direction === 'rise' ? rate <= calm : r.direction === 'fall' ? rate >= -calm : Math.abs(rate) <= calm;
  return normal ? -1 : 0;
}

/** Loose on number/boolean (a trip bit may arrive as 1 or true), strict otherwise. */
export function stateMatches(alarmValue: PointValue, v: PointValue): boolean {
  if (typeof alarmValue === 'boolean' && typeof v === 'number') return (v !== 0) === alarmValue;
  if (typeof alarmValue === 'number' && typeof v === 'boolean') return (alarmValue !== 0) === v;
  return alarmValue === v;
}
