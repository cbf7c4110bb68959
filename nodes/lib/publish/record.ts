/**
 * What the publishers keep of a reading: a compact, JSON-safe record that goes into the
 * durable queue and from which every payload format is rendered at send time.
 */
import { isReadingMessage, PointValue, Quality, ReadingMessage } from '../reading';

/** Register details of a point, when the poller or decoder attached them to the reading. */
export interface PointInfo {
  address?: number;
  dataType?: string;
  description?: string;
}

export interface AggregateWindow {
  aggregate: 'latest' | 'min' | 'max' | 'avg';
  from: number;
  to: number;
  samples: number;
}

export interface PublishRecord {
  device: string;
  line?: string;
  model?: string;
  profile?: string;
  unitId?: number;
  protocol?: string;
  /** ms since epoch */
  ts: number;
  quality: Quality;
  values: Record<string, PointValue>;
  units: Record<string, string>;
  pointQuality?: Record<string, Quality>;
  points?: Record<string, PointInfo>;
  /** The poll sequence number of the reading. */
  seq?: number;
  test?: boolean;
  window?: AggregateWindow;
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

const QUALITIES: ReadonlySet<string> = new Set(['good', 'stale', 'bad']);

function cleanValues(payload: Record<string, unknown>): Record<string, PointValue> {
  const out: Record<string, PointValue> = {};
  for (const [name, v] of Object.entries(payload)) {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[name] = v;
    else if (typeof v === 'number') out[name] = Number.isFinite(v) ? v : null;
    // Objects and arrays are not point values; they are left out rather than published half-right.
  }
  return out;
}

/** Reads point details from `msg.rtu.points` when a poller or decoder supplies them (optional). */
function pointInfo(meta: unknown): Record<string, PointInfo> | undefined {
  const points = (meta as { points?: unknown }).points;
  if (!points || typeof points !== 'object') return undefined;
  const out: Record<string, PointInfo> = {};
  for (const [name, raw] of Object.entries(points as Record<string, unknown>)) {
    if (!raw || typeof raw !== 'object') continue;
    const p = raw as Record<string, unknown>;
    const info: PointInfo = {};
    if (typeof p.address === 'number') info.address = p.address;
    const type = p.dataType ?? p.type;
    if (typeof type === 'string') info.dataType = type;
    const description = p.description ?? p.label;
    if (typeof description === 'string') info.description = description;
    out[name] = info;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Turns an input message into a record. Accepts the reading contract (nodes/lib/reading.ts);
 * `test` is true when the RTU is in test mode or the reading says so itself.
 */
export function recordFromMessage(msg: unknown, testModeOn: boolean): PublishRecord {
  if (!isReadingMessage(msg)) {
    const m = msg as { topic?: unknown; payload?: unknown; rtu?: unknown } | null;
    const what = !m || typeof m !== 'object' ? 'not an object'
      : !m.rtu ? 'msg.rtu is missing'
        : typeof (m.rtu as { device?: unknown }).device !== 'string' ? 'msg.rtu.device is not a string'
          : 'msg.payload is not an object of point values';
    throw new InputError(`input is not a reading (${what}); expected msg.topic = device, msg.payload = {point: value}, msg.rtu = reading metadata`);
  }
  const r: ReadingMessage = msg;
  const meta = r.rtu;
  const ts = Number.isFinite(meta.timestamp) ? meta.timestamp : Date.now();
  const record: PublishRecord = {
    device: meta.device,
    ts,
    quality: QUALITIES.has(meta.quality) ? meta.quality : 'good',
    values: cleanValues(r.payload as Record<string, unknown>),
    units: meta.units && typeof meta.units === 'object' ? { ...meta.units } : {},
  };
  if (meta.line) record.line = meta.line;
  if (meta.model) record.model = meta.model;
  if (meta.profile) record.profile = meta.profile;
  if (typeof meta.unitId === 'number') record.unitId = meta.unitId;
  if (meta.protocol) record.protocol = meta.protocol;
  if (meta.pointQuality && Object.keys(meta.pointQuality).length) record.pointQuality = { ...meta.pointQuality };
  const points = pointInfo(meta);
  if (points) record.points = points;
  if (typeof meta.seq === 'number') record.seq = meta.seq;
  if (testModeOn || meta.test === true) record.test = true;
  return record;
}
