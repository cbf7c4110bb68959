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
 * - Requests: on-demand ones (priority 'demand') go before poll requests, and
 *   at most `maxQueuedDemand` of them wait at once (more are refused with a
 *   QueueFullError, so a flood of input messages cannot grow the queue); poll
 *   requests are ordered by their poll's deadline. RTU lines carry one request
 *   at a time with `interRequestDelayMs` of silence after each answer; TCP lines
 *   carry `maxOutstanding` (default 1; more for devices that pipeline).
 * - Retries: a timeout or a malformed/CRC-damaged answer is retried `retries`
 *   times; an exception answer is final.
 * - Unit backoff: a unit whose request times out on every attempt is skipped
 *   for a growing, jittered period (1 s, 2 s, 4 s ... 60 s); its pending and new
 *   requests fail at once with a BackoffError without touching the bus, so its
 *   devices still report a bad reading at their interval (flat-out ones once a
 *   second), while every other unit keeps its schedule. When the period ends, the unit
 *   is probed with one attempt and no retries, so a dead unit holds the line for
 *   at most one timeout per backoff period. Any answer (even an exception or
 *   a malformed frame: the unit is alive) resets the backoff.
 * - Dead link: over TCP, timeouts in a row with nothing answering in between,
 *   from units that answered before, drop and reopen the connection; one
 *   silent unit among answering ones never does (link-watch.ts).
 * - What a failure means for its unit and the link, and how requests to a unit
 *   in trouble go out, is decided in line-units.ts; the connection and its
 *   reconnects live in line-connection.ts, the queue in line-queue.ts.
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
import { LineConnection } from './line-connection';
import { DeviceSlot, LineDevices } from './line-devices';
import { DEMAND, Job, POLL, QueueFullError, RequestQueue } from './line-queue';
import { lineSettings } from './line-settings';
import { classify, LineUnits } from './line-units';
import { RateMeter } from './line-stats';
import type { DeviceRegistration, LineCounters, LineOptions, LineState, LineStats, PollContext, PolledDevice, RequestOptions, UnitHealth } from './line-types';
import { decodeResponse, describeRequest, ModbusRequest, requestProblem } from './pdu';
import type { ScheduleEntry } from './scheduler';
import { createTransport } from './transport-create';
import { asError, LinkError, RequestCancelledError, withContext } from './transport-errors';
import type { Transport } from './transport-types';

export { QueueFullError } from './line-queue';
export type {
  DeviceRegistration,
  LineCounters,
  LineOptions,
  LineState,
  LineStats,
  PollContext,
  PolledDevice,
  RequestOptions,
  RequestPriority,
  UnitHealth,
} from './line-types';

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
  private readonly maxQueuedDemand: number;
  private readonly units: LineUnits;
  private readonly link: LineConnection;

  private readonly queue = new RequestQueue();
  private inFlight = 0;
  private quietUntil = 0;
  private readonly devices = new LineDevices();
  private activePolls = 0;
  private pumping = false;
  private pumpAgain = false;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
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
    // Fan-out by design: every device on the line (often dozens) listens to its connect and
    // disconnect events, so the default limit of 10 listeners would warn of a leak that is not one.
    this.setMaxListeners(0);
    if (!options || typeof options.name !== 'string' || !options.name) throw new Error('Modbus line: name is required');
    this.name = options.name;
    const factory = options.transportFactory ?? createTransport;
    try {
      this.transport = factory(options.transport);
    } catch (err) {
      throw withContext(asError(err), `line "${this.name}"`);
    }
    const settings = lineSettings(options, this.transport.serial);
    this.timeoutMs = settings.timeoutMs;
    this.retries = settings.retries;
    this.maxOutstanding = settings.maxOutstanding;
    this.interRequestDelayMs = settings.interRequestDelayMs;
    this.queueTimeoutMs = settings.queueTimeoutMs;
    this.maxQueuedDemand = settings.maxQueuedDemand;
    this.units = new LineUnits(this.name, settings.unitBackoff, settings.random, settings.reconnectAfterTimeouts);
    this.link = new LineConnection(this.transport, settings.reconnect, settings.random, this.counters, {
      up: () => this.linkUp(),
      down: (reason) => this.linkDown(reason),
      emit: (event, err) => (err ? this.emit(event, err) : this.emit(event)),
    });
  }

  get connected(): boolean {
    return this.link.state === 'connected';
  }

  get lineState(): LineState {
    return this.link.state;
  }

  /** Opens the transport; from here on the line keeps itself connected until stop(). */
  start(): void {
    this.link.start();
  }

  /** Fails everything queued, closes the transport and releases the port or socket. */
  async stop(): Promise<void> {
    if (this.link.state === 'stopped') return;
    const closing = this.link.stop();
    this.clearTimers();
    this.failQueued(() => true, () => new LinkError(`line "${this.name}" stopped`));
    await closing;
  }

  /**
   * Sends one request to a unit and resolves with the words (or bits) read, or
   * [] for a write. Rejects with ModbusException, FrameError/CrcError,
   * ModbusTimeoutError, BackoffError or LinkError, each naming the line, unit and request.
   */
  request(unitId: number, request: ModbusRequest, options: RequestOptions = {}): Promise<number[]> {
    const invalid = requestProblem(request) ?? unitProblem(unitId, request, this.transport.serial);
    if (invalid) return Promise.reject(new Error(`${this.context(unitId, request)}: ${invalid}`));
    const priority = options.priority === 'poll' ? POLL : DEMAND;
    const state = this.link.state;
    if (state === 'stopped') return Promise.reject(new LinkError(`${this.context(unitId, request)}: line is stopped`));
    if (state === 'reconnecting' && priority === POLL) {
      return Promise.reject(new LinkError(`${this.context(unitId, request)}: not connected (${this.link.lastError?.message ?? 'reconnecting'})`));
    }
    if (priority === DEMAND && this.queue.demandWaiting >= this.maxQueuedDemand) {
      return Promise.reject(
        new QueueFullError(`${this.context(unitId, request)}: refused, ${this.queue.demandWaiting} on-demand requests are already waiting on the line (limit ${this.maxQueuedDemand})`),
      );
    }
    const probe = options.probe === true;
    const refusal = this.units.refuseNew(unitId, probe, Date.now());
    if (refusal) {
      this.counters.backoffSkips++;
      return Promise.reject(withContext(refusal, this.context(unitId, request)));
    }
    if (options.signal?.aborted) return Promise.reject(new RequestCancelledError(`${this.context(unitId, request)}: cancelled before it was sent`));
    // Polling flat out, every request passes here: no closures beyond the promise's own, and the
    // error context is only built when a request fails (fewer young-generation collections).
    return new Promise<number[]>((resolve, reject) => {
      const now = Date.now();
      const job: Job = {
        unitId,
        request,
        priority,
        deadline: priority === POLL ? (options.deadline ?? now) : 0,
        seq: -1,
        heapIndex: -1,
        timeoutMs: options.timeoutMs !== undefined && options.timeoutMs > 0 ? options.timeoutMs : this.timeoutMs,
        attemptsLeft: 1 + (Number.isInteger(options.retries) && (options.retries as number) >= 0 ? (options.retries as number) : this.retries),
        expiresAt: now + this.queueTimeoutMs,
        signal: options.signal,
        onSend: options.onSend,
        probe,
        unitFailures: 0,
        resolve,
        reject,
      };
      this.units.queued(job);
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
    const registration = this.devices.add(device);
    this.pump();
    return registration;
  }

  unitHealth(unitId: number, now = Date.now()): UnitHealth {
    return this.units.health(unitId, now);
  }

  stats(now = Date.now()): LineStats {
    const unitsBackingOff = this.units.backingOff(now);
    const t = this.transport.counters;
    const state = this.link.state;
    return {
      name: this.name,
      kind: this.transport.kind,
      transport: this.transport.description,
      state,
      connected: state === 'connected',
      connectedSince: this.link.connectedSince,
      lastError: this.link.lastError?.message,
      lastErrorAt: this.link.lastErrorAt,
      queueDepth: this.queue.length,
      inFlight: this.inFlight,
      devices: this.devices.size,
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

  // ---- the link coming and going ----

  private linkUp(): void {
    this.units.connected();
    this.stopSweep();
    this.pump();
  }

  /** Queued poll requests fail (no reading mixes both sides of an outage); on-demand ones wait. */
  private linkDown(reason: string): void {
    this.failQueued((job) => job.priority === POLL, () => new LinkError(`not connected (${reason})`));
    this.startSweep();
    this.pump();
  }

  /** While disconnected, queued on-demand requests give up after queueTimeoutMs. */
  private startSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      this.failQueued(
        (job) => job.expiresAt <= now,
        () => new LinkError(`not connected for ${this.queueTimeoutMs} ms (${this.link.lastError?.message ?? 'reconnecting'})`),
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
    if (this.link.state === 'stopped') return;
    const now = Date.now();
    this.startDuePolls(now);
    if (!this.link.usable) return;
    while (this.inFlight < this.maxOutstanding) {
      if (this.quietUntil > now) {
        this.wakeUpAt(this.quietUntil);
        return;
      }
      const job = this.queue.pop();
      if (!job) return;
      if (job.signal?.aborted) {
        this.fail(job, new RequestCancelledError('cancelled by the caller; not sent'));
        continue;
      }
      const refusal = this.units.beforeSend(job, now);
      if (refusal) {
        this.counters.backoffSkips++;
        this.fail(job, refusal);
        continue;
      }
      this.send(job);
    }
  }

  private startDuePolls(now: number): void {
    while (this.activePolls < this.maxOutstanding) {
      const entry = this.devices.take(now);
      if (!entry) break;
      this.runPoll(entry);
    }
    if (this.activePolls < this.maxOutstanding) {
      const next = this.devices.nextWake();
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
    // One reaction per poll (not a catch + finally chain): it runs once per reading.
    polling.then(
      () => this.pollDone(entry),
      (err: unknown) => {
        try {
          this.emit('poll-error', withContext(asError(err), `device "${device.name}"`));
        } finally {
          this.pollDone(entry);
        }
      },
    );
  }

  private pollDone(entry: ScheduleEntry<DeviceSlot>): void {
    const { device } = entry.item;
    this.activePolls--;
    const now = Date.now();
    // Offline or backing off, a poll fails without I/O: keep flat-out devices from spinning on
    // failures (a unit backing off is still probed as soon as its backoff ends).
    let notBefore = 0;
    if (this.link.state !== 'connected') notBefore = now + Math.max(device.intervalMs, OFFLINE_POLL_SPACING_MS);
    else if (device.intervalMs === 0) notBefore = Math.min(this.units.until(device.unitId), now + OFFLINE_POLL_SPACING_MS);
    this.devices.complete(entry, now, notBefore);
    this.pump();
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

  // ---- one exchange and what its outcome means ----

  private send(job: Job): void {
    this.inFlight++;
    this.counters.requests++;
    job.onSend?.();
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
    const failure = classify(err);
    let linkDead = false;
    switch (failure) {
      case 'exception':
        this.counters.exceptions++;
        this.rate.add(now);
        this.unitAnswered(job.unitId);
        this.fail(job, err);
        return;
      case 'link':
        this.counters.linkErrors++;
        this.fail(job, err);
        return;
      case 'timeout':
        this.counters.timeouts++;
        linkDead = this.units.timedOut(job.unitId);
        break;
      case 'crc':
      case 'frame':
        if (failure === 'crc') this.counters.crcErrors++;
        else this.counters.frameErrors++;
        this.unitAnswered(job.unitId);
        break;
    }
    job.attemptsLeft--;
    if (job.attemptsLeft > 0 && !linkDead && this.link.state === 'connected') {
      this.counters.retries++;
      this.queue.push(job);
    } else {
      if (failure === 'timeout') {
        this.units.silent(job.unitId, now);
        this.emit('unit-backoff', this.unitHealth(job.unitId, now));
      }
      this.fail(job, err);
    }
    if (linkDead) this.link.drop(`${this.units.timeoutsInARow} requests in a row timed out and no unit answered`);
  }

  private fail(job: Job, err: Error): void {
    job.reject(withContext(err, this.context(job.unitId, job.request)));
  }

  private context(unitId: number, request: ModbusRequest): string {
    return `line "${this.name}" unit ${unitId} ${describeRequest(request)}`;
  }

  private unitAnswered(unitId: number): void {
    this.link.answered();
    if (this.units.answered(unitId)) this.emit('unit-recovered', this.unitHealth(unitId));
  }

  // ---- housekeeping ----

  private failQueued(which: (job: Job) => boolean, why: () => Error): void {
    for (const job of this.queue.takeWhere(which)) {
      this.counters.linkErrors++;
      this.fail(job, why());
    }
  }

  private clearTimers(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = Infinity;
    this.stopSweep();
  }
}

function unitProblem(unitId: number, request: ModbusRequest, serial: boolean): string | undefined {
  const max = serial ? 247 : 255;
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > max) return `unit id ${unitId} is not an integer in 0..${max}`;
  if (serial && unitId === 0 && 'quantity' in request) return 'unit 0 is the RTU broadcast address: only writes can be broadcast';
  return undefined;
}
