/**
 * APCI: the 6-octet header of every IEC 104 APDU (start 0x68, length, four
 * control octets) and the splitting of a TCP byte stream into APDUs.
 */
import { Iec104DecodeError } from './errors';

export const START = 0x68;
/** The length octet counts the 4 control octets plus the ASDU; 253 is the maximum. */
export const MAX_APDU_LENGTH = 253;
export const MAX_ASDU_LENGTH = MAX_APDU_LENGTH - 4;
/** Sequence numbers are 15 bits. */
export const SEQ_MODULO = 32768;

export type UFunction = 'STARTDT_ACT' | 'STARTDT_CON' | 'STOPDT_ACT' | 'STOPDT_CON' | 'TESTFR_ACT' | 'TESTFR_CON';

const U_CODES: Record<UFunction, number> = {
  STARTDT_ACT: 0x07,
  STARTDT_CON: 0x0b,
  STOPDT_ACT: 0x13,
  STOPDT_CON: 0x23,
  TESTFR_ACT: 0x43,
  TESTFR_CON: 0x83,
};
const U_BY_CODE = new Map<number, UFunction>(Object.entries(U_CODES).map(([k, v]) => [v, k as UFunction]));

export type Apdu =
  | { kind: 'I'; sendSeq: number; recvSeq: number; asdu: Buffer }
  | { kind: 'S'; recvSeq: number }
  | { kind: 'U'; fn: UFunction };

export function encodeI(sendSeq: number, recvSeq: number, asdu: Buffer): Buffer {
  if (asdu.length > MAX_ASDU_LENGTH) throw new RangeError(`ASDU of ${asdu.length} octets exceeds ${MAX_ASDU_LENGTH}`);
  const out = Buffer.allocUnsafe(6 + asdu.length);
  out[0] = START;
  out[1] = 4 + asdu.length;
  out.writeUInt16LE((sendSeq << 1) & 0xfffe, 2);
  out.writeUInt16LE((recvSeq << 1) & 0xfffe, 4);
  asdu.copy(out, 6);
  return out;
}

export function encodeS(recvSeq: number): Buffer {
  const out = Buffer.from([START, 4, 0x01, 0x00, 0, 0]);
  out.writeUInt16LE((recvSeq << 1) & 0xfffe, 4);
  return out;
}

export function encodeU(fn: UFunction): Buffer {
  return Buffer.from([START, 4, U_CODES[fn], 0, 0, 0]);
}

export function encodeApdu(apdu: Apdu): Buffer {
  if (apdu.kind === 'I') return encodeI(apdu.sendSeq, apdu.recvSeq, apdu.asdu);
  if (apdu.kind === 'S') return encodeS(apdu.recvSeq);
  return encodeU(apdu.fn);
}

/** Decodes one complete APDU (start octet included). */
export function decodeApdu(frame: Buffer): Apdu {
  if (frame.length < 6) throw new Iec104DecodeError('apci', `APDU of ${frame.length} octets is shorter than 6`);
  if (frame[0] !== START) throw new Iec104DecodeError('apci', `start octet 0x${frame[0].toString(16)} is not 0x68`, 0);
  const length = frame[1];
  if (length < 4 || length > MAX_APDU_LENGTH) throw new Iec104DecodeError('apci', `length ${length} outside 4..253`, 1);
  if (frame.length !== length + 2) throw new Iec104DecodeError('apci', `length octet says ${length + 2} octets, frame has ${frame.length}`, 1);
  const c1 = frame[2];
  if ((c1 & 0x01) === 0) {
    if (length === 4) throw new Iec104DecodeError('apci', 'I-frame without an ASDU', 2);
    if (frame[4] & 0x01) throw new Iec104DecodeError('apci', 'I-frame receive sequence has bit 0 set', 4);
    return {
      kind: 'I',
      sendSeq: frame.readUInt16LE(2) >> 1,
      recvSeq: frame.readUInt16LE(4) >> 1,
      asdu: frame.subarray(6),
    };
  }
  if (length !== 4) throw new Iec104DecodeError('apci', `${(c1 & 0x03) === 0x01 ? 'S' : 'U'}-frame with length ${length}, expected 4`, 1);
  if ((c1 & 0x03) === 0x01) {
    if (frame[3] !== 0 || frame[4] & 0x01) throw new Iec104DecodeError('apci', 'S-frame with reserved bits set', 3);
    return { kind: 'S', recvSeq: frame.readUInt16LE(4) >> 1 };
  }
  const fn = U_BY_CODE.get(c1);
  if (!fn || frame[3] !== 0 || frame[4] !== 0 || frame[5] !== 0) {
    throw new Iec104DecodeError('apci', `U-frame control 0x${frame.subarray(2, 6).toString('hex')} is not a known function`, 2);
  }
  return { kind: 'U', fn };
}

/**
 * Splits a TCP byte stream into APDUs. A bad start octet or length throws
 * Iec104DecodeError: the stream cannot be resynchronised, so the connection
 * must be closed.
 */
export class ApduReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk and returns the complete APDUs it finished. */
  push(chunk: Buffer): Buffer[] {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let at = 0;
    while (buf.length - at >= 2) {
      if (buf[at] !== START) throw new Iec104DecodeError('apci', `start octet 0x${buf[at].toString(16)} is not 0x68`, at);
      const length = buf[at + 1];
      if (length < 4 || length > MAX_APDU_LENGTH) throw new Iec104DecodeError('apci', `length ${length} outside 4..253`, at + 1);
      if (buf.length - at < length + 2) break;
      frames.push(buf.subarray(at, at + length + 2));
      at += length + 2;
    }
    buf = buf.subarray(at);
    // Copy the short tail so a large chunk is not kept alive by a few octets.
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
    return frames;
  }

  get buffered(): number {
    return this.pending.length;
  }
}

/** Distance from a to b in 15-bit sequence space. */
export function seqDistance(from: number, to: number): number {
  return (to - from + SEQ_MODULO) % SEQ_MODULO;
}
