/**
 * One Modbus device on a line: plans its reads once, polls them every cycle
 * through the line's scheduler, decodes the words into named values and emits
 * one reading message per poll (nodes/lib/reading.ts). Also reads on demand
 * and writes named points.
 *
 * Usage (what the `rtu-modbus-poller` node does):
 *
 *   const device = new DevicePoller({ name: 'pm1', line, unitId: 3, intervalMs: 1000, points, model: 'SDM630' });
 *   device.on('reading', (msg) => send(msg));     // one ReadingMessage per poll, good or bad
 *   device.start();                               // registers with the line's scheduler
 *   const msg = await device.readNow();           // on demand, ahead of polls; returned, not emitted
 *   await device.write('demand_limit', 40.5);     // FC5/FC6/FC16 by point type; FC15/FC16 with writeFunctions 'multiple'
 *   await device.write('relay_2', true);          // a bit of a register: locked read-modify-write, or FC22 with bitWrites 'mask'
 *   device.stats();                               // plain object for the health node
 *   device.stop();
 *
 * Reading semantics:
 * - quality 'good' when at least one point has a value; points whose block
 *   failed (or that could not be decoded) are null in the payload and 'bad' in
 *   rtu.pointQuality, and rtu.error says why.
 * - quality 'bad' when no point has a value (the poll failed); every point is null.
 * - latencyMs runs from the start of the poll to its last answer, queueing included.
 * - rtu.raw carries the blocks as read when includeRaw is set.
 *
 * Errors name the device, the line, the unit, the request or point and the value.
 */
import { EventEmitter } from 'events';
import { CodecError, decodePoint, encodePoint, encodePointOver, registerCount } from './codec';
import type { DeviceRegistration, ModbusLine, PollContext, PolledDevice, UnitHealth } from './line';
import { SampleRing } from './line-stats';
import { ModbusException, ModbusRequest } from './pdu';
import { planReads, PlanOptions, ReadPlan } from './planner';
import { BitWriteMode, isBitPoint, maskWrites } from './bit-writes';
import { RegisterLocks } from './register-locks';
import { asError, withContext } from './transport-errors';
import type { PointDef, RegisterBlock } from './types';
import type { PointInfo, PointValue, Quality, ReadingMessage } from '../reading';
import { testMode } from '../test-mode';

export interface DevicePollerOptions {
  name: string;
  line: ModbusLine;
  unitId: number;
  /** Poll period (ms); 0 polls as fast as the line allows. */
  intervalMs: number;
  points: PointDef[];
  plan?: PlanOptions;
  model?: string;
  profile?: string;
  /** Put the blocks as read into rtu.raw (for the cache and gateway). */
  includeRaw?: boolean;
  /** 'single' (default): FC5/FC6 for one coil/register, FC16 for more; 'multiple': always FC15/FC16. */
  writeFunctions?: 'single' | 'multiple';
  /** How bit points are written: 'read-modify-write' (default) or 'mask' (FC22, where the device supports it). */
  bitWrites?: BitWriteMode;
}

export interface WriteResult {
  device: string;
  point: string;
  value: PointValue;
  fc: 5 | 6 | 15 | 16 | 22;
  address: number;
  /** Words (or 0/1 bits) written; for FC22 the OR masks, one per register. */
  words: number[];
}

export interface DeviceStats {
  device: string;
  line: string;
  unitId: number;
  intervalMs: number;
  /** Planned reads per poll and what they touch. */
  plan: { requests: number; registers: number; bits: number; summary: string };
  polls: { ok: number; partial: number; failed: number };
  consecutiveFailures: number;
  latencyMs: { last?: number; p50?: number; p95?: number; samples: number };
  lastGoodAt?: number;
  lastPollAt?: number;
  lastError?: string;
  writes: { ok: number; failed: number };
  unit: UnitHealth;
}

/** Where each point sits in the plan, worked out once. */
interface PointSlot {
  point: PointDef;
  block: number;
  offset: number;
}

export class DevicePoller extends EventEmitter implements PolledDevice {
  readonly name: string;
  readonly line: ModbusLine;
  readonly unitId: number;
  readonly plan: ReadPlan;
  private interval: number;
  private readonly slots: readonly PointSlot[];
  /** The plan's reads as requests, built once: each poll sends the same objects (read-only). */
  private readonly requests: readonly ModbusRequest[];
  private readonly byName: ReadonlyMap<string, PointDef>;
  private readonly units: Readonly<Record<string, string>>;
  private readonly pointInfo: Readonly<Record<string, PointInfo>>;
  private readonly emptyPayload: Readonly<Record<string, PointValue>>;
  private readonly options: DevicePollerOptions;
  private registration?: DeviceRegistration;
  /** Holding registers being written: a bit point's read-modify-write never interleaves with another write to its register. */
  private readonly locks = new RegisterLocks();
  private pendingRead?: { reading: Promise<ReadingMessage>; writesBefore: number };
  /** Writes settled so far: a read on demand that started before one does not answer for after it. */
  private writesDone = 0;
  private seq = 0;
  private readonly latency = new SampleRing(256);
  private readonly counts = { ok: 0, partial: 0, failed: 0, writesOk: 0, writesFailed: 0 };
  private consecutiveFailures = 0;
  private lastLatency?: number;
  private lastGoodAt?: number;
  private lastPollAt?: number;
  private lastError?: string;

  constructor(options: DevicePollerOptions) {
    super();
    const name = options?.name;
    if (typeof name !== 'string' || !name) throw new Error('Modbus device: name is required');
    const where = `device "${name}"`;
    if (!options.line) throw new Error(`${where}: no line`);
    const wrongUnit = unitIdProblem(options.unitId, options.line, where);
    if (wrongUnit) throw new Error(wrongUnit);
    checkInterval(options.intervalMs, where);
    if (!Array.isArray(options.points) || options.points.length === 0) throw new Error(`${where}: no points to read`);
    this.name = name;
    this.line = options.line;
    this.unitId = options.unitId;
    this.interval = options.intervalMs;
    this.options = options;
    const layout = layoutFor(options.points, options.plan, where);
    this.plan = layout.plan;
    this.slots = layout.slots;
    this.requests = layout.requests;
    this.byName = layout.byName;
    this.units = layout.units;
    this.pointInfo = layout.pointInfo;
    this.emptyPayload = layout.emptyPayload;
  }

  get intervalMs(): number {
    return this.interval;
  }

  get running(): boolean {
    return !!this.registration;
  }

  /** Starts polling on the line's schedule; the first poll is due at once. */
  start(): void {
    if (!this.registration) this.registration = this.line.addDevice(this);
  }

  stop(): void {
    this.registration?.remove();
    this.registration = undefined;
  }

  setInterval(intervalMs: number): void {
    checkInterval(intervalMs, `device "${this.name}"`);
    this.interval = intervalMs;
    this.registration?.setInterval(intervalMs);
  }

  /** Called by the line when the device is due: one poll, one 'reading' event. */
  async poll(ctx: PollContext): Promise<void> {
    const reading = await this.read((req) => ctx.request(req));
    this.emit('reading', reading);
  }

  /**
   * Reads every point now, ahead of scheduled polls; the reading is returned, not emitted.
   * A unit that is backing off is asked all the same (an answer ends its backoff).
   * One read on demand is pending at a time: calls while it runs share its answer (each
   * caller gets its own copy), unless a write finished since it started.
   */
  readNow(): Promise<ReadingMessage> {
    const pending = this.pendingRead;
    if (pending && pending.writesBefore === this.writesDone) return pending.reading.then(copyReading);
    const reading: Promise<ReadingMessage> = this.read((req) => this.line.request(this.unitId, req, { priority: 'demand', probe: true })).finally(() => {
      if (this.pendingRead?.reading === reading) this.pendingRead = undefined;
    });
    this.pendingRead = { reading, writesBefore: this.writesDone };
    return reading;
  }

  /**
   * Writes one named point. Coils use FC5 (FC15 with writeFunctions 'multiple'),
   * registers FC6 for one word and FC16 for more; a bit inside a register is
   * read, changed and written back while the register is locked against this
   * device's other writes, or set with FC22 mask write (bitWrites 'mask').
   */
  async write(pointName: string, value: PointValue): Promise<WriteResult> {
    const where = `device "${this.name}": write ${showValue(value)} to point "${pointName}"`;
    try {
      const result = await this.writePoint(pointName, value, where);
      this.counts.writesOk++;
      this.writesDone++;
      return result;
    } catch (err) {
      this.counts.writesFailed++;
      this.writesDone++;
      const e = asError(err);
      throw e.message.startsWith(where) ? e : withContext(e, where);
    }
  }

  /**
   * Carries a raw write request (from the gateway) to the device, on demand. `signal` cancels it
   * while it is still queued; `onSent` tells when it went on the wire.
   */
  carry(request: ModbusRequest, options: { signal?: AbortSignal; onSent?: () => void } = {}): Promise<number[]> {
    const send = () => this.line.request(this.unitId, request, { priority: 'demand', signal: options.signal, onSend: options.onSent });
    if (request.fc !== 6 && request.fc !== 16 && request.fc !== 22) return send();
    return this.locks.run(request.address, request.fc === 16 ? request.values.length : 1, send);
  }

  /** Writes several points in the given order; stops at the first failure, naming what was written. */
  async writeMany(values: Record<string, PointValue>): Promise<WriteResult[]> {
    const done: WriteResult[] = [];
    for (const [point, value] of Object.entries(values)) {
      try {
        done.push(await this.write(point, value));
      } catch (err) {
        const e = asError(err);
        if (done.length) e.message += ` (points already written: ${done.map((d) => d.point).join(', ')})`;
        throw e;
      }
    }
    return done;
  }

  stats(): DeviceStats {
    return {
      device: this.name,
      line: this.line.name,
      unitId: this.unitId,
      intervalMs: this.interval,
      plan: {
        requests: this.plan.requests.length,
        registers: this.plan.registersTouched,
        bits: this.plan.bitsTouched,
        summary: this.plan.summary,
      },
      polls: { ok: this.counts.ok, partial: this.counts.partial, failed: this.counts.failed },
      consecutiveFailures: this.consecutiveFailures,
      latencyMs: {
        last: this.lastLatency,
        p50: this.latency.percentile(50),
        p95: this.latency.percentile(95),
        samples: this.latency.size,
      },
      lastGoodAt: this.lastGoodAt,
      lastPollAt: this.lastPollAt,
      lastError: this.lastError,
      writes: { ok: this.counts.writesOk, failed: this.counts.writesFailed },
      unit: this.line.unitHealth(this.unitId),
    };
  }

  // ---- reading ----

  private async read(send: (req: ModbusRequest) => Promise<number[]>): Promise<ReadingMessage> {
    const started = Date.now();
    const requests = this.plan.requests;
    const results = await settleAll(this.requests, send);
    const timestamp = Date.now();
    const payload: Record<string, PointValue> = { ...this.emptyPayload };
    let pointQuality: Record<string, Quality> | undefined;
    const blockErrors: string[] = [];
    const pointErrors: string[] = [];
    let good = 0;
    for (const slot of this.slots) {
      const result = results[slot.block];
      let value: PointValue = null;
      if (!(result instanceof Error)) {
        try {
          value = decodePoint(slot.point, result, slot.offset);
          if (typeof value === 'number' && Number.isNaN(value)) {
            value = null;
            pointErrors.push(`point "${slot.point.name}": the device sent NaN (no value)`);
          }
        } catch (err) {
          pointErrors.push(err instanceof CodecError ? err.message : `point "${slot.point.name}": ${asError(err).message}`);
        }
      }
      payload[slot.point.name] = value;
      if (value === null) (pointQuality ??= {})[slot.point.name] = 'bad';
      else good++;
    }
    let raw: RegisterBlock[] | undefined;
    if (this.options.includeRaw) raw = [];
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result instanceof Error) blockErrors.push(result.message);
      else raw?.push({ registerType: requests[i].registerType, address: requests[i].address, values: result });
    }
    const quality: Quality = good > 0 ? 'good' : 'bad';
    const error = this.describeErrors(blockErrors, pointErrors);
    this.record(quality, blockErrors.length > 0 || pointErrors.length > 0, timestamp, timestamp - started, error);
    const msg: ReadingMessage = {
      topic: this.name,
      payload,
      rtu: {
        device: this.name,
        line: this.line.name,
        protocol: 'modbus',
        unitId: this.unitId,
        timestamp,
        quality,
        latencyMs: timestamp - started,
        units: { ...this.units },
        seq: this.seq++,
      },
    };
    msg.rtu.points = this.pointInfo;
    if (this.options.model) msg.rtu.model = this.options.model;
    if (this.options.profile) msg.rtu.profile = this.options.profile;
    if (pointQuality && quality === 'good') msg.rtu.pointQuality = pointQuality;
    if (raw) msg.rtu.raw = raw;
    if (error) msg.rtu.error = error;
    if (testMode.enabled) msg.rtu.test = true;
    return msg;
  }

  /** One line for the reading: the first failure in full, the rest counted (a dead unit fails every block the same way). */
  private describeErrors(blockErrors: string[], pointErrors: string[]): string | undefined {
    const all = [...blockErrors, ...pointErrors];
    if (!all.length) return undefined;
    const more = all.length > 1 ? ` (and ${all.length - 1} more error${all.length > 2 ? 's' : ''})` : '';
    return `device "${this.name}": ${all[0]}${more}`;
  }

  private record(quality: Quality, partial: boolean, at: number, latencyMs: number, error: string | undefined): void {
    this.lastPollAt = at;
    this.lastLatency = latencyMs;
    if (quality === 'good') {
      this.latency.add(latencyMs);
      this.lastGoodAt = at;
      this.consecutiveFailures = 0;
      if (partial) this.counts.partial++;
      else this.counts.ok++;
    } else {
      this.counts.failed++;
      this.consecutiveFailures++;
    }
    if (error) this.lastError = error;
  }

  // ---- writing ----

  private async writePoint(pointName: string, value: PointValue, where: string): Promise<WriteResult> {
    const point = this.byName.get(pointName);
    if (!point) {
      const known = [...this.byName.keys()].slice(0, 10).join(', ');
      throw new Error(`${where}: no such point (known: ${known}${this.byName.size > 10 ? ', ...' : ''})`);
    }
    if (point.registerType === 'input' || point.registerType === 'discrete') {
      throw new Error(`${where}: ${point.registerType} ${point.address} is a read-only table`);
    }
    if (!point.writable) throw new Error(`${where}: the point is not marked writable`);
    const multiple = this.options.writeFunctions === 'multiple';
    const result = (fc: WriteResult['fc'], words: number[]): WriteResult => ({ device: this.name, point: point.name, value, fc, address: point.address, words });
    if (point.registerType === 'coil') {
      const words = encodePoint(point, value);
      const request: ModbusRequest = multiple ? { fc: 15, address: point.address, values: words } : { fc: 5, address: point.address, value: words[0] === 1 };
      await this.line.request(this.unitId, request, { priority: 'demand' });
      return result(request.fc, words);
    }
    const count = registerCount(point);
    if (isBitPoint(point) && this.options.bitWrites === 'mask') {
      const masks = maskWrites(point, value, count);
      await this.locks.run(point.address, count, async () => {
        for (const request of masks) await this.line.request(this.unitId, request, { priority: 'demand' }).catch(explainMaskRefusal);
      });
      return result(22, masks.map((m) => m.orMask));
    }
    // The read, the change and the write back hold the register: a concurrent write to it waits.
    return this.locks.run(point.address, count, async () => {
      const words = isBitPoint(point) ? encodePointOver(point, value, await this.readCurrent(point)) : encodePoint(point, value);
      const request: ModbusRequest = words.length === 1 && !multiple ? { fc: 6, address: point.address, value: words[0] } : { fc: 16, address: point.address, values: words };
      await this.line.request(this.unitId, request, { priority: 'demand' });
      return result(request.fc, words);
    });
  }

  /** The register(s) a bit point lives in, for read-modify-write. */
  private readCurrent(point: PointDef): Promise<number[]> {
    return this.line.request(this.unitId, { fc: 3, address: point.address, quantity: registerCount(point) }, { priority: 'demand' });
  }
}

function explainMaskRefusal(err: unknown): never {
  if (err instanceof ModbusException && err.code === 0x01) {
    err.message += ': the device does not support mask write (FC22); write bits by read-modify-write instead';
  }
  throw err;
}

/** What a device works out from its points once: the plan, where each point sits in it, and the per-point metadata. */
interface DeviceLayout {
  plan: ReadPlan;
  slots: readonly PointSlot[];
  requests: readonly ModbusRequest[];
  byName: ReadonlyMap<string, PointDef>;
  units: Readonly<Record<string, string>>;
  pointInfo: Readonly<Record<string, PointInfo>>;
  /** Every point null, in point order: a reading's payload starts as a copy (see makeLayout). */
  emptyPayload: Readonly<Record<string, PointValue>>;
}

/**
 * Layouts of frozen point lists (the nodes' resolved devices, shared by every device of one model
 * and profile or one point list), by plan options: 1000 such devices plan once and hold one layout.
 * A point list that is not frozen could change under a layout, so it gets its own.
 */
const sharedLayouts = new WeakMap<readonly PointDef[], Map<string, DeviceLayout>>();

function layoutFor(points: PointDef[], plan: PlanOptions | undefined, where: string): DeviceLayout {
  if (!Object.isFrozen(points)) return makeLayout(points, plan, where);
  const key = JSON.stringify(plan ?? {});
  let byPlan = sharedLayouts.get(points);
  if (!byPlan) sharedLayouts.set(points, (byPlan = new Map()));
  let layout = byPlan.get(key);
  if (!layout) byPlan.set(key, (layout = makeLayout(points, plan, where)));
  return layout;
}

function makeLayout(points: PointDef[], options: PlanOptions | undefined, where: string): DeviceLayout {
  const byName = new Map<string, PointDef>();
  const units: Record<string, string> = {};
  const pointInfo: Record<string, PointInfo> = {};
  for (const p of points) {
    if (byName.has(p.name)) throw new Error(`${where}: point name "${p.name}" is used twice`);
    byName.set(p.name, p);
    if (p.unit) units[p.name] = p.unit;
    // Shared by every reading of the device, so frozen: a flow that edits one reading cannot change the next.
    pointInfo[p.name] = Object.freeze({ registerType: p.registerType, address: p.address, dataType: p.dataType, ...(p.description ? { description: p.description } : {}), ...(isScaled(p) ? { scaled: true } : {}) });
  }
  let plan: ReadPlan;
  try {
    plan = planReads(points, options);
  } catch (err) {
    throw withContext(asError(err), where);
  }
  const at = new Map<PointDef, PointSlot>();
  plan.requests.forEach((req, block) => {
    for (const point of req.points) at.set(point, { point, block, offset: point.address - req.address });
  });
  return {
    plan,
    slots: points.map((p) => at.get(p) as PointSlot),
    requests: plan.requests.map((r) => ({ fc: r.fc, address: r.address, quantity: r.quantity })),
    byName,
    units: Object.freeze(compactCopy(units)),
    pointInfo: Object.freeze(pointInfo),
    emptyPayload: Object.freeze(compactCopy(Object.fromEntries([...byName.keys()].map((name) => [name, null])) as Record<string, PointValue>)),
  };
}

/**
 * The object again, parsed rather than built key by key. V8 keeps an object that gains 40 keys
 * one at a time as a hash table, twice the memory; a copy of a parsed object keeps its compact
 * layout, shared by every copy, and setting the values of its keys keeps it so. Each reading
 * copies these (payload, units), and a reading lives until the next one.
 */
function compactCopy<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Sends every request at once and waits for all: the words read, or the Error, per request.
 * Promise.allSettled would do, but allocates a result object per request on every poll.
 */
function settleAll(requests: readonly ModbusRequest[], send: (req: ModbusRequest) => Promise<number[]>): Promise<Array<number[] | Error>> {
  return new Promise((resolve) => {
    const results = new Array<number[] | Error>(requests.length);
    let left = requests.length;
    if (left === 0) return resolve(results);
    const settle = (i: number, result: number[] | Error): void => {
      results[i] = result;
      if (--left === 0) resolve(results);
    };
    for (let i = 0; i < requests.length; i++) {
      send(requests[i]).then(
        (words) => settle(i, words),
        (err: unknown) => settle(i, asError(err)),
      );
    }
  });
}

function isScaled(p: PointDef): boolean {
  return (p.scale !== undefined && p.scale !== 1) || (p.offset !== undefined && p.offset !== 0);
}

/** A reading for one more caller: its own objects, so no caller's edits reach another's. */
function copyReading(reading: ReadingMessage): ReadingMessage {
  return structuredClone(reading);
}

function showValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}

/** A unit id the line can address (0..255 over TCP, 1..247 on a serial bus), or what is wrong with it. */
export function unitIdProblem(unitId: number, line: Pick<ModbusLine, 'name' | 'transport'>, context: string): string | undefined {
  const min = line.transport.serial ? 1 : 0;
  const max = line.transport.serial ? 247 : 255;
  if (Number.isInteger(unitId) && unitId >= min && unitId <= max) return undefined;
  return `${context}: unit id ${unitId} is not a whole number in ${min}..${max} on line "${line.name}"`;
}

function checkInterval(intervalMs: number, where: string): void {
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new Error(`${where}: interval ${intervalMs} ms is not a number >= 0`);
}
