/**
 * MMS Data (ISO 9506-2 "Data"): the values IEDs return, with the time types of
 * IEC 61850-8-1. Tags per the MMS ASN.1; the types that describe values are in mms-types.ts.
 */
import * as ber from './ber';
import { DecodeError } from './errors';

/** Structures nest a few levels in IEC 61850 models; the bound protects the stack from hostile frames. */
export const MAX_NESTING = 32;

/** UtcTime as transmitted: seconds since 1970, a 24-bit binary fraction and the time-quality octet. */
export interface UtcTime {
  seconds: number;
  fraction: number;
  quality: number;
}

/** TimeOfDay: milliseconds since midnight, and days since 1984-01-01 in the 6-octet form. */
export interface BinaryTime {
  msOfDay: number;
  days?: number;
}

export type MmsValue =
  | { type: 'boolean'; value: boolean }
  | { type: 'integer'; value: number | bigint }
  | { type: 'unsigned'; value: number | bigint }
  | { type: 'float'; value: number; double?: boolean }
  | { type: 'bit-string'; value: boolean[] }
  | { type: 'octet-string'; value: Buffer }
  | { type: 'visible-string'; value: string }
  | { type: 'mms-string'; value: string }
  | { type: 'generalized-time'; value: string }
  | { type: 'utc-time'; value: UtcTime }
  | { type: 'binary-time'; value: BinaryTime }
  | { type: 'bcd'; value: number }
  | { type: 'boolean-array'; value: boolean[] }
  | { type: 'oid'; value: string }
  | { type: 'array'; value: MmsValue[] }
  | { type: 'structure'; value: MmsValue[] };

export type MmsType = MmsValue['type'];

const TAG: Record<MmsType, number> = {
  array: 1,
  structure: 2,
  boolean: 3,
  'bit-string': 4,
  integer: 5,
  unsigned: 6,
  float: 7,
  'octet-string': 9,
  'visible-string': 10,
  'generalized-time': 11,
  'binary-time': 12,
  bcd: 13,
  'boolean-array': 14,
  oid: 15,
  'mms-string': 16,
  'utc-time': 17,
};

const TYPE_OF_TAG = new Map<number, MmsType>(Object.entries(TAG).map(([k, v]) => [v, k as MmsType]));

// ---- time ---------------------------------------------------------------------

const MS_PER_DAY = 86_400_000;
/** 1984-01-01T00:00:00Z, the epoch of MMS TimeOfDay days. */
export const BINARY_TIME_EPOCH = Date.UTC(1984, 0, 1);

/**
 * Epoch milliseconds, to the nearest millisecond: servers truncate when they encode
 * (.701 s is sent as 0.70099997 s), so truncating again here would read 1 ms early.
 */
export function utcTimeToMs(t: UtcTime): number {
  return t.seconds * 1000 + Math.round((t.fraction * 1000) / 0x1000000);
}

/** Epoch microseconds, to the nearest microsecond (the 24-bit fraction resolves ~60 ns). */
export function utcTimeToMicros(t: UtcTime): number {
  return t.seconds * 1_000_000 + Math.round((t.fraction * 1_000_000) / 0x1000000);
}

/** Time quality octet: leap seconds known, clock failure, not synchronized, accuracy bits. */
export function utcTimeFromMs(ms: number, quality = 0x0a): UtcTime {
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.floor((((ms - seconds * 1000) * 0x1000000) / 1000));
  return { seconds, fraction, quality };
}

export interface TimeQuality {
  leapSecondsKnown: boolean;
  clockFailure: boolean;
  clockNotSynchronized: boolean;
  /** Number of significant fraction bits; 31 = unspecified. */
  accuracy: number;
}

export function timeQuality(q: number): TimeQuality {
  return { leapSecondsKnown: (q & 0x80) !== 0, clockFailure: (q & 0x40) !== 0, clockNotSynchronized: (q & 0x20) !== 0, accuracy: q & 0x1f };
}

/** Epoch milliseconds of a TimeOfDay with date; without date, the milliseconds of the day. */
export function binaryTimeToMs(t: BinaryTime): number {
  return t.days === undefined ? t.msOfDay : BINARY_TIME_EPOCH + t.days * MS_PER_DAY + t.msOfDay;
}

export function binaryTimeFromMs(ms: number): BinaryTime {
  const since = ms - BINARY_TIME_EPOCH;
  const days = Math.floor(since / MS_PER_DAY);
  return { days, msOfDay: since - days * MS_PER_DAY };
}

// ---- encode -------------------------------------------------------------------

function floatBytes(value: number, double?: boolean): Buffer {
  if (double) {
    const b = Buffer.alloc(9);
    b[0] = 11;
    b.writeDoubleBE(value, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = 8;
  b.writeFloatBE(value, 1);
  return b;
}

function contentOf(v: MmsValue): Buffer | Buffer[] {
  switch (v.type) {
    case 'array':
    case 'structure':
      return v.value.map(encodeData);
    case 'boolean':
      // IEDs and the captured clients send 1 for TRUE; any non-zero octet is read as TRUE.
      return Buffer.from([v.value ? 1 : 0]);
    case 'bit-string':
      return ber.bitBytes(v.value);
    case 'boolean-array':
      return ber.bitBytes(v.value);
    case 'integer':
      return ber.intBytes(v.value);
    case 'unsigned':
      return ber.uintBytes(v.value);
    case 'float':
      return floatBytes(v.value, v.double);
    case 'octet-string':
      return v.value;
    case 'visible-string':
      return Buffer.from(v.value, 'latin1');
    case 'mms-string':
      return Buffer.from(v.value, 'utf8');
    case 'generalized-time':
      return Buffer.from(v.value, 'latin1');
    case 'utc-time': {
      const b = Buffer.alloc(8);
      b.writeUInt32BE(v.value.seconds >>> 0, 0);
      b.writeUIntBE(v.value.fraction & 0xffffff, 4, 3);
      b[7] = v.value.quality & 0xff;
      return b;
    }
    case 'binary-time': {
      const b = Buffer.alloc(v.value.days === undefined ? 4 : 6);
      b.writeUInt32BE(v.value.msOfDay >>> 0, 0);
      if (v.value.days !== undefined) b.writeUInt16BE(v.value.days & 0xffff, 4);
      return b;
    }
    case 'bcd':
      return ber.intBytes(v.value);
    case 'oid':
      return ber.oidBytes(v.value);
  }
}

export function encodeData(v: MmsValue): Buffer {
  const constructed = v.type === 'array' || v.type === 'structure';
  return ber.tlv(ber.CONTEXT, constructed, TAG[v.type], contentOf(v));
}

// ---- decode -------------------------------------------------------------------

function need(t: ber.Tlv, n: number | number[], what: string): void {
  const ok = Array.isArray(n) ? n.includes(t.value.length) : t.value.length === n;
  if (!ok) throw new DecodeError('mms', `${what} of ${t.value.length} octets, expected ${Array.isArray(n) ? n.join(' or ') : n}`, t.start);
}

export function decodeData(t: ber.Tlv, depth = 0): MmsValue {
  if (t.cls !== ber.CONTEXT) throw new DecodeError('mms', `data ${ber.describeTag(t)} is not context-specific`, t.start);
  const type = TYPE_OF_TAG.get(t.tag);
  if (!type) throw new DecodeError('mms', `data tag [${t.tag}] is not an MMS type`, t.start);
  if ((type === 'array' || type === 'structure') !== t.constructed) {
    throw new DecodeError('mms', `${type} should be ${t.constructed ? 'primitive' : 'constructed'}`, t.start);
  }
  switch (type) {
    case 'array':
    case 'structure':
      if (depth >= MAX_NESTING) throw new DecodeError('mms', `data nested deeper than ${MAX_NESTING}`, t.start);
      return { type, value: ber.children(t).map((c) => decodeData(c, depth + 1)) };
    case 'boolean':
      return { type, value: ber.decodeBool(t) };
    case 'bit-string':
    case 'boolean-array':
      return { type, value: ber.decodeBits(t) };
    case 'integer':
      return { type, value: ber.decodeInt(t) };
    case 'unsigned':
      return { type, value: ber.uintFromBytes(t.value, 'unsigned', t.start) };
    case 'float': {
      need(t, [5, 9], 'floating-point');
      if (t.value.length === 5) {
        if (t.value[0] !== 8) throw new DecodeError('mms', `single float with exponent width ${t.value[0]}`, t.start);
        return { type, value: t.value.readFloatBE(1) };
      }
      if (t.value[0] !== 11) throw new DecodeError('mms', `double float with exponent width ${t.value[0]}`, t.start);
      return { type, value: t.value.readDoubleBE(1), double: true };
    }
    case 'octet-string':
      return { type, value: ber.decodeOctets(t) };
    case 'visible-string':
      return { type, value: ber.decodeVisible(t) };
    case 'mms-string':
      return { type, value: ber.decodeUtf8(t) };
    case 'generalized-time':
      return { type, value: ber.decodeVisible(t) };
    case 'utc-time':
      need(t, 8, 'utc-time');
      return { type, value: { seconds: t.value.readUInt32BE(0), fraction: t.value.readUIntBE(4, 3), quality: t.value[7] } };
    case 'binary-time':
      need(t, [4, 6], 'binary-time');
      return {
        type,
        value: t.value.length === 6 ? { msOfDay: t.value.readUInt32BE(0), days: t.value.readUInt16BE(4) } : { msOfDay: t.value.readUInt32BE(0) },
      };
    case 'bcd': {
      const v = ber.decodeInt(t, 'bcd');
      return { type, value: Number(v) };
    }
    case 'oid':
      return { type, value: ber.decodeOid(t) };
  }
}
