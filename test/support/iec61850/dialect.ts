/**
 * Encodings real IEDs use that our own encoder never produces, so the client is
 * tested against them: BER constructed elements with indefinite lengths, and
 * session parameters with the long (FF + 2 octets) length form even when short.
 */
import * as ber from '../../../nodes/lib/iec61850/ber';

export interface Dialect {
  indefiniteLengths?: boolean;
  longSessionLengths?: boolean;
}

/** Re-encodes every constructed element of a BER buffer with an indefinite length. */
export function toIndefinite(buf: Buffer): Buffer {
  return Buffer.concat(
    ber.children(buf).map((t) => {
      const header = buf.subarray(t.start, t.end - t.value.length);
      if (!t.constructed) return buf.subarray(t.start, t.end);
      const idLength = identifierOctets(header);
      return Buffer.concat([header.subarray(0, idLength), Buffer.from([0x80]), toIndefinite(t.value), Buffer.from([0, 0])]);
    }),
  );
}

/** Octets of the identifier at the start of a BER header (more than one for high tag numbers). */
function identifierOctets(header: Buffer): number {
  if ((header[0] & 0x1f) !== 0x1f) return 1;
  let n = 1;
  while (header[n] & 0x80) n++;
  return n + 1;
}

const long = (n: number): number[] => [0xff, n >> 8, n & 0xff];
const lengthOf = (n: number, forceLong: boolean): number[] => (forceLong || n >= 255 ? long(n) : [n]);

function readLength(buf: Buffer, pos: number): [number, number] {
  return buf[pos] === 0xff ? [buf.readUInt16BE(pos + 1), pos + 3] : [buf[pos], pos + 1];
}

/** Session parameters (and the connect/accept group) re-emitted, user data transformed. */
function rebuildParams(buf: Buffer, transformUserData: (b: Buffer) => Buffer, forceLong: boolean): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const code = buf[pos];
    const [length, start] = readLength(buf, pos + 1);
    let value = buf.subarray(start, start + length);
    if (code === 5) value = rebuildParams(value, transformUserData, forceLong);
    if (code === 193) value = transformUserData(value);
    out.push(Buffer.from([code, ...lengthOf(value.length, forceLong)]), value);
    pos = start + length;
  }
  return Buffer.concat(out);
}

/** Applies the dialect to one session unit the server is about to send. */
export function applyDialect(unit: Buffer, d: Dialect): Buffer {
  const body = (b: Buffer): Buffer => (d.indefiniteLengths ? toIndefinite(b) : b);
  const forceLong = !!d.longSessionLengths;
  if (unit[0] === 1) {
    // GIVE TOKENS + DATA TRANSFER (no parameters), then the presentation data.
    const [gtLength, afterGt] = readLength(unit, 1);
    const dtStart = afterGt + gtLength;
    const [dtLength, afterDt] = readLength(unit, dtStart + 1);
    const header = forceLong ? Buffer.from([1, ...long(0), 1, ...long(0)]) : unit.subarray(0, afterDt + dtLength);
    return Buffer.concat([header, body(unit.subarray(afterDt + dtLength))]);
  }
  const [length, start] = readLength(unit, 1);
  const rebuilt = rebuildParams(unit.subarray(start, start + length), body, forceLong);
  return Buffer.concat([Buffer.from([unit[0], ...lengthOf(rebuilt.length, forceLong)]), rebuilt]);
}
