/** Turns the address a manual prints into the zero-based protocol address. */
import type { RegisterType } from '../modbus/types';
import type { Addressing } from './types';

export interface ProtocolAddress {
  registerType: RegisterType;
  address: number;
}

/** Prefixed numbering: 5-digit (table digit + 4) and 6-digit (table digit + 5) forms. */
const PREFIXES: { type: RegisterType; from: number; to: number }[] = [
  { type: 'coil', from: 1, to: 9999 },
  { type: 'discrete', from: 10001, to: 19999 },
  { type: 'input', from: 30001, to: 39999 },
  { type: 'holding', from: 40001, to: 49999 },
  { type: 'discrete', from: 100001, to: 165536 },
  { type: 'input', from: 300001, to: 365536 },
  { type: 'holding', from: 400001, to: 465536 },
];

/** Reads a document-style number such as 30001 or 400001; undefined when it fits no table. */
export function fromDocumentNumber(n: number): ProtocolAddress | undefined {
  const range = PREFIXES.find((r) => n >= r.from && n <= r.to);
  return range ? { registerType: range.type, address: n - range.from } : undefined;
}

export type AddressResult = { ok: true; value: ProtocolAddress } | { ok: false; message: string };

/**
 * Converts one point's written address. `registerType` is what the file says, if anything;
 * with document addressing it must agree with the prefix.
 */
export function toProtocolAddress(
  addressing: Addressing,
  written: number,
  registerType: RegisterType | undefined,
): AddressResult {
  if (addressing === 'document') {
    const found = fromDocumentNumber(written);
    if (!found) {
      return { ok: false, message: `${written} is not a document register number (use 0xxxx coil, 1xxxx discrete, 3xxxx input, 4xxxx holding, or the 6-digit forms)` };
    }
    if (registerType && registerType !== found.registerType) {
      return { ok: false, message: `${written} is ${found.registerType === 'input' ? 'an' : 'a'} ${found.registerType} register number but registerType says "${registerType}"` };
    }
    return { ok: true, value: found };
  }
  if (!registerType) return { ok: false, message: `registerType is required with "${addressing}" addressing` };
  const address = addressing === 'one-based' ? written - 1 : written;
  const max = addressing === 'one-based' ? 65536 : 65535;
  const min = addressing === 'one-based' ? 1 : 0;
  if (written < min || written > max) {
    return { ok: false, message: `${written} is outside ${min}..${max} for "${addressing}" addressing` };
  }
  return { ok: true, value: { registerType, address } };
}
