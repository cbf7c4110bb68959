/**
 * Writing a point that is a bit (or a field of bits) of a register: the other
 * bits of the register must survive. Either read-modify-write (FC3, then FC6
 * or FC16, under the device's register lock) or, where the device supports it,
 * FC22 mask write register, which the device applies in one step.
 */
import { encodePointOver } from './codec';
import type { ModbusRequest } from './pdu';
import type { PointDef } from './types';
import type { PointValue } from '../reading';

/** How a bit point is written: 'read-modify-write' (default, every device) or 'mask' (FC22). */
export type BitWriteMode = 'read-modify-write' | 'mask';

export const BIT_WRITE_MODES: readonly BitWriteMode[] = ['read-modify-write', 'mask'];

export function isBitPoint(p: PointDef): boolean {
  return (p.dataType === 'bool' && p.bit !== undefined) || (p.dataType === 'bitfield' && (p.bit !== undefined || p.bits !== undefined));
}

/**
 * The FC22 requests that set a bit point to `value`, one per register it
 * touches. Encoding the value over all-zero and over all-one registers tells
 * the point's own bits (equal in both) from the bits to keep (they follow the
 * register), whatever the point's byte order.
 */
export function maskWrites(point: PointDef, value: PointValue, registers: number): Array<Extract<ModbusRequest, { fc: 22 }>> {
  const overZero = encodePointOver(point, value, new Array<number>(registers).fill(0));
  const overOne = encodePointOver(point, value, new Array<number>(registers).fill(0xffff));
  const out: Array<Extract<ModbusRequest, { fc: 22 }>> = [];
  for (let i = 0; i < overZero.length; i++) {
    const andMask = (overZero[i] ^ overOne[i]) & 0xffff;
    if (andMask !== 0xffff) out.push({ fc: 22, address: point.address + i, andMask, orMask: overZero[i] & ~andMask & 0xffff });
  }
  return out;
}
