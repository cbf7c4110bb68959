/**
 * MMS values as reading values: plain numbers, strings and booleans that core
 * Node-RED nodes handle, structures flattened into named points, and the IEC
 * 61850 quality attribute mapped onto the reading's good/stale/bad.
 */
import type { PointValue, Quality } from '../reading';
import { binaryTimeToMs, MmsValue, TypeSpec, utcTimeToMs } from './mms-data';

/**
 * One value as a reading value. Times become epoch milliseconds, bit strings an
 * integer with bit 0 as the least significant bit, octet strings hex text, and
 * 64-bit integers beyond 2^53 decimal text (JSON has no BigInt).
 */
export function toPointValue(v: MmsValue): PointValue {
  switch (v.type) {
    case 'boolean':
      return v.value;
    case 'integer':
    case 'unsigned':
      return typeof v.value === 'bigint' ? (Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value.toString()) : v.value;
    case 'float':
      return Number.isFinite(v.value) ? v.value : null;
    case 'bcd':
      return v.value;
    case 'bit-string':
    case 'boolean-array':
      return v.value.reduce((sum, on, i) => (on ? sum + 2 ** i : sum), 0);
    case 'octet-string':
      return v.value.toString('hex');
    case 'visible-string':
    case 'mms-string':
    case 'generalized-time':
    case 'oid':
      return v.value;
    case 'utc-time':
      return utcTimeToMs(v.value);
    case 'binary-time':
      return binaryTimeToMs(v.value);
    case 'array':
    case 'structure':
      return null;
  }
}

export interface FlatValue {
  /** Name with component names appended: `AnIn1.mag.f`. */
  name: string;
  /** Component path below the flattened value ([] for a leaf). */
  path: string[];
  value: MmsValue;
}

/** Leaves of a value; component names come from its type when known, else positions. */
export function flatten(name: string, value: MmsValue, type?: TypeSpec, path: string[] = []): FlatValue[] {
  if (value.type === 'structure') {
    const components = type?.type === 'structure' ? type.components : undefined;
    return value.value.flatMap((v, i) => {
      const part = components?.[i]?.name || String(i);
      return flatten(`${name}.${part}`, v, components?.[i]?.spec, [...path, part]);
    });
  }
  if (value.type === 'array') {
    const element = type?.type === 'array' ? type.element : undefined;
    return value.value.flatMap((v, i) => flatten(`${name}[${i}]`, v, element, [...path, `[${i}]`]));
  }
  return [{ name, path, value }];
}

const DETAIL = ['overflow', 'outOfRange', 'badReference', 'oscillatory', 'failure', 'oldData', 'inconsistent', 'inaccurate'];

export interface QualityInfo {
  validity: 'good' | 'invalid' | 'reserved' | 'questionable';
  details: string[];
  substituted: boolean;
  test: boolean;
  operatorBlocked: boolean;
}

/** The IEC 61850 Quality bit string (validity in bits 0-1, detail bits 2-9, then source, test, blocked). */
export function decodeQuality(bits: boolean[]): QualityInfo {
  const validity = (['good', 'invalid', 'reserved', 'questionable'] as const)[(bits[0] ? 2 : 0) + (bits[1] ? 1 : 0)];
  return {
    validity,
    details: DETAIL.filter((_, i) => bits[2 + i]),
    substituted: bits[10] === true,
    test: bits[11] === true,
    operatorBlocked: bits[12] === true,
  };
}

/** good stays good; questionable (old, inaccurate...) becomes stale; invalid and reserved are bad. */
export function readingQuality(bits: boolean[]): Quality {
  const q = decodeQuality(bits);
  if (q.validity === 'good') return 'good';
  return q.validity === 'questionable' ? 'stale' : 'bad';
}

export function isQualityValue(v: MmsValue): v is Extract<MmsValue, { type: 'bit-string' }> {
  return v.type === 'bit-string' && v.value.length >= 2 && v.value.length <= 16;
}
