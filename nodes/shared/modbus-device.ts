/**
 * One Modbus device as the nodes run it: its fields checked against its line, a
 * DevicePoller, and its entries in the fleet, the health registry and the
 * register cache. Shared by the one-device poller node and the device-table
 * node, so a device behaves the same whichever node polls it.
 */
import type { NodeStatus } from 'node-red';
import type { DeviceWriter, RegisterCache } from '../lib/cache';
import { DeviceOwner, fleet } from '../lib/fleet';
import { health } from '../lib/health/registry';
import { deviceHealthInput } from '../lib/modbus/health-input';
import { pollIntervalMs } from '../lib/modbus/poll-interval';
import type { ModbusLine } from '../lib/modbus/line';
import type { MeterRegistry } from '../lib/registry';
import { countKeys, PointValue, ReadingMessage } from '../lib/reading';
import { DeviceStateLog } from '../lib/health/device-state-log';
import { LastReading } from '../lib/last-reading';
import { LogBudget, RepeatGate } from '../lib/log-limit';
import { Lookup, typedNumber } from './deploy-value';
import { shortText, status } from './runtime';
import { DeviceConfigError, PollerFields, ResolvedDevice, resolveDeviceShared } from '../lib/modbus/poller-config';
import { DevicePoller, unitIdProblem } from '../lib/modbus/device-poller';
import type { PointDef } from '../lib/modbus/types';

/** A device's fields as a poller node or a device-table row holds them. */
export type ModbusDeviceFields = PollerFields & {
  unitId: string | number;
  /** 'env': the unit id is read from an environment variable at deploy; undefined in older flows. */
  unitIdType?: string;
  interval: string | number;
  /** Poll as fast as the line allows (the interval is ignored); undefined in older flows. */
  flatOut?: boolean;
  includeRaw?: boolean;
  /** 'mask' writes bit points with FC22; anything else (older flows: undefined) by read-modify-write. */
  bitWrites?: string;
};

export interface PreparedDevice {
  resolved: ResolvedDevice;
  unitId: number;
  intervalMs: number;
}

/** Checks every field at once (not one problem per deploy); the unit id range depends on the line. */
export function prepareModbusDevice(
  fields: ModbusDeviceFields,
  line: ModbusLine,
  registry: () => MeterRegistry,
  lookup: Lookup,
  where: string,
): { device?: PreparedDevice; problems: string[] } {
  const problems: string[] = [];
  let resolved: ResolvedDevice | undefined;
  try {
    resolved = resolveDeviceShared(fields, registry, where);
  } catch (err) {
    problems.push(...(err instanceof DeviceConfigError ? err.problems : [(err as Error).message]));
  }
  let unitId = 0;
  try {
    unitId = Number(typedNumber({ field: 'unit id', value: fields.unitId, type: fields.unitIdType, types: ['num', 'env'] }, lookup, { min: 0, max: 255 }));
    const wrong = unitIdProblem(unitId, line, where);
    if (wrong) problems.push(wrong);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
  }
  let intervalMs = 0;
  try {
    intervalMs = pollIntervalMs(fields, where);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length || !resolved) return { problems };
  return { device: { resolved, unitId, intervalMs }, problems };
}

export interface RunModbusDeviceOptions {
  name: string;
  owner: DeviceOwner;
  line: ModbusLine;
  prepared: PreparedDevice;
  includeRaw: boolean;
  bitWrites: 'mask' | 'read-modify-write';
  cache?: Pick<RegisterCache, 'update' | 'setWriter' | 'removeWriter'>;
  /** Every reading the device produces: scheduled, read now, or after a write. */
  onReading(reading: ReadingMessage): void;
  /**
   * A failure while handing a reading on (cache update, send); the reading still goes out where it can.
   * `brief` leaves out the device, for a status; `log` is false for a repeat within a minute (status only).
   */
  onError(err: Error, brief: string, log: boolean): void;
  /** The device's changes of state (failing, offline, recovered), within the process-wide log budget. */
  log(level: 'info' | 'warn', text: string): void;
}

/** Every device's state lines share one budget: a whole site going dark logs a burst, then a line every 2 s. */
const stateLogBudget = new LogBudget(30, 2000);

export interface RunningModbusDevice {
  readonly device: DevicePoller;
  lastReading(): ReadingMessage | undefined;
  /** When the last reading was taken (no message is built). */
  lastReadingAt(): number | undefined;
  /** Reads now (writing first when values are given) and hands the reading on like a scheduled one. */
  readNow(writes?: Record<string, PointValue>): Promise<ReadingMessage>;
  stop(): void;
}

/** Starts polling a prepared device; throws (before anything is registered) when the poller refuses its points. */
export function runModbusDevice(opts: RunModbusDeviceOptions): RunningModbusDevice {
  const { name, line, prepared, cache } = opts;
  const { resolved, unitId, intervalMs } = prepared;
  const device = new DevicePoller({
    name,
    line,
    unitId,
    intervalMs,
    points: resolved.points,
    plan: resolved.planOptions,
    model: resolved.model,
    profile: resolved.profile,
    includeRaw: opts.includeRaw,
    bitWrites: opts.bitWrites,
  });
  // Compact between polls: a thousand kept readings would be old-generation garbage (see last-reading.ts).
  const last = new LastReading();
  const devicePrefix = `device "${name}": `;
  const states = new DeviceStateLog(`device "${name}" (unit ${unitId} on line "${line.name}")`);
  const logState = (reading: ReadingMessage) => {
    const change = states.observe({
      at: reading.rtu.timestamp || Date.now(),
      answered: reading.rtu.quality !== 'bad',
      // The log line names the device already; the reading's error starts with it too.
      error: reading.rtu.error?.replace(devicePrefix, ''),
      // Asked of the line only for a failed poll: a good reading is never read as backing off.
      backingOff: reading.rtu.quality === 'bad' && line.unitHealth(unitId).backingOff,
    });
    if (!change) return;
    const budget = stateLogBudget.take();
    if (!budget.ok) return;
    const more = budget.dropped ? ` (${budget.dropped} earlier device state changes were not logged: too many at once)` : '';
    opts.log(change.level, change.text + more);
  };
  const errorGate = new RepeatGate(60_000);
  const handlingFailed = (brief: string) => {
    const gate = errorGate.pass(brief);
    const held = gate.held ? ` (${gate.held} more times in the last minute)` : '';
    opts.onError(new Error(`device "${name}": ${brief}${held}`), brief, gate.pass);
  };
  const emit = (reading: ReadingMessage) => {
    last.store(reading);
    let cacheError: unknown;
    try {
      cache?.update(reading);
    } catch (err) {
      cacheError = err;
    }
    try {
      logState(reading);
      opts.onReading(reading);
    } catch (err) {
      handlingFailed(`handing on the reading failed: ${(err as Error).message}`);
    }
    // Reported after the reading's own status, so the node's status keeps showing the failure.
    if (cacheError) handlingFailed(`the register cache refused the reading: ${(cacheError as Error).message}`);
    return reading;
  };
  device.on('reading', emit);
  // Writes that SCADA sends through the gateway reach the device through its own line.
  const writer: DeviceWriter = (req, options) => device.carry(req, options);
  cache?.setWriter(name, writer);
  const readNow = (writes?: Record<string, PointValue>) =>
    (writes ? device.writeMany(writes).then(() => device.readNow()) : device.readNow()).then(emit);
  const leaveFleet = fleet.register({
    name,
    protocol: 'modbus',
    line: line.name,
    model: resolved.model,
    profile: resolved.profile,
    unitId: device.unitId,
    intervalMs,
    planSummary: resolved.plan.summary,
    points: fleetPoints(resolved.points),
    readOnce: () => device.readNow(),
    lastReading: () => last.get(),
    write: (values) => readNow(values),
    owner: opts.owner,
  });
  const leaveHealth = health.registerDevice(name, () => deviceHealthInput(device.stats()));
  device.start();
  return {
    device,
    lastReading: () => last.get(),
    lastReadingAt: () => last.at,
    readNow,
    stop() {
      device.stop();
      device.removeAllListeners('reading');
      cache?.removeWriter(name, writer);
      leaveFleet();
      leaveHealth();
    },
  };
}

/** The fleet's view of a point list, made once per shared (frozen) list of resolved points. */
const fleetPointLists = new WeakMap<readonly PointDef[], ReadonlyArray<{ name: string; unit?: string }>>();

function fleetPoints(points: PointDef[]): Array<{ name: string; unit?: string }> {
  const make = () => points.map((p) => Object.freeze({ name: p.name, unit: p.unit }));
  if (!Object.isFrozen(points)) return make();
  let list = fleetPointLists.get(points);
  if (!list) fleetPointLists.set(points, (list = Object.freeze(make())));
  return list as Array<{ name: string; unit?: string }>;
}

/** Status texts from the node's message catalogue: `status.<key>` with its variables. */
export type StatusText = (key: 'backoff' | 'failed' | 'partial' | 'ok', vars: Record<string, string | number>) => string;

/** The status a reading gives its node: the line's next try for a unit backing off, else what failed or how much came. */
export function readingStatus(reading: ReadingMessage, line: ModbusLine, unitId: number, t: StatusText): NodeStatus {
  const meta = reading.rtu;
  const count = countKeys(reading.payload);
  const bad = meta.pointQuality ? countKeys(meta.pointQuality) : 0;
  if (meta.quality === 'bad') {
    const unit = line.unitHealth(unitId);
    if (unit.backingOff && unit.retryAt) {
      const seconds = Math.max(1, Math.round((unit.retryAt - Date.now()) / 1000));
      return status.error(t('backoff', { seconds }));
    }
    return status.error(shortText(t('failed', { error: meta.error ?? 'no values' })));
  }
  if (bad > 0) return status.warn(t('partial', { bad, count }));
  return (meta.test ? status.test : status.ok)(t('ok', { count, latency: meta.latencyMs }));
}
