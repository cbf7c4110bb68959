/**
 * Modbus RTU framing (unit + PDU + CRC-16) over a serial port or over a TCP
 * socket to a serial-to-Ethernet converter. One request at a time: RTU has no
 * transaction id, so an answer is only recognisable as the answer to the one
 * request in flight. Error messages say what happened; the line adds which
 * line, unit and request.
 */
import { crc16 } from './crc';
import { encodeRequest, expectedResponseLength, FrameError, ModbusRequest } from './pdu';
import { RtuResponseFramer } from './rtu-framer';
import { LinkTransport } from './transport-base';
import { CrcError, LinkError, ModbusTimeoutError } from './transport-errors';
import type { ByteLink } from './transport-link';
import type { ExchangeCallback, Transport } from './transport-types';

export interface RtuTransportOptions {
  kind: 'rtu' | 'rtu-tcp';
  /** Silence that ends a frame for resync decisions. */
  frameGapMs: number;
  /** One character on the wire, to stretch timeouts by transmission time (0 if unknown). */
  charTimeMs: number;
}

interface RtuPending {
  unitId: number;
  request: ModbusRequest;
  timeoutMs: number;
  done: ExchangeCallback;
  sent: boolean;
  timer?: NodeJS.Timeout;
  silence?: NodeJS.Timeout;
}

const EMPTY = Buffer.alloc(0);

export class RtuTransport extends LinkTransport implements Transport {
  readonly serial = true;
  readonly kind: 'rtu' | 'rtu-tcp';
  readonly charTimeMs: number;
  private readonly frameGapMs: number;
  private readonly framer = new RtuResponseFramer();
  private pending?: RtuPending;
  private lastRxAt = 0;
  private quietTimer?: NodeJS.Timeout;
  /** Set after a failed exchange or stray bytes: the next request first waits for the line to fall silent. */
  private dirty = false;

  constructor(link: ByteLink, description: string, options: RtuTransportOptions) {
    super(link, description);
    this.kind = options.kind;
    this.frameGapMs = options.frameGapMs;
    this.charTimeMs = options.charTimeMs;
  }

  exchange(unitId: number, request: ModbusRequest, timeoutMs: number, done: ExchangeCallback): void {
    if (!this.isOpen) {
      process.nextTick(done, new LinkError(`${this.description} is not open`));
      return;
    }
    if (this.pending) {
      process.nextTick(done, new Error(`${this.description}: a request is already in flight (RTU carries one at a time)`));
      return;
    }
    const p: RtuPending = { unitId, request, timeoutMs, done, sent: false };
    this.pending = p;
    this.sendWhenQuiet(p, Date.now() + timeoutMs);
  }

  /** Waits for the tail of a late or noisy answer to pass, so it is not taken for this request's answer. */
  private sendWhenQuiet(p: RtuPending, giveUpAt: number): void {
    this.quietTimer = undefined;
    if (this.pending !== p) return;
    const now = Date.now();
    const quietFor = now - this.lastRxAt;
    if (this.dirty && quietFor < this.frameGapMs && now < giveUpAt) {
      this.quietTimer = setTimeout(() => this.sendWhenQuiet(p, giveUpAt), this.frameGapMs - quietFor);
      return;
    }
    this.dirty = false;
    this.send(p);
  }

  private send(p: RtuPending): void {
    const pdu = encodeRequest(p.request);
    const frame = Buffer.allocUnsafe(pdu.length + 3);
    frame[0] = p.unitId;
    pdu.copy(frame, 1);
    frame.writeUInt16LE(crc16(frame, 0, pdu.length + 1), pdu.length + 1);
    p.sent = true;
    if (p.unitId === 0) {
      // Broadcast: nobody answers; the line is free once the frame is on the wire.
      this.write(frame);
      p.timer = setTimeout(() => this.finish(p, null, EMPTY), Math.ceil(this.charTimeMs * frame.length));
      return;
    }
    const answerLength = expectedResponseLength(p.request) + 3;
    this.framer.expect({ unitId: p.unitId, fc: p.request.fc, frameLength: answerLength });
    this.syncGarbage();
    this.write(frame);
    const wireMs = this.charTimeMs * (frame.length + answerLength);
    p.timer = setTimeout(() => this.onTimeout(p), p.timeoutMs + Math.ceil(wireMs));
  }

  protected onData(chunk: Buffer): void {
    this.lastRxAt = Date.now();
    const p = this.pending;
    if (!p || !p.sent || p.unitId === 0) {
      this.dirty = true;
      this.counters.garbageBytes += chunk.length;
      return;
    }
    const pdu = this.framer.push(chunk);
    this.syncGarbage();
    if (pdu) {
      this.finish(p, null, pdu);
      return;
    }
    if (p.silence) clearTimeout(p.silence);
    p.silence = setTimeout(() => this.onSilence(p), this.frameGapMs);
  }

  private onSilence(p: RtuPending): void {
    p.silence = undefined;
    if (this.pending !== p) return;
    const state = this.framer.onSilence();
    this.syncGarbage();
    if (state === 'crc') this.finish(p, new CrcError('CRC mismatch in the answer'));
  }

  private onTimeout(p: RtuPending): void {
    if (this.pending !== p) return;
    const verdict = this.framer.verdict();
    let err: Error;
    if (verdict.kind === 'crc') err = new CrcError('CRC mismatch in the answer');
    else if (verdict.kind === 'short') err = new FrameError(`short answer: ${verdict.got} of ${verdict.need} bytes`);
    else err = new ModbusTimeoutError(`no answer within ${p.timeoutMs} ms`);
    this.finish(p, err);
  }

  private finish(p: RtuPending, err: Error | null, pdu?: Buffer): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.silence) clearTimeout(p.silence);
    if (this.pending !== p) return;
    this.pending = undefined;
    if (err) this.dirty = true;
    this.framer.reset();
    this.syncGarbage();
    p.done(err, pdu);
  }

  protected failAll(err: Error): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    if (this.pending) this.finish(this.pending, err);
  }

  private syncGarbage(): void {
    this.counters.garbageBytes += this.framer.garbageBytes;
    this.framer.garbageBytes = 0;
  }
}
