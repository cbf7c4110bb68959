/**
 * Point validation: turns rows entered by a user (editor form, CSV, JSON,
 * registry) into PointDefs, with one clear error per problem naming the point.
 */
import { wordsOf } from './codec';
import {
  BYTE_ORDERS,
  ByteOrder,
  DataType,
  isBitTable,
  MAX_READ_REGISTERS,
  PointDef,
  RegisterType,
  REGISTER_TYPES,
} from './types';

export const DATA_TYPES: readonly DataType[] = [
  'bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float32', 'float64', 'bcd16', 'bcd32', 'string', 'bitfield',
];

const REGISTER_TYPE_ALIASES: Record<string, RegisterType> = {
  coil: 'coil', coils: 'coil', '0x': 'coil', do: 'coil',
  discrete: 'discrete', 'discrete input': 'discrete', 'discrete_input': 'discrete', 'discrete inputs': 'discrete', di: 'discrete', '1x': 'discrete',
  input: 'input', 'input register': 'input', 'input_register': 'input', 'input registers': 'input', ir: 'input', '3x': 'input',
  holding: 'holding', 'holding register': 'holding', 'holding_register': 'holding', 'holding registers': 'holding', hr: 'holding', '4x': 'holding',
};

const DATA_TYPE_ALIASES: Record<string, DataType> = {
  boolean: 'bool', bit: 'bool',
  short: 'int16', int: 'int16', ushort: 'uint16', word: 'uint16', uint: 'uint16',
  long: 'int32', dint: 'int32', ulong: 'uint32', udint: 'uint32', dword: 'uint32',
  float: 'float32', real: 'float32', double: 'float64', lreal: 'float64',
  ascii: 'string', text: 'string', bits: 'bitfield',
};

const ORDER_ALIASES: Record<string, ByteOrder> = {
  'big-endian': 'ABCD', big: 'ABCD', be: 'ABCD',
  'little-endian': 'DCBA', little: 'DCBA', le: 'DCBA',
  'word swap': 'CDAB', 'word-swap': 'CDAB', wordswap: 'CDAB',
  'byte swap': 'BADC', 'byte-swap': 'BADC', byteswap: 'BADC',
};

function key(v: unknown): string {
  return String(v).trim().toLowerCase();
}

export function normalizeRegisterType(v: unknown): RegisterType | undefined {
  return REGISTER_TYPE_ALIASES[key(v)];
}

export function normalizeDataType(v: unknown): DataType | undefined {
  const k = key(v);
  return (DATA_TYPES as readonly string[]).includes(k) ? (k as DataType) : DATA_TYPE_ALIASES[k];
}

export function normalizeOrder(v: unknown): ByteOrder | undefined {
  const upper = String(v).trim().toUpperCase();
  return (BYTE_ORDERS as readonly string[]).includes(upper) ? (upper as ByteOrder) : ORDER_ALIASES[key(v)];
}

/** Empty cells (undefined, null, "") are absent; strings from forms count as numbers. */
function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v.trim());
  return NaN;
}

/**
 * Reads a Modicon reference: 5 digits (40001 = holding 0, up to 49999) or 6
 * digits (400001 = holding 0, up to 465536). The first digit names the table:
 * 0 coil, 1 discrete input, 3 input register, 4 holding register.
 */
export function parseModiconAddress(text: string | number): { registerType: RegisterType; address: number } {
  const s = String(text).trim();
  const fail = (why: string): never => {
    throw new Error(`"${s}" is not a Modicon address: ${why}`);
  };
  if (!/^\d{5,6}$/.test(s)) fail('expected 5 digits like 40001 or 6 digits like 400001');
  const table: Record<string, RegisterType> = { '0': 'coil', '1': 'discrete', '3': 'input', '4': 'holding' };
  const registerType = table[s[0]] ?? fail(`the first digit ${s[0]} is not 0 (coil), 1 (discrete input), 3 (input) or 4 (holding)`);
  const reference = Number(s.slice(1));
  const top = s.length === 5 ? 9999 : 65536;
  if (reference < 1 || reference > top) fail(`the register number ${reference} is outside 1..${top}`);
  return { registerType, address: reference - 1 };
}

/** Unit (slave) id: 1..247 on a serial line (0 is broadcast, which never answers), 0..255 over TCP. */
export function validateUnitId(value: unknown, transport: 'rtu' | 'tcp' = 'rtu'): { unitId: number } | { error: string } {
  const n = blank(value) ? NaN : toNumber(value);
  const [low, high] = transport === 'tcp' ? [0, 255] : [1, 247];
  if (!Number.isInteger(n) || n < low || n > high) {
    return { error: `unit id ${JSON.stringify(value)} is not a whole number in ${low}..${high}` };
  }
  return { unitId: n };
}

type Row = Record<string, unknown>;

function field(row: Row, ...names: string[]): unknown {
  for (const n of names) if (!blank(row[n])) return row[n];
  return undefined;
}

/** A point counts as a bit point when it takes only some bits of its register(s). */
function isBitPoint(p: PointDef): boolean {
  return (p.dataType === 'bool' && p.bit !== undefined) || (p.dataType === 'bitfield' && (p.bit !== undefined || p.bits !== undefined));
}

function optionalNumber(row: Row, names: string[], label: string, errs: string[], check?: (n: number) => string | undefined): number | undefined {
  const raw = field(row, ...names);
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isFinite(n)) {
    errs.push(`${label} ${JSON.stringify(raw)} is not a number`);
    return undefined;
  }
  const problem = check?.(n);
  if (problem) errs.push(problem);
  return n;
}

function wholeIn(label: string, low: number, high: number) {
  return (n: number): string | undefined =>
    Number.isInteger(n) && n >= low && n <= high ? undefined : `${label} ${n} is outside ${low}..${high}`;
}

/** Validates one row; returns the point (when usable) and the problems found. */
function validateRow(row: Row): { point?: PointDef; errs: string[] } {
  const errs: string[] = [];
  const rawType = field(row, 'registerType', 'register_type', 'table');
  const registerType = rawType === undefined ? undefined : normalizeRegisterType(rawType);
  if (rawType === undefined) errs.push(`register type is missing (coil, discrete, input or holding)`);
  else if (!registerType) errs.push(`register type ${JSON.stringify(rawType)} is not coil, discrete, input or holding`);

  const address = optionalNumber(row, ['address'], 'address', errs, wholeIn('address', 0, 65535));
  if (field(row, 'address') === undefined) errs.push('address is missing');

  const rawData = field(row, 'dataType', 'data_type', 'datatype');
  let dataType = rawData === undefined ? undefined : normalizeDataType(rawData);
  if (rawData === undefined && registerType && isBitTable(registerType)) dataType = 'bool';
  else if (rawData === undefined) errs.push(`data type is missing (one of ${DATA_TYPES.join(', ')})`);
  else if (!dataType) errs.push(`data type ${JSON.stringify(rawData)} is not one of ${DATA_TYPES.join(', ')}`);
  if (registerType && isBitTable(registerType) && dataType && dataType !== 'bool') {
    errs.push(`a ${registerType} holds one bit: data type must be bool, not ${dataType}`);
  }

  const rawOrder = field(row, 'order', 'byteOrder', 'byte_order');
  const order = rawOrder === undefined ? undefined : normalizeOrder(rawOrder);
  if (rawOrder !== undefined && !order) errs.push(`order ${JSON.stringify(rawOrder)} is not one of ${BYTE_ORDERS.join(', ')}`);

  const length = optionalNumber(row, ['length'], 'length', errs);
  let words = 1;
  if (dataType && registerType && !isBitTable(registerType)) {
    if (dataType === 'string') {
      if (length === undefined) errs.push('a string needs a length in registers');
      else if (!Number.isInteger(length) || length < 1 || length > MAX_READ_REGISTERS) {
        errs.push(`length ${length} is outside 1..${MAX_READ_REGISTERS}`);
      } else words = length;
    } else if (dataType === 'bitfield') {
      if (length !== undefined && length !== 1 && length !== 2) errs.push(`a bitfield spans 1 or 2 registers, not ${length}`);
      else words = length ?? 1;
    } else {
      words = wordsOf(dataType);
      if (length !== undefined && length !== words) errs.push(`length ${length} does not match ${dataType}, which takes ${words} register(s)`);
    }
  }
  if (address !== undefined && Number.isInteger(address) && address >= 0 && address <= 65535 && address + words > 65536) {
    errs.push(`address ${address} + ${words} registers runs past 65535`);
  }

  const bitWidth = 16 * words;
  const bit = optionalNumber(row, ['bit'], 'bit', errs);
  const bits = optionalNumber(row, ['bits'], 'bits', errs);
  const bitTakers = dataType === 'bitfield' || (dataType === 'bool' && registerType !== undefined && !isBitTable(registerType));
  if ((bit !== undefined || bits !== undefined) && !bitTakers) {
    errs.push(`bit/bits apply only to bool and bitfield points in registers, not to ${registerType ?? '?'} ${dataType ?? '?'}`);
  } else {
    if (bit !== undefined) {
      const top = dataType === 'bool' ? 15 : bitWidth - 1;
      const p = wholeIn('bit', 0, top)(bit);
      if (p) errs.push(p);
    }
    if (bits !== undefined) {
      if (dataType !== 'bitfield') errs.push(`bits applies only to bitfield points`);
      else {
        const p = wholeIn('bits', 1, bitWidth - (bit ?? 0))(bits);
        if (p) errs.push(`${p} (the field starts at bit ${bit ?? 0} of ${bitWidth})`);
      }
    }
  }

  const scale = optionalNumber(row, ['scale', 'factor', 'multiplier'], 'scale', errs, (n) => (n === 0 ? 'scale must not be 0' : undefined));
  const offset = optionalNumber(row, ['offset'], 'offset', errs);
  const rawWritable = field(row, 'writable');
  let writable: boolean | undefined;
  if (rawWritable !== undefined) {
    const w = key(rawWritable);
    if (rawWritable === true || w === 'true' || w === 'yes' || w === '1') writable = true;
    else if (rawWritable === false || w === 'false' || w === 'no' || w === '0') writable = false;
    else errs.push(`writable ${JSON.stringify(rawWritable)} is not true or false`);
  }
  if (errs.length || !registerType || !dataType || address === undefined) return { errs };

  const point: PointDef = { name: String(row.name).trim(), registerType, address, dataType };
  if (order) point.order = order;
  if (dataType === 'string' || (dataType === 'bitfield' && length !== undefined)) point.length = words;
  if (bit !== undefined) point.bit = bit;
  if (bits !== undefined) point.bits = bits;
  if (scale !== undefined) point.scale = scale;
  if (offset !== undefined) point.offset = offset;
  const unit = field(row, 'unit', 'units');
  if (unit !== undefined) point.unit = String(unit).trim();
  const description = field(row, 'description', 'desc');
  if (description !== undefined) point.description = String(description).trim();
  if (writable !== undefined) point.writable = writable;
  return { point, errs };
}

function overlapErrors(points: PointDef[]): string[] {
  const errors: string[] = [];
  for (const registerType of REGISTER_TYPES) {
    // Bit points may share a register with each other and with the whole word they are part of.
    const whole = points
      .filter((p) => p.registerType === registerType && !isBitPoint(p))
      .map((p) => ({ p, start: p.address, end: p.address + (isBitTable(registerType) ? 1 : wordsOf(p.dataType, p.length)) }))
      .sort((a, b) => a.start - b.start);
    let reach: { p: PointDef; end: number } | undefined;
    for (const s of whole) {
      if (reach && s.start < reach.end) {
        errors.push(`point "${s.p.name}": ${registerType} ${s.start} overlaps point "${reach.p.name}" (${registerType} ${reach.p.address}..${reach.end - 1})`);
      }
      if (!reach || s.end > reach.end) reach = { p: s.p, end: s.end };
    }
  }
  return errors;
}

/**
 * Validates user-entered point rows. Returns the valid points and one error
 * per problem, each naming the context, the point and the field:
 *   `meter 1: point "voltage_l1": address 70000 is outside 0..65535`.
 */
export function validatePoints(input: unknown[], context: string): { points: PointDef[]; errors: string[] } {
  const prefix = context ? `${context}: ` : '';
  if (!Array.isArray(input)) return { points: [], errors: [`${prefix}the point list is not a list (got ${typeof input})`] };
  const points: PointDef[] = [];
  const errors: string[] = [];
  const firstRow = new Map<string, number>();
  input.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push(`${prefix}point #${i + 1}: expected an object with name, register type, address and data type`);
      return;
    }
    const row = raw as Row;
    const name = blank(row.name) ? undefined : String(row.name).trim();
    const label = name ? `point "${name}"` : `point #${i + 1}`;
    if (!name) errors.push(`${prefix}${label}: name is missing`);
    else if (firstRow.has(name)) errors.push(`${prefix}${label}: the name is used twice (points #${firstRow.get(name)} and #${i + 1})`);
    else firstRow.set(name, i + 1);
    const { point, errs } = validateRow(row);
    for (const e of errs) errors.push(`${prefix}${label}: ${e}`);
    if (point && name && firstRow.get(name) === i + 1) points.push(point);
  });
  for (const e of overlapErrors(points)) errors.push(`${prefix}${e}`);
  return { points, errors };
}
