/**
 * Points of a reading as Sparkplug metrics: the datatype from the point's data type, the
 * quality as the Sparkplug `Quality` property (good 192, bad 0, stale 500), the engineering
 * unit and description as properties.
 */
import type { PointInfo, PointValue, Quality } from '../reading';

export type SparkplugType =
  | 'Int8' | 'Int16' | 'Int32' | 'Int64'
  | 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64'
  | 'Float' | 'Double' | 'Boolean' | 'String' | 'DateTime';

export const QUALITY_CODE: Record<Quality, number> = { good: 192, bad: 0, stale: 500 };

const SPARKPLUG_TYPES: ReadonlySet<string> = new Set<SparkplugType>([
  'Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'String', 'DateTime',
]);

/** Register data types of the poller (nodes/lib/modbus/types.ts) and the usual spellings of others. */
const FROM_POINT_TYPE: Record<string, SparkplugType> = {
  bool: 'Boolean', boolean: 'Boolean', bit: 'Boolean',
  int8: 'Int8', int16: 'Int16', int32: 'Int32', int64: 'Int64',
  uint8: 'UInt8', uint16: 'UInt16', uint32: 'UInt32', uint64: 'UInt64',
  bcd16: 'UInt16', bcd32: 'UInt32', bitfield: 'UInt32',
  float32: 'Float', float: 'Float', float64: 'Double', double: 'Double',
  string: 'String', text: 'String',
  datetime: 'DateTime', timestamp: 'DateTime', 'utc-time': 'DateTime',
};

/**
 * The Sparkplug datatype of a point, or an Error saying why there is none. A scaled integer
 * register (scale or offset applied) carries engineering values with decimals: Double. Without
 * a declared type (IEC 61850, readings built by a flow) the value decides.
 */
export function sparkplugType(info: PointInfo | undefined, value: PointValue): SparkplugType | Error {
  const declared = info?.dataType;
  if (declared !== undefined && declared !== '') {
    if (SPARKPLUG_TYPES.has(declared)) return declared as SparkplugType;
    const mapped = FROM_POINT_TYPE[declared.toLowerCase()];
    if (!mapped) return new Error(`data type "${declared}" has no Sparkplug B equivalent`);
    if (info?.scaled && mapped !== 'Boolean' && mapped !== 'String' && mapped !== 'DateTime') return 'Double';
    return mapped;
  }
  if (typeof value === 'number') return 'Double';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'string') return 'String';
  // A point that has only ever been null: a number is what a failed register read stands for.
  return 'Double';
}

/** The value as the datatype carries it: DateTime in ms since epoch, integers whole. */
export function metricValue(type: SparkplugType, value: PointValue): PointValue {
  if (value === null) return null;
  switch (type) {
    case 'Boolean':
      return typeof value === 'boolean' ? value : typeof value === 'number' ? value !== 0 : value === 'true';
    case 'String':
      return String(value);
    case 'DateTime':
      return typeof value === 'number' ? Math.round(value) : Number.isFinite(Date.parse(String(value))) ? Date.parse(String(value)) : null;
    case 'Float':
    case 'Double':
      return typeof value === 'number' ? value : Number(value);
    default:
      return typeof value === 'number' ? Math.round(value) : typeof value === 'boolean' ? Number(value) : Number.isFinite(Number(value)) ? Math.round(Number(value)) : null;
  }
}

/** What a DCMD value must be for the point's datatype, or an Error naming what it got. */
export function commandValue(type: SparkplugType, value: unknown): PointValue | Error {
  if (type === 'Boolean') return typeof value === 'boolean' ? value : new Error(`expects a Boolean, got ${typeof value}`);
  if (type === 'String') return typeof value === 'string' ? value : new Error(`expects a String, got ${typeof value}`);
  const n = typeof value === 'number' ? value : typeof value === 'object' && value !== null && 'toNumber' in value ? (value as { toNumber(): number }).toNumber() : NaN;
  return Number.isFinite(n) ? n : new Error(`expects a number (${type}), got ${typeof value}`);
}
