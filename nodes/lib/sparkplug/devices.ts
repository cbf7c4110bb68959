/**
 * What the edge node knows of each device: its metrics (name, alias, datatype, unit,
 * description), the latest value and quality of each, what was last reported (the baseline of
 * report by exception) and whether the device is alive. `update()` turns a reading into the
 * one thing the edge node must say about it: a birth, a death, changed metrics, or nothing.
 */
import type { PointValue, ReadingMessage } from '../reading';
import type { Deadband, NameRule } from '../publish/rules';
import { firstMatch } from '../publish/rules';
import { idProblem } from './ids';
import { metricValue, QUALITY_CODE, sparkplugType, SparkplugType } from './metrics';

export interface MetricDef {
  name: string;
  alias: number;
  type: SparkplugType;
  unit?: string;
  description?: string;
}

/** One metric sample: name, value, quality code. */
export type Sample = [string, PointValue, number];

export interface DeviceState {
  id: string;
  metrics: Map<string, MetricDef>;
  byAlias: Map<number, MetricDef>;
  latest: Map<string, { value: PointValue; quality: number }>;
  latestTs: number;
  alive: boolean;
  /** Counts births, so that a death stored before a rebirth is not replayed after it. */
  life: number;
}

export type Change =
  | { kind: 'birth'; device: DeviceState }
  | { kind: 'death'; device: DeviceState; ts: number }
  | { kind: 'data'; device: DeviceState; ts: number; samples: Sample[] }
  | { kind: 'none' };

export interface UpdateResult {
  change: Change;
  /** Points left out, each with why (logged once per device and point). */
  rejected: string[];
}

interface Baseline {
  value: PointValue;
  quality: number;
}

export class DeviceTable {
  private readonly devices = new Map<string, DeviceState>();
  private readonly baselines = new Map<string, Map<string, Baseline>>();
  private readonly rejectedOnce = new Set<string>();

  constructor(private nextAlias: number, private readonly deadbands: NameRule<Deadband>[] = []) {}

  get(id: string): DeviceState | undefined {
    return this.devices.get(id);
  }

  all(): IterableIterator<DeviceState> {
    return this.devices.values();
  }

  get size(): number {
    return this.devices.size;
  }

  /** Throws naming the device when its name cannot be a Sparkplug device id. */
  update(reading: ReadingMessage): UpdateResult {
    const meta = reading.rtu;
    const id = meta.device;
    const problem = idProblem(id);
    if (problem) throw new Error(`device id "${id}" ${problem}`);
    const rejected: string[] = [];
    let device = this.devices.get(id);
    const fresh = !device;
    if (!device) {
      device = { id, metrics: new Map(), byAlias: new Map(), latest: new Map(), latestTs: 0, alive: false, life: 0 };
      this.devices.set(id, device);
    }
    const newPoints = this.define(device, reading, rejected);
    const ts = meta.timestamp || Date.now();
    device.latestTs = ts;
    const samples: Sample[] = [];
    for (const def of device.metrics.values()) {
      if (!(def.name in reading.payload)) continue;
      const quality = QUALITY_CODE[meta.pointQuality?.[def.name] ?? meta.quality] ?? 0;
      const value = metricValue(def.type, reading.payload[def.name]);
      device.latest.set(def.name, { value, quality });
      samples.push([def.name, value, quality]);
    }
    if (meta.quality === 'bad') {
      if (!device.alive && !fresh) return { change: { kind: 'none' }, rejected };
      device.alive = false;
      return { change: fresh ? this.birth(device) : { kind: 'death', device, ts }, rejected };
    }
    if (!device.alive || fresh || newPoints) {
      device.alive = true;
      return { change: this.birth(device), rejected };
    }
    const changed = this.exceptions(device, samples);
    return { change: changed.length ? { kind: 'data', device, ts, samples: changed } : { kind: 'none' }, rejected };
  }

  /** Resets every device's baseline to its latest values (after a birth reported them all). */
  rebased(device: DeviceState): void {
    const base = new Map<string, Baseline>();
    for (const [name, v] of device.latest) base.set(name, { value: v.value, quality: v.quality });
    this.baselines.set(device.id, base);
  }

  private birth(device: DeviceState): Change {
    device.life++;
    this.rebased(device);
    return { kind: 'birth', device };
  }

  /** Adds metrics for points not seen before; true when there were any (the device must be born again). */
  private define(device: DeviceState, reading: ReadingMessage, rejected: string[]): boolean {
    let added = false;
    const meta = reading.rtu;
    for (const [name, value] of Object.entries(reading.payload)) {
      if (device.metrics.has(name)) continue;
      const info = meta.points?.[name];
      const type = sparkplugType(info, value);
      if (type instanceof Error) {
        const key = `${device.id}\u0000${name}`;
        if (!this.rejectedOnce.has(key)) {
          this.rejectedOnce.add(key);
          rejected.push(`device "${device.id}" point "${name}": ${type.message}; the point is left out of the birth`);
        }
        continue;
      }
      const def: MetricDef = { name, alias: this.nextAlias++, type };
      const unit = meta.units?.[name];
      if (unit) def.unit = unit;
      if (info?.description) def.description = info.description;
      device.metrics.set(name, def);
      device.byAlias.set(def.alias, def);
      added = true;
    }
    return added;
  }

  private exceptions(device: DeviceState, samples: Sample[]): Sample[] {
    let base = this.baselines.get(device.id);
    if (!base) {
      base = new Map();
      this.baselines.set(device.id, base);
    }
    const out: Sample[] = [];
    for (const s of samples) {
      const prev = base.get(s[0]);
      if (prev && prev.quality === s[2] && !this.moved(s[0], prev.value, s[1])) continue;
      base.set(s[0], { value: s[1], quality: s[2] });
      out.push(s);
    }
    return out;
  }

  /** The publisher's deadband rule (nodes/lib/publish/shaper.ts): absolute, or % of the last reported value. */
  private moved(name: string, prev: PointValue, v: PointValue): boolean {
    if (typeof prev !== 'number' || typeof v !== 'number') return prev !== v;
    const band = firstMatch(this.deadbands, name);
    if (!band || band.amount === 0) return v !== prev;
    const limit = band.percent ? (Math.abs(prev) * band.amount) / 100 : band.amount;
    return Math.abs(v - prev) > limit;
  }
}
