/**
 * Questions a flow can ask the cache with a message, and the answers: the
 * latest values of one device, of all devices, or raw registers.
 */
import type { RegisterType } from '../modbus/types';
import { REGISTER_TYPES } from '../modbus/types';
import type { PointValue } from '../reading';
import type { DeviceSnapshot, RegisterCache } from './cache';

export type CacheQuery =
  | { kind: 'all' }
  | { kind: 'device'; device: string }
  | { kind: 'registers'; device: string; registerType: RegisterType; address: number; quantity: number };

export interface QueryMessage {
  topic?: unknown;
  device?: unknown;
  payload?: unknown;
  registers?: unknown;
}

/** Reads the question from a message: `msg.device` (or a string payload, or the topic) and optional `msg.registers`. */
export function queryOf(msg: QueryMessage): CacheQuery {
  const named = [msg.device, typeof msg.payload === 'string' ? msg.payload : undefined, msg.topic].find((v) => typeof v === 'string' && v.trim() !== '');
  const device = typeof named === 'string' ? named.trim() : '';
  if (msg.registers !== undefined) {
    const r = msg.registers as { registerType?: unknown; address?: unknown; quantity?: unknown };
    if (!device || device === '*') throw new Error('msg.registers needs a device in msg.device or msg.topic');
    const registerType = String(r?.registerType ?? 'holding') as RegisterType;
    if (!REGISTER_TYPES.includes(registerType)) throw new Error(`msg.registers.registerType "${registerType}" is not one of ${REGISTER_TYPES.join(', ')}`);
    const address = Number(r?.address);
    const quantity = Number(r?.quantity ?? 1);
    if (!Number.isInteger(address) || address < 0 || address > 65535) throw new Error(`msg.registers.address ${JSON.stringify(r?.address)} is not in 0..65535`);
    if (!Number.isInteger(quantity) || quantity < 1 || address + quantity > 65536) {
      throw new Error(`msg.registers.quantity ${JSON.stringify(r?.quantity)} is not a count of registers from ${address}`);
    }
    return { kind: 'registers', device, registerType, address, quantity };
  }
  return !device || device === '*' ? { kind: 'all' } : { kind: 'device', device };
}

export type QueryAnswer =
  | { kind: 'all'; devices: DeviceSnapshot[] }
  | { kind: 'device'; snapshot: DeviceSnapshot }
  | { kind: 'registers'; device: string; values: number[] };

export function answerQuery(cache: RegisterCache, q: CacheQuery, now = Date.now()): QueryAnswer {
  if (q.kind === 'all') return { kind: 'all', devices: cache.snapshot(now) };
  const known = (): string => cache.devices().join(', ') || 'none yet';
  if (!cache.has(q.device)) throw new Error(`device "${q.device}" is not in the cache (known: ${known()})`);
  if (q.kind === 'device') return { kind: 'device', snapshot: cache.device(q.device, now) as DeviceSnapshot };
  const r = cache.read(q.device, q.registerType, q.address, q.quantity, now);
  if (r === 'unknown') throw new Error(`${q.device}: ${q.registerType} ${q.address}..${q.address + q.quantity - 1} were never read`);
  if (r === 'stale') throw new Error(`${q.device}: ${q.registerType} ${q.address}..${q.address + q.quantity - 1} are older than the TTL of ${cache.ttlMs / 1000} s`);
  return { kind: 'registers', device: q.device, values: Array.from(r) };
}

/** Values of all devices keyed by device name, for charts and templates. */
export function valuesByDevice(devices: DeviceSnapshot[]): Record<string, Record<string, PointValue>> {
  const out: Record<string, Record<string, PointValue>> = {};
  for (const d of devices) out[d.device] = d.values;
  return out;
}
