/**
 * COTP class 0 (ISO 8073 / X.224) as used over RFC 1006: connection request and
 * confirm with TPDU size and TSAPs, data TPDUs with segmentation and reassembly,
 * disconnect request and error TPDUs.
 */
import { DecodeError } from './errors';

const CR = 0xe0;
const CC = 0xd0;
const DT = 0xf0;
const DR = 0x80;
const ER = 0x70;
const EOT = 0x80;

const P_TPDU_SIZE = 0xc0;
const P_CALLING_TSAP = 0xc1;
const P_CALLED_TSAP = 0xc2;

/** TPDU sizes class 0 may negotiate (the parameter carries log2 of the size). */
export const TPDU_SIZES = [128, 256, 512, 1024, 2048, 4096, 8192] as const;

export interface ConnectParams {
  /** Source reference of the sender. */
  srcRef: number;
  /** Destination reference: 0 in a CR, the requester's source reference in a CC. */
  dstRef: number;
  tpduSize?: number;
  callingTsap?: Buffer;
  calledTsap?: Buffer;
}

export type Tpdu =
  | ({ kind: 'CR' } & ConnectParams)
  | ({ kind: 'CC' } & ConnectParams)
  | { kind: 'DT'; eot: boolean; data: Buffer }
  | { kind: 'DR'; dstRef: number; srcRef: number; reason: number }
  | { kind: 'ER'; dstRef: number; cause: number };

function tpduSizeCode(size: number): number {
  const code = Math.log2(size);
  if (!Number.isInteger(code) || code < 7 || code > 13) {
    throw new RangeError(`TPDU size ${size} is not one of ${TPDU_SIZES.join(', ')}`);
  }
  return code;
}

function encodeConnect(code: number, p: ConnectParams): Buffer {
  const params: number[] = [];
  if (p.tpduSize !== undefined) params.push(P_TPDU_SIZE, 1, tpduSizeCode(p.tpduSize));
  if (p.calledTsap) params.push(P_CALLED_TSAP, p.calledTsap.length, ...p.calledTsap);
  if (p.callingTsap) params.push(P_CALLING_TSAP, p.callingTsap.length, ...p.callingTsap);
  const body = [code, p.dstRef >> 8, p.dstRef & 0xff, p.srcRef >> 8, p.srcRef & 0xff, 0, ...params];
  return Buffer.from([body.length, ...body]);
}

export const encodeCr = (p: ConnectParams): Buffer => encodeConnect(CR, p);
export const encodeCc = (p: ConnectParams): Buffer => encodeConnect(CC, p);

export function encodeDt(data: Buffer, eot = true): Buffer {
  return Buffer.concat([Buffer.from([2, DT, eot ? EOT : 0]), data]);
}

export function encodeDr(dstRef: number, srcRef: number, reason: number): Buffer {
  return Buffer.from([6, DR, dstRef >> 8, dstRef & 0xff, srcRef >> 8, srcRef & 0xff, reason]);
}

/** Splits one session unit into DT TPDUs no larger than the negotiated TPDU size. */
export function segment(tsdu: Buffer, tpduSize: number): Buffer[] {
  const room = tpduSize - 3;
  if (room < 1) throw new RangeError(`TPDU size ${tpduSize} leaves no room for data`);
  if (tsdu.length <= room) return [encodeDt(tsdu, true)];
  const out: Buffer[] = [];
  for (let pos = 0; pos < tsdu.length; pos += room) {
    const end = Math.min(pos + room, tsdu.length);
    out.push(encodeDt(tsdu.subarray(pos, end), end === tsdu.length));
  }
  return out;
}

function decodeConnectParams(tpdu: Buffer, li: number): Omit<ConnectParams, 'srcRef' | 'dstRef'> {
  const out: Omit<ConnectParams, 'srcRef' | 'dstRef'> = {};
  let pos = 7;
  while (pos < li + 1) {
    if (pos + 2 > li + 1) throw new DecodeError('cotp', 'truncated parameter header', pos);
    const code = tpdu[pos];
    const len = tpdu[pos + 1];
    const value = tpdu.subarray(pos + 2, pos + 2 + len);
    if (pos + 2 + len > li + 1) throw new DecodeError('cotp', `parameter 0x${code.toString(16)} runs past the header`, pos);
    if (code === P_TPDU_SIZE) {
      if (len !== 1 || value[0] < 7 || value[0] > 16) {
        throw new DecodeError('cotp', `TPDU size code ${len === 1 ? value[0] : `of ${len} octets`} is not valid`, pos);
      }
      out.tpduSize = 1 << value[0];
    } else if (code === P_CALLING_TSAP) {
      out.callingTsap = Buffer.from(value);
    } else if (code === P_CALLED_TSAP) {
      out.calledTsap = Buffer.from(value);
    }
    // Other parameters (checksum, version, additional options) do not apply to class 0.
    pos += 2 + len;
  }
  return out;
}

export function decodeTpdu(tpdu: Buffer): Tpdu {
  if (tpdu.length < 2) throw new DecodeError('cotp', `TPDU of ${tpdu.length} octets`);
  const li = tpdu[0];
  if (li === 255 || li + 1 > tpdu.length) throw new DecodeError('cotp', `length indicator ${li} exceeds the TPDU (${tpdu.length})`);
  const code = tpdu[1] & 0xf0;
  switch (code) {
    case DT: {
      if (li !== 2) throw new DecodeError('cotp', `DT length indicator ${li}, expected 2`);
      return { kind: 'DT', eot: (tpdu[2] & EOT) !== 0, data: tpdu.subarray(3) };
    }
    case CR:
    case CC: {
      if (li < 6) throw new DecodeError('cotp', `${code === CR ? 'CR' : 'CC'} length indicator ${li} is too short`);
      const refs = { dstRef: tpdu.readUInt16BE(2), srcRef: tpdu.readUInt16BE(4) };
      if (tpdu[6] >> 4 !== 0) throw new DecodeError('cotp', `class ${tpdu[6] >> 4} requested; only class 0 is supported`);
      return { kind: code === CR ? 'CR' : 'CC', ...refs, ...decodeConnectParams(tpdu, li) };
    }
    case DR: {
      if (li < 6) throw new DecodeError('cotp', `DR length indicator ${li} is too short`);
      return { kind: 'DR', dstRef: tpdu.readUInt16BE(2), srcRef: tpdu.readUInt16BE(4), reason: tpdu[6] };
    }
    case ER: {
      if (li < 4) throw new DecodeError('cotp', `ER length indicator ${li} is too short`);
      return { kind: 'ER', dstRef: tpdu.readUInt16BE(2), cause: tpdu[4] };
    }
    default:
      throw new DecodeError('cotp', `TPDU code 0x${tpdu[1].toString(16)} is not supported`);
  }
}

/** Joins DT segments until one carries end-of-TSDU. */
export class Reassembler {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxTsdu: number) {}

  /** Returns the whole unit when `eot` closes it, else undefined. */
  push(data: Buffer, eot: boolean): Buffer | undefined {
    this.size += data.length;
    if (this.size > this.maxTsdu) {
      this.reset();
      throw new DecodeError('cotp', `segmented unit exceeds ${this.maxTsdu} octets`);
    }
    this.parts.push(data);
    if (!eot) return undefined;
    const whole = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.reset();
    return whole;
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
  }
}
