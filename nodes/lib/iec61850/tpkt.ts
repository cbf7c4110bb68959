/**
 * TPKT (RFC 1006): ISO transport over TCP. Each packet is `03 00 <len16>` then a
 * COTP TPDU. TCP delivers a byte stream, so packets arrive split and joined in any
 * way; the framer collects chunks and hands out whole packets.
 */
import { DecodeError } from './errors';

export const TPKT_HEADER = 4;
/** RFC 1006: the smallest packet carries a 3-octet TPDU header. */
const MIN_PACKET = 7;

export function encodeTpkt(tpdu: Buffer): Buffer {
  const length = tpdu.length + TPKT_HEADER;
  if (length > 0xffff) throw new RangeError(`TPDU of ${tpdu.length} octets does not fit one TPKT`);
  const header = Buffer.from([3, 0, length >> 8, length & 0xff]);
  return Buffer.concat([header, tpdu]);
}

/** Splits a TCP byte stream into TPDUs (TPKT payloads). */
export class TpktFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Adds a chunk and returns every TPDU it completes. Throws DecodeError on a bad header. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const out: Buffer[] = [];
    while (this.pendingBytes >= TPKT_HEADER) {
      const head = this.peek(TPKT_HEADER);
      if (head[0] !== 3) throw new DecodeError('tpkt', `version ${head[0]}, expected 3`);
      const length = head.readUInt16BE(2);
      if (length < MIN_PACKET) throw new DecodeError('tpkt', `packet length ${length} is below ${MIN_PACKET}`);
      if (this.pendingBytes < length) break;
      out.push(this.take(length).subarray(TPKT_HEADER));
    }
    return out;
  }

  /** Octets received that do not yet form a whole packet. */
  get buffered(): number {
    return this.pendingBytes;
  }

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  private peek(n: number): Buffer {
    if (this.pending[0].length < n) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const packet = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return packet;
  }
}
