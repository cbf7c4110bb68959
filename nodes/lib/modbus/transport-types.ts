/**
 * What a line needs from a transport: open a link, exchange one request PDU for
 * one response PDU, report when the link goes away. Framing (MBAP or RTU + CRC)
 * and response matching live behind this interface; queueing, retries, backoff
 * and reconnects live in the line.
 */
import type { EventEmitter } from 'events';
import type { ModbusRequest } from './pdu';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';
export type DataBits = 5 | 6 | 7 | 8;
export type StopBits = 1 | 1.5 | 2;

/** Modbus TCP: MBAP header, responses matched by transaction id. */
export interface TcpTransportConfig {
  kind: 'tcp';
  host: string;
  port: number;
  connectTimeoutMs?: number;
}

/** Modbus RTU on a serial port (RS485/RS232 adapter). */
export interface RtuSerialTransportConfig {
  kind: 'rtu';
  path: string;
  baudRate: number;
  parity?: Parity;
  dataBits?: DataBits;
  stopBits?: StopBits;
  /**
   * Silence that ends a frame for resync decisions. Defaults to 3.5 character
   * times but never under 5 ms: USB adapters deliver bytes in bursts.
   */
  frameGapMs?: number;
}

/** Modbus RTU framing (unit + PDU + CRC) over a TCP socket, for serial-to-Ethernet converters. */
export interface RtuOverTcpTransportConfig {
  kind: 'rtu-tcp';
  host: string;
  port: number;
  connectTimeoutMs?: number;
  frameGapMs?: number;
}

export type TransportConfig = TcpTransportConfig | RtuSerialTransportConfig | RtuOverTcpTransportConfig;
export type TransportKind = TransportConfig['kind'];

/** Called once per exchange: with the response PDU (function code first), or with why there is none. */
export type ExchangeCallback = (err: Error | null, pdu?: Buffer) => void;

export interface TransportCounters {
  bytesIn: number;
  bytesOut: number;
  /** Bytes thrown away while looking for a frame (noise, echoes, frames nobody waits for). */
  garbageBytes: number;
  /** Answers that arrived after their request had timed out. */
  lateResponses: number;
}

/**
 * A transport emits `close` (Error) when an open link goes away by itself;
 * `close()` called by the owner does not emit it.
 */
export interface Transport extends EventEmitter {
  readonly kind: TransportKind;
  /** Human-readable endpoint, e.g. `tcp 10.0.0.5:502` or `rtu /dev/ttyUSB0 9600 8E1`. */
  readonly description: string;
  /** True when the medium carries one request at a time (RTU): no pipelining, turnaround delay. */
  readonly serial: boolean;
  readonly isOpen: boolean;
  /** Time one character takes on the wire in ms (0 when unknown, e.g. behind a converter). */
  readonly charTimeMs: number;
  readonly counters: TransportCounters;
  open(): Promise<void>;
  /** Closes the link and fails anything in flight with a LinkError; resolves once the OS handle is released. */
  close(): Promise<void>;
  /**
   * Sends one request. `done` is always called exactly once and never synchronously.
   * Unit 0 (broadcast) writes complete without waiting for an answer.
   */
  exchange(unitId: number, request: ModbusRequest, timeoutMs: number, done: ExchangeCallback): void;
}

export function describeTransport(cfg: TransportConfig): string {
  if (cfg.kind === 'rtu') {
    const parity = (cfg.parity ?? 'none')[0].toUpperCase();
    return `rtu ${cfg.path} ${cfg.baudRate} ${cfg.dataBits ?? 8}${parity}${cfg.stopBits ?? 1}`;
  }
  return `${cfg.kind} ${cfg.host}:${cfg.port}`;
}
