/**
 * One simulated meter: a register image built from a point list (a registry
 * model), refreshed from its electrical state at most once per second and only
 * when read, so a thousand idle meters cost nothing.
 */
import { CodecError, decodePoint, encodePointOver, INT_RANGE, registerCount } from '../modbus/codec';
import { ModbusException } from '../modbus/pdu';
import type { PointValue } from '../reading';
import { DataType, PointDef, READ_FUNCTION, RegisterRange, RegisterType } from '../modbus/types';
import { Electrical } from './electrical';
import { Meaning, meaningOf } from './meaning';

export interface MeterSpec {
  unitId: number;
  points: PointDef[];
  /** Model id or label, shown in errors and status. */
  model?: string;
  /** Ranges the device refuses to read: answered with exception 02. */
  neverRead?: RegisterRange[];
  seed?: number;
  /** Full-load current per phase (A). */
  ratedCurrent?: number;
  /**
   * Widest run of unmapped registers between two points that still reads (as
   * zeros), as many meters do; wider holes and anything outside answer 02.
   * Default 16, above the request planner's default gap of 10.
   */
  holeTolerance?: number;
  /** Shortest time between two refreshes of the values (ms, default 1000). */
  refreshMs?: number;
}

interface Placed {
  point: PointDef;
  meaning: Meaning;
  /** Index of the point's first register inside its segment. */
  offset: number;
  count: number;
}

/** A contiguous readable stretch of one table. */
interface Segment {
  start: number;
  end: number;
  words: Uint16Array;
  /** 1 where a register belongs to a writable point. */
  writable: Uint8Array;
  points: Placed[];
}

const DEFAULT_HOLE_TOLERANCE = 16;

/** What a simulated value may reach in its registers: 64-bit ones stay within what a double counts exactly. */
const RAW_RANGE: Partial<Record<DataType, [number, number]>> = {
  ...INT_RANGE,
  uint64: [0, Number.MAX_SAFE_INTEGER],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Keeps a simulated value within what the point's register can hold (an int16 watt register tops out at 32767 W). */
function clampToPoint(point: PointDef, value: number): number {
  const range = RAW_RANGE[point.dataType];
  if (!range) return value;
  const scale = point.scale ?? 1;
  const offset = point.offset ?? 0;
  const a = range[0] * scale + offset;
  const b = range[1] * scale + offset;
  return Math.min(Math.max(a, b), Math.max(Math.min(a, b), value));
}

function hashText(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class SimulatedMeter {
  readonly unitId: number;
  readonly model: string;
  readonly electrical: Electrical;
  /** Points whose value the codec could not encode, with the reason (reported once). */
  readonly problems: string[] = [];
  private readonly tables: Record<RegisterType, Segment[]> = { coil: [], discrete: [], holding: [], input: [] };
  private readonly neverRead: RegisterRange[];
  private readonly dynamic: { segment: Segment; placed: Placed }[] = [];
  private readonly refreshMs: number;
  private lastRefresh = -Infinity;

  constructor(spec: MeterSpec) {
    if (!Number.isInteger(spec.unitId) || spec.unitId < 0 || spec.unitId > 255) {
      throw new RangeError(`simulated meter: unit id ${spec.unitId} outside 0..255`);
    }
    if (!Array.isArray(spec.points) || spec.points.length === 0) {
      throw new RangeError(`simulated meter at unit ${spec.unitId}: model ${spec.model ?? '?'} has no points`);
    }
    this.unitId = spec.unitId;
    this.model = spec.model ?? 'custom';
    this.neverRead = spec.neverRead ?? [];
    this.refreshMs = spec.refreshMs ?? 1000;
    const threePhase = spec.points.some((p) => /(^|_)l[23](_|$)/.test(p.name.toLowerCase()));
    this.electrical = new Electrical({
      seed: spec.seed ?? hashText(`${this.model}#${spec.unitId}`),
      phases: threePhase ? 3 : 1,
      ratedCurrent: spec.ratedCurrent,
    });
    for (const type of Object.keys(this.tables) as RegisterType[]) {
      this.tables[type] = this.buildTable(spec.points.filter((p) => p.registerType === type), spec.holeTolerance ?? DEFAULT_HOLE_TOLERANCE);
    }
    for (const type of Object.keys(this.tables) as RegisterType[]) {
      for (const segment of this.tables[type]) {
        for (const placed of segment.points) {
          const q = placed.meaning.quantity;
          if (q === 'constant' || q === 'text') this.encode(segment, placed, this.initialValue(placed.point));
          else this.dynamic.push({ segment, placed });
        }
      }
    }
  }

  private buildTable(points: PointDef[], holeTolerance: number): Segment[] {
    const spans = points
      .map((point) => ({ point, start: point.address, end: point.address + registerCount(point) }))
      .sort((a, b) => a.start - b.start);
    const segments: Segment[] = [];
    let group: typeof spans = [];
    let groupEnd = -Infinity;
    const close = (): void => {
      if (!group.length) return;
      const start = group[0].start;
      const segment: Segment = {
        start,
        end: groupEnd,
        words: new Uint16Array(groupEnd - start),
        writable: new Uint8Array(groupEnd - start),
        points: [],
      };
      for (const s of group) {
        segment.points.push({ point: s.point, meaning: meaningOf(s.point), offset: s.start - start, count: s.end - s.start });
        if (s.point.writable) segment.writable.fill(1, s.start - start, s.end - start);
      }
      segments.push(segment);
    };
    for (const span of spans) {
      if (span.start - groupEnd > holeTolerance) {
        close();
        group = [];
      }
      group.push(span);
      groupEnd = Math.max(groupEnd, span.end);
    }
    close();
    return segments;
  }

  private initialValue(point: PointDef): PointValue {
    if (point.dataType === 'string') {
      const chars = (point.length ?? 1) * 2;
      const name = point.name.toLowerCase();
      const text = /serial/.test(name) ? `SIM${String(this.unitId).padStart(5, '0')}` : /firmware|version/.test(name) ? '1.0.0' : 'SIMULATED METER';
      return text.slice(0, chars);
    }
    if (point.registerType === 'coil' || point.registerType === 'discrete' || point.dataType === 'bool') return false;
    const name = point.name.toLowerCase();
    if (/unit_id|slave_id|modbus_address/.test(name)) return this.unitId;
    // A consuming, inductive load on the first tariff: quadrant 1, tariff 1.
    if (/tariff|quadrant/.test(name)) return clampToPoint(point, 1);
    return clampToPoint(point, 0);
  }

  private encode(segment: Segment, placed: Placed, value: PointValue): void {
    const { point, offset, count } = placed;
    try {
      const current = segment.words.subarray(offset, offset + count);
      const v = typeof value === 'number' ? clampToPoint(point, value) : value;
      const words = encodePointOver(point, v, current);
      for (let k = 0; k < count; k++) segment.words[offset + k] = words[k];
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      const text = `unit ${this.unitId} (${this.model}): ${err.message}`;
      if (!this.problems.includes(text)) this.problems.push(text);
    }
  }

  /** Brings the simulated values to `now`, at most once per refresh period. */
  refresh(now: number): void {
    if (now - this.lastRefresh < this.refreshMs) return;
    this.lastRefresh = now;
    this.electrical.step(now);
    for (const { segment, placed } of this.dynamic) {
      this.encode(segment, placed, this.electrical.value(placed.meaning) * placed.meaning.factor);
    }
  }

  private segmentFor(type: RegisterType, address: number, quantity: number, fc: number): Segment {
    const end = address + quantity;
    for (const range of this.neverRead) {
      if (range.registerType === type && address < range.address + range.quantity && range.address < end) {
        throw new ModbusException(fc, 0x02);
      }
    }
    for (const segment of this.tables[type]) {
      if (segment.start <= address && end <= segment.end) return segment;
    }
    throw new ModbusException(fc, 0x02);
  }

  /** Words (or 0/1 bits) of a read; throws ModbusException 02 for registers the model does not have. */
  read(type: RegisterType, address: number, quantity: number, now: number): Uint16Array {
    const segment = this.segmentFor(type, address, quantity, READ_FUNCTION[type]);
    this.refresh(now);
    return segment.words.subarray(address - segment.start, address - segment.start + quantity);
  }

  /** Stores a write; every register written must belong to a writable point, else exception 02. */
  write(type: 'holding' | 'coil', address: number, values: readonly number[], fc: number): void {
    const segment = this.segmentFor(type, address, values.length, fc);
    const base = address - segment.start;
    for (let k = 0; k < values.length; k++) {
      if (!segment.writable[base + k]) throw new ModbusException(fc, 0x02);
    }
    for (let k = 0; k < values.length; k++) segment.words[base + k] = values[k] & 0xffff;
  }

  /** Engineering values of every point as a master would decode them now. */
  snapshot(now: number): Record<string, PointValue> {
    this.refresh(now);
    const out: Record<string, PointValue> = {};
    for (const type of Object.keys(this.tables) as RegisterType[]) {
      for (const segment of this.tables[type]) {
        for (const placed of segment.points) {
          try {
            out[placed.point.name] = decodePoint(placed.point, segment.words, placed.offset);
          } catch {
            out[placed.point.name] = null;
          }
        }
      }
    }
    return out;
  }

  /** Readable ranges per table, for status and documentation. */
  ranges(): RegisterRange[] {
    const out: RegisterRange[] = [];
    for (const type of Object.keys(this.tables) as RegisterType[]) {
      for (const s of this.tables[type]) out.push({ registerType: type, address: s.start, quantity: s.end - s.start });
    }
    return out;
  }
}
