/**
 * ASDU codec: data unit identifier (type, VSQ, COT, originator, common
 * address) and information objects, with the field sizes a peer is configured
 * for (COT 1 or 2 octets, CA 1 or 2, IOA 1 to 3). SQ=1 carries one IOA for a
 * run of consecutive addresses.
 */
import { CP56_LENGTH, Cp56Time, decodeCp56, encodeCp56 } from './cp56';
import { Iec104DecodeError, Iec104EncodeError } from './errors';
import { MAX_ASDU_LENGTH } from './apci';
import { ElementKind, TYPES, TypeInfo, elementSize, typeName } from './types';

export interface AsduSizes {
  cot: 1 | 2;
  ca: 1 | 2;
  ioa: 1 | 2 | 3;
}

/** The sizes of IEC 60870-5-104 as usually deployed (and as the reference library defaults). */
export const DEFAULT_SIZES: AsduSizes = { cot: 2, ca: 2, ioa: 3 };

/** Quality descriptor bits; which apply depends on the type (OV only in QDS, IV also in BCR). */
export interface Quality {
  iv: boolean; // invalid
  nt: boolean; // not topical
  sb: boolean; // substituted
  bl: boolean; // blocked
  ov: boolean; // overflow
}

export const GOOD: Quality = Object.freeze({ iv: false, nt: false, sb: false, bl: false, ov: false });

export interface InformationObject {
  ioa: number;
  /**
   * The element's main value: boolean for single points and single commands,
   * 0..3 for double points, double and regulating commands, a number for the
   * rest (normalized values as a fraction -1..<1), the counter for BCR.
   */
  value?: number | boolean;
  quality?: Quality;
  time?: Cp56Time;
  /** Normalized value as the 16-bit integer on the wire; wins over value when encoding. */
  raw?: number;
  /** Step position: the transient bit. */
  transient?: boolean;
  /** BCR: sequence number 0..31, carry, counter adjusted. */
  sequence?: number;
  carry?: boolean;
  adjusted?: boolean;
  /** Commands: select (true) or execute (false). */
  select?: boolean;
  /** QU / QL of commands, QOI, QCC, COI: the qualifier octet's value field. */
  qualifier?: number;
  /** Test command: test sequence counter. */
  tsc?: number;
}

export interface Asdu {
  typeId: number;
  sq: boolean;
  cot: number;
  negative: boolean;
  test: boolean;
  originator: number;
  commonAddress: number;
  objects: InformationObject[];
  /** Element octets of a type this stack does not know, kept so the ASDU can be echoed. */
  unknownBody?: Buffer;
  /** VSQ object count of an unknown type, kept for the echo. */
  unknownCount?: number;
}

function headerSize(s: AsduSizes): number {
  return 2 + s.cot + s.ca;
}

export function decodeQds(b: number): Quality {
  return { iv: (b & 0x80) !== 0, nt: (b & 0x40) !== 0, sb: (b & 0x20) !== 0, bl: (b & 0x10) !== 0, ov: (b & 0x01) !== 0 };
}

function qualityBits(q: Quality | undefined, withOv: boolean): number {
  if (!q) return 0;
  return (q.iv ? 0x80 : 0) | (q.nt ? 0x40 : 0) | (q.sb ? 0x20 : 0) | (q.bl ? 0x10 : 0) | (withOv && q.ov ? 0x01 : 0);
}

function decodeElement(kind: ElementKind, buf: Buffer, at: number, o: InformationObject): void {
  switch (kind) {
    case 'sp':
      o.value = (buf[at] & 0x01) !== 0;
      o.quality = { ...decodeQds(buf[at]), ov: false };
      return;
    case 'dp':
      o.value = buf[at] & 0x03;
      o.quality = { ...decodeQds(buf[at]), ov: false };
      return;
    case 'st': {
      const v = buf[at] & 0x7f;
      o.value = v & 0x40 ? v - 0x80 : v;
      o.transient = (buf[at] & 0x80) !== 0;
      o.quality = decodeQds(buf[at + 1]);
      return;
    }
    case 'bo':
      o.value = buf.readUInt32LE(at);
      o.quality = decodeQds(buf[at + 4]);
      return;
    case 'nva':
      o.raw = buf.readInt16LE(at);
      o.value = o.raw / 32768;
      o.quality = decodeQds(buf[at + 2]);
      return;
    case 'nva-nq':
      o.raw = buf.readInt16LE(at);
      o.value = o.raw / 32768;
      return;
    case 'sva':
      o.value = buf.readInt16LE(at);
      o.quality = decodeQds(buf[at + 2]);
      return;
    case 'float':
      o.value = buf.readFloatLE(at);
      o.quality = decodeQds(buf[at + 4]);
      return;
    case 'bcr': {
      o.value = buf.readInt32LE(at);
      const f = buf[at + 4];
      o.sequence = f & 0x1f;
      o.carry = (f & 0x20) !== 0;
      o.adjusted = (f & 0x40) !== 0;
      o.quality = { ...GOOD, iv: (f & 0x80) !== 0 };
      return;
    }
    case 'coi':
    case 'qoi':
    case 'qcc':
      o.qualifier = buf[at];
      return;
    case 'sco':
      o.value = (buf[at] & 0x01) !== 0;
      o.qualifier = (buf[at] >> 2) & 0x1f;
      o.select = (buf[at] & 0x80) !== 0;
      return;
    case 'dco':
    case 'rco':
      o.value = buf[at] & 0x03;
      o.qualifier = (buf[at] >> 2) & 0x1f;
      o.select = (buf[at] & 0x80) !== 0;
      return;
    case 'se-nva':
      o.raw = buf.readInt16LE(at);
      o.value = o.raw / 32768;
      o.qualifier = buf[at + 2] & 0x7f;
      o.select = (buf[at + 2] & 0x80) !== 0;
      return;
    case 'se-sva':
      o.value = buf.readInt16LE(at);
      o.qualifier = buf[at + 2] & 0x7f;
      o.select = (buf[at + 2] & 0x80) !== 0;
      return;
    case 'se-float':
      o.value = buf.readFloatLE(at);
      o.qualifier = buf[at + 4] & 0x7f;
      o.select = (buf[at + 4] & 0x80) !== 0;
      return;
    case 'none':
      return;
    case 'cs':
      o.time = decodeCp56(buf, at);
      return;
    case 'tsc':
      o.tsc = buf.readUInt16LE(at);
      return;
  }
}

function num(o: InformationObject, what: string): number {
  const v = o.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Iec104EncodeError(`IOA ${o.ioa}: ${what} needs a finite number, got ${String(v)}`);
  return v;
}

function intIn(o: InformationObject, min: number, max: number, what: string): number {
  const v = Math.round(num(o, what));
  if (v < min || v > max) throw new Iec104EncodeError(`IOA ${o.ioa}: ${what} ${v} outside ${min}..${max}`);
  return v;
}

/** Normalized value as a 16-bit integer: raw when given, else value * 32768 rounded and clamped. */
export function normalizedRaw(o: InformationObject): number {
  if (o.raw !== undefined) return o.raw;
  const v = Math.round(num(o, 'normalized value') * 32768);
  return Math.max(-32768, Math.min(32767, v));
}

function encodeElement(kind: ElementKind, o: InformationObject, out: Buffer, at: number): void {
  const q = o.quality;
  const sel = o.select ? 0x80 : 0;
  const qu = ((o.qualifier ?? 0) & 0x1f) << 2;
  switch (kind) {
    case 'sp':
      out[at] = (num(o, 'single point') ? 1 : 0) | qualityBits(q, false);
      return;
    case 'dp':
      out[at] = intIn(o, 0, 3, 'double point') | qualityBits(q, false);
      return;
    case 'st':
      out[at] = (intIn(o, -64, 63, 'step position') & 0x7f) | (o.transient ? 0x80 : 0);
      out[at + 1] = qualityBits(q, true);
      return;
    case 'bo':
      out.writeUInt32LE(intIn(o, -(2 ** 31), 2 ** 32 - 1, 'bitstring') >>> 0, at);
      out[at + 4] = qualityBits(q, true);
      return;
    case 'nva':
      out.writeInt16LE(normalizedRaw(o), at);
      out[at + 2] = qualityBits(q, true);
      return;
    case 'nva-nq':
      out.writeInt16LE(normalizedRaw(o), at);
      return;
    case 'sva':
      out.writeInt16LE(intIn(o, -32768, 32767, 'scaled value'), at);
      out[at + 2] = qualityBits(q, true);
      return;
    case 'float':
      out.writeFloatLE(num(o, 'short float'), at);
      out[at + 4] = qualityBits(q, true);
      return;
    case 'bcr':
      out.writeInt32LE(intIn(o, -(2 ** 31), 2 ** 31 - 1, 'counter'), at);
      out[at + 4] = ((o.sequence ?? 0) & 0x1f) | (o.carry ? 0x20 : 0) | (o.adjusted ? 0x40 : 0) | (q?.iv ? 0x80 : 0);
      return;
    case 'coi':
    case 'qoi':
    case 'qcc':
      out[at] = (o.qualifier ?? 0) & 0xff;
      return;
    case 'sco':
      out[at] = (num(o, 'single command') ? 1 : 0) | qu | sel;
      return;
    case 'dco':
      out[at] = intIn(o, 0, 3, 'double command') | qu | sel;
      return;
    case 'rco':
      out[at] = intIn(o, 0, 3, 'regulating step command') | qu | sel;
      return;
    case 'se-nva':
      out.writeInt16LE(normalizedRaw(o), at);
      out[at + 2] = ((o.qualifier ?? 0) & 0x7f) | sel;
      return;
    case 'se-sva':
      out.writeInt16LE(intIn(o, -32768, 32767, 'scaled set-point'), at);
      out[at + 2] = ((o.qualifier ?? 0) & 0x7f) | sel;
      return;
    case 'se-float':
      out.writeFloatLE(num(o, 'short float set-point'), at);
      out[at + 4] = ((o.qualifier ?? 0) & 0x7f) | sel;
      return;
    case 'none':
      return;
    case 'cs':
      if (!o.time) throw new Iec104EncodeError(`IOA ${o.ioa}: clock synchronisation needs a time`);
      encodeCp56(o.time, out, at);
      return;
    case 'tsc':
      out.writeUInt16LE((o.tsc ?? 0) & 0xffff, at);
      return;
  }
}

function readUIntLE(buf: Buffer, at: number, size: number): number {
  return size === 1 ? buf[at] : size === 2 ? buf.readUInt16LE(at) : buf.readUIntLE(at, size);
}

/** Decodes one ASDU (the octets after the APCI). */
export function decodeAsdu(buf: Buffer, sizes: AsduSizes = DEFAULT_SIZES): Asdu {
  const head = headerSize(sizes);
  if (buf.length < head) throw new Iec104DecodeError('asdu', `ASDU of ${buf.length} octets is shorter than its ${head}-octet header`);
  const typeId = buf[0];
  const sq = (buf[1] & 0x80) !== 0;
  const count = buf[1] & 0x7f;
  const cot = buf[2] & 0x3f;
  const negative = (buf[2] & 0x40) !== 0;
  const test = (buf[2] & 0x80) !== 0;
  const originator = sizes.cot === 2 ? buf[3] : 0;
  const commonAddress = readUIntLE(buf, 2 + sizes.cot, sizes.ca);
  const asdu: Asdu = { typeId, sq, cot, negative, test, originator, commonAddress, objects: [] };
  const info = TYPES.get(typeId);
  if (!info) {
    asdu.unknownBody = Buffer.from(buf.subarray(head));
    asdu.unknownCount = count;
    return asdu;
  }
  if (count === 0) throw new Iec104DecodeError('asdu', `${info.name} with zero information objects`, 1);
  const size = elementSize(info);
  const expected = head + (sq ? sizes.ioa + count * size : count * (sizes.ioa + size));
  if (buf.length !== expected) {
    throw new Iec104DecodeError('asdu', `${info.name} with ${count} object(s)${sq ? ' (SQ=1)' : ''} needs ${expected} octets, got ${buf.length}`);
  }
  let at = head;
  let base = 0;
  for (let i = 0; i < count; i++) {
    let ioa: number;
    if (!sq || i === 0) {
      ioa = readUIntLE(buf, at, sizes.ioa);
      at += sizes.ioa;
      base = ioa;
    } else {
      ioa = base + i;
    }
    const o: InformationObject = { ioa };
    decodeElement(info.kind, buf, at, o);
    const timeAt = at + size - (info.timed ? CP56_LENGTH : 0);
    if (info.timed) o.time = decodeCp56(buf, timeAt);
    at += size;
    asdu.objects.push(o);
  }
  return asdu;
}

function writeUIntLE(out: Buffer, value: number, at: number, size: number, what: string): void {
  const max = 2 ** (8 * size) - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new Iec104EncodeError(`${what} ${value} does not fit ${size} octet(s)`);
  out.writeUIntLE(value, at, size);
}

/** Octets an ASDU of this type with n objects takes. */
export function asduLength(info: TypeInfo, n: number, sq: boolean, sizes: AsduSizes): number {
  const size = elementSize(info);
  return headerSize(sizes) + (sq ? sizes.ioa + n * size : n * (sizes.ioa + size));
}

/** How many objects of a type fit one ASDU (limited by 127 and by 249 octets). */
export function maxObjects(info: TypeInfo, sq: boolean, sizes: AsduSizes, maxLength = MAX_ASDU_LENGTH): number {
  const size = elementSize(info);
  const room = maxLength - headerSize(sizes) - (sq ? sizes.ioa : 0);
  return Math.max(0, Math.min(127, Math.floor(room / (sq ? size : sizes.ioa + size))));
}

export function encodeAsdu(asdu: Asdu, sizes: AsduSizes = DEFAULT_SIZES): Buffer {
  const head = headerSize(sizes);
  const info = TYPES.get(asdu.typeId);
  if (!info && !asdu.unknownBody) throw new Iec104EncodeError(`${typeName(asdu.typeId)} is not supported`);
  const n = asdu.objects.length;
  if (info && (n === 0 || n > 127)) throw new Iec104EncodeError(`${info.name}: ${n} objects (1..127 allowed)`);
  const length = info ? asduLength(info, n, asdu.sq, sizes) : head + asdu.unknownBody!.length;
  if (length > MAX_ASDU_LENGTH) throw new Iec104EncodeError(`${typeName(asdu.typeId)}: ${length} octets exceed ${MAX_ASDU_LENGTH}`);
  const out = Buffer.alloc(length);
  out[0] = asdu.typeId;
  out[1] = (asdu.sq ? 0x80 : 0) | (info ? n : (asdu.unknownCount ?? 1) & 0x7f);
  if (asdu.cot < 0 || asdu.cot > 63) throw new Iec104EncodeError(`cause of transmission ${asdu.cot} outside 0..63`);
  out[2] = asdu.cot | (asdu.negative ? 0x40 : 0) | (asdu.test ? 0x80 : 0);
  if (sizes.cot === 2) out[3] = asdu.originator & 0xff;
  writeUIntLE(out, asdu.commonAddress, 2 + sizes.cot, sizes.ca, 'common address');
  if (!info) {
    asdu.unknownBody!.copy(out, head);
    return out;
  }
  const size = elementSize(info);
  let at = head;
  for (let i = 0; i < n; i++) {
    const o = asdu.objects[i];
    if (!asdu.sq || i === 0) {
      writeUIntLE(out, o.ioa, at, sizes.ioa, 'information object address');
      at += sizes.ioa;
    } else if (o.ioa !== asdu.objects[0].ioa + i) {
      throw new Iec104EncodeError(`SQ=1 needs consecutive IOAs; object ${i} has ${o.ioa}, expected ${asdu.objects[0].ioa + i}`);
    }
    encodeElement(info.kind, o, out, at);
    if (info.timed) {
      if (!o.time) throw new Iec104EncodeError(`${info.name} IOA ${o.ioa}: time tag missing`);
      encodeCp56(o.time, out, at + size - CP56_LENGTH);
    }
    at += size;
  }
  return out;
}
