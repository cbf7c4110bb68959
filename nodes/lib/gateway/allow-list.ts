/**
 * The write allow-list: which registers of which device SCADA may write
 * through the gateway. Entries name a point ("setpoint_kw", resolved through
 * the device's model when a write arrives) or a register range
 * ("holding:100", "holding:100-103", "coil:5").
 */
import { registerCount } from '../modbus/codec';
import type { PointDef } from '../modbus/types';

export interface WritePermission {
  device: string;
  registerType: 'holding' | 'coil';
  address: number;
  quantity: number;
  /** The point it came from, for logs. */
  point?: string;
}

/** As configured: a device and a point name or register range. */
export interface AllowEntry {
  device: string;
  target: string;
}

export type WriteRule = WritePermission | { device: string; point: string };

const RANGE = /^(holding|coil)\s*:\s*(\d+)(?:\s*-\s*(\d+))?$/i;

/** Parses one configured entry; errors name the entry and the accepted forms. */
export function parseAllowEntry(entry: AllowEntry): WriteRule {
  const device = String(entry.device ?? '').trim();
  const target = String(entry.target ?? '').trim();
  if (!device) throw new Error(`write allow-list entry "${target}": device name is empty`);
  if (!target) throw new Error(`write allow-list entry for "${device}": give a point name or a range such as holding:100-101 or coil:5`);
  const m = RANGE.exec(target);
  if (!m) {
    if (!/^[A-Za-z][\w.-]*$/.test(target)) {
      throw new Error(`write allow-list entry for "${device}": "${target}" is neither a point name nor a range such as holding:100-101 or coil:5`);
    }
    return { device, point: target };
  }
  const from = Number(m[2]);
  const to = m[3] === undefined ? from : Number(m[3]);
  if (from > 65535 || to > 65535 || to < from) {
    throw new Error(`write allow-list entry for "${device}": range "${target}" must run upwards within 0..65535`);
  }
  return { device, registerType: m[1].toLowerCase() as 'holding' | 'coil', address: from, quantity: to - from + 1 };
}

/** The register range of a named point, if the point exists and lives in a writable table. */
export function permissionForPoint(device: string, point: string, points: readonly PointDef[] | undefined): WritePermission | string {
  const def = points?.find((p) => p.name === point);
  if (!def) return points ? `point "${point}" is not in the model of ${device}` : `the model of ${device} is not known yet (no reading cached)`;
  if (def.registerType !== 'holding' && def.registerType !== 'coil') {
    return `point "${point}" of ${device} is a ${def.registerType} and cannot be written`;
  }
  return { device, registerType: def.registerType, address: def.address, quantity: registerCount(def), point };
}
