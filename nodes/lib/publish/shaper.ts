/**
 * Decides what is published and when, independently of how often devices are polled:
 * per-device publish intervals (the latest value, or min/max/avg over the window) and
 * report-by-exception with a deadband per point.
 */
import type { PointValue, Quality } from '../reading';
import type { AggregateWindow, PublishRecord } from './record';
import { Deadband, firstMatch, NameRule } from './rules';
import { own } from '../own';

export type Aggregate = AggregateWindow['aggregate'];

export interface ShaperOptions {
  /** Default publish interval; 0 publishes every reading as it arrives. */
  intervalMs: number;
  /** Per-device intervals, first match wins (see rules.ts). */
  intervals?: NameRule<number>[];
  aggregate: Aggregate;
  /** Report by exception: publish a point only when it moved by more than its deadband. */
  rbe: boolean;
  deadbands?: NameRule<Deadband>[];
  /** With report by exception, publish every point at least this often anyway (0 = never). */
  heartbeatMs?: number;
}

interface PointStats {
  min: number;
  max: number;
  sum: number;
  count: number;
  latest: PointValue;
}

interface Window {
  intervalMs: number;
  timer?: NodeJS.Timeout;
  first?: PublishRecord;
  last?: PublishRecord;
  samples: number;
  quality: Quality;
  points: Map<string, PointStats>;
}

const RANK: Record<Quality, number> = { good: 0, stale: 1, bad: 2 };

export class Shaper {
  private readonly windows = new Map<string, Window>();
  private readonly published = new Map<string, Map<string, { value: PointValue; at: number }>>();

  constructor(private readonly opt: ShaperOptions, private readonly emit: (record: PublishRecord) => void) {}

  add(record: PublishRecord): void {
    // Test readings never share a window or a deadband state with production ones.
    const key = `${record.test ? 'T' : 'P'}:${record.device}`;
    let w = this.windows.get(key);
    if (!w) {
      w = { intervalMs: this.intervalFor(record.device), samples: 0, quality: 'good', points: new Map() };
      this.windows.set(key, w);
      if (w.intervalMs > 0) {
        const win = w;
        w.timer = setInterval(() => this.close(key, win), w.intervalMs);
      }
    }
    if (w.intervalMs === 0) {
      this.publish(key, record);
      return;
    }
    this.accumulate(w, record);
  }

  /** Publishes every open window now (on shutdown, so nothing collected is lost). */
  flush(): void {
    for (const [key, w] of this.windows) this.close(key, w);
  }

  stop(): void {
    for (const w of this.windows.values()) if (w.timer) clearInterval(w.timer);
    this.windows.clear();
  }

  private intervalFor(device: string): number {
    return (this.opt.intervals && firstMatch(this.opt.intervals, device)) ?? this.opt.intervalMs;
  }

  private accumulate(w: Window, r: PublishRecord): void {
    if (!w.first) w.first = r;
    w.last = r;
    w.samples++;
    if (RANK[r.quality] > RANK[w.quality]) w.quality = r.quality;
    for (const [name, v] of Object.entries(r.values)) {
      let p = w.points.get(name);
      if (!p) {
        p = { min: Infinity, max: -Infinity, sum: 0, count: 0, latest: v };
        w.points.set(name, p);
      }
      p.latest = v;
      if (typeof v === 'number') {
        p.min = Math.min(p.min, v);
        p.max = Math.max(p.max, v);
        p.sum += v;
        p.count++;
      }
    }
  }

  private close(key: string, w: Window): void {
    if (!w.first || !w.last) return;
    const agg = this.opt.aggregate;
    const values: Record<string, PointValue> = {};
    for (const [name, p] of w.points) {
      if (agg === 'latest' || p.count === 0) values[name] = p.latest;
      else if (agg === 'min') values[name] = p.min;
      else if (agg === 'max') values[name] = p.max;
      else values[name] = p.sum / p.count;
    }
    const record: PublishRecord = {
      ...w.last,
      quality: w.quality,
      values,
      window: { aggregate: agg, from: w.first.ts, to: w.last.ts, samples: w.samples },
    };
    w.first = undefined;
    w.last = undefined;
    w.samples = 0;
    w.quality = 'good';
    w.points.clear();
    this.publish(key, record);
  }

  private publish(key: string, record: PublishRecord): void {
    if (!this.opt.rbe) {
      this.emit(record);
      return;
    }
    const changed = this.changedPoints(key, record);
    if (!changed.length) return;
    const values: Record<string, PointValue> = {};
    const units: Record<string, string> = {};
    for (const name of changed) {
      values[name] = record.values[name];
      const unit = own(record.units, name);
      if (unit !== undefined) units[name] = unit;
    }
    this.emit({ ...record, values, units });
  }

  private changedPoints(key: string, record: PublishRecord): string[] {
    let last = this.published.get(key);
    if (!last) {
      last = new Map();
      this.published.set(key, last);
    }
    const heartbeat = this.opt.heartbeatMs ?? 0;
    const changed: string[] = [];
    for (const [name, v] of Object.entries(record.values)) {
      const prev = last.get(name);
      if (!prev || (heartbeat > 0 && record.ts - prev.at >= heartbeat) || this.moved(name, prev.value, v)) {
        changed.push(name);
        last.set(name, { value: v, at: record.ts });
      }
    }
    return changed;
  }

  private moved(name: string, prev: PointValue, v: PointValue): boolean {
    if (typeof prev !== 'number' || typeof v !== 'number') return prev !== v;
    const band = (this.opt.deadbands && firstMatch(this.opt.deadbands, name)) ?? { amount: 0, percent: false };
    const limit = band.percent ? (Math.abs(prev) * band.amount) / 100 : band.amount;
    return limit === 0 ? v !== prev : Math.abs(v - prev) > limit;
  }
}
