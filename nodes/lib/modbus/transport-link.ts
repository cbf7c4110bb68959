/**
 * Byte links under the framings: a TCP socket or a serial port. A link is
 * opened, written, and closed by its transport; it reports incoming bytes and
 * an unexpected loss through two handlers. Each `open()` makes a fresh socket
 * or port, so a transport reconnects by calling `open()` again.
 */
import net from 'net';
import type { SerialPort as SerialPortClass } from 'serialport';
import { LinkError } from './transport-errors';
import type { DataBits, Parity, StopBits } from './transport-types';

export interface LinkHandlers {
  data(chunk: Buffer): void;
  /** The link went away without `close()` being called. */
  lost(err: Error): void;
}

export interface ByteLink {
  readonly description: string;
  readonly isOpen: boolean;
  open(handlers: LinkHandlers): Promise<void>;
  write(data: Buffer): void;
  close(): Promise<void>;
}

const NO_HANDLERS: LinkHandlers = { data: () => undefined, lost: () => undefined };

export class TcpLink implements ByteLink {
  private socket?: net.Socket;
  private handlers = NO_HANDLERS;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly connectTimeoutMs: number,
    readonly description: string,
  ) {}

  get isOpen(): boolean {
    return !!this.socket;
  }

  open(handlers: LinkHandlers): Promise<void> {
    if (this.socket) return Promise.resolve();
    this.handlers = handlers;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.destroy();
        reject(new LinkError(`cannot connect to ${this.host}:${this.port}: ${err.message}`));
      };
      const timer = setTimeout(() => fail(new Error(`no answer within ${this.connectTimeoutMs} ms`)), this.connectTimeoutMs);
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', fail);
        // Keepalive notices a peer that vanished without FIN while the line is idle.
        socket.setKeepAlive(true, 5000);
        this.attach(socket);
        resolve();
      });
    });
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    let lastError: Error | undefined;
    socket.on('data', (chunk: Buffer) => this.handlers.data(chunk));
    socket.on('error', (err) => (lastError = err));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const why = lastError ? lastError.message : 'closed by peer';
      this.handlers.lost(new LinkError(`connection to ${this.host}:${this.port} lost: ${why}`));
    });
  }

  write(data: Buffer): void {
    this.socket?.write(data);
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}

export interface SerialLinkOptions {
  path: string;
  baudRate: number;
  parity: Parity;
  dataBits: DataBits;
  stopBits: StopBits;
}

type SerialPortCtor = typeof SerialPortClass;
let serialPortCtor: SerialPortCtor | undefined;

/** Loaded on first use so that TCP-only lines never load the native serial bindings. */
function loadSerialPort(): SerialPortCtor {
  if (!serialPortCtor) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    serialPortCtor = (require('serialport') as { SerialPort: SerialPortCtor }).SerialPort;
  }
  return serialPortCtor;
}

export class SerialLink implements ByteLink {
  private port?: SerialPortClass;
  private handlers = NO_HANDLERS;

  constructor(
    readonly options: SerialLinkOptions,
    readonly description: string,
  ) {}

  get isOpen(): boolean {
    return !!this.port;
  }

  open(handlers: LinkHandlers): Promise<void> {
    if (this.port) return Promise.resolve();
    this.handlers = handlers;
    const { path } = this.options;
    return new Promise((resolve, reject) => {
      let port: SerialPortClass;
      try {
        const SerialPort = loadSerialPort();
        port = new SerialPort({ ...this.options, autoOpen: false });
      } catch (err) {
        reject(new LinkError(`cannot open serial port ${path}: ${(err as Error).message}`));
        return;
      }
      // Until opened, errors only reject; afterwards they come with a 'close'.
      port.on('error', () => undefined);
      port.open((err) => {
        if (err) {
          reject(new LinkError(`cannot open serial port ${path}: ${err.message}`));
          return;
        }
        this.attach(port);
        resolve();
      });
    });
  }

  private attach(port: SerialPortClass): void {
    this.port = port;
    let lastError: Error | undefined;
    port.on('data', (chunk: Buffer) => this.handlers.data(chunk));
    port.on('error', (err: Error) => (lastError = err));
    port.on('close', (err?: Error) => {
      if (this.port !== port) return;
      this.port = undefined;
      const why = (err ?? lastError)?.message ?? 'closed';
      this.handlers.lost(new LinkError(`serial port ${this.options.path} lost: ${why}`));
    });
  }

  write(data: Buffer): void {
    const port = this.port;
    if (!port) return;
    // A write to an unplugged adapter fails here; the port then emits 'close' and the line reconnects.
    port.write(data, (err) => {
      if (err && this.port === port) {
        this.port = undefined;
        closeQuietly(port).catch(() => undefined);
        this.handlers.lost(new LinkError(`serial port ${this.options.path} lost: ${err.message}`));
      }
    });
  }

  close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    return port ? closeQuietly(port) : Promise.resolve();
  }
}

/** Resolves once the descriptor is released, even if the port is already gone. */
function closeQuietly(port: SerialPortClass): Promise<void> {
  return new Promise((resolve) => {
    if (!port.isOpen) return resolve();
    const timer = setTimeout(resolve, 2000);
    port.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
