/**
 * MMS values as reading values: plain numbers, strings and booleans that core
 * Node-RED nodes handle, structures flattened into named points, and the IEC
 * 61850 quality attribute mapped onto the reading's good/stale/bad.
 */
import type { PointValue, Quality } from '../reading';
import { binaryTimeFromMs, binaryTimeToMs, MmsValue, utcTimeFromMs, utcTimeToMs } from './mms-data';
import { TypeSpec } from './mms-types';

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

/**
 * A value to write, converted to the attribute's MMS type. Throws RangeError
 * naming the reference, the value and the type when they do not fit.
 */
export function fromPointValue(type: TypeSpec, value: unknown, reference: string): MmsValue {
  const fail = (why: string): never => {
    throw new RangeError(`write ${reference}: ${JSON.stringify(value)} ${why}`);
  };
  const num = (): number => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) fail(`is not a number (attribute is ${type.type})`);
    return n as number;
  };
  const int = (signed: boolean, bits: number): number | bigint => {
    let n: bigint;
    if (typeof value === 'bigint') n = value;
    else if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) n = BigInt(value.trim());
    else if (Number.isInteger(num())) n = BigInt(num());
    else return fail('is not a whole number');
    const width = BigInt(Math.min(Math.max(bits, 8), 64));
    const min = signed ? -(1n << (width - 1n)) : 0n;
    const max = signed ? (1n << (width - 1n)) - 1n : (1n << width) - 1n;
    if (n < min || n > max) fail(`is outside ${min}..${max} (${signed ? 'int' : 'uint'}${width})`);
    return Number.isSafeInteger(Number(n)) ? Number(n) : n;
  };
  switch (type.type) {
    case 'boolean':
      if (typeof value === 'boolean') return { type: 'boolean', value };
      if (value === 0 || value === 1 || value === 'true' || value === 'false') return { type: 'boolean', value: value === 1 || value === 'true' };
      return fail('is not a boolean');
    case 'integer':
      return { type: 'integer', value: int(true, type.bits) };
    case 'unsigned':
      return { type: 'unsigned', value: int(false, type.bits) };
    case 'float':
      return type.formatWidth === 64 ? { type: 'float', value: num(), double: true } : { type: 'float', value: num() };
    case 'visible-string':
    case 'mms-string': {
      if (typeof value !== 'string') fail('is not text');
      const text = value as string;
      if (Math.abs(type.size) && text.length > Math.abs(type.size)) fail(`is longer than ${Math.abs(type.size)} characters`);
      return { type: type.type, value: text };
    }
    case 'octet-string':
      if (typeof value !== 'string' || !/^([0-9a-f]{2})*$/i.test(value)) fail('is not hex octets');
      return { type: 'octet-string', value: Buffer.from(value as string, 'hex') };
    case 'bit-string': {
      const n = num();
      const size = Math.abs(type.size);
      if (!Number.isInteger(n) || n < 0 || n >= 2 ** size) fail(`does not fit ${size} bits`);
      return { type: 'bit-string', value: Array.from({ length: size }, (_, i) => Math.floor(n / 2 ** i) % 2 === 1) };
    }
    case 'utc-time':
      return { type: 'utc-time', value: utcTimeFromMs(num()) };
    case 'binary-time':
      return { type: 'binary-time', value: binaryTimeFromMs(num()) };
    default:
      return fail(`cannot be written to a ${type.type} attribute from a flow`);
  }
}
