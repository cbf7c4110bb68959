/**
 * Modbus RTU slave over a serial byte stream (a serial port, a pty, a socket):
 * RTU framing with CRC, the same RequestHandler as the TCP server. Like a real
 * bus slave it ignores frames for other unit ids and the answers of other
 * slaves, resynchronises after line noise, and never answers broadcasts.
 */
import { EventEmitter } from 'events';
import type { Duplex } from 'stream';
import { crcMatches, withCrc } from './crc';
import { decodeRequest, encodeException, encodeResponse, ModbusException, ModbusRequest } from './pdu';
import { HandlerError, HandlerResult, hasValues, isThenable, NO_RESPONSE, RequestHandler, SERVER_DEVICE_FAILURE } from './server-handler';

export interface RtuServerOptions {
  /** Whether this slave answers a unit id; frames for others are ignored (default: 1..247). */
  answers?: (unitId: number) => boolean;
  /** Silence (ms) after which bytes that form no frame are dropped (default 30). */
  frameGapMs?: number;
}

export interface RtuServerStats {
  requests: number;
  exceptions: number;
  ignored: number;
  droppedBytes: number;
}

/** Smallest RTU frame: unit, function, CRC. */
const MIN_FRAME = 4;
const MAX_FRAME = 256;

/** Length of the request frame starting at `p`, 0 when more bytes are needed, -1 for an unknown function. */
function requestFrameLength(buf: Buffer, p: number): number {
  const fc = buf[p + 1];
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length - p < 7 ? 0 : 9 + buf[p + 6];
  return -1;
}

/** Length of the answer of another slave starting at `p` (so it can be skipped), 0 if unknown yet, -1 if none. */
function answerFrameLength(buf: Buffer, p: number): number {
  const fc = buf[p + 1];
  if (fc & 0x80) return 5;
  if (fc >= 1 && fc <= 4) return buf.length - p < 3 ? 0 : 5 + buf[p + 2];
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8;
  return -1;
}

export class ModbusRtuServer extends EventEmitter {
  readonly stats: RtuServerStats = { requests: 0, exceptions: 0, ignored: 0, droppedBytes: 0 };
  private buf: Buffer = Buffer.alloc(0);
  private busy = false;
  private gapTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly answers: (unitId: number) => boolean;
  private readonly frameGapMs: number;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onError = (err: Error): void => {
    this.emit('streamError', err);
  };

  constructor(
    private readonly stream: Duplex,
    private readonly handler: RequestHandler,
    options: RtuServerOptions = {},
  ) {
    super();
    this.answers = options.answers ?? ((u) => u >= 1 && u <= 247);
    this.frameGapMs = options.frameGapMs ?? 30;
    stream.on('data', this.onData);
    stream.on('error', this.onError);
  }

  /** Stops listening to the stream; the stream itself belongs to the caller. */
  detach(): void {
    this.closed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
    this.stream.off('data', this.onData);
    this.stream.off('error', this.onError);
    this.buf = Buffer.alloc(0);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.buf.length > 4 * MAX_FRAME) this.drop(this.buf.length - MAX_FRAME);
    this.parse(false);
    this.armGap();
  }

  private armGap(): void {
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = null;
    if (this.buf.length && !this.closed) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        this.parse(true);
        this.armGap();
      }, this.frameGapMs);
    }
  }

  /**
   * Takes complete frames off the front of the buffer. `final` (after a silence)
   * means no more bytes of the current frame will come: what cannot be a frame is dropped.
   */
  private parse(final: boolean): void {
    while (!this.busy && !this.closed && this.buf.length >= MIN_FRAME) {
      const buf = this.buf;
      const reqLen = requestFrameLength(buf, 0);
      if (reqLen > 0 && buf.length >= reqLen && crcMatches(buf, reqLen)) {
        this.buf = buf.subarray(reqLen);
        this.onRequest(buf.subarray(0, reqLen - 2));
        continue;
      }
      const ansLen = answerFrameLength(buf, 0);
      if (ansLen > 0 && buf.length >= ansLen && crcMatches(buf, ansLen)) {
        // Another slave's answer on a shared bus: not for us.
        this.buf = buf.subarray(ansLen);
        this.stats.ignored++;
        continue;
      }
      if (reqLen === -1 && ansLen === -1 && final && crcMatches(buf, buf.length)) {
        // A whole frame with a function we do not implement.
        this.buf = buf.subarray(buf.length);
        this.onUnknownFunction(buf);
        continue;
      }
      const waiting = (reqLen === 0 || reqLen > buf.length) || (ansLen === 0 || ansLen > buf.length) || (reqLen === -1 && ansLen === -1);
      if (waiting && !final) return;
      this.drop(1);
    }
    if (final && !this.busy && this.buf.length && this.buf.length < MIN_FRAME) this.drop(this.buf.length);
  }

  private drop(n: number): void {
    this.stats.droppedBytes += n;
    this.buf = this.buf.subarray(n);
  }

  private onUnknownFunction(frame: Buffer): void {
    const unit = frame[0];
    if (unit === 0 || !this.answers(unit)) {
      this.stats.ignored++;
      return;
    }
    this.stats.requests++;
    this.stats.exceptions++;
    this.reply(unit, encodeException(frame[1], 0x01));
  }

  private onRequest(body: Buffer): void {
    const unit = body[0];
    const broadcast = unit === 0;
    if (!broadcast && !this.answers(unit)) {
      this.stats.ignored++;
      return;
    }
    this.stats.requests++;
    let req: ModbusRequest;
    try {
      req = decodeRequest(body.subarray(1));
    } catch (err) {
      if (!broadcast) this.replyFailure(unit, body[1], err);
      return;
    }
    // Broadcasts are writes only (Modbus over serial line 2.1); reads to unit 0 are meaningless.
    if (broadcast && req.fc <= 4) return;
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.handler(unit, req);
    } catch (err) {
      if (!broadcast) this.replyFailure(unit, req.fc, err, req);
      return;
    }
    if (!isThenable(result)) {
      if (!broadcast) this.replyResult(unit, req, result);
      return;
    }
    // One request at a time, as on a real bus: later frames wait in the buffer.
    this.busy = true;
    const finish = (): void => {
      this.busy = false;
      if (this.closed) return;
      this.parse(false);
      this.armGap();
    };
    result.then(
      (res) => {
        if (!broadcast && !this.closed) this.replyResult(unit, req, res);
        finish();
      },
      (err: unknown) => {
        if (!broadcast && !this.closed) this.replyFailure(unit, req.fc, err, req);
        finish();
      },
    );
  }

  private replyResult(unit: number, req: ModbusRequest, result: HandlerResult): void {
    if (result === NO_RESPONSE) return;
    if (req.fc <= 4 && !hasValues(result, (req as { quantity: number }).quantity)) {
      return this.replyFailure(unit, req.fc, new Error('returned too few values'), req);
    }
    this.reply(unit, encodeResponse(req, result as ArrayLike<number> | undefined));
  }

  private replyFailure(unit: number, fc: number, err: unknown, req?: ModbusRequest): void {
    this.stats.exceptions++;
    let code = SERVER_DEVICE_FAILURE;
    if (err instanceof ModbusException) code = err.code;
    else if (req) this.emit('handlerError', new HandlerError(unit, req, err));
    this.reply(unit, encodeException(fc, code));
  }

  private reply(unit: number, pdu: Buffer): void {
    const body = Buffer.allocUnsafe(pdu.length + 1);
    body[0] = unit;
    pdu.copy(body, 1);
    this.stream.write(withCrc(body));
  }
}
