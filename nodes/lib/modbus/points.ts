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

function normalizeRegisterType(v: unknown): RegisterType | undefined {
  return REGISTER_TYPE_ALIASES[key(v)];
}

function normalizeDataType(v: unknown): DataType | undefined {
  const k = key(v);
  return (DATA_TYPES as readonly string[]).includes(k) ? (k as DataType) : DATA_TYPE_ALIASES[k];
}

function normalizeOrder(v: unknown): ByteOrder | undefined {
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

/** One problem of one row, with the field it is about (a PointDef key, or 'name'). */
export interface FieldProblem {
  field: keyof PointDef;
  message: string;
}

class Problems {
  readonly list: FieldProblem[] = [];
  add(field: keyof PointDef, message: string): void {
    this.list.push({ field, message });
  }
}

function optionalNumber(
  row: Row,
  names: string[],
  target: keyof PointDef,
  problems: Problems,
  check?: (n: number) => string | undefined,
): number | undefined {
  const raw = field(row, ...names);
  if (raw === undefined) return undefined;
  const n = toNumber(raw);
  if (!Number.isFinite(n)) {
    problems.add(target, `${target} ${JSON.stringify(raw)} is not a number`);
    return undefined;
  }
  const problem = check?.(n);
  if (problem) problems.add(target, problem);
  return n;
}

function wholeIn(label: string, low: number, high: number) {
  return (n: number): string | undefined =>
    Number.isInteger(n) && n >= low && n <= high ? undefined : `${label} ${n} is outside ${low}..${high}`;
}

function registerTypeOf(row: Row, problems: Problems): RegisterType | undefined {
  const raw = field(row, 'registerType', 'register_type', 'table');
  if (raw === undefined) {
    problems.add('registerType', 'register type is missing (coil, discrete, input or holding)');
    return undefined;
  }
  const t = normalizeRegisterType(raw);
  if (!t) problems.add('registerType', `register type ${JSON.stringify(raw)} is not coil, discrete, input or holding`);
  return t;
}

function dataTypeOf(row: Row, registerType: RegisterType | undefined, problems: Problems): DataType | undefined {
  const raw = field(row, 'dataType', 'data_type', 'datatype');
  if (raw === undefined) {
    if (registerType && isBitTable(registerType)) return 'bool';
    problems.add('dataType', `data type is missing (one of ${DATA_TYPES.join(', ')})`);
    return undefined;
  }
  const t = normalizeDataType(raw);
  if (!t) problems.add('dataType', `data type ${JSON.stringify(raw)} is not one of ${DATA_TYPES.join(', ')}`);
  else if (registerType && isBitTable(registerType) && t !== 'bool') {
    problems.add('dataType', `a ${registerType} holds one bit: data type must be bool, not ${t}`);
  }
  return t;
}

/** Registers the point takes, checking `length` against the data type. */
function wordsFor(dataType: DataType | undefined, registerType: RegisterType | undefined, length: number | undefined, problems: Problems): number {
  if (!dataType || !registerType || isBitTable(registerType)) return 1;
  if (dataType === 'string') {
    if (length === undefined) problems.add('length', 'a string needs a length in registers');
    else if (!Number.isInteger(length) || length < 1 || length > MAX_READ_REGISTERS) {
      problems.add('length', `length ${length} is outside 1..${MAX_READ_REGISTERS}`);
    } else return length;
    return 1;
  }
  if (dataType === 'bitfield') {
    if (length !== undefined && length !== 1 && length !== 2) {
      problems.add('length', `a bitfield spans 1 or 2 registers, not ${length}`);
      return 1;
    }
    return length ?? 1;
  }
  const words = wordsOf(dataType);
  if (length !== undefined && length !== words) {
    problems.add('length', `length ${length} does not match ${dataType}, which takes ${words} register(s)`);
  }
  return words;
}

function checkBits(row: Row, dataType: DataType | undefined, registerType: RegisterType | undefined, words: number, problems: Problems) {
  const bit = optionalNumber(row, ['bit'], 'bit', problems);
  const bits = optionalNumber(row, ['bits'], 'bits', problems);
  const bitWidth = 16 * words;
  const takesBits = dataType === 'bitfield' || (dataType === 'bool' && registerType !== undefined && !isBitTable(registerType));
  if ((bit !== undefined || bits !== undefined) && !takesBits) {
    problems.add(bit !== undefined ? 'bit' : 'bits', `bit/bits apply only to bool and bitfield points in registers, not to ${registerType ?? '?'} ${dataType ?? '?'}`);
    return { bit, bits };
  }
  if (bit !== undefined) {
    const p = wholeIn('bit', 0, dataType === 'bool' ? 15 : bitWidth - 1)(bit);
    if (p) problems.add('bit', p);
  }
  if (bits !== undefined) {
    if (dataType !== 'bitfield') problems.add('bits', 'bits applies only to bitfield points');
    else {
      const p = wholeIn('bits', 1, bitWidth - (bit ?? 0))(bits);
      if (p) problems.add('bits', `${p} (the field starts at bit ${bit ?? 0} of ${bitWidth})`);
    }
  }
  return { bit, bits };
}

function writableOf(row: Row, problems: Problems): boolean | undefined {
  const raw = field(row, 'writable');
  if (raw === undefined) return undefined;
  const w = key(raw);
  if (raw === true || w === 'true' || w === 'yes' || w === '1') return true;
  if (raw === false || w === 'false' || w === 'no' || w === '0') return false;
  problems.add('writable', `writable ${JSON.stringify(raw)} is not true or false`);
  return undefined;
}

/**
 * Validates one row (camelCase or snake_case keys, strings or numbers); returns
 * the point when the row has no problem. Name uniqueness and overlaps need the
 * whole list: see validatePoints and findOverlaps.
 */
export function validatePointRow(row: Record<string, unknown>): { point?: PointDef; problems: FieldProblem[] } {
  const problems = new Problems();
  const name = blank(row.name) ? undefined : String(row.name).trim();
  if (!name) problems.add('name', 'name is missing');
  const registerType = registerTypeOf(row, problems);
  const address = optionalNumber(row, ['address'], 'address', problems, wholeIn('address', 0, 65535));
  if (field(row, 'address') === undefined) problems.add('address', 'address is missing');
  const dataType = dataTypeOf(row, registerType, problems);
  const rawOrder = field(row, 'order', 'byteOrder', 'byte_order');
  const order = rawOrder === undefined ? undefined : normalizeOrder(rawOrder);
  if (rawOrder !== undefined && !order) problems.add('order', `order ${JSON.stringify(rawOrder)} is not one of ${BYTE_ORDERS.join(', ')}`);
  const length = optionalNumber(row, ['length'], 'length', problems);
  const words = wordsFor(dataType, registerType, length, problems);
  if (address !== undefined && Number.isInteger(address) && address >= 0 && address <= 65535 && address + words > 65536) {
    problems.add('address', `address ${address} + ${words} registers runs past 65535`);
  }
  const { bit, bits } = checkBits(row, dataType, registerType, words, problems);
  const scale = optionalNumber(row, ['scale', 'factor', 'multiplier'], 'scale', problems, (n) => (n === 0 ? 'scale must not be 0' : undefined));
  const offset = optionalNumber(row, ['offset'], 'offset', problems);
  const writable = writableOf(row, problems);
  if (problems.list.length || !name || !registerType || !dataType || address === undefined) return { problems: problems.list };

  const point: PointDef = { name, registerType, address, dataType };
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
  return { point, problems: [] };
}

/**
 * Points of one table that share a register. Bit points may share a register
 * with each other and with the whole word they are part of (a status word and
 * its flags); any other sharing is reported once per later point.
 */
export function findOverlaps(points: PointDef[]): Array<{ point: PointDef; other: PointDef; message: string }> {
  const found: Array<{ point: PointDef; other: PointDef; message: string }> = [];
  for (const registerType of REGISTER_TYPES) {
    const whole = points
      .filter((p) => p.registerType === registerType && !isBitPoint(p))
      .map((p) => ({ p, start: p.address, end: p.address + (isBitTable(registerType) ? 1 : wordsOf(p.dataType, p.length)) }))
      .sort((a, b) => a.start - b.start);
    let reach: { p: PointDef; end: number } | undefined;
    for (const s of whole) {
      if (reach && s.start < reach.end) {
        found.push({
          point: s.p,
          other: reach.p,
          message: `${registerType} ${s.start} overlaps point "${reach.p.name}" (${registerType} ${reach.p.address}..${reach.end - 1})`,
        });
      }
      if (!reach || s.end > reach.end) reach = { p: s.p, end: s.end };
    }
  }
  return found;
}

/**
 * Validates user-entered point rows. Returns the points whose rows are valid
 * and one error per problem, each naming the context, the point and the field:
 *   `meter 1: point "voltage_l1": address 70000 is outside 0..65535`.
 * Overlaps are reported as errors, and the overlapping points stay in `points`.
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
    let unique = true;
    if (name && firstRow.has(name)) {
      errors.push(`${prefix}${label}: the name is used twice (points #${firstRow.get(name)} and #${i + 1})`);
      unique = false;
    } else if (name) firstRow.set(name, i + 1);
    const { point, problems } = validatePointRow(row);
    for (const p of problems) errors.push(`${prefix}${label}: ${p.message}`);
    if (point && unique) points.push(point);
  });
  for (const o of findOverlaps(points)) errors.push(`${prefix}point "${o.point.name}": ${o.message}`);
  return { points, errors };
}
