/**
 * Interval energy from one energy counter: the counter's increase over each
 * clock-aligned interval. The counter at a boundary is interpolated between the
 * readings either side when they are at most `maxGapMs` apart; wider gaps are
 * marked, never filled in: an interval with no reading in it has no value, and
 * the energy counted across the gap is reported as `gapEnergy` on the interval
 * after it instead of being spread over intervals it cannot be placed in.
 * A counter that goes down is a rollover when it wraps past the configured
 * rollover value, and otherwise a reset or a meter replacement (flagged; that
 * step counts as zero rather than as a negative spike).
 */
import { intervalEnd, intervalStart } from './clock';

export interface IntervalResult {
  start: number;
  end: number;
  /** Counter increase in the interval (counter units), or null when no reading fell in it. */
  energy: number | null;
  /** True when readings covered the whole interval without a gap. */
  complete: boolean;
  /** A gap wider than maxGap touched this interval. */
  gap: boolean;
  /** The counter went down (reset or meter replaced) in this interval. */
  reset: boolean;
  /** The counter wrapped past its rollover value in this interval. */
  rollover: boolean;
  /** Energy counted across a gap that ended in this interval, not included in `energy`. */
  gapEnergy?: number;
}

export interface IntervalOptions {
  minutes: number;
  /** Readings further apart than this are a gap (default: one interval). */
  maxGapMs?: number;
  /** The value at which the counter wraps to zero; a drop that fits a wrap counts as one. */
  rollover?: number;
}

/** What a tracker remembers across a restart. */
export interface IntervalState {
  start: number;
  energy: number;
  complete: boolean;
  gap: boolean;
  reset: boolean;
  rollover: boolean;
  gapEnergy?: number;
  /** No reading fell in this interval (it opened while the device was silent). */
  empty?: boolean;
  /** Cached end of the interval. */
  end?: number;
  lastT: number;
  lastV: number;
}

const NONE: IntervalResult[] = [];

export class IntervalEnergy {
  readonly minutes: number;
  readonly maxGapMs: number;
  private readonly rolloverAt?: number;
  private state?: IntervalState;
  /** Readings older than the last one, ignored (a late or repeated reading). */
  late = 0;

  constructor(options: IntervalOptions) {
    this.minutes = options.minutes;
    this.maxGapMs = options.maxGapMs ?? options.minutes * 60_000;
    this.rolloverAt = options.rollover;
  }

  /** The current interval's start and energy so far, for predictions; undefined before the first reading. */
  get current(): Readonly<IntervalState> | undefined {
    return this.state;
  }

  /** End of the open interval (cached on the state: the time zone lookup is the costly part). */
  endOf(s: IntervalState): number {
    return (s.end ??= intervalEnd(s.start, this.minutes));
  }

  snapshot(): IntervalState | undefined {
    return this.state && { ...this.state };
  }

  restore(state: IntervalState | undefined): void {
    if (state && Number.isFinite(state.start) && Number.isFinite(state.lastT) && Number.isFinite(state.lastV)) this.state = { ...state };
  }

  /** Takes one good counter reading; returns the intervals it closed (oldest first). */
  add(t: number, v: number): IntervalResult[] {
    const s = this.state;
    if (!s) {
      this.state = this.fresh(t, v, t > intervalStart(t, this.minutes));
      return [];
    }
    if (t <= s.lastT) {
      this.late++;
      return [];
    }
    const out: IntervalResult[] = [];
    const { delta, reset, rollover } = this.step(s.lastV, v);
    if (t - s.lastT > this.maxGapMs) {
      // A gap: close what was open, mark the intervals the gap covered, and go on from t.
      const at = intervalStart(t, this.minutes);
      const next = this.fresh(t, v, true);
      if (at > s.start) {
        out.push(this.close(s, { gap: true, complete: false }));
        for (let b = intervalEnd(s.start, this.minutes); b < at; b = intervalEnd(b, this.minutes)) {
          out.push({ start: b, end: intervalEnd(b, this.minutes), energy: null, complete: false, gap: true, reset: false, rollover: false });
        }
      } else {
        next.energy = s.energy;
        next.empty = s.empty;
        next.reset = s.reset;
        next.rollover = s.rollover;
      }
      next.gap = true;
      next.reset ||= reset;
      next.rollover ||= rollover;
      next.gapEnergy = (at > s.start ? 0 : s.gapEnergy ?? 0) + delta;
      this.state = next;
      return out;
    }
    // No gap: split the step over every boundary it crosses, by linear interpolation.
    let from = s.lastT;
    let open = s;
    for (let b = this.endOf(s); b <= t; b = intervalEnd(b, this.minutes)) {
      this.credit(open, (delta * (b - from)) / (t - s.lastT), reset, rollover);
      out.push(this.close(open, {}));
      open = { start: b, energy: 0, complete: true, gap: false, reset: false, rollover: false, lastT: s.lastT, lastV: s.lastV };
      from = b;
    }
    this.credit(open, (delta * (t - from)) / (t - s.lastT), reset, rollover);
    open.lastT = t;
    open.lastV = v;
    this.state = open;
    return out;
  }

  /**
   * Closes the open interval when its end is more than maxGap ago and no reading came after it
   * (a device that stopped answering): it is reported as incomplete instead of waiting forever,
   * and each later interval without a reading is reported as a gap with no value.
   */
  expire(now: number): IntervalResult[] {
    const s0 = this.state;
    if (!s0 || now < this.endOf(s0) + this.maxGapMs) return NONE;
    const out: IntervalResult[] = [];
    for (let s = this.state; s && now >= this.endOf(s) + this.maxGapMs; s = this.state) {
      out.push(this.close(s, { gap: true, complete: false }));
      this.state = { start: this.endOf(s), energy: 0, empty: true, complete: false, gap: true, reset: false, rollover: false, lastT: s.lastT, lastV: s.lastV };
    }
    return out;
  }

  private credit(s: IntervalState, energy: number, reset: boolean, rollover: boolean): void {
    s.energy += energy;
    s.empty = false;
    s.reset ||= reset;
    s.rollover ||= rollover;
  }

  private fresh(t: number, v: number, partial: boolean): IntervalState {
    return { start: intervalStart(t, this.minutes), energy: 0, complete: !partial, gap: false, reset: false, rollover: false, lastT: t, lastV: v };
  }

  private close(s: IntervalState, over: Partial<IntervalResult>): IntervalResult {
    const result: IntervalResult = {
      start: s.start,
      end: intervalEnd(s.start, this.minutes),
      energy: s.empty ? null : s.energy,
      complete: s.complete,
      gap: s.gap,
      reset: s.reset,
      rollover: s.rollover,
      ...over,
    };
    if (s.gapEnergy !== undefined) result.gapEnergy = s.gapEnergy;
    return result;
  }

  private step(prev: number, v: number): { delta: number; reset: boolean; rollover: boolean } {
    if (v >= prev) return { delta: v - prev, reset: false, rollover: false };
    const top = this.rolloverAt;
    if (top !== undefined && prev <= top && top - prev + v < top / 2) {
      return { delta: top - prev + v, reset: false, rollover: true };
    }
    return { delta: 0, reset: true, rollover: false };
  }
}
