/** What a Modbus line takes and tells: its options, the device poll contract, health and statistics. */
import type { BackoffOptions } from './backoff';
import type { ModbusRequest } from './pdu';
import type { Transport, TransportConfig, TransportKind } from './transport-types';

export interface LineOptions {
  /** Name used in every error and statistic. */
  name: string;
  transport: TransportConfig;
  /** Wait for an answer (ms), per attempt. Default 1000. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or a damaged answer. Default 1. */
  retries?: number;
  /** Silence after each answer before the next request (RS485 turnaround). Default: 3.5 characters on RTU serial, 0 otherwise. */
  interRequestDelayMs?: number;
  /** Requests in flight at once on a Modbus TCP line (pipelining). Default 1; always 1 on RTU. */
  maxOutstanding?: number;
  /** Backoff of a unit that stops answering. Default 1 s doubling to 60 s, jitter 0.2. */
  unitBackoff?: Partial<BackoffOptions>;
  /** Backoff between reconnect attempts. Default 0.5 s doubling to 30 s. */
  reconnect?: Partial<BackoffOptions>;
  /** Longest wait of a queued on-demand request while the link is down. Default 10 s. */
  queueTimeoutMs?: number;
  /** On-demand requests (reads now, writes) that may wait at once; more are refused with a QueueFullError. Default 256. */
  maxQueuedDemand?: number;
  /**
   * Over TCP, drop and reopen the connection after this many timeouts in a row
   * with no answer of any kind in between, when they hit units that had answered
   * on this connection (a half-open socket never errors by itself; one silent
   * unit while others answer is not a dead link, see link-watch.ts).
   * Default 3 on TCP lines; 0 disables. Ignored on RTU serial lines.
   */
  reconnectAfterTimeouts?: number;
  /** Source of randomness for jitter (tests pass a fixed one). */
  random?: () => number;
  /** Builds the transport; tests may substitute one. Default createTransport. */
  transportFactory?: (cfg: TransportConfig) => Transport;
}

export type RequestPriority = 'demand' | 'poll';

export interface RequestOptions {
  /** 'demand' (default) goes before poll requests. */
  priority?: RequestPriority;
  /** Poll requests are served in deadline order (ms since epoch). */
  deadline?: number;
  timeoutMs?: number;
  retries?: number;
  /**
   * Abandons the request: once aborted, it is never put on the wire again (neither a first
   * send nor a retry) and fails with a RequestCancelledError when it comes up in the queue.
   */
  signal?: AbortSignal;
  /** Called each time the request is put on the wire (a retry calls it again). */
  onSend?: () => void;
  /**
   * An explicit read (verify, read now): sent even while its unit is backing off
   * (with one attempt), and an answer ends the backoff. Only the background
   * schedule backs off.
   */
  probe?: boolean;
}

/** What a device poller gives the line: the line calls `poll` whenever the device is due. */
export interface PolledDevice {
  readonly name: string;
  readonly unitId: number;
  readonly intervalMs: number;
  /** One poll; must settle. Requests go through `ctx.request` so they carry the poll's deadline. */
  poll(ctx: PollContext): Promise<unknown>;
}

export interface PollContext {
  /** When this poll was due (ms since epoch). */
  readonly release: number;
  readonly deadline: number;
  request(req: ModbusRequest): Promise<number[]>;
}

export interface DeviceRegistration {
  setInterval(intervalMs: number): void;
  remove(): void;
}

export type LineState = 'stopped' | 'connecting' | 'connected' | 'reconnecting';

export interface UnitHealth {
  line: string;
  unitId: number;
  backingOff: boolean;
  /** Requests that timed out on every attempt since the unit last answered. */
  failures: number;
  /** When the unit will next be tried (ms since epoch), while backing off. */
  retryAt?: number;
  /** Current backoff step (ms, before jitter). */
  backoffMs: number;
}

export interface LineCounters {
  requests: number;
  ok: number;
  exceptions: number;
  timeouts: number;
  frameErrors: number;
  crcErrors: number;
  linkErrors: number;
  retries: number;
  /** Requests failed at once because their unit was backing off. */
  backoffSkips: number;
  reconnects: number;
  disconnects: number;
}

export interface LineStats {
  name: string;
  kind: TransportKind;
  transport: string;
  state: LineState;
  connected: boolean;
  connectedSince?: number;
  lastError?: string;
  lastErrorAt?: number;
  queueDepth: number;
  inFlight: number;
  devices: number;
  activePolls: number;
  requestsPerSec: number;
  counters: LineCounters;
  bytesIn: number;
  bytesOut: number;
  garbageBytes: number;
  lateResponses: number;
  unitsBackingOff: UnitHealth[];
}
