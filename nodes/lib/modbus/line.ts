/**
 * A Modbus line: one transport (TCP, RTU serial or RTU over TCP) shared by every
 * device on it, with the request queue, timing, retries, per-unit backoff,
 * reconnects and the fair scheduling of device polls.
 *
 * Usage (what the `rtu-modbus-line` config node does):
 *
 *   const line = new ModbusLine({ name: 'bus1', transport: { kind: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'even' } });
 *   line.start();                                   // connects, and keeps reconnecting by itself
 *   const words = await line.request(3, { fc: 3, address: 0, quantity: 10 });   // on-demand, jumps the queue
 *   const reg = line.addDevice({ name: 'pm1', unitId: 3, intervalMs: 1000, poll: (ctx) => ... ctx.request(req) ... });
 *   reg.remove();
 *   await line.stop();                              // releases the port/socket; the same path can be reopened at once
 *
 * Behaviour:
 * - Requests: on-demand ones (priority 'demand') go before poll requests; poll
 *   requests are ordered by their poll's deadline. RTU lines carry one request
 *   at a time with `interRequestDelayMs` of silence after each answer; TCP lines
 *   carry `maxOutstanding` (default 1; more for devices that pipeline).
 * - Retries: a timeout or a malformed/CRC-damaged answer is retried `retries`
 *   times; an exception answer is final.
 * - Unit backoff: a unit whose request times out on every attempt is skipped
 *   for a growing, jittered period (1 s, 2 s, 4 s ... 60 s); its pending and new
 *   requests fail at once with a BackoffError and its devices are not polled,
 *   while every other unit keeps its schedule. Any answer (even an exception or
 *   a malformed frame: the unit is alive) resets the backoff.
 * - Link loss: requests in flight fail with a LinkError; queued on-demand
 *   requests wait for the reconnect (up to `queueTimeoutMs`); queued poll
 *   requests fail, so that no reading mixes values from both sides of an outage.
 *   While reconnecting, polls still run at their interval (at most once a
 *   second) and fail at once, so each device reports bad quality instead of
 *   going silent. The line
 *   reconnects with backoff (0.5 s ... 30 s) and never needs a redeploy.
 * - Scheduling: see scheduler.ts (earliest deadline first, no bursts of missed cycles).
 *
 * Events: 'connect' (), 'disconnect' (Error), 'connect-failed' (Error),
 * 'unit-backoff' (UnitHealth), 'unit-recovered' (UnitHealth). No 'error' event is
 * ever emitted, so an unattended line cannot crash the process.
 */
import { EventEmitter } from 'events';
import { Backoff, BackoffOptions } from './backoff';
import { RateMeter } from './line-stats';
import { decodeResponse, describeRequest, FrameError, ModbusException, ModbusRequest, requestProblem } from './pdu';
import { EdfScheduler, IndexedHeap, ScheduleEntry } from './scheduler';
import { charTimeMs, createTransport, silentIntervalMs } from './transport-create';
import { asError, BackoffError, CrcError, LinkError, TimeoutError, withContext } from './transport-errors';
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
  /**
   * Over TCP, drop and reopen the connection after this many timeouts in a row
   * with no answer of any kind in between (a half-open socket never errors by
   * itself). Default 3 on TCP lines; 0 disables. Ignored on RTU serial lines.
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

interface Job {
  unitId: number;
  request: ModbusRequest;
  priority: 0 | 1;
  deadline: number;
  seq: number;
  heapIndex: number;
  timeoutMs: number;
  attemptsLeft: number;
  expiresAt: number;
  resolve: (values: number[]) => void;
  reject: (err: Error) => void;
}

interface UnitState {
  backoff: Backoff;
  until: number;
}

interface DeviceSlot {
  device: PolledDevice;
  entry?: ScheduleEntry<DeviceSlot>;
}

const DEFAULTS = {
  timeoutMs: 1000,
  retries: 1,
  maxOutstanding: 1,
  queueTimeoutMs: 10000,
  reconnectAfterTimeouts: 3,
  unitBackoff: { initialMs: 1000, maxMs: 60000, factor: 2, jitter: 0.2 },
  reconnect: { initialMs: 500, maxMs: 30000, factor: 2, jitter: 0.2 },
};
const DEMAND = 0;
const POLL = 1;
/** Phase steps of successive devices: evenly spread for any number of devices. */
const GOLDEN_FRACTION = 0.6180339887498949;
const MAX_PHASE_SPREAD_MS = 1000;
/** While the link is down, a device reports a failed poll at most this often (ms). */
const OFFLINE_POLL_SPACING_MS = 1000;

export class ModbusLine extends EventEmitter {
  readonly name: string;
  readonly transport: Transport;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly interRequestDelayMs: number;
  readonly maxOutstanding: number;
  private readonly queueTimeoutMs: number;
  private readonly reconnectAfterTimeouts: number;
  private readonly unitBackoffOptions: BackoffOptions;
  private readonly random: () => number;
  private readonly reconnectBackoff: Backoff;

  private state: LineState = 'stopped';
  private connectedSince?: number;
  private lastError?: Error;
  private lastErrorAt?: number;
  private readonly queue = new IndexedHeap<Job>(
    (a, b) => a.priority - b.priority || a.deadline - b.deadline || a.seq - b.seq,
  );
  private jobSeq = 0;
  private inFlight = 0;
  private quietUntil = 0;
  private consecutiveTimeouts = 0;
  private readonly units = new Map<number, UnitState>();
  private readonly scheduler = new EdfScheduler<DeviceSlot>();
  private readonly slotsByUnit = new Map<number, Set<DeviceSlot>>();
  private activePolls = 0;
  private devicesAdded = 0;
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private reconnectTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private readonly rate = new RateMeter(10);
  private readonly counters: LineCounters = {
    requests: 0,
    ok: 0,
    exceptions: 0,
    timeouts: 0,
    frameErrors: 0,
    crcErrors: 0,
    linkErrors: 0,
    retries: 0,
    backoffSkips: 0,
    reconnects: 0,
    disconnects: 0,
  };

  constructor(options: LineOptions) {
    super();
    if (!options || typeof options.name !== 'string' || !options.name) throw new Error('Modbus line: name is required');
    this.name = options.name;
    const factory = options.transportFactory ?? createTransport;
    try {
      this.transport = factory(options.transport);
    } catch (err) {
      throw withContext(asError(err), `line "${this.name}"`);
    }
    this.timeoutMs = positive(options.timeoutMs ?? DEFAULTS.timeoutMs, 'timeoutMs', this.name);
    this.retries = nonNegativeInt(options.retries ?? DEFAULTS.retries, 'retries', this.name);
    this.maxOutstanding = this.transport.serial ? 1 : Math.max(1, nonNegativeInt(options.maxOutstanding ?? DEFAULTS.maxOutstanding, 'maxOutstanding', this.name));
    this.interRequestDelayMs = nonNegative(options.interRequestDelayMs ?? defaultTurnaround(options.transport), 'interRequestDelayMs', this.name);
    this.queueTimeoutMs = positive(options.queueTimeoutMs ?? DEFAULTS.queueTimeoutMs, 'queueTimeoutMs', this.name);
    this.reconnectAfterTimeouts =
      options.transport.kind === 'rtu' ? 0 : nonNegativeInt(options.reconnectAfterTimeouts ?? DEFAULTS.reconnectAfterTimeouts, 'reconnectAfterTimeouts', this.name);
    this.random = options.random ?? Math.random;
    this.unitBackoffOptions = { ...DEFAULTS.unitBackoff, ...options.unitBackoff };
    this.reconnectBackoff = new Backoff({ ...DEFAULTS.reconnect, ...options.reconnect }, this.random);
    new Backoff(this.unitBackoffOptions); // validates now rather than at the first dead unit
    this.transport.on('close', (err: Error) => this.onLinkLost(err));
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get lineState(): LineState {
    return this.state;
  }

  /** Opens the transport; from here on the line keeps itself connected until stop(). */
  start(): void {
    if (this.state !== 'stopped') return;
    this.state = 'connecting';
    this.connect();
  }

  /** Fails everything queued, closes the transport and releases the port or socket. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.connectedSince = undefined;
    this.clearTimers();
    this.failQueued(() => true, () => new LinkError(`line "${this.name}" stopped`));
    await this.transport.close();
  }

  /**
   * Sends one request to a unit and resolves with the words (or bits) read, or
   * [] for a write. Rejects with ModbusException, FrameError/CrcError,
   * TimeoutError, BackoffError or LinkError, each naming the line, unit and request.
   */
  request(unitId: number, request: ModbusRequest, options: RequestOptions = {}): Promise<number[]> {
    const context = (): string => `line "${this.name}" unit ${unitId} ${describeRequest(request)}`;
    const invalid = requestProblem(request) ?? unitProblem(unitId, request, this.transport.serial);
    if (invalid) return Promise.reject(new Error(`${context()}: ${invalid}`));
    const priority = options.priority === 'poll' ? POLL : DEMAND;
    if (this.state === 'stopped') return Promise.reject(new LinkError(`${context()}: line is stopped`));
    if (this.state === 'reconnecting' && priority === POLL) {
      return Promise.reject(new LinkError(`${context()}: not connected (${this.lastError?.message ?? 'reconnecting'})`));
    }
    const refusal = this.backoffRefusal(unitId, Date.now());
    if (refusal) {
      this.counters.backoffSkips++;
      return Promise.reject(withContext(refusal, context()));
    }
    return new Promise<number[]>((resolve, reject) => {
      const now = Date.now();
      const job: Job = {
        unitId,
        request,
        priority,
        deadline: priority === POLL ? (options.deadline ?? now) : 0,
        seq: this.jobSeq++,
        heapIndex: -1,
        timeoutMs: options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : this.timeoutMs,
        attemptsLeft: 1 + (Number.isInteger(options.retries) && (options.retries as number) >= 0 ? (options.retries as number) : this.retries),
        expiresAt: now + this.queueTimeoutMs,
        resolve,
        reject: (err) => reject(withContext(err, context())),
      };
      this.queue.push(job);
      this.pump();
    });
  }

  /**
   * Registers a device to be polled every `intervalMs`. Devices added one after
   * another get phases spread over the first min(interval, 1 s) (golden-ratio
   * steps), so a fleet does not ask for everything at the same instant every
   * cycle: each poll then starts close to its due time instead of queueing
   * behind all the others. The first device is due at once.
   */
  addDevice(device: PolledDevice): DeviceRegistration {
    const slot: DeviceSlot = { device };
    const notBefore = this.units.get(device.unitId)?.until ?? 0;
    const phase = ((this.devicesAdded++ * GOLDEN_FRACTION) % 1) * Math.min(device.intervalMs, MAX_PHASE_SPREAD_MS);
    slot.entry = this.scheduler.add(slot, device.intervalMs, Math.max(Date.now() + Math.round(phase), notBefore));
    let peers = this.slotsByUnit.get(device.unitId);
    if (!peers) this.slotsByUnit.set(device.unitId, (peers = new Set()));
    peers.add(slot);
    this.pump();
    return {
      setInterval: (ms) => {
        if (slot.entry) this.scheduler.setInterval(slot.entry, ms);
      },
      remove: () => {
        if (!slot.entry) return;
        this.scheduler.remove(slot.entry);
        slot.entry = undefined;
        peers?.delete(slot);
        if (peers?.size === 0) this.slotsByUnit.delete(device.unitId);
      },
    };
  }

  unitHealth(unitId: number, now = Date.now()): UnitHealth {
    const unit = this.units.get(unitId);
    const backingOff = !!unit && unit.until > now;
    return {
      line: this.name,
      unitId,
      backingOff,
      failures: unit?.backoff.failures ?? 0,
      retryAt: backingOff ? unit?.until : undefined,
      backoffMs: unit?.backoff.currentMs ?? 0,
    };
  }

  stats(now = Date.now()): LineStats {
    const unitsBackingOff: UnitHealth[] = [];
    for (const [unitId, unit] of this.units) if (unit.until > now) unitsBackingOff.push(this.unitHealth(unitId, now));
    const t = this.transport.counters;
    return {
      name: this.name,
      kind: this.transport.kind,
      transport: this.transport.description,
      state: this.state,
      connected: this.state === 'connected',
      connectedSince: this.connectedSince,
      lastError: this.lastError?.message,
      lastErrorAt: this.lastErrorAt,
      queueDepth: this.queue.length,
      inFlight: this.inFlight,
      devices: this.scheduler.size,
      activePolls: this.activePolls,
      requestsPerSec: this.rate.perSecond(now),
      counters: { ...this.counters },
      bytesIn: t.bytesIn,
      bytesOut: t.bytesOut,
      garbageBytes: t.garbageBytes,
      lateResponses: t.lateResponses,
      unitsBackingOff,
    };
  }

  // ---- connection ----

  private connect(): void {
    this.transport.open().then(
      () => {
        if (this.state === 'stopped') return;
        this.state = 'connected';
        this.connectedSince = Date.now();
        this.consecutiveTimeouts = 0;
        this.stopSweep();
        this.emit('connect');
        this.pump();
      },
      (err: Error) => {
        if (this.state === 'stopped') return;
        this.noteError(err);
        this.emit('connect-failed', err);
        this.scheduleReconnect();
      },
    );
  }

  private onLinkLost(err: Error): void {
    if (this.state === 'stopped') return;
    this.noteError(err);
    this.counters.disconnects++;
    this.emit('disconnect', err);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.state = 'reconnecting';
    this.connectedSince = undefined;
    const reason = this.lastError?.message ?? 'link lost';
    this.failQueued((job) => job.priority === POLL, () => new LinkError(`not connected (${reason})`));
    this.startSweep();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== 'reconnecting') return;
      this.counters.reconnects++;
      this.connect();
    }, this.reconnectBackoff.next());
    this.pump();
  }

  /** Forces a reconnect of a TCP link that stopped answering altogether. */
  private dropLink(reason: string): void {
    const err = new LinkError(`${this.transport.description}: ${reason}; reconnecting`);
    this.noteError(err);
    this.counters.disconnects++;
    this.emit('disconnect', err);
    this.scheduleReconnect();
    this.transport.close().catch(() => undefined);
  }

  /** While disconnected, queued on-demand requests give up after queueTimeoutMs. */
  private startSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      this.failQueued(
        (job) => job.expiresAt <= now,
        () => new LinkError(`not connected for ${this.queueTimeoutMs} ms (${this.lastError?.message ?? 'reconnecting'})`),
      );
    }, Math.min(250, this.queueTimeoutMs));
  }

  private stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  // ---- the pump: sends queued requests and starts due polls ----

  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    if (this.state === 'stopped') return;
    const now = Date.now();
    this.startDuePolls(now);
    if (this.state !== 'connected' || !this.transport.isOpen) return;
    while (this.inFlight < this.maxOutstanding) {
      if (this.quietUntil > now) {
        this.wakeUpAt(this.quietUntil);
        return;
      }
      const job = this.queue.pop();
      if (!job) return;
      const refusal = this.backoffRefusal(job.unitId, now);
      if (refusal) {
        this.counters.backoffSkips++;
        job.reject(refusal);
        continue;
      }
      this.send(job);
    }
  }

  private startDuePolls(now: number): void {
    while (this.activePolls < this.maxOutstanding) {
      const entry = this.scheduler.take(now);
      if (!entry) break;
      this.runPoll(entry);
    }
    if (this.activePolls < this.maxOutstanding) {
      const next = this.scheduler.nextRelease();
      if (next !== undefined) this.wakeUpAt(next);
    }
  }

  private runPoll(entry: ScheduleEntry<DeviceSlot>): void {
    const { device } = entry.item;
    this.activePolls++;
    const ctx: PollContext = {
      release: entry.release,
      deadline: entry.deadline,
      request: (req) => this.request(device.unitId, req, { priority: 'poll', deadline: entry.deadline }),
    };
    let polling: Promise<unknown>;
    try {
      polling = device.poll(ctx);
    } catch (err) {
      polling = Promise.reject(err);
    }
    polling
      .catch((err: unknown) => this.emit('poll-error', withContext(asError(err), `device "${device.name}"`)))
      .finally(() => {
        this.activePolls--;
        const now = Date.now();
        let notBefore = this.units.get(device.unitId)?.until ?? 0;
        // Offline, a poll fails without I/O: keep fast devices from spinning on failures.
        if (this.state !== 'connected') notBefore = Math.max(notBefore, now + Math.max(device.intervalMs, OFFLINE_POLL_SPACING_MS));
        this.scheduler.complete(entry, now, notBefore);
        this.pump();
      });
  }

  private wakeUpAt(at: number): void {
    if (this.wakeTimer && this.wakeAt <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      this.pump();
    }, Math.max(0, at - Date.now()));
  }

  private send(job: Job): void {
    this.inFlight++;
    this.counters.requests++;
    this.transport.exchange(job.unitId, job.request, job.timeoutMs, (err, pdu) => this.onAnswer(job, err, pdu));
  }

  private onAnswer(job: Job, err: Error | null, pdu: Buffer | undefined): void {
    this.inFlight--;
    const now = Date.now();
    if (this.interRequestDelayMs > 0) this.quietUntil = now + this.interRequestDelayMs;
    let values: number[] | undefined;
    let failure = err;
    if (!failure) {
      try {
        values = pdu && pdu.length ? decodeResponse(job.request, pdu) : [];
      } catch (decodeErr) {
        failure = asError(decodeErr);
      }
    }
    if (!failure) {
      this.counters.ok++;
      this.rate.add(now);
      this.unitAnswered(job.unitId);
      job.resolve(values as number[]);
    } else {
      this.onFailure(job, failure, now);
    }
    this.pump();
  }

  private onFailure(job: Job, err: Error, now: number): void {
    if (err instanceof ModbusException) {
      this.counters.exceptions++;
      this.rate.add(now);
      this.unitAnswered(job.unitId);
      job.reject(err);
      return;
    }
    if (err instanceof LinkError) {
      this.counters.linkErrors++;
      job.reject(err);
      return;
    }
    const timedOut = err instanceof TimeoutError;
    if (timedOut) {
      this.counters.timeouts++;
      this.consecutiveTimeouts++;
    } else if (err instanceof FrameError) {
      if (err instanceof CrcError) this.counters.crcErrors++;
      else this.counters.frameErrors++;
      this.unitAnswered(job.unitId);
    }
    job.attemptsLeft--;
    const linkSuspect = this.reconnectAfterTimeouts > 0 && this.consecutiveTimeouts >= this.reconnectAfterTimeouts;
    if (job.attemptsLeft > 0 && !linkSuspect && this.state === 'connected') {
      this.counters.retries++;
      this.queue.push(job);
    } else {
      if (timedOut) this.unitSilent(job.unitId, now);
      job.reject(err);
    }
    if (linkSuspect && this.state === 'connected') {
      this.dropLink(`${this.consecutiveTimeouts} requests in a row timed out`);
    }
  }

  // ---- per-unit backoff ----

  private unitAnswered(unitId: number): void {
    this.consecutiveTimeouts = 0;
    this.reconnectBackoff.reset();
    const unit = this.units.get(unitId);
    if (!unit || unit.backoff.failures === 0) return;
    unit.backoff.reset();
    unit.until = 0;
    this.emit('unit-recovered', this.unitHealth(unitId));
  }

  private unitSilent(unitId: number, now: number): void {
    let unit = this.units.get(unitId);
    if (!unit) this.units.set(unitId, (unit = { backoff: new Backoff(this.unitBackoffOptions, this.random), until: 0 }));
    unit.until = now + unit.backoff.next();
    for (const slot of this.slotsByUnit.get(unitId) ?? []) {
      if (slot.entry) this.scheduler.defer(slot.entry, unit.until);
    }
    this.emit('unit-backoff', this.unitHealth(unitId, now));
  }

  private backoffRefusal(unitId: number, now: number): BackoffError | undefined {
    const unit = this.units.get(unitId);
    if (!unit || unit.until <= now) return undefined;
    const waitS = ((unit.until - now) / 1000).toFixed(1);
    return new BackoffError(
      `unit ${unitId} is not answering (${unit.backoff.failures} timed-out request${unit.backoff.failures === 1 ? '' : 's'}); next try in ${waitS} s`,
      unit.until,
    );
  }

  // ---- housekeeping ----

  private failQueued(which: (job: Job) => boolean, why: () => Error): void {
    const keep: Job[] = [];
    for (let job = this.queue.pop(); job; job = this.queue.pop()) {
      if (which(job)) {
        this.counters.linkErrors++;
        job.reject(why());
      } else keep.push(job);
    }
    for (const job of keep) this.queue.push(job);
  }

  private noteError(err: Error): void {
    this.lastError = err;
    this.lastErrorAt = Date.now();
  }

  private clearTimers(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
    this.reconnectTimer = undefined;
    this.stopSweep();
  }
}

function defaultTurnaround(cfg: TransportConfig): number {
  if (cfg.kind !== 'rtu' || !(cfg.baudRate > 0)) return 0;
  const charMs = charTimeMs(cfg.baudRate, cfg.dataBits ?? 8, cfg.parity ?? 'none', cfg.stopBits ?? 1);
  return Math.ceil(silentIntervalMs(cfg.baudRate, charMs));
}

function unitProblem(unitId: number, request: ModbusRequest, serial: boolean): string | undefined {
  const max = serial ? 247 : 255;
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > max) return `unit id ${unitId} is not an integer in 0..${max}`;
  if (serial && unitId === 0 && 'quantity' in request) return 'unit 0 is the RTU broadcast address: only writes can be broadcast';
  return undefined;
}

function positive(value: number, field: string, line: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`line "${line}": ${field} ${value} must be a number > 0`);
  return value;
}

function nonNegative(value: number, field: string, line: string): number {
  if (!Number.isFinite(value) || value < 0) throw new Error(`line "${line}": ${field} ${value} must be a number >= 0`);
  return value;
}

function nonNegativeInt(value: number, field: string, line: string): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`line "${line}": ${field} ${value} must be an integer >= 0`);
  return value;
}
