/**
 * Engineering values ↔ information objects: what a point's reading becomes on
 * the wire for its type (with IV/NT quality), and back for the master.
 */
import type { PointValue, Quality as ReadingQuality } from '../reading';
import { GOOD, InformationObject, Quality } from './asdu';
import { Cp56Time, cp56FromDate } from './cp56';
import type { MappedPoint } from './point-table';
import type { TypeInfo } from './types';

/** Reading quality to IEC 104 quality bits: bad → IV, stale → NT. */
export function qualityBits(q: ReadingQuality | undefined): Quality {
  if (q === 'bad') return { ...GOOD, iv: true };
  if (q === 'stale') return { ...GOOD, nt: true };
  return GOOD;
}

/** IEC 104 quality bits to reading quality: IV → bad, NT → stale. */
export function readingQuality(q: Quality | undefined): ReadingQuality {
  if (!q) return 'good';
  if (q.iv) return 'bad';
  if (q.nt) return 'stale';
  return 'good';
}

export class PointValueError extends Error {
  constructor(readonly point: MappedPoint, message: string) {
    super(`${point.device}.${point.point} (IOA ${point.ioa}, ${point.type}): ${message}`);
    this.name = 'PointValueError';
  }
}

function asNumber(p: MappedPoint, v: PointValue): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new PointValueError(p, `value ${JSON.stringify(v)} is not a number`);
}

function inRange(p: MappedPoint, v: number, min: number, max: number): number {
  const n = Math.round(v);
  if (n < min || n > max) throw new PointValueError(p, `value ${v} does not fit ${min}..${max}`);
  return n;
}

/**
 * The wire value of a point's engineering value. A missing value (never read)
 * is sent as 0 with IV set. Throws PointValueError when the type cannot hold it.
 */
export function wireValue(p: MappedPoint, value: PointValue | undefined): number | boolean {
  if (value === undefined || value === null) return p.info.kind === 'sp' ? false : 0;
  switch (p.info.kind) {
    case 'sp':
      if (typeof value === 'boolean') return value;
      return asNumber(p, value) !== 0;
    case 'dp':
      // A boolean becomes OFF (1) / ON (2), the usual mapping of breaker states.
      if (typeof value === 'boolean') return value ? 2 : 1;
      return inRange(p, asNumber(p, value), 0, 3);
    case 'st':
      return inRange(p, asNumber(p, value), -64, 63);
    case 'bo':
      return inRange(p, asNumber(p, value), 0, 0xffffffff);
    case 'nva':
    case 'nva-nq': {
      const n = asNumber(p, value);
      if (n < -1 || n > 1) throw new PointValueError(p, `value ${n} is outside the normalized range -1..1`);
      return n;
    }
    case 'sva':
      return inRange(p, asNumber(p, value), -32768, 32767);
    case 'float': {
      const n = asNumber(p, value);
      if (Math.abs(n) > 3.4028234663852886e38) throw new PointValueError(p, `value ${n} overflows a short float`);
      return n;
    }
    case 'bcr':
      return inRange(p, asNumber(p, value), -(2 ** 31), 2 ** 31 - 1);
    default:
      throw new PointValueError(p, 'is not a monitored type');
  }
}

export function objectFor(p: MappedPoint, value: number | boolean, quality: Quality, time: Cp56Time | undefined): InformationObject {
  const o: InformationObject = { ioa: p.ioa, value };
  if (p.info.kind !== 'nva-nq') o.quality = quality;
  if (p.info.kind === 'st') o.transient = false;
  if (p.info.kind === 'bcr') {
    o.sequence = 0;
    o.carry = false;
    o.adjusted = false;
  }
  if (p.info.timed) o.time = time ?? cp56FromDate(new Date());
  return o;
}

/** The engineering value a master reports for a received object. */
export function engineeringValue(info: TypeInfo, o: InformationObject): PointValue {
  if (info.kind === 'sp') return o.value === true;
  if (typeof o.value === 'number') return o.value;
  if (typeof o.value === 'boolean') return o.value;
  return null;
}

/** True when the change from `last` to `next` should be sent spontaneously. */
export function beyondDeadband(deadband: number, last: number | boolean | undefined, next: number | boolean): boolean {
  if (last === undefined) return true;
  if (typeof last === 'boolean' || typeof next === 'boolean') return last !== next;
  if (deadband <= 0) return last !== next;
  return Math.abs(next - last) >= deadband;
}
