/**
 * MMS Data (ISO 9506-2 "Data") and TypeSpecification: the values IEDs return
 * and the types that describe them. Tags per the MMS ASN.1 and IEC 61850-8-1.
 */
import * as ber from './ber';
import { DecodeError } from './errors';

/** Structures nest a few levels in IEC 61850 models; the bound protects the stack from hostile frames. */
const MAX_NESTING = 32;

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

export function utcTimeToMs(t: UtcTime): number {
  return t.seconds * 1000 + Math.floor((t.fraction * 1000) / 0x1000000);
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

// ---- type specifications ------------------------------------------------------

export interface Component {
  name: string;
  spec: TypeSpec;
}

export type TypeSpec =
  | { type: 'structure'; components: Component[] }
  | { type: 'array'; count: number; element: TypeSpec }
  | { type: 'boolean' }
  | { type: 'bit-string'; size: number }
  | { type: 'integer'; bits: number }
  | { type: 'unsigned'; bits: number }
  | { type: 'float'; formatWidth: number; exponentWidth: number }
  | { type: 'octet-string'; size: number }
  | { type: 'visible-string'; size: number }
  | { type: 'mms-string'; size: number }
  | { type: 'generalized-time' }
  | { type: 'binary-time'; withDate: boolean }
  | { type: 'bcd'; digits: number }
  | { type: 'oid' }
  | { type: 'utc-time' }
  | { type: 'named'; domain?: string; item: string };

/** TypeSpecification as a CHOICE value (the caller adds any explicit tag around it). */
export function encodeTypeSpec(s: TypeSpec): Buffer {
  switch (s.type) {
    case 'structure':
      return ber.ctxC(
        2,
        ber.ctxC(1, ...s.components.map((c) => ber.seq(ber.ctx(0, Buffer.from(c.name, 'latin1')), ber.ctxC(1, encodeTypeSpec(c.spec))))),
      );
    case 'array':
      return ber.ctxC(1, ber.ctx(1, ber.intBytes(s.count)), ber.ctxC(2, encodeTypeSpec(s.element)));
    case 'boolean':
      return ber.ctx(3, Buffer.alloc(0));
    case 'bit-string':
      return ber.ctx(4, ber.intBytes(s.size));
    case 'integer':
      return ber.ctx(5, ber.intBytes(s.bits));
    case 'unsigned':
      return ber.ctx(6, ber.intBytes(s.bits));
    case 'float':
      return ber.ctxC(7, ber.int(s.formatWidth), ber.int(s.exponentWidth));
    case 'octet-string':
      return ber.ctx(9, ber.intBytes(s.size));
    case 'visible-string':
      return ber.ctx(10, ber.intBytes(s.size));
    case 'generalized-time':
      return ber.ctx(11, Buffer.alloc(0));
    case 'binary-time':
      return ber.ctx(12, Buffer.from([s.withDate ? 0xff : 0]));
    case 'bcd':
      return ber.ctx(13, ber.intBytes(s.digits));
    case 'oid':
      return ber.ctx(15, Buffer.alloc(0));
    case 'mms-string':
      return ber.ctx(16, ber.intBytes(s.size));
    case 'utc-time':
      return ber.ctx(17, Buffer.alloc(0));
    case 'named':
      return ber.ctxC(
        0,
        s.domain === undefined
          ? ber.ctx(0, Buffer.from(s.item, 'latin1'))
          : ber.ctxC(1, ber.visible(s.domain), ber.visible(s.item)),
      );
  }
}

const smallInt = (t: ber.Tlv, what: string): number => ber.decodeSmallInt(t, what);

export function decodeTypeSpec(t: ber.Tlv, depth = 0): TypeSpec {
  if (t.cls !== ber.CONTEXT) throw new DecodeError('mms', `type ${ber.describeTag(t)} is not context-specific`, t.start);
  if (depth >= MAX_NESTING) throw new DecodeError('mms', `type nested deeper than ${MAX_NESTING}`, t.start);
  switch (t.tag) {
    case 0: {
      const name = ber.inner(t, 'type name');
      if (name.tag === 1) {
        const [d, i] = ber.children(name);
        if (!d || !i) throw new DecodeError('mms', 'domain-specific type name without both names', name.start);
        return { type: 'named', domain: ber.decodeVisible(d), item: ber.decodeVisible(i) };
      }
      return { type: 'named', item: ber.decodeVisible(name) };
    }
    case 1: {
      const parts = ber.children(t);
      const count = ber.find(parts, ber.CONTEXT, 1);
      const element = ber.find(parts, ber.CONTEXT, 2);
      if (!count || !element) throw new DecodeError('mms', 'array type without element count or type', t.start);
      return { type: 'array', count: smallInt(count, 'array size'), element: decodeTypeSpec(ber.inner(element, 'element type'), depth + 1) };
    }
    case 2: {
      const list = ber.find(ber.children(t), ber.CONTEXT, 1);
      if (!list) throw new DecodeError('mms', 'structure type without components', t.start);
      return {
        type: 'structure',
        components: ber.children(list).map((c) => {
          const parts = ber.children(c);
          const name = ber.find(parts, ber.CONTEXT, 0);
          const spec = ber.find(parts, ber.CONTEXT, 1);
          if (!spec) throw new DecodeError('mms', 'structure component without a type', c.start);
          return { name: name ? ber.decodeVisible(name) : '', spec: decodeTypeSpec(ber.inner(spec, 'component type'), depth + 1) };
        }),
      };
    }
    case 3:
      return { type: 'boolean' };
    case 4:
      return { type: 'bit-string', size: smallInt(t, 'bit-string size') };
    case 5:
      return { type: 'integer', bits: smallInt(t, 'integer size') };
    case 6:
      return { type: 'unsigned', bits: smallInt(t, 'unsigned size') };
    case 7: {
      const [format, exponent] = ber.children(t);
      if (!format || !exponent) throw new DecodeError('mms', 'floating-point type without widths', t.start);
      return { type: 'float', formatWidth: smallInt(format, 'format width'), exponentWidth: smallInt(exponent, 'exponent width') };
    }
    case 9:
      return { type: 'octet-string', size: smallInt(t, 'octet-string size') };
    case 10:
      return { type: 'visible-string', size: smallInt(t, 'visible-string size') };
    case 11:
      return { type: 'generalized-time' };
    case 12:
      return { type: 'binary-time', withDate: t.value.length > 0 && ber.decodeBool(t) };
    case 13:
      return { type: 'bcd', digits: smallInt(t, 'bcd digits') };
    case 15:
      return { type: 'oid' };
    case 16:
      return { type: 'mms-string', size: smallInt(t, 'mms-string size') };
    case 17:
      return { type: 'utc-time' };
    default:
      throw new DecodeError('mms', `type tag [${t.tag}] is not an MMS type`, t.start);
  }
}
