/**
 * The Modbus TCP gateway: SCADA and HMIs read the devices' registers from the
 * cache at the devices' own addresses, each device under its own unit id, so
 * they never load the field bus. Writes are refused unless enabled, and then
 * only pass through to the device for the registers on the allow-list.
 *
 * Exceptions: 01 writes disabled or unknown function; 02 registers never
 * polled (or a write outside the allow-list); 0A unit id not mapped, or no
 * poller to carry a write; 0B cached data older than the TTL, or a write that
 * never reached the device (line down, unit backing off, or still queued when
 * the write timeout ran out: it is then cancelled); 04 a write that was sent
 * but not confirmed (it may have taken effect; a late answer is reported), or
 * failed otherwise. A device's own exception to a write is passed on. A
 * confirmed write updates the cached registers at once.
 */
import { EventEmitter } from 'events';
import type { AddressInfo } from 'net';
import type { DeviceWriteOptions, DeviceWriter, RegisterCache } from '../cache';
import { ModbusException, ModbusRequest } from '../modbus/pdu';
import type { HandlerResult, RequestHandler } from '../modbus/server-handler';
import { ModbusTcpServer, TcpServerStats } from '../modbus/server-tcp';
import type { PointDef, RegisterType } from '../modbus/types';
import { permissionForPoint, WritePermission, WriteRule } from './allow-list';
import { carryWrite } from './write-carrier';

export interface GatewayDevice {
  /** Device name as in the readings (msg.rtu.device). */
  device: string;
  unitId: number;
}

export interface GatewayOptions {
  cache: RegisterCache;
  devices: GatewayDevice[];
  host?: string;
  /** 0 picks a free port (tests); 502 is the Modbus default. */
  port?: number;
  maxConnections?: number;
  idleTimeoutMs?: number;
  writesEnabled?: boolean;
  /** Register ranges or point names SCADA may write, per device. */
  allowWrites?: WriteRule[];
  /** Points of a device, to resolve point names on the allow-list (from the registry, by the device's model). */
  pointsOf?: (device: string) => readonly PointDef[] | undefined;
  /** Carries a write to a device; by default the writer its poller registered on the cache. Same contract as a DeviceWriter. */
  write?: (device: string, req: ModbusRequest, options?: DeviceWriteOptions) => Promise<unknown>;
  /** Longest wait for a device to confirm a write (ms, default 5000); then 0B if it was never sent (and it is cancelled), else 04. */
  writeTimeoutMs?: number;
  now?: () => number;
}

/** One write through the gateway, for the node's output and the log. */
export interface WriteEvent {
  device: string;
  unitId: number;
  registerType: 'holding' | 'coil';
  address: number;
  values: number[];
  points: string[];
  ok: boolean;
  /** Whether the write reached the wire (absent when refused by the gateway). */
  sent?: boolean;
  /** The device settled the write after SCADA had already been answered (with the exception in an earlier event). */
  late?: boolean;
  /** Exception code answered when refused or failed. */
  exception?: number;
  error?: string;
}

export interface GatewayStats extends TcpServerStats {
  reads: number;
  unknown: number;
  stale: number;
  writes: number;
  writesRefused: number;
}

const READ_TABLE: Record<number, RegisterType> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };

/** Checks the device map; errors name the entry and what is wrong. */
export function checkDeviceMap(devices: readonly GatewayDevice[]): GatewayDevice[] {
  const seen = new Map<number, string>();
  return devices.map((d, i) => {
    if (!d || typeof d.device !== 'string' || d.device.trim() === '') throw new Error(`gateway device ${i + 1}: device name is empty`);
    if (!Number.isInteger(d.unitId) || d.unitId < 0 || d.unitId > 255) {
      throw new Error(`gateway device "${d.device}": unit id ${String(d.unitId)} outside 0..255`);
    }
    const twin = seen.get(d.unitId);
    if (twin !== undefined) throw new Error(`gateway device "${d.device}": unit id ${d.unitId} is already used by "${twin}"`);
    seen.set(d.unitId, d.device);
    return { device: d.device.trim(), unitId: d.unitId };
  });
}

export class ModbusGateway extends EventEmitter {
  readonly server: ModbusTcpServer;
  private readonly counters = { reads: 0, unknown: 0, stale: 0, writes: 0, writesRefused: 0 };
  private readonly byUnit: (string | undefined)[] = new Array(256);
  private readonly cache: RegisterCache;
  private readonly now: () => number;
  private readonly writesEnabled: boolean;
  private readonly allow: WriteRule[];
  private readonly writeTimeoutMs: number;
  // Exceptions are answers, not faults: one object per (function, code) instead of a stack trace per refusal.
  private readonly exceptions = new Map<number, ModbusException>();

  constructor(private readonly options: GatewayOptions) {
    super();
    this.cache = options.cache;
    this.now = options.now ?? Date.now;
    for (const d of checkDeviceMap(options.devices)) this.byUnit[d.unitId] = d.device;
    this.writesEnabled = options.writesEnabled === true;
    this.allow = [...(options.allowWrites ?? [])];
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5000;
    this.server = new ModbusTcpServer(this.handler, { maxConnections: options.maxConnections, idleTimeoutMs: options.idleTimeoutMs, evictIdle: true });
  }

  listen(): Promise<AddressInfo> {
    return this.server.listen(this.options.port ?? 502, this.options.host ?? '0.0.0.0');
  }

  close(): Promise<void> {
    return this.server.close();
  }

  get stats(): GatewayStats {
    return { ...this.server.stats, ...this.counters };
  }

  private exception(fc: number, code: number): ModbusException {
    const key = (fc << 8) | code;
    let e = this.exceptions.get(key);
    if (!e) this.exceptions.set(key, (e = new ModbusException(fc, code)));
    return e;
  }

  /** Whether any register of the device was ever read; until then the gateway has nothing fresh for it (0B), not a bad address (02). */
  private hasAnswered(device: string): boolean {
    return (this.cache.device(device)?.registers ?? 0) > 0;
  }

  readonly handler: RequestHandler = (unitId, req) => {
    const device = this.byUnit[unitId];
    if (device === undefined) throw this.exception(req.fc, 0x0a);
    if (req.fc <= 4) {
      this.counters.reads++;
      const r = this.cache.read(device, READ_TABLE[req.fc], req.address, (req as { quantity: number }).quantity, this.now());
      if (r === 'unknown' && this.hasAnswered(device)) {
        this.counters.unknown++;
        throw this.exception(req.fc, 0x02);
      }
      if (r === 'unknown' || r === 'stale') {
        this.counters.stale++;
        throw this.exception(req.fc, 0x0b);
      }
      return r;
    }
    return this.write(device, unitId, req);
  };

  private write(device: string, unitId: number, req: ModbusRequest): Promise<HandlerResult> {
    const registerType = req.fc === 5 || req.fc === 15 ? 'coil' : 'holding';
    const values = req.fc === 5 ? [req.value ? 1 : 0] : req.fc === 6 ? [req.value] : 'values' in req ? req.values : [];
    const event: WriteEvent = { device, unitId, registerType, address: req.address, values, points: [], ok: false };
    const refuse = (code: number, why: string): never => {
      this.counters.writesRefused++;
      this.emit('write', { ...event, exception: code, error: why });
      throw this.exception(req.fc, code);
    };
    if (!this.writesEnabled) refuse(0x01, 'writes are disabled on this gateway');
    const end = req.address + values.length;
    const permitted: WritePermission[] = [];
    const unresolved: string[] = [];
    for (const rule of this.allow) {
      if (rule.device !== device) continue;
      const p = 'point' in rule && !('address' in rule) ? permissionForPoint(device, rule.point, this.options.pointsOf?.(device)) : (rule as WritePermission);
      if (typeof p === 'string') unresolved.push(p);
      else if (p.registerType === registerType && p.address < end && req.address < p.address + p.quantity) permitted.push(p);
    }
    // Every register written must be covered by some allowed range.
    for (let a = req.address; a < end; a++) {
      if (!permitted.some((p) => p.address <= a && a < p.address + p.quantity)) {
        const why = unresolved.length ? ` (${unresolved.join('; ')})` : '';
        refuse(0x02, `${registerType} ${a} of ${device} is not on the write allow-list${why}`);
      }
    }
    event.points = permitted.map((p) => p.point ?? `${p.registerType}@${p.address}`);
    const writer: DeviceWriter | undefined = this.options.write ? (r, o) => this.options.write!(device, r, o) : this.cache.writer(device);
    if (!writer) refuse(0x0a, `no poller carries writes for ${device}`);
    this.counters.writes++;
    return this.carry(writer as DeviceWriter, req, event);
  }

  private async carry(writer: DeviceWriter, req: ModbusRequest, event: WriteEvent): Promise<HandlerResult> {
    const confirmed = (): void => this.cache.applyWrite(event.device, event.registerType, event.address, event.values, this.now());
    const describe = (why: string): string => `write to ${event.device} ${event.registerType} ${event.address}: ${why}`;
    const result = await carryWrite(writer, req, event.device, this.writeTimeoutMs, (late, sent) => {
      if (late.confirmed) confirmed();
      const what = late.confirmed ? 'confirmed' : `failed (${late.error?.message})`;
      this.emit('write', { ...event, ok: late.confirmed, late: true, sent, error: describe(`${what} after SCADA had been answered`) });
    });
    if (result.confirmed) {
      confirmed();
      this.emit('write', { ...event, ok: true, sent: true });
      return undefined;
    }
    this.emit('write', { ...event, sent: result.sent, exception: result.code, error: describe(`failed: ${result.error.message}`) });
    throw this.exception(req.fc, result.code);
  }
}
