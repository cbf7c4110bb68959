/**
 * ASN.1 BER, the encoding of every layer from Presentation up (ISO 8825-1).
 * Reading accepts what real IEDs send: short, long and indefinite lengths,
 * high tag numbers, non-minimal integers. Writing produces the minimal definite
 * form, which is what the captured clients send, so requests compare byte-for-byte.
 */
import { DecodeError } from './errors';

export const UNIVERSAL = 0;
export const APPLICATION = 1;
export const CONTEXT = 2;
export const PRIVATE = 3;

/** Universal tag numbers used by the stack. */
export const U = {
  boolean: 1,
  integer: 2,
  bitString: 3,
  octetString: 4,
  null: 5,
  oid: 6,
  external: 8,
  utf8String: 12,
  sequence: 16,
  set: 17,
  visibleString: 26,
  graphicString: 25,
} as const;

/** Nesting bound: a hostile frame must not exhaust the stack through indefinite lengths. */
const MAX_DEPTH = 48;

export interface Tlv {
  cls: number;
  constructed: boolean;
  tag: number;
  /** Content octets; for an indefinite length, without the end-of-contents marker. */
  value: Buffer;
  /** Offset of the identifier octet in the buffer it was read from. */
  start: number;
  /** Offset just past this element (past the end-of-contents for an indefinite length). */
  end: number;
}

/** Reads one element at `offset`. */
export function readTlv(buf: Buffer, offset = 0, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new DecodeError('ber', `nesting deeper than ${MAX_DEPTH}`, offset);
  let pos = offset;
  if (pos >= buf.length) throw new DecodeError('ber', 'missing identifier octet', pos);
  const first = buf[pos++];
  const cls = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tag = first & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let n = 0; ; n++) {
      if (pos >= buf.length) throw new DecodeError('ber', 'truncated high tag number', pos);
      if (n >= 4) throw new DecodeError('ber', 'tag number too large', pos);
      const b = buf[pos++];
      tag = tag * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
  }
  if (pos >= buf.length) throw new DecodeError('ber', 'missing length octet', pos);
  const lenByte = buf[pos++];
  if (lenByte === 0x80) {
    if (!constructed) throw new DecodeError('ber', 'indefinite length on a primitive element', offset);
    const contentStart = pos;
    while (true) {
      if (pos + 1 < buf.length && buf[pos] === 0 && buf[pos + 1] === 0) {
        return { cls, constructed, tag, value: buf.subarray(contentStart, pos), start: offset, end: pos + 2 };
      }
      if (pos >= buf.length) throw new DecodeError('ber', 'indefinite length without end-of-contents', offset);
      pos = readTlv(buf, pos, depth + 1).end;
    }
  }
  let length = lenByte;
  if (lenByte & 0x80) {
    const count = lenByte & 0x7f;
    if (count > 4) throw new DecodeError('ber', `length of ${count} octets is not supported`, pos - 1);
    if (pos + count > buf.length) throw new DecodeError('ber', 'truncated length', pos);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++];
  }
  if (pos + length > buf.length) {
    throw new DecodeError('ber', `content of ${length} octets runs past the end (${buf.length - pos} left)`, offset);
  }
  return { cls, constructed, tag, value: buf.subarray(pos, pos + length), start: offset, end: pos + length };
}

/** Reads a buffer that must hold exactly one element. */
export function readOne(buf: Buffer): Tlv {
  const tlv = readTlv(buf, 0);
  if (tlv.end !== buf.length) throw new DecodeError('ber', `${buf.length - tlv.end} octets after the element`, tlv.end);
  return tlv;
}

/** The elements inside a constructed element (or a whole buffer of concatenated elements). */
export function children(parent: Tlv | Buffer, depth = 0): Tlv[] {
  let content: Buffer;
  if (Buffer.isBuffer(parent)) {
    content = parent;
  } else {
    if (!parent.constructed) throw new DecodeError('ber', `${describeTag(parent)} should be constructed`, parent.start);
    content = parent.value;
  }
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < content.length) {
    const tlv = readTlv(content, pos, depth + 1);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

export function describeTag(tlv: Pick<Tlv, 'cls' | 'tag'>): string {
  const names = ['UNIVERSAL', 'APPLICATION', '', 'PRIVATE'];
  return `[${names[tlv.cls] ? `${names[tlv.cls]} ` : ''}${tlv.tag}]`;
}

export function is(tlv: Tlv | undefined, cls: number, tag: number): boolean {
  return !!tlv && tlv.cls === cls && tlv.tag === tag;
}

export function isCtx(tlv: Tlv | undefined, tag: number): boolean {
  return is(tlv, CONTEXT, tag);
}

/** The first child with this class and tag, or undefined. */
export function find(list: Tlv[], cls: number, tag: number): Tlv | undefined {
  return list.find((t) => t.cls === cls && t.tag === tag);
}

/** The first child with this class and tag; throws naming `what` when absent. */
export function need(list: Tlv[], cls: number, tag: number, what: string): Tlv {
  const t = find(list, cls, tag);
  if (!t) throw new DecodeError('ber', `missing ${what}`);
  return t;
}

/** The single element inside an explicitly tagged element. */
export function inner(tlv: Tlv, what: string): Tlv {
  const list = children(tlv);
  if (list.length !== 1) throw new DecodeError('ber', `${what} should hold one element, holds ${list.length}`, tlv.start);
  return list[0];
}

/** The encoded octets (header and content) of the single element inside an explicit tag. */
export function rawInner(tlv: Tlv, what: string): Buffer {
  const t = inner(tlv, what);
  return tlv.value.subarray(t.start, t.end);
}

function primitive(tlv: Tlv, what: string): Buffer {
  if (tlv.constructed) throw new DecodeError('ber', `${what} should be primitive`, tlv.start);
  return tlv.value;
}

// ---- primitive values -------------------------------------------------------

/** Two's-complement integer; a number when it fits exactly, a bigint beyond 2^53. */
export function decodeInt(tlv: Tlv, what = 'integer'): number | bigint {
  return intFromBytes(primitive(tlv, what), what, tlv.start);
}

export function intFromBytes(v: Buffer, what: string, offset?: number): number | bigint {
  if (v.length === 0) throw new DecodeError('ber', `${what} has no content`, offset);
  if (v.length <= 6) return v.readIntBE(0, v.length);
  let n = BigInt.asIntN(8, BigInt(v[0]));
  for (let i = 1; i < v.length; i++) n = (n << 8n) | BigInt(v[i]);
  return Number.isSafeInteger(Number(n)) && BigInt(Number(n)) === n ? Number(n) : n;
}

/** An integer whose sign bit some IEDs forget to pad: the octets read as a magnitude. */
export function uintFromBytes(v: Buffer, what: string, offset?: number): number | bigint {
  if (v.length === 0) throw new DecodeError('ber', `${what} has no content`, offset);
  if (v.length <= 6) return v.readUIntBE(0, v.length);
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** An integer that must fit a JavaScript number (lengths, counts, codes, invoke ids). */
export function decodeSmallInt(tlv: Tlv, what: string): number {
  const v = decodeInt(tlv, what);
  if (typeof v !== 'number') throw new DecodeError('ber', `${what} ${v} is out of range`, tlv.start);
  return v;
}

export function decodeBool(tlv: Tlv, what = 'boolean'): boolean {
  const v = primitive(tlv, what);
  if (v.length !== 1) throw new DecodeError('ber', `${what} should be 1 octet, is ${v.length}`, tlv.start);
  return v[0] !== 0;
}

/** A bit string as one boolean per bit, bit 0 first (the most significant bit of the first octet). */
export function decodeBits(tlv: Tlv, what = 'bit string'): boolean[] {
  const v = primitive(tlv, what);
  if (v.length === 0) throw new DecodeError('ber', `${what} has no content`, tlv.start);
  const unused = v[0];
  if (unused > 7 || (v.length === 1 && unused !== 0)) {
    throw new DecodeError('ber', `${what} declares ${unused} unused bits`, tlv.start);
  }
  const count = (v.length - 1) * 8 - unused;
  const bits: boolean[] = new Array(count);
  for (let i = 0; i < count; i++) bits[i] = (v[1 + (i >> 3)] & (0x80 >> (i & 7))) !== 0;
  return bits;
}

export function decodeOid(tlv: Tlv, what = 'object identifier'): string {
  const v = primitive(tlv, what);
  if (v.length === 0) throw new DecodeError('ber', `${what} has no content`, tlv.start);
  const arcs: number[] = [];
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    n = n * 128 + (v[i] & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DecodeError('ber', `${what} arc too large`, tlv.start);
    if (!(v[i] & 0x80)) {
      if (arcs.length === 0) arcs.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else arcs.push(n);
      n = 0;
    } else if (i === v.length - 1) {
      throw new DecodeError('ber', `${what} ends inside an arc`, tlv.start);
    }
  }
  return arcs.join('.');
}

export function decodeVisible(tlv: Tlv, what = 'string'): string {
  return primitive(tlv, what).toString('latin1');
}

export function decodeUtf8(tlv: Tlv, what = 'string'): string {
  return primitive(tlv, what).toString('utf8');
}

export function decodeOctets(tlv: Tlv, what = 'octet string'): Buffer {
  return Buffer.from(primitive(tlv, what));
}

// ---- writing ---------------------------------------------------------------

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function identifier(cls: number, constructed: boolean, tag: number): Buffer {
  const lead = (cls << 6) | (constructed ? 0x20 : 0);
  if (tag < 31) return Buffer.from([lead | tag]);
  const rest: number[] = [];
  for (let n = tag; n > 0; n = Math.floor(n / 128)) rest.unshift((n & 0x7f) | (rest.length ? 0x80 : 0));
  return Buffer.from([lead | 0x1f, ...rest]);
}

export function tlv(cls: number, constructed: boolean, tag: number, content: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(content) ? Buffer.concat(content) : content;
  return Buffer.concat([identifier(cls, constructed, tag), encodeLength(body.length), body]);
}

/** Context-specific primitive [tag]. */
export const ctx = (tag: number, content: Buffer): Buffer => tlv(CONTEXT, false, tag, content);
/** Context-specific constructed [tag]. */
export const ctxC = (tag: number, ...parts: Buffer[]): Buffer => tlv(CONTEXT, true, tag, parts);
/** Application constructed [APPLICATION tag]. */
export const app = (tag: number, ...parts: Buffer[]): Buffer => tlv(APPLICATION, true, tag, parts);
export const seq = (...parts: Buffer[]): Buffer => tlv(UNIVERSAL, true, U.sequence, parts);
export const set = (...parts: Buffer[]): Buffer => tlv(UNIVERSAL, true, U.set, parts);

/** Minimal two's-complement octets of an integer. */
export function intBytes(value: number | bigint): Buffer {
  let n = BigInt(value);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (!((n === 0n && !(bytes[0] & 0x80)) || (n === -1n && bytes[0] & 0x80)));
  return Buffer.from(bytes);
}

/** Octets of a non-negative integer, with a leading zero when the top bit is set. */
export function uintBytes(value: number | bigint): Buffer {
  if (BigInt(value) < 0n) throw new RangeError(`unsigned value ${value} is negative`);
  return intBytes(value);
}

export const int = (value: number | bigint): Buffer => tlv(UNIVERSAL, false, U.integer, intBytes(value));

export function bitBytes(bits: readonly boolean[]): Buffer {
  const out = Buffer.alloc(1 + Math.ceil(bits.length / 8));
  out[0] = (8 - (bits.length % 8)) % 8;
  bits.forEach((b, i) => {
    if (b) out[1 + (i >> 3)] |= 0x80 >> (i & 7);
  });
  return out;
}

export function oidBytes(oid: string): Buffer {
  const arcs = oid.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new RangeError(`object identifier "${oid}" has a non-numeric arc`);
    return Number(s);
  });
  if (arcs.length < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
    throw new RangeError(`object identifier "${oid}" is not valid`);
  }
  const out: number[] = [];
  const push = (n: number): void => {
    const group: number[] = [n & 0x7f];
    for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) group.unshift((n & 0x7f) | 0x80);
    out.push(...group);
  };
  push(arcs[0] * 40 + arcs[1]);
  arcs.slice(2).forEach(push);
  return Buffer.from(out);
}

export const oid = (value: string): Buffer => tlv(UNIVERSAL, false, U.oid, oidBytes(value));
export const visible = (value: string): Buffer => tlv(UNIVERSAL, false, U.visibleString, Buffer.from(value, 'latin1'));
