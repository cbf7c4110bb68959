/**
 * Received monitor ASDUs → reading messages, one per device, with the names of
 * the master's point table: IV → bad, NT → stale, the outstation's time tag as
 * the timestamp when it sends one.
 */
import type { PointValue, Quality, ReadingMessage } from '../reading';
import type { Asdu } from './asdu';
import { cp56ToDate } from './cp56';
import type { PointTable } from './point-table';
import { TYPES } from './types';
import { engineeringValue, readingQuality } from './values';

export interface ReadingContext {
  /** Names the connection (line) in the readings. */
  line: string;
  /** Read CP56Time2a fields as UTC (default) or local time. */
  utc?: boolean;
  now?: number;
  /** Next sequence number per device. */
  seq: Map<string, number>;
}

export interface UnmappedObject {
  ioa: number;
  type: string;
  value: PointValue;
  quality: Quality;
}

const RANK: Record<Quality, number> = { good: 0, stale: 1, bad: 2 };

export function readingsFromAsdu(asdu: Asdu, table: PointTable, ctx: ReadingContext): { readings: ReadingMessage[]; unmapped: UnmappedObject[] } {
  const info = TYPES.get(asdu.typeId);
  const byDevice = new Map<string, ReadingMessage>();
  const unmapped: UnmappedObject[] = [];
  if (!info) return { readings: [], unmapped };
  const now = ctx.now ?? Date.now();
  for (const o of asdu.objects) {
    const value = engineeringValue(info, o);
    const quality = readingQuality(o.quality);
    const p = table.byIoa.get(o.ioa);
    if (!p) {
      unmapped.push({ ioa: o.ioa, type: info.name, value, quality });
      continue;
    }
    let msg = byDevice.get(p.device);
    const timestamp = o.time && !o.time.invalid ? cp56ToDate(o.time, ctx.utc !== false).getTime() : now;
    if (!msg) {
      const seq = (ctx.seq.get(p.device) ?? 0) + 1;
      ctx.seq.set(p.device, seq);
      msg = {
        topic: p.device,
        payload: {},
        rtu: { device: p.device, line: ctx.line, protocol: 'iec104', timestamp, quality: 'good', latencyMs: 0, units: {}, seq },
      };
      byDevice.set(p.device, msg);
    }
    msg.payload[p.point] = value;
    if (quality !== 'good') {
      msg.rtu.pointQuality = { ...(msg.rtu.pointQuality ?? {}), [p.point]: quality };
      if (RANK[quality] > RANK[msg.rtu.quality]) msg.rtu.quality = quality;
    }
    if (o.time) msg.rtu.timestamp = Math.max(msg.rtu.timestamp, timestamp);
  }
  return { readings: [...byDevice.values()], unmapped };
}
