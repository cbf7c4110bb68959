/**
 * Reading messages (nodes/lib/reading.ts) from IEC 61850 values. Structured
 * values are flattened into points; a data object's `q` gives the quality of its
 * sibling attributes and its `t` the IED timestamp of the reading.
 *
 * Semantics, as for Modbus readings: a point that failed is null in the payload
 * and 'bad' in rtu.pointQuality; a point whose IED quality is questionable is
 * 'stale', invalid is 'bad'. The reading is 'good' when at least one point is
 * good, 'stale' when the best point is stale, 'bad' when no point has a value.
 */
import type { PointValue, Quality, ReadingMessage } from '../reading';
import { MmsValue, timeQuality, TimeQuality, UtcTime, utcTimeToMicros, utcTimeToMs } from './mms-data';
import { TypeSpec } from './mms-types';
import { DataReference, formatReference } from './reference';
import { flatten, readingQuality, toPointValue } from './values';

export interface Leaf {
  /** Payload key. */
  point: string;
  ld: string;
  /** Logical node, data object and attribute names: ['GGIO1', 'AnIn1', 'mag', 'f']. */
  path: string[];
  value: MmsValue | null;
}

/** Details beside the contract's `rtu`: where each point came from and, for reports, the report header. */
export interface Iec61850Meta {
  ied: string;
  source: 'poll' | 'report';
  /** Point name → `LD/LN.DO.DA [FC]`. */
  references: Record<string, string>;
  rptId?: string;
  seqNum?: number;
  dataSet?: string;
  /** Point name → why it is in the report (data-change, integrity, general-interrogation...). */
  reasons?: Record<string, string[]>;
  /** EntryID of a buffered report, hex. */
  entryId?: string;
  /** UtcTime point name → the full time as sent: microseconds, raw fraction and the time-quality flags. */
  times?: Record<string, TimeDetail>;
}

/** A UtcTime beyond the millisecond the payload carries. */
export interface TimeDetail extends TimeQuality {
  /** Epoch microseconds. */
  micros: number;
  /** The 24-bit binary fraction of the second, as transmitted. */
  fraction: number;
}

export function timeDetail(t: UtcTime): TimeDetail {
  return { micros: utcTimeToMicros(t), fraction: t.fraction, ...timeQuality(t.quality) };
}

export type IedReading = ReadingMessage & { iec61850: Iec61850Meta };

/** The leaves of one read value, named `point` or `point.component...`. */
export function leavesOf(point: string, ref: DataReference, value: MmsValue | null, type?: TypeSpec): Leaf[] {
  const base = [ref.ln, ...ref.path];
  if (!value) return [{ point, ld: ref.ld, path: base, value: null }];
  return flatten(point, value, type).map((f) => ({ point: f.name, ld: ref.ld, path: [...base, ...f.path], value: f.value }));
}

/** The reference of a flattened leaf, for rtu/iec61850 metadata. */
export function leafReference(leaf: Leaf, fc: string): string {
  return formatReference({ ld: leaf.ld, ln: leaf.path[0], path: leaf.path.slice(1), fc: fc as DataReference['fc'] });
}

const key = (ld: string, path: string[]): string => `${ld}/${path.join('.')}`;

export interface ReadingParts {
  device: string;
  ied: string;
  leaves: Leaf[];
  references: Record<string, string>;
  units: Record<string, string>;
  seq: number;
  started: number;
  finished: number;
  test: boolean;
  errors: string[];
  /** Time to use when no leaf carries a `t` (a report's TimeOfEntry). */
  fallbackTimestamp?: number;
}

export function buildReading(p: ReadingParts): IedReading {
  const qualities = new Map<string, Quality>();
  const times: Record<string, TimeDetail> = {};
  let newest: number | undefined;
  for (const l of p.leaves) {
    const last = l.path[l.path.length - 1];
    if (last === 'q' && l.value?.type === 'bit-string') qualities.set(key(l.ld, l.path.slice(0, -1)), readingQuality(l.value.value));
    if (l.value?.type === 'utc-time') {
      times[l.point] = timeDetail(l.value.value);
      if (last === 't') newest = Math.max(newest ?? 0, utcTimeToMs(l.value.value));
    }
  }
  const payload: Record<string, PointValue> = {};
  const pointQuality: Record<string, Quality> = {};
  const counts: Record<Quality, number> = { good: 0, stale: 0, bad: 0 };
  for (const l of p.leaves) {
    payload[l.point] = l.value ? toPointValue(l.value) : null;
    let q: Quality = l.value ? 'good' : 'bad';
    if (l.value && !['q', 't'].includes(l.path[l.path.length - 1])) {
      for (let k = l.path.length - 1; k >= 1; k--) {
        const found = qualities.get(key(l.ld, l.path.slice(0, k)));
        if (found) {
          q = found;
          break;
        }
      }
    }
    counts[q]++;
    if (q !== 'good') pointQuality[l.point] = q;
  }
  const quality: Quality = counts.good ? 'good' : counts.stale ? 'stale' : 'bad';
  const msg: IedReading = {
    topic: p.device,
    payload,
    rtu: {
      device: p.device,
      line: p.ied,
      protocol: 'iec61850',
      timestamp: newest ?? p.fallbackTimestamp ?? p.finished,
      quality,
      latencyMs: p.finished - p.started,
      units: { ...p.units },
      seq: p.seq,
    },
    iec61850: { ied: p.ied, source: 'poll', references: p.references },
  };
  if (Object.keys(times).length) msg.iec61850.times = times;
  if (Object.keys(pointQuality).length && quality !== 'bad') msg.rtu.pointQuality = pointQuality;
  if (p.errors.length) {
    const more = p.errors.length > 1 ? ` (and ${p.errors.length - 1} more error${p.errors.length > 2 ? 's' : ''})` : '';
    msg.rtu.error = `device "${p.device}": ${p.errors[0]}${more}`;
  }
  if (p.test) msg.rtu.test = true;
  return msg;
}
