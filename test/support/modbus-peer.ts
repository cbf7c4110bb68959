/**
 * Scripted Modbus peers for tests: a register image per unit that answers
 * normally, plus a script that can make any request go unanswered, answer with
 * an exception, garbage, a short or corrupt frame, or answer late. The same
 * core serves Modbus TCP (MBAP), RTU over TCP and RTU on a serial port (pty).
 */
import net from 'net';
import { crc16 } from '../../nodes/lib/modbus/crc';
import {
  decodeRequest,
  encodeException,
  encodeResponse,
  ModbusException,
  ModbusRequest,
  requestLengthFromHead,
} from '../../nodes/lib/modbus/pdu';
import { SerialPort } from 'serialport';

export type Framing = 'mbap' | 'rtu';

export interface PeerRequest {
  /** Order of arrival over the peer's life, from 0. */
  index: number;
  tid: number;
  unitId: number;
  request: ModbusRequest;
  at: number;
}

/**
 * What to do with one request: 'normal' answers from the image, 'silent' sends
 * nothing, { exception } sends an exception, { raw } sends the bytes as they
 * are, { delayMs, then } waits first, { pdu } frames the given PDU.
 */
export type PeerReply =
  | 'normal'
  | 'silent'
  | { exception: number }
  | { raw: Buffer }
  | { pdu: Buffer }
  | { delayMs: number; then: PeerReply };

export type PeerScript = (req: PeerRequest) => PeerReply | undefined;

export interface PeerOptions {
  framing: Framing;
  /** Units this peer answers for; others are silent, as on a real bus. Default: every unit. */
  units?: number[];
  script?: PeerScript;
}

/** Default image: register = unit * 1000 + address, coil = address is odd. */
export function defaultRegister(unitId: number, address: number): number {
  return (unitId * 1000 + address) & 0xffff;
}

export function mbapFrame(tid: number, unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(7 + pdu.length);
  frame.writeUInt16BE(tid, 0);
  frame.writeUInt16BE(0, 2);
  frame.writeUInt16BE(pdu.length + 1, 4);
  frame[6] = unitId;
  pdu.copy(frame, 7);
  return frame;
}

export function rtuFrame(unitId: number, pdu: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(pdu.length + 3);
  frame[0] = unitId;
  pdu.copy(frame, 1);
  frame.writeUInt16LE(crc16(frame, 0, pdu.length + 1), pdu.length + 1);
  return frame;
}

interface Stream {
  write(data: Buffer): unknown;
}

/** The register image and the script; framing-independent. */
export class PeerCore {
  readonly requests: PeerRequest[] = [];
  readonly writes = new Map<string, number>();
  script?: PeerScript;
  private readonly units?: Set<number>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(readonly options: PeerOptions) {
    this.script = options.script;
    this.units = options.units ? new Set(options.units) : undefined;
  }

  /** Requests seen for one unit. */
  countFor(unitId: number): number {
    return this.requests.filter((r) => r.unitId === unitId).length;
  }

  /** Normal answer PDU from the image (writes are remembered and read back). */
  answer(request: ModbusRequest, unitId: number): Buffer {
    if ('quantity' in request) {
      const values = new Array<number>(request.quantity);
      for (let i = 0; i < request.quantity; i++) {
        const key = `${unitId}:${request.fc <= 2 ? 'bit' : 'reg'}:${request.address + i}`;
        const stored = this.writes.get(key);
        const addr = request.address + i;
        values[i] = stored ?? (request.fc <= 2 ? addr & 1 : defaultRegister(unitId, addr));
      }
      return encodeResponse(request, values);
    }
    if (request.fc === 5) this.writes.set(`${unitId}:bit:${request.address}`, request.value ? 1 : 0);
    if (request.fc === 6) this.writes.set(`${unitId}:reg:${request.address}`, request.value);
    if (request.fc === 15 || request.fc === 16) {
      request.values.forEach((v, i) =>
        this.writes.set(`${unitId}:${request.fc === 15 ? 'bit' : 'reg'}:${request.address + i}`, v),
      );
    }
    return encodeResponse(request);
  }

  /** Handles one request PDU; `send` frames and writes a reply PDU or raw bytes. */
  handle(tid: number, unitId: number, pdu: Buffer, stream: Stream): void {
    if (this.units && !this.units.has(unitId) && !(unitId === 0 && this.options.framing === 'rtu')) return;
    let request: ModbusRequest;
    try {
      request = decodeRequest(pdu);
    } catch (err) {
      const code = err instanceof ModbusException ? err.code : 4;
      this.send(stream, tid, unitId, encodeException(pdu[0] ?? 0, code));
      return;
    }
    const req: PeerRequest = { index: this.requests.length, tid, unitId, request, at: Date.now() };
    this.requests.push(req);
    if (unitId === 0 && this.options.framing === 'rtu') {
      // RTU broadcast: every unit applies the write, nobody answers.
      for (const u of this.units ?? [0]) this.answer(request, u);
      return;
    }
    this.perform(this.script?.(req) ?? 'normal', req, stream);
  }

  private perform(reply: PeerReply, req: PeerRequest, stream: Stream): void {
    if (this.closed || reply === 'silent') return;
    if (reply === 'normal') this.send(stream, req.tid, req.unitId, this.answer(req.request, req.unitId));
    else if ('exception' in reply) this.send(stream, req.tid, req.unitId, encodeException(req.request.fc, reply.exception));
    else if ('raw' in reply) stream.write(reply.raw);
    else if ('pdu' in reply) this.send(stream, req.tid, req.unitId, reply.pdu);
    else {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.perform(reply.then, req, stream);
      }, reply.delayMs);
      this.timers.add(timer);
    }
  }

  private send(stream: Stream, tid: number, unitId: number, pdu: Buffer): void {
    stream.write(this.options.framing === 'mbap' ? mbapFrame(tid, unitId, pdu) : rtuFrame(unitId, pdu));
  }

  /** Feeds received bytes of one connection through the framing; returns the unconsumed tail. */
  parse(buf: Buffer, stream: Stream): Buffer {
    let off = 0;
    if (this.options.framing === 'mbap') {
      while (buf.length - off >= 7) {
        const length = buf.readUInt16BE(off + 4);
        if (buf.length - off < 6 + length) break;
        this.handle(buf.readUInt16BE(off), buf[off + 6], buf.subarray(off + 7, off + 6 + length), stream);
        off += 6 + length;
      }
      return buf.subarray(off);
    }
    while (buf.length - off >= 4) {
      const pduLength = requestLengthFromHead(buf, off + 1);
      if (!pduLength) break;
      const end = off + 1 + pduLength + 2;
      if (buf.length < end) break;
      const frame = buf.subarray(off, end);
      if (frame.readUInt16LE(frame.length - 2) !== crc16(frame, 0, frame.length - 2)) {
        // A real device ignores a frame with a bad CRC; skip a byte and look again.
        off++;
        continue;
      }
      this.handle(0, frame[0], frame.subarray(1, frame.length - 2), stream);
      off = end;
    }
    return buf.subarray(off);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  reopen(): void {
    this.closed = false;
  }
}

/** A TCP server speaking MBAP or RTU framing, on an ephemeral loopback port. */
export class TcpPeer extends PeerCore {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  connections = 0;

  static async start(options: PeerOptions, port = 0): Promise<TcpPeer> {
    const peer = new TcpPeer(options);
    await peer.listen(port);
    return peer;
  }

  async listen(port = this.port): Promise<void> {
    this.reopen();
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let rest: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      rest = this.parse(rest.length ? Buffer.concat([rest, chunk]) : chunk, socket);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Drops every client connection (the server keeps listening). */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Stops listening and drops everyone; `listen()` brings it back on the same port. */
  async stop(): Promise<void> {
    this.close();
    this.dropConnections();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The device side of a pty pair: several RTU units sharing one serial line. */
export class SerialPeer extends PeerCore {
  private port?: SerialPort;

  static async open(path: string, options: PeerOptions): Promise<SerialPeer> {
    const peer = new SerialPeer({ ...options, framing: 'rtu' });
    await peer.openPort(path);
    return peer;
  }

  private openPort(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
      port.on('error', () => undefined);
      port.open((err) => {
        if (err) return reject(err);
        this.port = port;
        let rest: Buffer = Buffer.alloc(0);
        port.on('data', (chunk: Buffer) => {
          rest = this.parse(rest.length ? Buffer.concat([rest, chunk]) : chunk, port);
        });
        resolve();
      });
    });
  }

  /** Writes bytes out of turn (noise on the line). */
  inject(bytes: Buffer): void {
    this.port?.write(bytes);
  }

  async stop(): Promise<void> {
    this.close();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
