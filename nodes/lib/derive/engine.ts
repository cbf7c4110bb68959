/**
 * rtu-derive's engine: extends each reading with derived points, emits site
 * readings computed across devices, and turns energy counters into interval
 * energy and demand readings, all in the reading message contract.
 *
 * - Device points: evaluated on every reading of a matching device, added to that
 *   reading (payload, units, per-point quality, `rtu.points[name].derived`).
 * - Site points: evaluated every tick from the latest values of other devices and
 *   emitted as a reading of their own device (e.g. `site`).
 * - Intervals: one reading per device and interval length at each boundary, as
 *   device `<device>/<minutes>min`, with `rtu.interval` saying what it covers;
 *   the demand predicted for the end of the window is added to every reading.
 * Quality: any bad input makes the derived point bad, else any stale input stale.
 */
import { compilePattern, NameMatcher } from '../alert/glob';
import type { PointInfo, Quality, ReadingMessage } from '../reading';
import { intervalEnd } from './clock';
import { Demand, DemandResult, DemandState } from './demand';
import { CompiledExpression, compileExpression, evaluate } from './expression-compile';
import { IntervalEnergy, IntervalResult, IntervalState } from './interval-energy';
import { BAD, GOOD, PointTable, STALE } from './point-table';
import { DeriveProblem, DerivedPointSpec, IntervalSpec, validateIntervals, validatePoints } from './spec';

const QUALITY: readonly Quality[] = ['good', 'stale', 'bad'];
const CODE: Record<string, number> = { good: GOOD, stale: STALE, bad: BAD };

export interface DeriveOptions {
  points?: unknown[];
  intervals?: unknown[];
  /** Site inputs older than this count as stale (ms); default 60 s. */
  staleAfterMs?: number;
  /** Derived points a registry profile declares for a model/profile, applied to its readings. */
  profilePoints?: (model: string, profile: string | undefined) => readonly DerivedPointSpec[] | undefined;
}

interface DeviceRow {
  spec: DerivedPointSpec;
  expr: CompiledExpression;
  info: PointInfo;
}

interface Tracker {
  spec: IntervalSpec;
  name: string;
  energy: IntervalEnergy;
  demand?: Demand;
  prev?: { t: number; v: number };
  rate: number | null;
}

interface DeviceState {
  rows: DeviceRow[];
  trackers: Tracker[];
  /** Merged units and point info, cached by the identity of the reading's own (shared) objects. */
  unitsFrom?: Record<string, string>;
  units?: Record<string, string>;
  pointsFrom?: Record<string, PointInfo>;
  points?: Record<string, PointInfo>;
  intervalSeq: number;
  line?: string;
  model?: string;
  profile?: string;
}

interface SiteDevice {
  name: string;
  rows: Array<{ spec: DerivedPointSpec; expr: CompiledExpression }>;
  units: Record<string, string>;
  points: Record<string, PointInfo>;
  seq: number;
}

/** Intervals closed by one reading or tick, merged per interval length into one reading. */
interface ClosedInterval {
  minutes: number;
  result: IntervalResult;
  payload: Record<string, number | null>;
  units: Record<string, string>;
  worst: number;
}
type Closed = Map<string, ClosedInterval>;

export interface DeriveSnapshot {
  trackers: Record<string, Record<string, { energy?: IntervalState; demand?: DemandState; prev?: { t: number; v: number } }>>;
}

function derivedInfo(spec: DerivedPointSpec): PointInfo {
  return Object.freeze({ derived: true, expression: spec.expression, ...(spec.description ? { description: spec.description } : {}) });
}

function demandUnit(counterUnit: string | undefined): string {
  if (!counterUnit) return '';
  return counterUnit.endsWith('h') ? counterUnit.slice(0, -1) : `${counterUnit}/h`;
}

export class DeriveEngine {
  readonly problems: DeriveProblem[] = [];
  readonly table = new PointTable();
  private readonly deviceSpecs: Array<{ spec: DerivedPointSpec; matches: NameMatcher }> = [];
  private readonly intervalSpecs: Array<{ spec: IntervalSpec; matches: NameMatcher }> = [];
  private readonly sites: SiteDevice[] = [];
  private readonly devices = new Map<string, DeviceState>();
  private readonly staleAfterMs: number;
  private saved: DeriveSnapshot['trackers'] = {};

  constructor(private readonly options: DeriveOptions = {}) {
    this.staleAfterMs = options.staleAfterMs ?? 60_000;
    for (const spec of validatePoints(options.points ?? [], this.problems)) {
      if (spec.site) this.addSite(spec);
      else this.deviceSpecs.push({ spec, matches: compilePattern(spec.device) });
    }
    for (const spec of validateIntervals(options.intervals ?? [], this.problems)) {
      this.intervalSpecs.push({ spec, matches: compilePattern(spec.device) });
    }
  }

  get siteDevices(): string[] {
    return this.sites.map((s) => s.name);
  }

  get deviceCount(): number {
    return this.devices.size;
  }

  private addSite(spec: DerivedPointSpec): void {
    const name = spec.device as string;
    let site = this.sites.find((s) => s.name === name);
    if (!site) {
      site = { name, rows: [], units: {}, points: {}, seq: 0 };
      this.sites.push(site);
    }
    site.rows.push({ spec, expr: compileExpression(spec.expression, { table: this.table }) });
    if (spec.unit) site.units[spec.name] = spec.unit;
    site.points[spec.name] = derivedInfo(spec);
  }

  private state(msg: ReadingMessage): DeviceState {
    const device = msg.rtu.device;
    let ds = this.devices.get(device);
    if (ds) return ds;
    this.table.enter(device);
    const specs = this.deviceSpecs.filter((d) => d.matches(device)).map((d) => d.spec);
    const fromProfile = msg.rtu.model && this.options.profilePoints ? this.options.profilePoints(msg.rtu.model, msg.rtu.profile) ?? [] : [];
    const rows: DeviceRow[] = [];
    for (const spec of [...fromProfile, ...specs]) {
      try {
        rows.push({ spec, expr: compileExpression(spec.expression, { table: this.table, device }), info: derivedInfo(spec) });
      } catch (err) {
        this.problems.push({ row: `device ${device}, derived point ${spec.name}`, field: 'expression', message: (err as Error).message });
      }
    }
    const trackers: Tracker[] = this.intervalSpecs
      .filter((i) => i.matches(device))
      .map(({ spec }) => {
        const name = spec.name ?? `${spec.point}_${spec.minutes}min`;
        const t: Tracker = {
          spec,
          name,
          energy: new IntervalEnergy({ minutes: spec.minutes, rollover: spec.rollover, maxGapMs: spec.maxGap !== undefined ? spec.maxGap * 1000 : undefined }),
          demand: spec.demand === 'none' ? undefined : new Demand(spec.minutes, spec.window ?? 1),
          rate: null,
        };
        const saved = this.saved[device]?.[name];
        if (saved) {
          t.energy.restore(saved.energy);
          t.demand?.restore(saved.demand);
          t.prev = saved.prev;
        }
        return t;
      });
    ds = { rows, trackers, intervalSeq: 0 };
    this.devices.set(device, ds);
    return ds;
  }

  /** Extends the reading in place and returns it, followed by any interval readings it completed. */
  onReading(msg: ReadingMessage): ReadingMessage[] {
    const meta = msg.rtu;
    const ds = this.state(msg);
    ds.line = meta.line;
    ds.model = meta.model;
    ds.profile = meta.profile;
    const t = Number.isFinite(meta.timestamp) ? meta.timestamp : Date.now();
    const q = CODE[meta.quality] ?? BAD;
    const pq = meta.pointQuality;
    const payload = msg.payload;
    const inputs = this.table.pointsOf(meta.device);
    if (inputs) for (const [name, slot] of inputs) this.table.set(slot, payload[name], pq?.[name] ? CODE[pq[name]] : q, t);
    if (!ds.rows.length && !ds.trackers.length) return [msg];

    let pointQuality = pq;
    let extraUnits: Record<string, string> | undefined;
    for (const row of ds.rows) {
      const { value, quality } = evaluate(row.expr);
      payload[row.spec.name] = value;
      const slot = this.table.find(meta.device, row.spec.name);
      if (slot !== undefined) this.table.set(slot, value, quality, t);
      if (quality !== q) {
        if (pointQuality === pq) pointQuality = { ...pq };
        (pointQuality as Record<string, Quality>)[row.spec.name] = QUALITY[quality];
      }
      if (row.spec.unit) (extraUnits ??= {})[row.spec.name] = row.spec.unit;
    }

    const out: ReadingMessage[] = [msg];
    let closed: Closed | undefined;
    for (const tr of ds.trackers) {
      const v = payload[tr.spec.point];
      const good = typeof v === 'number' && (pq?.[tr.spec.point] ?? meta.quality) === 'good';
      if (good) {
        if (tr.prev && t > tr.prev.t) tr.rate = ((v - tr.prev.v) / (t - tr.prev.t)) * 3_600_000;
        if (!tr.prev || t > tr.prev.t) tr.prev = { t, v };
        for (const r of tr.energy.add(t, v)) this.collect((closed ??= new Map()), tr, r, meta.units[tr.spec.point]);
      }
      const open = tr.energy.current;
      if (tr.demand && open) {
        const name = `${tr.name}_demand_predicted`;
        payload[name] = tr.demand.predict(open.energy, tr.energy.endOf(open), t, tr.rate !== null && tr.rate >= 0 ? tr.rate : null);
        (extraUnits ??= {})[name] = demandUnit(meta.units[tr.spec.point]);
      }
    }
    if (pointQuality !== pq) meta.pointQuality = pointQuality;
    if (extraUnits) meta.units = this.units(ds, meta.units, extraUnits);
    meta.points = this.points(ds, meta.points);
    if (closed) for (const c of closed.values()) out.push(this.intervalReading(meta.device, ds, c));
    return out;
  }

  /** Site readings, and interval readings of devices that stopped sending (their intervals expire). */
  tick(now: number): ReadingMessage[] {
    const out: ReadingMessage[] = [];
    const table = this.table;
    for (const site of this.sites) {
      const payload: Record<string, number | null> = {};
      const pointQuality: Record<string, Quality> = {};
      let worst = GOOD;
      for (const row of site.rows) {
        for (const s of row.expr.slots) if (table.quality[s] === GOOD && now - table.times[s] > this.staleAfterMs) table.quality[s] = STALE;
        for (const g of row.expr.groups) for (const s of g.slots) if (table.quality[s] === GOOD && now - table.times[s] > this.staleAfterMs) table.quality[s] = STALE;
        const { value, quality } = evaluate(row.expr);
        payload[row.spec.name] = value;
        pointQuality[row.spec.name] = QUALITY[quality];
        worst = Math.max(worst, quality);
        const slot = table.find(site.name, row.spec.name);
        if (slot !== undefined) table.set(slot, value, quality, now);
      }
      out.push({
        topic: site.name,
        payload,
        rtu: { device: site.name, protocol: 'derived', timestamp: now, quality: QUALITY[worst], latencyMs: 0, units: site.units, pointQuality, points: site.points, seq: ++site.seq },
      });
    }
    for (const [device, ds] of this.devices) {
      let closed: Closed | undefined;
      for (const tr of ds.trackers) for (const r of tr.energy.expire(now)) this.collect((closed ??= new Map()), tr, r, undefined);
      if (closed) for (const c of closed.values()) out.push(this.intervalReading(device, ds, c));
    }
    return out;
  }

  /** When the next interval of any tracker ends (for a timer), or undefined without trackers. */
  nextBoundary(now: number): number | undefined {
    const lengths = new Set(this.intervalSpecs.map((i) => i.spec.minutes));
    let next: number | undefined;
    for (const m of lengths) next = Math.min(next ?? Infinity, intervalEnd(now, m));
    return next;
  }

  snapshot(): DeriveSnapshot {
    const trackers: DeriveSnapshot['trackers'] = { ...this.saved };
    for (const [device, ds] of this.devices) {
      if (!ds.trackers.length) continue;
      const mine: DeriveSnapshot['trackers'][string] = {};
      for (const tr of ds.trackers) mine[tr.name] = { energy: tr.energy.snapshot(), demand: tr.demand?.snapshot(), prev: tr.prev };
      trackers[device] = mine;
    }
    return { trackers };
  }

  restore(snapshot: DeriveSnapshot | undefined): void {
    if (snapshot && snapshot.trackers && typeof snapshot.trackers === 'object') this.saved = snapshot.trackers;
  }

  private collect(
    closed: Closed,
    tr: Tracker,
    r: IntervalResult,
    counterUnit: string | undefined,
  ): void {
    const key = `${tr.spec.minutes}/${r.start}`;
    let c = closed.get(key);
    if (!c) {
      c = { minutes: tr.spec.minutes, result: { ...r }, payload: {}, units: {}, worst: GOOD };
      closed.set(key, c);
    } else {
      c.result.complete &&= r.complete;
      c.result.gap ||= r.gap;
      c.result.reset ||= r.reset;
      c.result.rollover ||= r.rollover;
    }
    c.payload[tr.name] = r.energy;
    if (counterUnit) c.units[tr.name] = counterUnit;
    const quality = r.energy === null ? BAD : r.complete ? GOOD : STALE;
    c.worst = Math.max(c.worst, quality);
    if (r.gapEnergy !== undefined) c.result.gapEnergy = (c.result.gapEnergy ?? 0) + r.gapEnergy;
    if (tr.demand) {
      const d: DemandResult = tr.demand.onInterval(r);
      const base = `${tr.name}_demand`;
      c.payload[base] = d.demand;
      c.payload[`${base}_max_day`] = d.maxDay?.value ?? null;
      c.payload[`${base}_max_month`] = d.maxMonth?.value ?? null;
      const unit = demandUnit(counterUnit);
      if (unit) for (const n of [base, `${base}_max_day`, `${base}_max_month`]) c.units[n] = unit;
      if (d.maxDay) c.payload[`${base}_max_day_at`] = d.maxDay.at;
      if (d.maxMonth) c.payload[`${base}_max_month_at`] = d.maxMonth.at;
    }
  }

  private intervalReading(device: string, ds: DeviceState, c: ClosedInterval): ReadingMessage {
    const r = c.result;
    const name = `${device}/${c.minutes}min`;
    const points: Record<string, PointInfo> = {};
    for (const p of Object.keys(c.payload)) points[p] = { derived: true };
    return {
      topic: name,
      payload: c.payload,
      rtu: {
        device: name,
        line: ds.line,
        protocol: 'derived',
        model: ds.model,
        profile: ds.profile,
        timestamp: r.end,
        quality: QUALITY[c.worst],
        latencyMs: 0,
        units: c.units,
        points,
        seq: ++ds.intervalSeq,
        interval: { start: r.start, end: r.end, minutes: c.minutes, complete: r.complete, gap: r.gap, reset: r.reset, rollover: r.rollover, ...(r.gapEnergy !== undefined ? { gapEnergy: r.gapEnergy } : {}) },
      },
    };
  }

  private units(ds: DeviceState, from: Record<string, string>, extra: Record<string, string>): Record<string, string> {
    if (from === ds.units) return from;
    if (ds.unitsFrom !== from || !ds.units) {
      ds.unitsFrom = from;
      ds.units = Object.freeze({ ...from, ...extra }) as Record<string, string>;
    }
    return ds.units;
  }

  private points(ds: DeviceState, from: Record<string, PointInfo> | undefined): Record<string, PointInfo> | undefined {
    if (!ds.rows.length || (from !== undefined && from === ds.points)) return from;
    if (ds.pointsFrom !== from || !ds.points) {
      ds.pointsFrom = from;
      const merged: Record<string, PointInfo> = { ...(from ?? {}) };
      for (const row of ds.rows) merged[row.spec.name] = row.info;
      ds.points = Object.freeze(merged);
    }
    return ds.points;
  }
}
