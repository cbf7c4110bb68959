/**
 * The reading message: one per device per poll, the same shape for Modbus and
 * IEC 61850, so decoders, caches, alerts and publishers treat every source alike.
 */
import type { RegisterBlock } from './modbus/types';

export type Quality = 'good' | 'stale' | 'bad';
export type PointValue = number | string | boolean | null;

/** Where a point comes from, for formats that carry it (flat rows of simple pollers). */
export interface PointInfo {
  registerType?: string;
  address?: number;
  dataType?: string;
  description?: string;
  /** A scale or offset turned the register's integer into an engineering value with decimals. */
  scaled?: boolean;
}

export interface ReadingMeta {
  device: string;
  line?: string;
  protocol: 'modbus' | 'iec61850' | 'health';
  model?: string;
  profile?: string;
  unitId?: number;
  /** When the values were read (ms since epoch); for IEC 61850 the IED's own time when it sends one. */
  timestamp: number;
  quality: Quality;
  latencyMs: number;
  /** Engineering unit per point name. */
  units: Record<string, string>;
  /** Per-point quality where it differs from `quality` (a block that failed, an IED quality flag). */
  pointQuality?: Record<string, Quality>;
  /** Register type, address, data type and description per point (one shared object per device). */
  points?: Record<string, PointInfo>;
  /** Raw register blocks as read, for the cache and gateway (Modbus only). */
  raw?: RegisterBlock[];
  /** Why the poll, or part of it, failed. */
  error?: string;
  /** Increments by one per poll of this device. */
  seq: number;
  /** Set while the RTU is in test mode. */
  test?: boolean;
}

export interface ReadingMessage {
  topic: string;
  payload: Record<string, PointValue>;
  rtu: ReadingMeta;
}

export function isReadingMessage(msg: unknown): msg is ReadingMessage {
  const m = msg as Partial<ReadingMessage> | null;
  return !!m && typeof m === 'object' && !!m.rtu && typeof m.rtu.device === 'string' && !!m.payload && typeof m.payload === 'object';
}
