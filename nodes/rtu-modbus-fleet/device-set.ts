/**
 * The running devices of one device-table node: one shared Modbus device
 * runtime (../shared/modbus-device) per enabled row. Moving from one table to
 * the next stops and starts only the rows that changed, so the others keep
 * their schedule. A new table is prepared in full before anything stops: a
 * row the runtime refuses leaves every running device as it was.
 */
import type { RegisterCache } from '../lib/cache';
import { DeviceOwner, fleet } from '../lib/fleet';
import type { FleetRow } from '../lib/fleet-table';
import { sameRow } from '../lib/fleet-table';
import type { ModbusLine } from '../lib/modbus/line';
import type { MeterRegistry } from '../lib/registry';
import type { PointValue, ReadingMessage } from '../lib/reading';
import type { Lookup } from '../shared/deploy-value';
import { ModbusDeviceFields, PreparedDevice, prepareModbusDevice, runModbusDevice, RunningModbusDevice } from '../shared/modbus-device';
import type { LineConfigNode } from '../rtu-modbus-line/line-config';
import { DeviceConfigError, resolveDevice } from '../lib/modbus/poller-config';
import { pollIntervalMs } from '../lib/modbus/poll-interval';

export interface DeviceSetOptions {
  owner: DeviceOwner;
  /** The line config node of a line name, if one is deployed. */
  lineNode(name: string): LineConfigNode | undefined;
  registry: () => MeterRegistry;
  lookup: Lookup;
  includeRaw: boolean;
  bitWrites: 'mask' | 'read-modify-write';
  cache?: Pick<RegisterCache, 'update' | 'setWriter' | 'removeWriter'>;
  onReading(reading: ReadingMessage, row: FleetRow): void;
  /** A failure while handing a device's reading on (cache update, send). */
  onError(err: Error): void;
  /** Devices' changes of state (failing, offline, recovered). */
  log(level: 'info' | 'warn', text: string): void;
}

interface Running {
  row: FleetRow;
  lineNode: LineConfigNode;
  line: ModbusLine;
  userId: string;
  device: RunningModbusDevice;
}

export interface DeviceState {
  running: boolean;
  /** true when the last reading was not bad; undefined before the first reading. */
  online?: boolean;
  lastReadingAt?: number;
  error?: string;
}

export class DeviceSet {
  private readonly running = new Map<string, Running>();
  private readonly online = new Map<string, boolean>();
  private readonly failed = new Map<string, string>();
  private table: FleetRow[] = [];

  constructor(private readonly opts: DeviceSetOptions) {}

  rows(): FleetRow[] {
    return this.table;
  }

  /**
   * Checks what the runtime needs of the rows that would start: a line that is
   * deployed and sound, points the planner accepts, a name no other node uses.
   */
  problemsFor(next: readonly FleetRow[]): string[] {
    const problems: string[] = [];
    // Rows the current table already has as they are: a change elsewhere is not refused over them.
    const current = new Map(this.table.map((r) => [r.name, r]));
    next.forEach((row, i) => {
      const before = current.get(row.name);
      if (!row.enabled || (before && sameRow(before, row))) return;
      const where = `row ${i + 1} (${row.name})`;
      const clash = fleet.clash(row.name, this.opts.owner);
      if (clash) problems.push(`${where}, field "name": ${clash.message}`);
      const lineNode = this.opts.lineNode(row.line);
      if (!lineNode) return void problems.push(`${where}, field "line": line "${row.line}" is not deployed`);
      if (lineNode.configError) return void problems.push(`${where}, field "line": ${lineNode.configError}`);
      // The points and plan, without taking the line: starting a line only to check a row would make it connect.
      try {
        resolveDevice(this.fields(row), this.opts.registry, where);
        pollIntervalMs(this.fields(row), where);
      } catch (err) {
        problems.push(...(err instanceof DeviceConfigError ? err.problems : [(err as Error).message]));
      }
    });
    return problems;
  }

  /** Moves to `next` (already checked with problemsFor): stops what went or changed, starts what came or changed. */
  apply(next: readonly FleetRow[]): void {
    const wanted = new Map(next.filter((r) => r.enabled).map((r) => [r.name, r]));
    for (const [name, run] of [...this.running]) {
      const row = wanted.get(name);
      if (!row || !sameRow(row, run.row)) this.stopDevice(name);
    }
    for (const name of [...this.failed.keys()]) if (!wanted.has(name)) this.failed.delete(name);
    next.forEach((row, i) => {
      if (row.enabled && !this.running.has(row.name)) this.startDevice(row, `row ${i + 1} (${row.name})`);
    });
    this.table = [...next];
  }

  state(name: string): DeviceState {
    const run = this.running.get(name);
    return {
      running: !!run,
      online: this.online.get(name),
      lastReadingAt: run?.device.lastReadingAt(),
      error: this.failed.get(name),
    };
  }

  counts(): { devices: number; running: number; online: number; offline: number; disabled: number; failed: number } {
    let online = 0;
    let offline = 0;
    for (const name of this.running.keys()) {
      const state = this.online.get(name);
      if (state === true) online++;
      else if (state === false) offline++;
    }
    return {
      devices: this.table.length,
      running: this.running.size,
      online,
      offline,
      disabled: this.table.filter((r) => !r.enabled).length,
      failed: this.failed.size,
    };
  }

  /** Reads a device now (writing first when values are given), like a poller node's input. */
  readNow(name: string, writes?: Record<string, PointValue>): Promise<ReadingMessage> {
    const run = this.running.get(name);
    if (!run) return Promise.reject(new Error(`device "${name}" is not running (unknown or disabled)`));
    return run.device.readNow(writes);
  }

  stopAll(): Promise<void> {
    const releases = [...this.running.keys()].map((name) => this.stopDevice(name));
    this.table = [];
    return Promise.all(releases).then(() => undefined);
  }



  private userId(row: FleetRow): string {
    return `${this.opts.owner.id}/${row.name}`;
  }

  private prepare(row: FleetRow, lineNode: LineConfigNode, where: string, line: ModbusLine | undefined): { device?: PreparedDevice; problems: string[] } {
    if (!line) return { problems: [`${where}, field "line": ${lineNode.configError ?? `line "${row.line}" cannot be started`}`] };
    return prepareModbusDevice(this.fields(row), line, this.opts.registry, this.opts.lookup, where);
  }

  private fields(row: FleetRow): ModbusDeviceFields {
    return { name: row.name, source: 'model', model: row.model, profile: row.profile, unitId: row.unitId, interval: row.interval };
  }

  private startDevice(row: FleetRow, where: string): void {
    const lineNode = this.opts.lineNode(row.line);
    const userId = this.userId(row);
    const line = lineNode?.acquire(userId);
    const fail = (text: string) => {
      if (line) void lineNode?.release(userId);
      this.failed.set(row.name, text);
    };
    if (!lineNode || !line) return fail(`${where}: line "${row.line}" ${lineNode?.configError ?? 'is not deployed'}`);
    const { device: prepared, problems } = this.prepare(row, lineNode, where, line);
    if (!prepared) return fail(problems.join('; '));
    try {
      const device = runModbusDevice({
        name: row.name,
        owner: this.opts.owner,
        line,
        prepared,
        includeRaw: this.opts.includeRaw,
        bitWrites: this.opts.bitWrites,
        cache: this.opts.cache,
        onReading: (reading) => {
          this.online.set(row.name, reading.rtu.quality !== 'bad');
          this.opts.onReading(reading, row);
        },
        onError: (err, _brief, log) => {
          if (log) this.opts.onError(err);
        },
        log: (level, text) => this.opts.log(level, text),
      });
      this.running.set(row.name, { row, lineNode, line, userId, device });
      this.failed.delete(row.name);
    } catch (err) {
      fail((err as Error).message);
    }
  }

  private stopDevice(name: string): Promise<void> {
    const run = this.running.get(name);
    if (!run) return Promise.resolve();
    this.running.delete(name);
    this.online.delete(name);
    run.device.stop();
    return run.lineNode.release(run.userId).catch(() => undefined);
  }
}
