/**
 * The JSON device list of simple Modbus TCP pollers:
 *   [{ device_id, ip, port, slave_id, registers: [{ address, parameter, data_type, scale, unit }] }]
 * Addresses are Modicon references (40001 = holding 0) unless a register
 * carries its own register_type, in which case they are protocol addresses.
 */
import { parseModiconAddress, validateUnitId } from '../modbus/points';
import type { PointDef } from '../modbus/types';
import { LabelledRow, pointsFromRows } from './rows';

export interface DeviceConfig {
  /** The device's name: device_id from the list. */
  device: string;
  host: string;
  port: number;
  unitId: number;
  points: PointDef[];
}

type Bag = Record<string, unknown>;

function isBag(v: unknown): v is Bag {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function registerRows(device: string, registers: unknown[]): LabelledRow[] {
  return registers.map((reg, i) => {
    const base = `device "${device}" register #${i + 1}`;
    if (!isBag(reg)) return { label: base, early: [`${base}: expected an object with address, parameter and data_type`] };
    const name = reg.parameter ?? reg.name;
    const label = typeof name === 'string' || typeof name === 'number' ? `${base} (parameter "${name}")` : base;
    const row: Bag = { ...reg, name };
    const early: string[] = [];
    const hasType = [reg.register_type, reg.registerType].some((v) => v !== undefined && v !== null && v !== '');
    if (!hasType && reg.address !== undefined && reg.address !== null && reg.address !== '') {
      try {
        const parsed = parseModiconAddress(reg.address as string | number);
        row.registerType = parsed.registerType;
        row.address = parsed.address;
      } catch (err) {
        early.push(`${label}: ${(err as Error).message}; give a register_type to use a zero-based address`);
        row.registerType = 'holding';
        row.address = 0;
      }
    }
    return { label, row, early };
  });
}

function portOf(raw: unknown): number | string {
  if (raw === undefined || raw === null || raw === '') return 502;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : `port ${JSON.stringify(raw)} is not a TCP port 1..65535`;
}

/** Imports the device list (text or parsed JSON); errors name the device and the register index. */
export function importDeviceList(input: unknown, context = 'device list'): { devices: DeviceConfig[]; errors: string[] } {
  let list = input;
  if (typeof input === 'string') {
    try {
      list = JSON.parse(input);
    } catch (err) {
      return { devices: [], errors: [`${context}: not valid JSON (${(err as Error).message})`] };
    }
  }
  if (!Array.isArray(list)) return { devices: [], errors: [`${context}: expected a list of devices, got ${typeof list}`] };
  const devices: DeviceConfig[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    if (!isBag(entry)) {
      errors.push(`${context}: device #${i + 1} is not an object`);
      return;
    }
    const rawId = entry.device_id ?? entry.name;
    const device = rawId === undefined || rawId === null || String(rawId).trim() === '' ? undefined : String(rawId).trim();
    const label = device ? `device "${device}"` : `device #${i + 1}`;
    const before = errors.length;
    if (!device) errors.push(`${label}: device_id is missing`);
    else if (seen.has(device)) errors.push(`${label}: device_id is used twice`);
    else seen.add(device);
    const host = typeof entry.ip === 'string' ? entry.ip.trim() : '';
    if (!host) errors.push(`${label}: ip ${JSON.stringify(entry.ip)} is not a host name or address`);
    const port = portOf(entry.port);
    if (typeof port === 'string') errors.push(`${label}: ${port}`);
    const unit = validateUnitId(entry.slave_id ?? entry.unit_id ?? 1, 'tcp');
    if ('error' in unit) errors.push(`${label}: slave_id: ${unit.error}`);
    if (!Array.isArray(entry.registers) || entry.registers.length === 0) {
      errors.push(`${label}: registers must be a non-empty list`);
      return;
    }
    const result = pointsFromRows(registerRows(device ?? `#${i + 1}`, entry.registers));
    errors.push(...result.errors);
    if (errors.length === before && device && typeof port === 'number' && 'unitId' in unit) {
      devices.push({ device, host, port, unitId: unit.unitId, points: result.points });
    }
  });
  return { devices, errors };
}
