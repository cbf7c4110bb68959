/**
 * The register codec: 16-bit words <-> typed values, and point values <->
 * engineering units. Pure functions, shared by the decoder, the poller's
 * writes, the simulator and the gateway.
 *
 * Orders (see ByteOrder in types.ts) reduce to two independent flags:
 *   word swap (CDAB, DCBA): the least significant word comes first;
 *   byte swap (BADC, DCBA): the two bytes inside every word are exchanged.
 * For 64-bit values word swap reverses all four words (CDAB = GH EF CD AB).
 * A 16-bit value honours the byte swap only. A string honours the byte swap
 * only: its characters always run in ascending register order.
 */
import type { PointValue } from '../reading';
import type { ByteOrder, DataType, PointDef } from './types';

/** A value that cannot be decoded or encoded (bad BCD digit, out of range, wrong kind). */
export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

export type RawValue = number | string | boolean;

const WORDS: Record<Exclude<DataType, 'string' | 'bitfield'>, number> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  bcd16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  bcd32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

/** Registers a data type occupies; `length` is needed for strings and allows 32-bit bitfields. */
export function wordsOf(dataType: DataType, length?: number): number {
  if (dataType === 'string') {
    if (!Number.isInteger(length) || (length as number) < 1) {
      throw new CodecError(`string needs a length in registers (1 or more), got ${String(length)}`);
    }
    return length as number;
  }
  if (dataType === 'bitfield') {
    const n = length ?? 1;
    if (n !== 1 && n !== 2) throw new CodecError(`bitfield spans 1 or 2 registers, got length ${String(length)}`);
    return n;
  }
  const n = WORDS[dataType];
  if (n === undefined) throw new CodecError(`unknown data type "${String(dataType)}"`);
  return n;
}

/** Registers (or bits, for coils and discrete inputs) a point occupies. */
export function registerCount(point: PointDef): number {
  if (point.registerType === 'coil' || point.registerType === 'discrete') return 1;
  try {
    return wordsOf(point.dataType, point.length);
  } catch (err) {
    throw new CodecError(`point "${point.name}": ${(err as Error).message}`);
  }
}

// One scratch buffer for all conversions: decoding is synchronous, so it is never shared.
const scratch = new DataView(new ArrayBuffer(8));

function wordSwapped(order: ByteOrder): boolean {
  return order === 'CDAB' || order === 'DCBA';
}

function byteSwapped(order: ByteOrder): boolean {
  return order === 'BADC' || order === 'DCBA';
}

function swap16(w: number): number {
  return ((w & 0xff) << 8) | ((w >>> 8) & 0xff);
}

/** Copies `n` words into the scratch buffer as the big-endian value they represent. */
function load(words: ArrayLike<number>, offset: number, n: number, order: ByteOrder): void {
  const ws = wordSwapped(order);
  const bs = byteSwapped(order);
  for (let i = 0; i < n; i++) {
    const w = words[offset + (ws ? n - 1 - i : i)] & 0xffff;
    scratch.setUint16(2 * i, bs ? swap16(w) : w);
  }
}

/** Writes the big-endian value in the scratch buffer out as `n` words in wire order. */
function store(n: number, order: ByteOrder): number[] {
  const ws = wordSwapped(order);
  const bs = byteSwapped(order);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const w = scratch.getUint16(2 * i);
    out[ws ? n - 1 - i : i] = bs ? swap16(w) : w;
  }
  return out;
}

function invalidBcd(value: number, digits: number): never {
  const hex = value.toString(16).toUpperCase().padStart(digits, '0');
  const bad = hex.split('').find((c) => c > '9') ?? '?';
  throw new CodecError(`invalid BCD digit 0x${bad} in 0x${hex}`);
}

/** Four BCD digits of one word; NaN when a nibble is above 9. */
function bcdWord(w: number): number {
  const d3 = w >>> 12;
  const d2 = (w >>> 8) & 0xf;
  const d1 = (w >>> 4) & 0xf;
  const d0 = w & 0xf;
  if (d3 > 9 || d2 > 9 || d1 > 9 || d0 > 9) return NaN;
  return d3 * 1000 + d2 * 100 + d1 * 10 + d0;
}

function decodeString(words: ArrayLike<number>, offset: number, n: number, order: ByteOrder): string {
  const bs = byteSwapped(order);
  let s = '';
  for (let i = 0; i < n; i++) {
    const w = words[offset + i] & 0xffff;
    const hi = bs ? w & 0xff : w >>> 8;
    const lo = bs ? w >>> 8 : w & 0xff;
    s += String.fromCharCode(hi, lo);
  }
  let end = s.length;
  while (end > 0 && (s.charCodeAt(end - 1) === 0 || s.charCodeAt(end - 1) === 0x20)) end--;
  return s.slice(0, end);
}

/**
 * Decodes one value of `dataType` starting at `words[offset]`. Returns the raw
 * (unscaled) value: a number, a string, or for 'bool' whether the word is non-zero.
 */
export function decodeRaw(
  dataType: DataType,
  order: ByteOrder,
  words: ArrayLike<number>,
  offset: number,
  length?: number,
): RawValue {
  const n = wordsOf(dataType, length);
  if (!(offset >= 0 && offset + n <= words.length)) {
    throw new CodecError(`${dataType} needs ${n} register(s) at offset ${offset}, only ${words.length} available`);
  }
  const bs = byteSwapped(order);
  if (n === 1 && dataType !== 'string') {
    const w = bs ? swap16(words[offset] & 0xffff) : words[offset] & 0xffff;
    switch (dataType) {
      case 'uint16':
      case 'bitfield':
        return w;
      case 'int16':
        return (w << 16) >> 16;
      case 'bool':
        return w !== 0;
      case 'bcd16': {
        const v = bcdWord(w);
        return v === v ? v : invalidBcd(w, 4);
      }
    }
  }
  if (n === 2 && dataType !== 'string') {
    const ws = wordSwapped(order);
    let hi = words[offset + (ws ? 1 : 0)] & 0xffff;
    let lo = words[offset + (ws ? 0 : 1)] & 0xffff;
    if (bs) {
      hi = swap16(hi);
      lo = swap16(lo);
    }
    switch (dataType) {
      case 'uint32':
      case 'bitfield':
        return hi * 0x10000 + lo;
      case 'int32':
        return (hi << 16) | lo;
      case 'float32':
        scratch.setUint16(0, hi);
        scratch.setUint16(2, lo);
        return scratch.getFloat32(0);
      case 'bcd32': {
        const v = bcdWord(hi) * 10000 + bcdWord(lo);
        return v === v ? v : invalidBcd(hi * 0x10000 + lo, 8);
      }
    }
  }
  switch (dataType) {
    case 'int64':
      load(words, offset, 4, order);
      return Number(scratch.getBigInt64(0));
    case 'uint64':
      load(words, offset, 4, order);
      return Number(scratch.getBigUint64(0));
    case 'float64':
      load(words, offset, 4, order);
      return scratch.getFloat64(0);
    case 'string':
      return decodeString(words, offset, n, order);
  }
  throw new CodecError(`unknown data type "${String(dataType)}"`);
}

const POW10: number[] = Array.from({ length: 46 }, (_, i) => 10 ** i);

function roundToDigits(v: number, digits: number): number {
  const k = digits - 1 - Math.floor(Math.log10(Math.abs(v)));
  if (k > 45) return NaN;
  // Integer / exact power of ten is correctly rounded, so the result is the double nearest the decimal.
  return k >= 0 ? Math.round(v * POW10[k]) / POW10[k] : Math.round(v / POW10[-k]) * POW10[-k];
}

/**
 * The shortest decimal (up to 9 digits) that is the same float32: a meter's
 * 231.2 arrives as 231.1999969482422 when widened to a double. Encoding the
 * result gives back the very same bits, so nothing is lost.
 */
export function shortestFloat32(v: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  for (let digits = 6; digits <= 9; digits++) {
    const candidate = roundToDigits(v, digits);
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

/** Multiplies by `scale` so that 2301 x 0.1 is 230.1, not 230.10000000000002. */
function applyScale(raw: number, scale: number): number {
  if (scale === 1) return raw;
  if (scale !== 0 && Math.abs(scale) < 1) {
    const divisor = Math.round(1 / scale);
    if (Math.abs(1 / scale - divisor) < 1e-9 * Math.abs(divisor)) return raw / divisor;
  }
  return raw * scale;
}

function unscale(value: number, scale: number): number {
  if (scale === 1) return value;
  if (scale !== 0 && Math.abs(scale) < 1) {
    const factor = Math.round(1 / scale);
    if (Math.abs(1 / scale - factor) < 1e-9 * Math.abs(factor)) return value * factor;
  }
  return value / scale;
}

function field(raw: number, bit: number, bits: number): number {
  if (bits < 31) return (raw >>> bit) & ((1 << bits) - 1);
  // Division for the widest fields: shifts would turn them negative.
  return Math.floor(raw / 2 ** bit) % 2 ** bits;
}

/**
 * Decodes a point from `words` (the register or bit values of its table)
 * starting at `offset`: picks its bit or bit field, then applies scale and
 * then offset. Errors name the point.
 */
export function decodePoint(point: PointDef, words: ArrayLike<number>, offset: number): PointValue {
  const order = point.order ?? 'ABCD';
  if (point.registerType === 'coil' || point.registerType === 'discrete') {
    if (!(offset >= 0 && offset < words.length)) {
      throw new CodecError(`point "${point.name}": bit at offset ${offset} missing, only ${words.length} available`);
    }
    return words[offset] !== 0;
  }
  let raw: RawValue;
  try {
    raw = decodeRaw(point.dataType, order, words, offset, point.length);
  } catch (err) {
    throw new CodecError(`point "${point.name}": ${(err as Error).message}`);
  }
  if (point.dataType === 'bool') {
    if (point.bit === undefined) return raw as boolean;
    const w = byteSwapped(order) ? swap16(words[offset] & 0xffff) : words[offset] & 0xffff;
    return ((w >>> point.bit) & 1) === 1;
  }
  if (typeof raw !== 'number') return raw;
  if (point.dataType === 'float32') raw = shortestFloat32(raw);
  if (point.dataType === 'bitfield' && (point.bit !== undefined || point.bits !== undefined)) {
    raw = field(raw, point.bit ?? 0, point.bits ?? 1);
  }
  const scaled = point.scale === undefined ? raw : applyScale(raw, point.scale);
  return point.offset ? scaled + point.offset : scaled;
}

/** The values an integer type's registers can hold. */
export const INT_RANGE: Partial<Record<DataType, [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
  bcd16: [0, 9999],
  bcd32: [0, 99999999],
  // 64-bit bounds are checked exclusively at the top: 2^63 - 1 is not a double.
  int64: [-(2 ** 63), 2 ** 63],
  uint64: [0, 2 ** 64],
};

function toBcd(value: number, digits: number): number {
  let out = 0;
  let rest = value;
  for (let i = 0; i < digits; i++) {
    out += (rest % 10) * 16 ** i;
    rest = Math.floor(rest / 10);
  }
  return out;
}

function encodeInteger(dataType: DataType, order: ByteOrder, raw: number, n: number): number[] {
  if (dataType === 'int64' || dataType === 'uint64') {
    if (dataType === 'int64') scratch.setBigInt64(0, BigInt(raw));
    else scratch.setBigUint64(0, BigInt(raw));
    return store(4, order);
  }
  let unsigned = raw < 0 ? raw + 2 ** (16 * n) : raw;
  if (dataType === 'bcd16') unsigned = toBcd(raw, 4);
  if (dataType === 'bcd32') unsigned = toBcd(raw, 8);
  if (n === 1) scratch.setUint16(0, unsigned);
  else scratch.setUint32(0, unsigned);
  return store(n, order);
}

function encodeString(text: string, order: ByteOrder, n: number): number[] {
  if (text.length > 2 * n) throw new CodecError(`string of ${text.length} characters does not fit in ${n} register(s)`);
  const bs = byteSwapped(order);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a = i * 2 < text.length ? text.charCodeAt(i * 2) : 0;
    const b = i * 2 + 1 < text.length ? text.charCodeAt(i * 2 + 1) : 0;
    if (a > 0x7f || b > 0x7f) throw new CodecError(`string "${text}" has a non-ASCII character`);
    out[i] = bs ? (b << 8) | a : (a << 8) | b;
  }
  return out;
}

/**
 * Encodes a raw (unscaled) value as words in wire order; the inverse of
 * decodeRaw. Integers must be whole numbers within the type's range.
 */
export function encodeRaw(dataType: DataType, order: ByteOrder, value: RawValue, length?: number): number[] {
  const n = wordsOf(dataType, length);
  if (dataType === 'string') {
    if (typeof value !== 'string') throw new CodecError(`string expects text, got ${typeof value} ${String(value)}`);
    return encodeString(value, order, n);
  }
  if (dataType === 'bool') {
    if (typeof value !== 'boolean' && value !== 0 && value !== 1) {
      throw new CodecError(`value ${JSON.stringify(value)} is not a bool (true/false or 0/1)`);
    }
    return value === true || value === 1 ? [byteSwapped(order) ? 0x0100 : 1] : [0];
  }
  if (typeof value !== 'number') throw new CodecError(`value ${JSON.stringify(value)} is not a number for ${dataType}`);
  if (dataType === 'float32' || dataType === 'float64') {
    if (dataType === 'float32') {
      if (Number.isFinite(value) && Math.abs(value) > 3.4028234663852886e38) {
        throw new CodecError(`value ${value} is outside the float32 range`);
      }
      scratch.setFloat32(0, value);
      return store(2, order);
    }
    scratch.setFloat64(0, value);
    return store(4, order);
  }
  const range = dataType === 'bitfield' ? ([0, 2 ** (16 * n) - 1] as [number, number]) : INT_RANGE[dataType];
  if (!range) throw new CodecError(`unknown data type "${String(dataType)}"`);
  if (!Number.isInteger(value)) throw new CodecError(`value ${value} is not a whole number for ${dataType}`);
  const is64 = dataType === 'int64' || dataType === 'uint64';
  if (value < range[0] || (is64 ? value >= range[1] : value > range[1])) {
    const top = is64 ? `${range[1]} (exclusive)` : String(range[1]);
    throw new CodecError(`value ${value} is outside the ${dataType} range ${range[0]}..${top}`);
  }
  return encodeInteger(dataType, order, value, n);
}

/**
 * Encodes an engineering value of a point as the words to write: the exact
 * inverse of decodePoint (offset removed, then scale). A bit point yields only
 * its own bits; use encodePointOver to keep the register's other bits.
 */
export function encodePoint(point: PointDef, value: PointValue): number[] {
  return encodePointOver(point, value, undefined);
}

/** Like encodePoint, but a bit or bit-field point is merged into `current` (read-modify-write). */
export function encodePointOver(point: PointDef, value: PointValue, current: ArrayLike<number> | undefined): number[] {
  const order = point.order ?? 'ABCD';
  const fail = (why: string): never => {
    throw new CodecError(`point "${point.name}": ${why}`);
  };
  if (value === null || value === undefined) fail(`cannot encode an empty value for ${point.dataType}`);
  try {
    if (point.registerType === 'coil' || point.registerType === 'discrete') {
      if (typeof value !== 'boolean' && value !== 0 && value !== 1) fail(`value ${JSON.stringify(value)} is not a bool (true/false or 0/1)`);
      return [value === true || value === 1 ? 1 : 0];
    }
    if (point.dataType === 'bool' && point.bit !== undefined) {
      if (typeof value !== 'boolean' && value !== 0 && value !== 1) fail(`value ${JSON.stringify(value)} is not a bool (true/false or 0/1)`);
      const base = current ? decodeRaw('uint16', order, current, 0) as number : 0;
      const bitValue = 2 ** point.bit;
      const word = value === true || value === 1 ? base | bitValue : base & ~bitValue & 0xffff;
      return encodeRaw('uint16', order, word);
    }
    if (typeof value !== 'number') {
      return encodeRaw(point.dataType, order, value as RawValue, point.length);
    }
    let raw = unscale(value - (point.offset ?? 0), point.scale ?? 1);
    const integer = point.dataType !== 'float32' && point.dataType !== 'float64';
    if (integer) {
      if (!Number.isFinite(raw)) fail(`value ${value} is not a finite number for ${point.dataType}`);
      raw = Math.round(raw);
    }
    if (point.dataType === 'bitfield' && (point.bit !== undefined || point.bits !== undefined)) {
      return encodeBitfield(point, raw, current, order);
    }
    return encodeRaw(point.dataType, order, raw, point.length);
  } catch (err) {
    if (err instanceof CodecError && err.message.startsWith(`point "${point.name}"`)) throw err;
    throw new CodecError(`point "${point.name}": ${(err as Error).message}`);
  }
}

function encodeBitfield(point: PointDef, raw: number, current: ArrayLike<number> | undefined, order: ByteOrder): number[] {
  const bit = point.bit ?? 0;
  const bits = point.bits ?? 1;
  if (raw < 0 || raw >= 2 ** bits) {
    throw new CodecError(`value ${raw} does not fit in ${bits} bit(s) (0..${2 ** bits - 1})`);
  }
  const n = wordsOf('bitfield', point.length);
  const base = current ? (decodeRaw('bitfield', order, current, 0, n) as number) : 0;
  const unit = 2 ** bit;
  // Clear the field, then add the new value; arithmetic keeps 32-bit fields unsigned.
  const cleared = base - field(base, bit, bits) * unit;
  return encodeRaw('bitfield', order, cleared + raw * unit, n);
}
