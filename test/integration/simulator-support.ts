/** A raw Modbus TCP client for framing tests: sends exact bytes, collects MBAP frames. */
import net from 'net';
import { execFile } from 'child_process';

export function mbap(tid: number, unit: number, pdu: number[], protocol = 0, length = pdu.length + 1): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeUInt16BE(length, 4);
  b[6] = unit;
  Buffer.from(pdu).copy(b, 7);
  return b;
}

export function readHolding(tid: number, unit: number, address: number, quantity: number, fc = 3): Buffer {
  return mbap(tid, unit, [fc, address >> 8, address & 0xff, quantity >> 8, quantity & 0xff]);
}

export interface Frame {
  tid: number;
  unit: number;
  pdu: Buffer;
}

export class RawClient {
  readonly frames: Frame[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 7) {
        const len = this.buf.readUInt16BE(4);
        if (this.buf.length < 6 + len) break;
        this.frames.push({ tid: this.buf.readUInt16BE(0), unit: this.buf[6], pdu: Buffer.from(this.buf.subarray(7, 6 + len)) });
        this.buf = this.buf.subarray(6 + len);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing from the server within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  send(data: Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `n` frames have arrived in total. */
  async waitFrames(n: number, timeoutMs = 2000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.closed) throw new Error(`connection closed after ${this.frames.length} of ${n} frames`);
      await this.changed(Math.max(1, deadline - Date.now()));
    }
    return this.frames.slice(0, n);
  }

  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) await this.changed(Math.max(1, deadline - Date.now()));
  }

  /** Sends a request and waits for its answer. */
  async request(data: Buffer, timeoutMs = 2000): Promise<Frame> {
    const n = this.frames.length + 1;
    this.send(data);
    return (await this.waitFrames(n, timeoutMs))[n - 1];
  }

  close(): void {
    this.socket.destroy();
  }
}

export function words(pdu: Buffer): number[] {
  const out: number[] = [];
  for (let i = 2; i + 1 < pdu.length; i += 2) out.push(pdu.readUInt16BE(i));
  return out;
}

/** Runs mbpoll once and returns the values it printed, by reference number. */
export function mbpoll(args: string[]): Promise<{ code: number; values: Map<number, string>; output: string }> {
  return new Promise((resolve) => {
    execFile('mbpoll', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      const values = new Map<number, string>();
      for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) values.set(Number(m[1]), m[2]);
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, values, output: stdout + stderr });
    });
  });
}

/** Polls `check` every few ms until it holds or the time is up. */
export async function until(check: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
