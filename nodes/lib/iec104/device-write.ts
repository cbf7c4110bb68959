/**
 * A command's value → the Modbus write that carries it to the device: through
 * the point's definition in the device's model (holding registers or coils
 * only), or to a register named directly (`holding:100`, `coil:5`).
 */
import { encodePoint } from '../modbus/codec';
import type { ModbusRequest } from '../modbus/pdu';
import type { PointDef } from '../modbus/types';
import type { PointValue } from '../reading';

const TARGET = /^(holding|coil)\s*:\s*(\d+)$/i;

export function modbusWriteFor(device: string, point: string, value: PointValue, points: readonly PointDef[] | undefined): ModbusRequest {
  const direct = TARGET.exec(point);
  if (direct) {
    const address = Number(direct[2]);
    if (address > 65535) throw new Error(`${device}.${point}: address beyond 65535`);
    if (direct[1].toLowerCase() === 'coil') return { fc: 5, address, value: value === true || value === 1 };
    const n = typeof value === 'boolean' ? (value ? 1 : 0) : Number(value);
    if (!Number.isInteger(n) || n < -32768 || n > 65535) throw new Error(`${device}.${point}: value ${String(value)} does not fit one register`);
    return { fc: 6, address, value: n & 0xffff };
  }
  const def = points?.find((p) => p.name === point);
  if (!def) throw new Error(points ? `${device}: point "${point}" is not in its model` : `${device}: model not known yet (no reading cached)`);
  if (def.registerType === 'coil') return { fc: 5, address: def.address, value: encodePoint(def, value)[0] === 1 };
  if (def.registerType !== 'holding') throw new Error(`${device}.${point} is a ${def.registerType} register and cannot be written`);
  const words = encodePoint(def, value);
  return { fc: 16, address: def.address, values: words };
}
