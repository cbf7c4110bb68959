/**
 * ISO Session (ISO 8327-1), the kernel subset MMS uses: CONNECT / ACCEPT /
 * REFUSE, data transfer (GIVE TOKENS + DATA TRANSFER concatenated), FINISH /
 * DISCONNECT for release, ABORT. Lengths use the short form below 255 and the
 * long form (FF + 2 octets) above, in both directions.
 */
import { DecodeError } from './errors';

const SI = {
  data: 1, // DATA TRANSFER and GIVE TOKENS share the code; concatenation tells them apart
  notFinished: 8,
  finish: 9,
  disconnect: 10,
  refuse: 12,
  connect: 13,
  accept: 14,
  abort: 25,
  abortAccept: 26,
} as const;

const PI = {
  connectAcceptItem: 5,
  transportDisconnect: 17,
  protocolOptions: 19,
  tsduMaxSize: 21,
  versionNumber: 22,
  userRequirements: 20,
  callingSsel: 51,
  calledSsel: 52,
  reasonCode: 50,
  userData: 193,
  extendedUserData: 194,
} as const;

/** Session version 2 and the duplex functional unit, as every MMS stack proposes. */
const VERSION_2 = 2;
const DUPLEX = 0x0002;

export type Spdu =
  | { kind: 'CONNECT'; callingSsel?: Buffer; calledSsel?: Buffer; userData: Buffer }
  | { kind: 'ACCEPT'; respondingSsel?: Buffer; userData: Buffer }
  | { kind: 'REFUSE'; reason?: number; userData: Buffer }
  | { kind: 'DATA'; userData: Buffer }
  | { kind: 'FINISH'; userData: Buffer }
  | { kind: 'DISCONNECT'; userData: Buffer }
  | { kind: 'ABORT'; userData: Buffer }
  | { kind: 'ABORT-ACCEPT' }
  | { kind: 'NOT-FINISHED'; userData: Buffer };

function encodeLength(n: number): number[] {
  if (n < 255) return [n];
  if (n > 0xffff) throw new RangeError(`session parameter of ${n} octets is too long`);
  return [0xff, n >> 8, n & 0xff];
}

function param(code: number, value: Buffer | number[]): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([code, ...encodeLength(bytes.length)]), bytes]);
}

function spdu(si: number, params: Buffer[]): Buffer {
  const body = Buffer.concat(params);
  return Buffer.concat([Buffer.from([si, ...encodeLength(body.length)]), body]);
}

function connectAcceptItem(): Buffer {
  return param(PI.connectAcceptItem, Buffer.concat([param(PI.protocolOptions, [0]), param(PI.versionNumber, [VERSION_2])]));
}

function requirements(): Buffer {
  return param(PI.userRequirements, [DUPLEX >> 8, DUPLEX & 0xff]);
}

export function encodeConnect(callingSsel: Buffer, calledSsel: Buffer, userData: Buffer): Buffer {
  return spdu(SI.connect, [
    connectAcceptItem(),
    requirements(),
    param(PI.callingSsel, callingSsel),
    param(PI.calledSsel, calledSsel),
    param(PI.userData, userData),
  ]);
}

export function encodeAccept(respondingSsel: Buffer, userData: Buffer): Buffer {
  return spdu(SI.accept, [connectAcceptItem(), requirements(), param(PI.calledSsel, respondingSsel), param(PI.userData, userData)]);
}

/** REFUSE with reason 2 (rejection by the called SS-user) and the presentation refusal as user data. */
export function encodeRefuse(reason: number, userData: Buffer): Buffer {
  return spdu(SI.refuse, [requirements(), param(PI.reasonCode, Buffer.concat([Buffer.from([reason]), userData]))]);
}

/** GIVE TOKENS + DATA TRANSFER, each with no parameters, then the user information. */
const DATA_HEADER = Buffer.from([SI.data, 0, SI.data, 0]);

export function encodeData(userData: Buffer): Buffer {
  return Buffer.concat([DATA_HEADER, userData]);
}

export const encodeFinish = (userData: Buffer): Buffer => spdu(SI.finish, [param(PI.userData, userData)]);
export const encodeDisconnect = (userData: Buffer): Buffer => spdu(SI.disconnect, [param(PI.userData, userData)]);

/** ABORT with "transport connection released" (bit 1) and optional presentation abort as user data. */
export function encodeAbort(userData?: Buffer): Buffer {
  const params = [param(PI.transportDisconnect, [0x03])];
  if (userData && userData.length) params.push(param(PI.userData, userData));
  return spdu(SI.abort, params);
}

interface Header {
  si: number;
  /** Offset of the parameters. */
  start: number;
  /** Offset just past the parameters (the SPDU length indicator covers them). */
  end: number;
}

function readLength(buf: Buffer, pos: number, what: string): { length: number; next: number } {
  if (pos >= buf.length) throw new DecodeError('session', `missing length of ${what}`, pos);
  if (buf[pos] !== 0xff) return { length: buf[pos], next: pos + 1 };
  if (pos + 3 > buf.length) throw new DecodeError('session', `truncated long-form length of ${what}`, pos);
  return { length: buf.readUInt16BE(pos + 1), next: pos + 3 };
}

function readHeader(buf: Buffer, pos: number): Header {
  const si = buf[pos];
  const { length, next } = readLength(buf, pos + 1, `SPDU ${si}`);
  if (next + length > buf.length) {
    throw new DecodeError('session', `SPDU ${si} declares ${length} octets, ${buf.length - next} present`, pos);
  }
  return { si, start: next, end: next + length };
}

/** Parameters of one SPDU as code → value; group items (PGI 5) are flattened into the same map. */
function readParams(buf: Buffer, start: number, end: number, depth = 0): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let pos = start;
  while (pos < end) {
    const code = buf[pos];
    const { length, next } = readLength(buf.subarray(0, end), pos + 1, `parameter ${code}`);
    if (next + length > end) throw new DecodeError('session', `parameter ${code} runs past its SPDU`, pos);
    const value = buf.subarray(next, next + length);
    if (code === PI.connectAcceptItem && depth === 0) {
      for (const [k, v] of readParams(buf, next, next + length, 1)) out.set(k, v);
    } else {
      out.set(code, value);
    }
    pos = next + length;
  }
  return out;
}

function userData(params: Map<number, Buffer>): Buffer {
  return params.get(PI.userData) ?? params.get(PI.extendedUserData) ?? Buffer.alloc(0);
}

export function decodeSpdu(buf: Buffer): Spdu {
  if (buf.length < 2) throw new DecodeError('session', `SPDU of ${buf.length} octets`);
  const head = readHeader(buf, 0);
  if (head.si === SI.data) {
    // Category 0 (GIVE TOKENS) followed by the DATA TRANSFER that carries the user data.
    if (head.end >= buf.length || buf[head.end] !== SI.data) {
      throw new DecodeError('session', 'GIVE TOKENS not followed by DATA TRANSFER', head.end);
    }
    const dt = readHeader(buf, head.end);
    return { kind: 'DATA', userData: buf.subarray(dt.end) };
  }
  const params = readParams(buf, head.start, head.end);
  const trailing = buf.subarray(head.end);
  switch (head.si) {
    case SI.connect:
      return { kind: 'CONNECT', callingSsel: params.get(PI.callingSsel), calledSsel: params.get(PI.calledSsel), userData: userData(params) };
    case SI.accept:
      return { kind: 'ACCEPT', respondingSsel: params.get(PI.calledSsel), userData: userData(params) };
    case SI.refuse: {
      const reason = params.get(PI.reasonCode);
      return { kind: 'REFUSE', reason: reason?.length ? reason[0] : undefined, userData: reason ? reason.subarray(1) : Buffer.alloc(0) };
    }
    case SI.finish:
      return { kind: 'FINISH', userData: userData(params) };
    case SI.disconnect:
      return { kind: 'DISCONNECT', userData: userData(params) };
    case SI.abort:
      return { kind: 'ABORT', userData: userData(params) };
    case SI.abortAccept:
      return { kind: 'ABORT-ACCEPT' };
    case SI.notFinished:
      return { kind: 'NOT-FINISHED', userData: trailing.length ? trailing : userData(params) };
    default:
      throw new DecodeError('session', `SPDU type ${head.si} is not supported`);
  }
}

export const SESSION_REFUSE_REASON: Record<number, string> = {
  0: 'rejection by called SS-user',
  1: 'congestion at TSAP',
  2: 'rejection by called SS-user with user data',
  129: 'session selector unknown',
  130: 'SS-user not attached to SSAP',
  131: 'SPM congestion at connect time',
  132: 'proposed protocol versions not supported',
  133: 'rejection by the SPM, no reason given',
  134: 'rejection by the SPM, implementation restriction',
};
