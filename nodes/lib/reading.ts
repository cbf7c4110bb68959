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
  /** Computed by rtu-derive rather than read from the device. */
  derived?: boolean;
  /** The expression a derived point is computed by. */
  expression?: string;
  /** A scale or offset turned the register's integer into an engineering value with decimals. */
  scaled?: boolean;
}

/** The interval an interval-energy or demand reading covers (rtu-derive). */
export interface IntervalInfo {
  start: number;
  end: number;
  minutes: number;
  /** Readings covered the whole interval. */
  complete: boolean;
  /** A gap between readings touched it; the energy across the gap is in `gapEnergy` where it ended. */
  gap: boolean;
  /** The counter went down (reset or meter replaced): that step counted as zero. */
  reset: boolean;
  rollover: boolean;
  gapEnergy?: number;
}

export interface ReadingMeta {
  device: string;
  line?: string;
  protocol: 'modbus' | 'iec61850' | 'iec104' | 'health' | 'derived';
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
  /** Interval energy and demand readings: the interval they cover. */
  interval?: IntervalInfo;
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

/** Object.keys(o).length without the array, for code that runs per reading. */
export function countKeys(o: object): number {
  let n = 0;
  for (const key in o) if (key) n++;
  return n;
}
