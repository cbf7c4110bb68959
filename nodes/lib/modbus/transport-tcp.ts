/**
 * Modbus TCP: MBAP header (transaction id, protocol 0, length, unit) + PDU.
 * Answers are matched by transaction id, so several requests may be in flight
 * (pipelining) and may be answered in any order. Bytes that cannot start a
 * frame for a request we know are skipped one at a time until a plausible
 * header appears again: one bad burst costs that burst, not the connection.
 */
import { encodeRequest, FrameError, ModbusRequest } from './pdu';
import { LinkTransport } from './transport-base';
import { LinkError, ModbusTimeoutError } from './transport-errors';
import type { ByteLink } from './transport-link';
import type { ExchangeCallback, Transport } from './transport-types';

interface TcpPending {
  tid: number;
  done: ExchangeCallback;
  timer: NodeJS.Timeout;
  timeoutMs: number;
}

const MBAP_LENGTH = 7;
const EMPTY = Buffer.alloc(0);
/** Transaction ids kept after a timeout so their late answers are recognised and dropped whole. */
const EXPIRED_MEMORY = 64;

export class TcpTransport extends LinkTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly serial = false;
  readonly charTimeMs = 0;
  /**
   * Exchanges in flight, in slots that are reused and never given back: a Map here reallocated its
   * table on deletes, and V8 allocates the table of a long-lived Map in the old generation, so
   * polling flat out filled the old generation at megabytes per second and forced a major GC every
   * second or two (whose marking threads then competed with everything else on a small machine).
   */
  private readonly slots: (TcpPending | undefined)[] = [];
  private inFlightCount = 0;
  private readonly expired = new Set<number>();
  private readonly expiredOrder: number[] = [];
  private nextTid = 1;
  private rx: Buffer = EMPTY;

  constructor(link: ByteLink, description: string) {
    super(link, description);
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  exchange(unitId: number, request: ModbusRequest, timeoutMs: number, done: ExchangeCallback): void {
    if (!this.isOpen) {
      process.nextTick(done, new LinkError(`${this.description} is not connected`));
      return;
    }
    const tid = this.allocateTid();
    const pdu = encodeRequest(request);
    const frame = Buffer.allocUnsafe(MBAP_LENGTH + pdu.length);
    frame.writeUInt16BE(tid, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = unitId;
    pdu.copy(frame, MBAP_LENGTH);
    const p: TcpPending = { tid, done, timeoutMs, timer: setTimeout(() => this.onTimeout(p), timeoutMs) };
    this.track(p);
    this.write(frame);
  }

  private allocateTid(): number {
    for (;;) {
      const tid = this.nextTid;
      this.nextTid = tid === 0xffff ? 1 : tid + 1;
      if (!this.lookup(tid)) {
        this.expired.delete(tid);
        return tid;
      }
    }
  }

  protected onData(chunk: Buffer): void {
    const buf = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= MBAP_LENGTH) {
      const tid = buf.readUInt16BE(off);
      const length = buf.readUInt16BE(off + 4);
      const p = this.lookup(tid);
      const plausible =
        buf.readUInt16BE(off + 2) === 0 && length >= 2 && length <= 254 && (p !== undefined || this.expired.has(tid));
      if (!plausible) {
        off++;
        this.counters.garbageBytes++;
        continue;
      }
      const end = off + 6 + length;
      if (buf.length < end) break;
      const pdu = buf.subarray(off + MBAP_LENGTH, end);
      off = end;
      if (p) {
        this.finish(p, null, pdu);
      } else {
        this.expired.delete(tid);
        this.counters.lateResponses++;
      }
    }
    this.rx = off < buf.length ? buf.subarray(off) : EMPTY;
  }

  private onTimeout(p: TcpPending): void {
    if (!this.untrack(p)) return;
    this.rememberExpired(p.tid);
    // A frame of this transaction that started but never completed would swallow the next answers.
    if (this.rx.length >= MBAP_LENGTH && this.rx.readUInt16BE(0) === p.tid) {
      const announced = this.rx.readUInt16BE(4) + 6;
      const got = this.rx.length;
      this.counters.garbageBytes += got;
      this.rx = EMPTY;
      p.done(new FrameError(`short answer: MBAP announced ${announced} bytes, ${got} arrived within ${p.timeoutMs} ms`));
      return;
    }
    p.done(new ModbusTimeoutError(`no answer within ${p.timeoutMs} ms`));
  }

  private rememberExpired(tid: number): void {
    this.expired.add(tid);
    this.expiredOrder.push(tid);
    if (this.expiredOrder.length > EXPIRED_MEMORY) this.expired.delete(this.expiredOrder.shift() as number);
  }

  private finish(p: TcpPending, err: Error | null, pdu?: Buffer): void {
    clearTimeout(p.timer);
    this.untrack(p);
    p.done(err, pdu);
  }

  protected failAll(err: Error): void {
    this.rx = EMPTY;
    this.expired.clear();
    this.expiredOrder.length = 0;
    const all = this.slots.filter((p): p is TcpPending => p !== undefined);
    for (const p of all) this.finish(p, err);
  }

  private lookup(tid: number): TcpPending | undefined {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const p = slots[i];
      if (p !== undefined && p.tid === tid) return p;
    }
    return undefined;
  }

  private track(p: TcpPending): void {
    const slots = this.slots;
    this.inFlightCount++;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] === undefined) {
        slots[i] = p;
        return;
      }
    }
    slots.push(p);
  }

  /** False when the exchange was no longer in flight. */
  private untrack(p: TcpPending): boolean {
    const i = this.slots.indexOf(p);
    if (i < 0) return false;
    this.slots[i] = undefined;
    this.inFlightCount--;
    return true;
  }
}
