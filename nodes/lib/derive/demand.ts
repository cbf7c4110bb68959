/**
 * Demand from interval energy: the average power over a demand window, either
 * each interval on its own (fixed, "block" demand) or the last N intervals
 * together, moving on by one interval (sliding, "rolling" demand); the maximum
 * demand of the local day and month with the time of its interval; and the
 * demand predicted for the end of the open window from the energy so far and the
 * present rate of consumption.
 */
import { dayKey, monthKey } from './clock';
import type { IntervalResult } from './interval-energy';

export interface DemandPeak {
  /** Day `YYYY-MM-DD` or month `YYYY-MM`, local time. */
  key: string;
  value: number;
  /** Start of the window's last interval (ms since epoch). */
  at: number;
}

export interface DemandResult {
  /** Average power over the window (counter units per hour), null when an interval in it has no value. */
  demand: number | null;
  complete: boolean;
  maxDay?: DemandPeak;
  maxMonth?: DemandPeak;
}

export interface DemandState {
  recent: Array<{ energy: number | null; complete: boolean }>;
  maxDay?: DemandPeak;
  maxMonth?: DemandPeak;
}

export class Demand {
  private recent: DemandState['recent'] = [];
  private maxDay?: DemandPeak;
  private maxMonth?: DemandPeak;

  /** `windowIntervals` 1 is fixed demand; more is a sliding window of that many intervals. */
  constructor(
    readonly minutes: number,
    readonly windowIntervals = 1,
  ) {}

  private get windowHours(): number {
    return (this.minutes * this.windowIntervals) / 60;
  }

  onInterval(r: IntervalResult): DemandResult {
    this.recent.push({ energy: r.energy, complete: r.complete });
    if (this.recent.length > this.windowIntervals) this.recent.shift();
    let sum = 0;
    let complete = this.recent.length === this.windowIntervals;
    let missing = !complete;
    for (const i of this.recent) {
      if (i.energy === null) missing = true;
      else sum += i.energy;
      complete &&= i.complete;
    }
    const demand = missing ? null : sum / this.windowHours;
    if (demand !== null) {
      this.maxDay = peak(this.maxDay, dayKey(r.start), demand, r.start);
      this.maxMonth = peak(this.maxMonth, monthKey(r.start), demand, r.start);
    }
    return { demand, complete, maxDay: this.maxDay, maxMonth: this.maxMonth };
  }

  /**
   * Demand expected at the end of the open window if consumption goes on at `ratePerHour`:
   * the energy of the window's closed intervals, the open interval's energy so far, and the rate
   * times the time left. Null until a rate and a full window of earlier intervals are known.
   */
  predict(openEnergy: number, openEnd: number, now: number, ratePerHour: number | null): number | null {
    if (ratePerHour === null || !Number.isFinite(ratePerHour)) return null;
    const earlier = this.windowIntervals > 1 ? this.recent.slice(Math.max(0, this.recent.length - (this.windowIntervals - 1))) : [];
    if (earlier.length < this.windowIntervals - 1 || earlier.some((i) => i.energy === null)) return null;
    const closed = this.windowIntervals > 1 ? earlier.reduce((t, i) => t + (i.energy as number), 0) : 0;
    const left = Math.max(0, openEnd - now) / 3_600_000;
    return (closed + openEnergy + ratePerHour * left) / this.windowHours;
  }

  snapshot(): DemandState {
    return { recent: this.recent.map((i) => ({ ...i })), maxDay: this.maxDay, maxMonth: this.maxMonth };
  }

  restore(s: DemandState | undefined): void {
    if (!s || !Array.isArray(s.recent)) return;
    this.recent = s.recent.slice(-this.windowIntervals);
    this.maxDay = s.maxDay;
    this.maxMonth = s.maxMonth;
  }
}

function peak(current: DemandPeak | undefined, key: string, value: number, at: number): DemandPeak {
  if (!current || current.key !== key || value > current.value) return { key, value, at };
  return current;
}
