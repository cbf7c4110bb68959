/**
 * Modbus TCP server core: MBAP framing on a stream, pipelined requests answered
 * in request order, one socket.write per batch of answers, and per-connection
 * isolation (a bad frame closes that connection only; nothing throws out).
 * The application behind it is one RequestHandler (simulator, gateway).
 */
import net from 'net';
import { EventEmitter } from 'events';
import { decodeRequest, ModbusException, ModbusRequest, ReadFunction } from './pdu';
import { HandlerError, HandlerResult, hasValues, isThenable, NO_RESPONSE, RequestHandler, SERVER_DEVICE_FAILURE } from './server-handler';
import { MAX_READ_BITS, MAX_READ_REGISTERS } from './types';

/** MBAP header: transaction (2), protocol (2), length (2), unit (1). */
const MBAP = 7;
/** The MBAP length counts the unit id and the PDU, which is at most 253 bytes. */
const MIN_LENGTH = 2;
const MAX_LENGTH = 254;
const MAX_FRAME = 6 + MAX_LENGTH;
/** Function codes the server implements; any other is answered with exception 01 whatever its length. */
const SUPPORTED: readonly boolean[] = Array.from({ length: 256 }, (_, fc) => [1, 2, 3, 4, 5, 6, 15, 16].includes(fc));

export interface TcpServerOptions {
  /** At most this many clients (default 100); a new one beyond is closed on accept unless `evictIdle`. */
  maxConnections?: number;
  /** When full, close the longest-idle client to let the new one in (gateway: idle clients must not lock SCADA out). */
  evictIdle?: boolean;
  /** Close a connection idle this long (ms); 0 keeps idle clients (default 0). */
  idleTimeoutMs?: number;
  /** Stop reading from a client whose unread answers exceed this many bytes (default 1 MiB). */
  maxQueuedBytes?: number;
}

export interface TcpServerStats {
  clients: number;
  accepted: number;
  rejected: number;
  /** Idle clients closed to make room for a new one. */
  evicted: number;
  requests: number;
  exceptions: number;
  frameErrors: number;
}

/** Why a connection was closed by the server: names the client and what was wrong. */
export class ConnectionFrameError extends Error {
  constructor(
    readonly remote: string,
    reason: string,
  ) {
    super(`Modbus TCP client ${remote}: ${reason}; connection closed`);
    this.name = 'ConnectionFrameError';
  }
}

/** An answer that is waiting for an asynchronous handler, or queued behind one. */
interface Slot {
  data: Buffer | null;
}

interface Connection {
  socket: net.Socket;
  remote: string;
  /** Bytes of an incomplete frame carried over to the next chunk. */
  rest: Buffer | null;
  /** Answers not yet written because an earlier one is still pending; empty on the fast path. */
  slots: Slot[];
  closed: boolean;
  paused: boolean;
  /** When the client last sent something (or connected): the longest-idle one makes room when full. */
  lastActiveAt: number;
}

// Answers to one chunk are encoded straight into a shared slab and written as a
// view of it, without a copy: the data handler runs to the end without yielding,
// so no two connections ever fill it at the same time. Bytes handed to a write
// are never reused (the write may still be pending); a full slab is replaced by
// a new one, as Node's own Buffer pool does.
const SLAB = 64 * 1024;
let out = Buffer.allocUnsafe(SLAB);
/** Where this chunk's answers begin in `out`; `outPos` is where the next one goes. */
let outStart = 0;
let outPos = 0;
const EMPTY = Buffer.alloc(0);
/** Where an answer queued behind a pending one is encoded before it is copied out. */
const SLOT_SCRATCH = Buffer.allocUnsafe(MAX_FRAME);

function writeHeader(buf: Buffer, pos: number, tid: number, unit: number, pduLength: number): number {
  buf[pos] = tid >>> 8;
  buf[pos + 1] = tid & 0xff;
  buf[pos + 2] = 0;
  buf[pos + 3] = 0;
  const len = pduLength + 1;
  buf[pos + 4] = len >>> 8;
  buf[pos + 5] = len & 0xff;
  buf[pos + 6] = unit;
  return pos + MBAP;
}

function writeException(buf: Buffer, pos: number, tid: number, unit: number, fc: number, code: number): number {
  pos = writeHeader(buf, pos, tid, unit, 2);
  buf[pos] = (fc | 0x80) & 0xff;
  buf[pos + 1] = code & 0xff;
  return pos + 2;
}

/** Writes the normal answer to `req`; `values` has been checked to hold enough entries for reads. */
function writeAnswer(buf: Buffer, pos: number, tid: number, unit: number, req: ModbusRequest, values: HandlerResult): number {
  const fc = req.fc;
  if (fc === 3 || fc === 4) {
    const q = req.quantity;
    const v = values as ArrayLike<number>;
    pos = writeHeader(buf, pos, tid, unit, 2 + q * 2);
    buf[pos++] = fc;
    buf[pos++] = q * 2;
    for (let i = 0; i < q; i++) {
      const w = v[i];
      buf[pos++] = (w >>> 8) & 0xff;
      buf[pos++] = w & 0xff;
    }
    return pos;
  }
  if (fc === 1 || fc === 2) {
    const q = req.quantity;
    const v = values as ArrayLike<number>;
    const bytes = (q + 7) >>> 3;
    pos = writeHeader(buf, pos, tid, unit, 2 + bytes);
    buf[pos++] = fc;
    buf[pos++] = bytes;
    buf.fill(0, pos, pos + bytes);
    for (let i = 0; i < q; i++) if (v[i]) buf[pos + (i >>> 3)] |= 1 << (i & 7);
    return pos + bytes;
  }
  pos = writeHeader(buf, pos, tid, unit, 5);
  buf[pos] = fc;
  buf[pos + 1] = req.address >>> 8;
  buf[pos + 2] = req.address & 0xff;
  const word = req.fc === 5 ? (req.value ? 0xff00 : 0) : req.fc === 6 ? req.value : 'values' in req ? req.values.length : 0;
  buf[pos + 3] = word >>> 8;
  buf[pos + 4] = word & 0xff;
  return pos + 5;
}

function isRead(req: ModbusRequest): req is Extract<ModbusRequest, { quantity: number }> {
  return req.fc <= 4;
}

export class ModbusTcpServer extends EventEmitter {
  readonly stats: TcpServerStats = { clients: 0, accepted: 0, rejected: 0, evicted: 0, requests: 0, exceptions: 0, frameErrors: 0 };
  private readonly server: net.Server;
  private readonly connections = new Set<Connection>();
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  private readonly maxQueuedBytes: number;
  private readonly evictIdle: boolean;

  constructor(
    private readonly handler: RequestHandler,
    options: TcpServerOptions = {},
  ) {
    super();
    this.maxConnections = options.maxConnections ?? 100;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 1 << 20;
    this.evictIdle = options.evictIdle === true;
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    // After listen() succeeded, a server error (rare: EMFILE on accept) must not crash the process.
    this.server.on('error', (err) => this.emit('serverError', err));
  }

  /** Starts listening; resolves with the bound address (use port 0 for an ephemeral port). */
  listen(port: number, host = '127.0.0.1'): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException): void => {
        reject(new Error(`Modbus TCP server cannot listen on ${host}:${port}: ${err.code ?? err.message}`));
      };
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        this.server.off('error', fail);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  address(): net.AddressInfo | null {
    const a = this.server.address();
    return a && typeof a === 'object' ? a : null;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Stops accepting, drops every client and resolves once the port is released. */
  close(): Promise<void> {
    for (const conn of this.connections) conn.socket.destroy();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('error', () => {
      // A reset or broken pipe ends this client only; 'close' follows and cleans up.
    });
    // With evictIdle, idle clients cannot lock others out: when full, the one quiet longest goes.
    if (this.connections.size >= this.maxConnections && !(this.evictIdle && this.evictLongestIdle())) {
      this.stats.rejected++;
      this.emit('rejected', remote);
      socket.destroy();
      return;
    }
    const conn: Connection = { socket, remote, rest: null, slots: [], closed: false, paused: false, lastActiveAt: Date.now() };
    this.connections.add(conn);
    this.stats.accepted++;
    this.stats.clients = this.connections.size;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    if (this.idleTimeoutMs > 0) {
      socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    }
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('close', () => {
      conn.closed = true;
      conn.rest = null;
      conn.slots.length = 0;
      this.connections.delete(conn);
      this.stats.clients = this.connections.size;
      this.emit('disconnect', remote, this.connections.size);
    });
    this.emit('connect', remote, this.connections.size);
  }

  /** Closes the client that has been idle longest; false when there is none. */
  private evictLongestIdle(): boolean {
    let idlest: Connection | undefined;
    for (const c of this.connections) if (!idlest || c.lastActiveAt < idlest.lastActiveAt) idlest = c;
    if (!idlest) return false;
    // Counted as gone at once: its 'close' event comes later and only tidies up.
    this.connections.delete(idlest);
    idlest.closed = true;
    this.stats.evicted++;
    this.emit('evicted', idlest.remote, Date.now() - idlest.lastActiveAt);
    idlest.socket.destroy();
    return true;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    conn.lastActiveAt = Date.now();
    let buf = chunk;
    if (conn.rest) {
      buf = Buffer.concat([conn.rest, chunk]);
      conn.rest = null;
    }
    const end = buf.length;
    let p = 0;
    outPos = outStart;
    while (end - p >= MBAP) {
      const protocol = (buf[p + 2] << 8) | buf[p + 3];
      const length = (buf[p + 4] << 8) | buf[p + 5];
      if (protocol !== 0) return this.reject(conn, `protocol id ${protocol}, expected 0 (Modbus)`);
      if (length < MIN_LENGTH || length > MAX_LENGTH) {
        return this.reject(conn, `MBAP length ${length} outside ${MIN_LENGTH}..${MAX_LENGTH}`);
      }
      if (end - p < 6 + length) break;
      this.onFrame(conn, buf, p, length);
      if (conn.closed) return;
      p += 6 + length;
    }
    if (p < end) conn.rest = Buffer.from(buf.subarray(p, end));
    this.flush(conn);
  }

  /** Handles one complete frame at `p`; its answer goes to the scratch buffer or a slot. */
  private onFrame(conn: Connection, buf: Buffer, p: number, length: number): void {
    this.stats.requests++;
    const tid = (buf[p] << 8) | buf[p + 1];
    const unit = buf[p + 6];
    const pdu = p + MBAP;
    const pduLength = length - 1;
    const fc = buf[pdu];
    let req: ModbusRequest;
    if (pduLength === 5 && fc >= 1 && fc <= 4) {
      // Reads are nearly all the traffic: parse them without a Buffer view.
      const address = (buf[pdu + 1] << 8) | buf[pdu + 2];
      const quantity = (buf[pdu + 3] << 8) | buf[pdu + 4];
      const max = fc <= 2 ? MAX_READ_BITS : MAX_READ_REGISTERS;
      if (quantity < 1 || quantity > max) return this.answerException(conn, tid, unit, fc, 0x03);
      if (address + quantity > 0x10000) return this.answerException(conn, tid, unit, fc, 0x02);
      req = { fc: fc as ReadFunction, address, quantity };
    } else if (!SUPPORTED[fc]) {
      return this.answerException(conn, tid, unit, fc, 0x01);
    } else {
      try {
        req = decodeRequest(buf.subarray(pdu, pdu + pduLength));
      } catch (err) {
        const code = err instanceof ModbusException ? err.code : 0x03;
        return this.answerException(conn, tid, unit, fc, code);
      }
    }
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = this.handler(unit, req);
    } catch (err) {
      if (conn.slots.length === 0) {
        this.reserve();
        outPos = this.encodeFailure(out, outPos, tid, unit, req, err);
      } else {
        this.queue(conn, this.encodeFailure(SLOT_SCRATCH, 0, tid, unit, req, err));
      }
      return;
    }
    if (isThenable(result)) return this.answerLater(conn, tid, unit, req, result);
    if (conn.slots.length === 0) {
      this.reserve();
      outPos = this.encodeResult(out, outPos, tid, unit, req, result);
    } else {
      this.queue(conn, this.encodeResult(SLOT_SCRATCH, 0, tid, unit, req, result));
    }
  }

  /** Encodes a handler's result at `pos`; returns the position after it (unchanged for NO_RESPONSE). */
  private encodeResult(buf: Buffer, pos: number, tid: number, unit: number, req: ModbusRequest, result: HandlerResult): number {
    if (result === NO_RESPONSE) return pos;
    if (isRead(req) && !hasValues(result, req.quantity)) {
      return this.encodeFailure(buf, pos, tid, unit, req, new Error(`returned fewer than ${req.quantity} values`));
    }
    return writeAnswer(buf, pos, tid, unit, req, result);
  }

  private encodeFailure(buf: Buffer, pos: number, tid: number, unit: number, req: ModbusRequest, err: unknown): number {
    this.stats.exceptions++;
    if (err instanceof ModbusException) return writeException(buf, pos, tid, unit, req.fc, err.code);
    this.emit('handlerError', new HandlerError(unit, req, err));
    return writeException(buf, pos, tid, unit, req.fc, SERVER_DEVICE_FAILURE);
  }

  private answerException(conn: Connection, tid: number, unit: number, fc: number, code: number): void {
    this.stats.exceptions++;
    if (conn.slots.length === 0) {
      this.reserve();
      outPos = writeException(out, outPos, tid, unit, fc, code);
    } else {
      this.queue(conn, writeException(SLOT_SCRATCH, 0, tid, unit, fc, code));
    }
  }

  /** Queues the `length` bytes just encoded into SLOT_SCRATCH behind a pending answer. */
  private queue(conn: Connection, length: number): void {
    conn.slots.push({ data: length ? Buffer.from(SLOT_SCRATCH.subarray(0, length)) : EMPTY });
  }

  /** An asynchronous answer holds back every later answer on this connection until it is ready. */
  private answerLater(conn: Connection, tid: number, unit: number, req: ModbusRequest, result: PromiseLike<HandlerResult>): void {
    // Earlier answers of this chunk go out first, so the order stays the request order.
    this.flush(conn);
    const slot: Slot = { data: null };
    conn.slots.push(slot);
    const settle = (length: number): void => {
      slot.data = length ? Buffer.from(SLOT_SCRATCH.subarray(0, length)) : EMPTY;
      this.drain(conn);
    };
    result.then(
      (res) => {
        if (!conn.closed) settle(this.encodeResult(SLOT_SCRATCH, 0, tid, unit, req, res));
      },
      (err: unknown) => {
        if (!conn.closed) settle(this.encodeFailure(SLOT_SCRATCH, 0, tid, unit, req, err));
      },
    );
  }

  private reserve(): void {
    if (outPos + MAX_FRAME > out.length) {
      // The slab is used up: this chunk's answers so far move to a fresh one (big
      // enough for a flood of pipelined frames); earlier writes keep the old one alive.
      const pending = outPos - outStart;
      const fresh = Buffer.allocUnsafe(Math.max(SLAB, 2 * (pending + MAX_FRAME)));
      out.copy(fresh, 0, outStart, outPos);
      out = fresh;
      outStart = 0;
      outPos = pending;
    }
  }

  private flush(conn: Connection): void {
    if (outPos === outStart) return;
    const data = out.subarray(outStart, outPos);
    outStart = outPos;
    this.send(conn, data);
  }

  /** Writes every ready answer at the head of the queue in one write. */
  private drain(conn: Connection): void {
    let n = 0;
    while (n < conn.slots.length && conn.slots[n].data) n++;
    if (n === 0) return;
    const ready = conn.slots.splice(0, n).map((s) => s.data as Buffer);
    const data = ready.length === 1 ? ready[0] : Buffer.concat(ready);
    if (data.length) this.send(conn, data);
  }

  private send(conn: Connection, data: Buffer): void {
    if (conn.closed) return;
    conn.socket.write(data);
    if (!conn.paused && conn.socket.writableLength > this.maxQueuedBytes) {
      // A client that pipelines but does not read its answers only stalls itself.
      conn.paused = true;
      conn.socket.pause();
      conn.socket.once('drain', () => {
        conn.paused = false;
        if (!conn.closed) conn.socket.resume();
      });
    }
  }

  private reject(conn: Connection, reason: string): void {
    this.stats.frameErrors++;
    outPos = outStart;
    conn.rest = null;
    this.emit('frameError', new ConnectionFrameError(conn.remote, reason));
    conn.socket.destroy();
    conn.closed = true;
  }
}

/** Runs `listen`, retrying for a moment while a previous deployment still holds the port. */
export async function listenRetrying<T>(listen: () => Promise<T>, attempts = 5, delayMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listen();
    } catch (err) {
      if (attempt >= attempts || !/EADDRINUSE/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
