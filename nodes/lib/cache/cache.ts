/**
 * The register cache: per device the latest raw register image (for the
 * gateway) and the latest decoded values (for dashboards, health and queries),
 * with the time they were read and a time-to-live after which they count as
 * stale. Fed with reading messages; shared by pollers, decoder, gateway,
 * health and dashboard through the rtu-cache config node.
 */
import { EventEmitter } from 'events';
import type { ModbusRequest } from '../modbus/pdu';
import { REGISTER_TYPES, RegisterType } from '../modbus/types';
import type { PointValue, Quality, ReadingMessage, ReadingMeta } from '../reading';
import { RegisterTable, TableRead } from './register-table';

export type CacheRead = TableRead;

/**
 * Sends a write to the device itself (wired to its poller and line); resolves once the device confirmed it.
 * A writer calls `onSent` when the request goes on the wire and, once `signal` is aborted, never sends it
 * (again): the gateway relies on both to tell SCADA whether a write it gave up on can still happen.
 */
export type DeviceWriter = (req: ModbusRequest, options?: DeviceWriteOptions) => Promise<unknown>;

export interface DeviceWriteOptions {
  signal?: AbortSignal;
  onSent?: () => void;
}

export interface CacheOptions {
  /** Age after which cached data is stale (ms). Default 60 s. */
  ttlMs?: number;
}

/** What the cache keeps of a device's latest reading. */
interface DeviceRecord {
  device: string;
  line?: string;
  model?: string;
  profile?: string;
  unitId?: number;
  protocol: ReadingMeta['protocol'];
  values: Record<string, PointValue>;
  units: Record<string, string>;
  /** Quality of the last reading (in a snapshot: 'stale' when it is older than the TTL). */
  quality: Quality;
  pointQuality?: Record<string, Quality>;
  /** When the last reading was taken (ms since epoch). */
  timestamp: number;
  /** When the last good values were taken; a 'bad' reading keeps the earlier values. */
  valuesTimestamp: number;
  seq: number;
  error?: string;
}

/** What the cache knows about one device, as handed out (copies, safe to keep). */
export interface DeviceSnapshot extends DeviceRecord {
  ageMs: number;
  stale: boolean;
  registers: number;
}

interface DeviceEntry extends DeviceRecord {
  tables: Partial<Record<RegisterType, RegisterTable>>;
}

export class RegisterCache extends EventEmitter {
  private readonly entries = new Map<string, DeviceEntry>();
  private readonly writers = new Map<string, DeviceWriter>();
  private ttl: number;

  constructor(options: CacheOptions = {}) {
    super();
    // Every store, gateway and dashboard node listens here; there is no leak to warn about.
    this.setMaxListeners(0);
    this.ttl = RegisterCache.checkTtl(options.ttlMs ?? 60_000);
  }

  private static checkTtl(ms: number): number {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`cache TTL must be a positive number of ms, got ${ms}`);
    return ms;
  }

  get ttlMs(): number {
    return this.ttl;
  }

  set ttlMs(ms: number) {
    this.ttl = RegisterCache.checkTtl(ms);
  }

  /** Stores a reading: its raw blocks into the register image, its values as the device's latest. */
  update(reading: ReadingMessage): void {
    const meta = reading.rtu;
    const name = meta.device;
    if (typeof name !== 'string' || name === '') throw new TypeError('reading without rtu.device: cannot cache it');
    const time = Number.isFinite(meta.timestamp) ? meta.timestamp : Date.now();
    let entry = this.entries.get(name);
    const isNew = !entry;
    if (!entry) {
      entry = { device: name, protocol: meta.protocol ?? 'modbus', values: {}, units: {}, quality: meta.quality, timestamp: time, valuesTimestamp: 0, seq: 0, tables: {} };
      this.entries.set(name, entry);
    }
    entry.line = meta.line ?? entry.line;
    entry.model = meta.model ?? entry.model;
    entry.profile = meta.profile ?? entry.profile;
    entry.unitId = meta.unitId ?? entry.unitId;
    entry.protocol = meta.protocol ?? entry.protocol;
    entry.quality = meta.quality;
    entry.pointQuality = meta.pointQuality ? { ...meta.pointQuality } : undefined;
    entry.timestamp = time;
    entry.seq = meta.seq;
    entry.error = meta.error;
    if (meta.quality !== 'bad') {
      // A failed poll keeps the last good values (and lets them age into 'stale').
      entry.values = { ...entry.values, ...reading.payload };
      entry.units = { ...entry.units, ...meta.units };
      entry.valuesTimestamp = time;
    }
    for (const block of meta.raw ?? []) {
      if (!REGISTER_TYPES.includes(block.registerType) || !Number.isInteger(block.address) || !Array.isArray(block.values)) {
        throw new TypeError(`reading of ${name}: raw block ${JSON.stringify({ registerType: block.registerType, address: block.address })} is not a register block`);
      }
      const table = (entry.tables[block.registerType] ??= new RegisterTable());
      table.write(block.address, block.values, time);
    }
    if (isNew) this.emit('device', name);
    this.emit('update', name);
  }

  /**
   * Raw registers (or 0/1 bits) of a device: the words, 'unknown' if any register
   * was never read (or the device is unknown), 'stale' if any is older than the TTL.
   */
  read(device: string, type: RegisterType, address: number, quantity: number, now = Date.now()): CacheRead {
    const table = this.entries.get(device)?.tables[type];
    if (!table) return 'unknown';
    return table.read(address, quantity, now, this.ttl);
  }

  has(device: string): boolean {
    return this.entries.has(device);
  }

  /** Device names in the order they first reported. */
  devices(): string[] {
    return [...this.entries.keys()];
  }

  device(name: string, now = Date.now()): DeviceSnapshot | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    const ageMs = Math.max(0, now - e.timestamp);
    const stale = now - e.valuesTimestamp > this.ttl;
    let registers = 0;
    for (const t of Object.values(e.tables)) registers += t?.registerCount() ?? 0;
    return {
      device: e.device,
      line: e.line,
      model: e.model,
      profile: e.profile,
      unitId: e.unitId,
      protocol: e.protocol,
      values: { ...e.values },
      units: { ...e.units },
      quality: stale ? 'stale' : e.quality,
      pointQuality: e.pointQuality ? { ...e.pointQuality } : undefined,
      timestamp: e.timestamp,
      valuesTimestamp: e.valuesTimestamp,
      ageMs,
      stale,
      seq: e.seq,
      error: e.error,
      registers,
    };
  }

  snapshot(now = Date.now()): DeviceSnapshot[] {
    return this.devices().map((d) => this.device(d, now) as DeviceSnapshot);
  }

  /** Devices whose values are older than the TTL (or never good). */
  staleDevices(now = Date.now()): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) if (now - e.valuesTimestamp > this.ttl) out.push(e.device);
    return out;
  }

  remove(device: string): boolean {
    const removed = this.entries.delete(device);
    if (removed) this.emit('remove', device);
    return removed;
  }

  clear(): void {
    for (const d of [...this.entries.keys()]) this.remove(d);
  }

  /** Bytes held by register images (typed arrays only). */
  registerBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) for (const t of Object.values(e.tables)) n += t?.byteSize() ?? 0;
    return n;
  }

  /**
   * A write the device confirmed: the registers already in the image take the written values at
   * once, so a read does not return the old ones until the next poll. Registers never polled stay unknown.
   */
  applyWrite(device: string, type: 'holding' | 'coil', address: number, values: ArrayLike<number>, now = Date.now()): void {
    const table = this.entries.get(device)?.tables[type];
    if (table && table.patch(address, values, now) > 0) this.emit('update', device);
  }

  /** A poller offers to carry writes to its device; the last one registered wins. */
  setWriter(device: string, writer: DeviceWriter): void {
    this.writers.set(device, writer);
  }

  /** Withdraws a writer, only if it is still the one registered (a redeploy may have replaced it). */
  removeWriter(device: string, writer: DeviceWriter): void {
    if (this.writers.get(device) === writer) this.writers.delete(device);
  }

  writer(device: string): DeviceWriter | undefined {
    return this.writers.get(device);
  }
}
