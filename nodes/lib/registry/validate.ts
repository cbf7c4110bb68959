/**
 * Checks one parsed model file: the shape of every field (the same rules as
 * meter-registry/schema.json) and then what a schema cannot say: unique names,
 * profile references, overlapping points, address limits, data type lengths.
 */
import { BYTE_ORDERS, REGISTER_TYPES, isBitTable } from '../modbus/types';
import type { ByteOrder, DataType, PointDef, RegisterType } from '../modbus/types';
import { toProtocolAddress } from './addressing';
import { FieldReader, isPlain, type Plain } from './fields';
import type { FieldIssue } from './fields';
import { CANONICAL_UNITS, POINT_NAME, PROFILE_NAME } from './naming';
import type { Addressing, MeterModel, MeterProtocol, NeverReadRange, Parity, ProfileDef, ProfileDerivedPoint, SerialDefaults, SourceRef } from './types';
import { checkExpression, DeriveProblem } from '../derive/spec';
import type { FieldPath } from './yaml-positions';
import { hasOwn, own } from '../own';

export const DATA_TYPES: readonly DataType[] = [
  'bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float32', 'float64', 'bcd16', 'bcd32', 'string', 'bitfield',
];

/** Registers each data type occupies; `string` has its own `length`. */
export const REGISTER_COUNT: Record<Exclude<DataType, 'string'>, number> = {
  bool: 1, int16: 1, uint16: 1, bcd16: 1, bitfield: 1,
  int32: 2, uint32: 2, float32: 2, bcd32: 2,
  int64: 4, uint64: 4, float64: 4,
};

const MODEL_FIELDS = [
  'manufacturer', 'model', 'aliases', 'description', 'protocols', 'serial', 'tcpPort', 'unitId',
  'byteOrder', 'addressing', 'maxRegisters', 'neverRead', 'source', 'gaps', 'notes', 'points', 'profiles',
] as const;
const POINT_FIELDS = [
  'name', 'registerType', 'address', 'dataType', 'order', 'length', 'bit', 'bits',
  'scale', 'offset', 'unit', 'description', 'writable',
] as const;
const PROTOCOLS: readonly MeterProtocol[] = ['modbus-rtu', 'modbus-tcp'];
const ADDRESSINGS: readonly Addressing[] = ['protocol', 'document', 'one-based'];
const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] as const;
const PARITIES: readonly Parity[] = ['none', 'even', 'odd'];

export type CheckedModel = Omit<MeterModel, 'id' | 'file' | 'dir'>;

export function checkModelDocument(doc: unknown): { model?: CheckedModel; issues: FieldIssue[] } {
  const r = new FieldReader();
  const top = r.mapping(doc, [], MODEL_FIELDS);
  if (!top) return { issues: r.issues };

  const manufacturer = r.string(top.manufacturer, ['manufacturer'], true);
  const model = r.string(top.model, ['model'], true);
  const protocols = readProtocols(r, top.protocols);
  // Serial defaults are optional: many register maps do not state the factory settings,
  // and the line's own settings always win.
  const serial = readSerial(r, top.serial);
  const addressing = r.oneOf(top.addressing, ['addressing'], ADDRESSINGS, 'addressing', true);
  const byteOrder = r.oneOf(top.byteOrder, ['byteOrder'], BYTE_ORDERS, 'byte order') ?? 'ABCD';
  const maxRegisters = r.integer(top.maxRegisters, ['maxRegisters'], 1, 125);
  const source = readSource(r, top.source);
  const neverRead = addressing ? readNeverRead(r, top.neverRead, addressing) : [];
  const points = addressing ? readPoints(r, top.points, addressing, byteOrder) : [];
  const profiles = readProfiles(r, top.profiles);

  checkPointsTogether(r, points, neverRead, maxRegisters);
  // Names of points that failed their own checks still count, so one bad point gives one error.
  const rawNames = (Array.isArray(top.points) ? top.points : []).map((p) => (isPlain(p) ? p.name : undefined));
  checkProfileReferences(r, profiles, new Set(rawNames.filter((n): n is string => typeof n === 'string')));

  const base = {
    aliases: r.strings(top.aliases, ['aliases']),
    description: r.string(top.description, ['description']),
    tcpPort: r.integer(top.tcpPort, ['tcpPort'], 1, 65535),
    unitId: r.integer(top.unitId, ['unitId'], 1, 255) ?? 1,
    gaps: r.strings(top.gaps, ['gaps']),
    notes: r.strings(top.notes, ['notes']),
  };
  if (r.issues.length || !manufacturer || !model || !addressing || !source) return { issues: r.issues };
  return {
    model: {
      manufacturer, model, protocols, serial, byteOrder, addressing, maxRegisters,
      neverRead, source, points: points.map((p) => p.def), profiles, ...base,
    },
    issues: [],
  };
}

function readProtocols(r: FieldReader, v: unknown): MeterProtocol[] {
  const list = r.list(v, ['protocols'], true) ?? [];
  if (Array.isArray(v) && list.length === 0) r.fail(['protocols'], 'expected at least one protocol');
  const out: MeterProtocol[] = [];
  list.forEach((item, i) => {
    const p = r.oneOf(item, ['protocols', i], PROTOCOLS, 'protocol', true);
    if (p && out.includes(p)) r.fail(['protocols', i], `"${p}" is listed twice`);
    else if (p) out.push(p);
  });
  return out;
}

function readSerial(r: FieldReader, v: unknown): SerialDefaults | undefined {
  if (v === undefined) return undefined;
  const s = r.mapping(v, ['serial'], ['baudRate', 'parity', 'dataBits', 'stopBits']);
  if (!s) return undefined;
  const baudRate = r.oneOf(s.baudRate, ['serial', 'baudRate'], BAUD_RATES, 'baud rate', true);
  const parity = r.oneOf(s.parity, ['serial', 'parity'], PARITIES, 'parity', true);
  const dataBits = r.oneOf(s.dataBits, ['serial', 'dataBits'], [7, 8] as const, 'number of data bits', true);
  const stopBits = r.oneOf(s.stopBits, ['serial', 'stopBits'], [1, 2] as const, 'number of stop bits', true);
  if (!baudRate || !parity || !dataBits || !stopBits) return undefined;
  return { baudRate, parity, dataBits, stopBits };
}

function readSource(r: FieldReader, v: unknown): SourceRef | undefined {
  const s = r.mapping(v, ['source'], ['title', 'document', 'version', 'pages', 'url']);
  if (!s) return undefined;
  const title = r.string(s.title, ['source', 'title'], true);
  const document = r.string(s.document, ['source', 'document']);
  const version = r.string(s.version, ['source', 'version']);
  if (!document && !version && s.document === undefined && s.version === undefined) {
    r.fail(['source'], 'name the manual by its document number or its version');
  }
  const pages = r.string(s.pages, ['source', 'pages']);
  const url = r.string(s.url, ['source', 'url']);
  return title ? { title, document, version, pages, url } : undefined;
}

function readNeverRead(r: FieldReader, v: unknown, addressing: Addressing): NeverReadRange[] {
  const list = r.list(v, ['neverRead']) ?? [];
  const out: NeverReadRange[] = [];
  list.forEach((item, i) => {
    const path: FieldPath = ['neverRead', i];
    const m = r.mapping(item, path, ['registerType', 'address', 'quantity', 'reason']);
    if (!m) return;
    const type = r.oneOf(m.registerType, [...path, 'registerType'], REGISTER_TYPES, 'register type');
    const written = r.integer(m.address, [...path, 'address'], 0, 465536, true);
    const quantity = r.integer(m.quantity, [...path, 'quantity'], 1, 65536, true);
    const reason = r.string(m.reason, [...path, 'reason']);
    if (written === undefined || !quantity) return;
    const at = toProtocolAddress(addressing, written, type);
    if (!at.ok) return void r.fail([...path, 'address'], at.message);
    if (at.value.address + quantity > 65536) {
      return void r.fail([...path, 'quantity'], `range ${at.value.address}+${quantity} runs past address 65535`);
    }
    out.push({ ...at.value, quantity, ...(reason ? { reason } : {}) });
  });
  return out;
}

interface ReadPoint {
  def: PointDef;
  name: string;
  index: number;
  length: number;
}

function readPoints(r: FieldReader, v: unknown, addressing: Addressing, byteOrder: ByteOrder): ReadPoint[] {
  const list = r.list(v, ['points'], true) ?? [];
  if (Array.isArray(v) && list.length === 0) r.fail(['points'], 'expected at least one point');
  const out: ReadPoint[] = [];
  list.forEach((item, i) => {
    const point = readPoint(r, item, i, addressing, byteOrder);
    if (point) out.push(point);
  });
  return out;
}

function readPoint(r: FieldReader, item: unknown, i: number, addressing: Addressing, byteOrder: ByteOrder): ReadPoint | undefined {
  const path: FieldPath = ['points', i];
  const before = r.issues.length;
  const m = r.mapping(item, path, POINT_FIELDS);
  if (!m) return undefined;
  const name = r.string(m.name, [...path, 'name'], true);
  if (name && !POINT_NAME.test(name)) r.fail([...path, 'name'], `"${name}" is not snake_case (lower-case words joined by _)`);
  const writtenType = r.oneOf(m.registerType, [...path, 'registerType'], REGISTER_TYPES, 'register type');
  const written = r.integer(m.address, [...path, 'address'], 0, 465536, true);
  const dataType = r.oneOf(m.dataType, [...path, 'dataType'], DATA_TYPES, 'data type', true);
  const order = r.oneOf(m.order, [...path, 'order'], BYTE_ORDERS, 'byte order');
  const length = r.integer(m.length, [...path, 'length'], 1, 125);
  const bit = r.integer(m.bit, [...path, 'bit'], 0, 63);
  const bits = r.integer(m.bits, [...path, 'bits'], 1, 64);
  const scale = r.number(m.scale, [...path, 'scale']);
  if (scale === 0) r.fail([...path, 'scale'], 'a scale of 0 would turn every reading into 0');
  const offset = r.number(m.offset, [...path, 'offset']);
  const unit = typeof m.unit === 'string' ? m.unit : r.string(m.unit, [...path, 'unit']);
  const description = r.string(m.description, [...path, 'description']);
  const writable = r.boolean(m.writable, [...path, 'writable']);
  if (r.issues.length > before || !name || written === undefined || !dataType) return undefined;

  const at = toProtocolAddress(addressing, written, writtenType);
  if (!at.ok) return void r.fail([...path, 'address'], at.message);
  const { registerType, address } = at.value;
  const count = registerCount(r, path, registerType, dataType, length, bit, bits);
  if (count === undefined) return undefined;
  if (address + count > 65536) {
    return void r.fail([...path, 'address'], `${name} at ${address} with ${count} registers runs past address 65535`);
  }
  if (writable && registerType !== 'holding' && registerType !== 'coil') {
    return void r.fail([...path, 'writable'], `${registerType} registers cannot be written`);
  }
  const canonical = CANONICAL_UNITS.get(name);
  if (canonical !== undefined && (unit ?? '') !== canonical) {
    return void r.fail([...path, 'unit'], `${name} is a shared name measured in "${canonical}", found ${unit === undefined ? 'no unit' : `"${unit}"`}; convert with scale or choose another name`);
  }
  const def: PointDef = { name, registerType, address, dataType, length: count };
  if (count > 1 && dataType !== 'string') def.order = order ?? byteOrder;
  else if (order) def.order = order;
  if (bit !== undefined) def.bit = bit;
  if (bits !== undefined) def.bits = bits;
  if (scale !== undefined) def.scale = scale;
  if (offset !== undefined) def.offset = offset;
  if (unit !== undefined) def.unit = unit;
  if (description !== undefined) def.description = description;
  if (writable !== undefined) def.writable = writable;
  return { def, name, index: i, length: count };
}

/** Registers (or bits, for coil and discrete tables) a point occupies; undefined after reporting why not. */
function registerCount(
  r: FieldReader, path: FieldPath, registerType: RegisterType, dataType: DataType,
  length: number | undefined, bit: number | undefined, bits: number | undefined,
): number | undefined {
  if (isBitTable(registerType)) {
    if (dataType !== 'bool') return r.fail([...path, 'dataType'], `a ${registerType} holds one bit; use bool, not ${dataType}`);
    if (bit !== undefined) return r.fail([...path, 'bit'], `a ${registerType} is a single bit; leave bit out`);
    if (length !== undefined && length !== 1) return r.fail([...path, 'length'], `a ${registerType} point has length 1`);
    return 1;
  }
  if (dataType === 'string') {
    if (length === undefined) return r.fail([...path, 'length'], 'a string point needs its length in registers');
    return length;
  }
  const count = REGISTER_COUNT[dataType];
  if (length !== undefined && length !== count) {
    return r.fail([...path, 'length'], `${dataType} occupies ${count} register${count > 1 ? 's' : ''}, not ${length}`);
  }
  const width = count * 16;
  if (dataType === 'bitfield') {
    if (bit === undefined || bits === undefined) return r.fail([...path, bit === undefined ? 'bit' : 'bits'], 'a bitfield needs bit (first bit) and bits (how many)');
    if (bit + bits > width) return r.fail([...path, 'bits'], `bits ${bit}..${bit + bits - 1} do not fit in ${width} bits`);
  } else if (bits !== undefined) {
    return r.fail([...path, 'bits'], 'bits applies to bitfield points only');
  }
  if (bit !== undefined && dataType !== 'bool' && dataType !== 'bitfield') {
    return r.fail([...path, 'bit'], 'bit applies to bool and bitfield points only');
  }
  if (bit !== undefined && bit >= width) return r.fail([...path, 'bit'], `bit ${bit} is outside the ${width} bits of a register`);
  return count;
}

function checkPointsTogether(r: FieldReader, points: ReadPoint[], neverRead: NeverReadRange[], maxRegisters?: number): void {
  const byName = new Map<string, ReadPoint>();
  for (const p of points) {
    const first = byName.get(p.name);
    if (first) r.fail(['points', p.index, 'name'], `"${p.name}" is already used by points[${first.index}]`);
    else byName.set(p.name, p);
  }
  const sorted = [...points].sort((a, b) => a.def.registerType.localeCompare(b.def.registerType) || a.def.address - b.def.address);
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i - 1; j >= 0; j--) {
      const a = sorted[j];
      const b = sorted[i];
      if (a.def.registerType !== b.def.registerType || a.def.address + a.length <= b.def.address) continue;
      // Bits of one status register may be separate points; whole values may not share registers.
      const bothBits = a.def.bit !== undefined && b.def.bit !== undefined;
      if (!bothBits) {
        r.fail(['points', b.index, 'address'], `${b.name} (${span(b)}) overlaps ${a.name} (${span(a)}, points[${a.index}])`);
      }
    }
  }
  for (const p of points) {
    if (maxRegisters && p.length > maxRegisters && !isBitTable(p.def.registerType)) {
      r.fail(['points', p.index, 'length'], `${p.name} needs ${p.length} registers but the model reads at most ${maxRegisters} per request`);
    }
    const hit = neverRead.find((n) => n.registerType === p.def.registerType && p.def.address < n.address + n.quantity && n.address < p.def.address + p.length);
    if (hit) r.fail(['points', p.index, 'address'], `${p.name} (${span(p)}) lies in a never-read range (${hit.registerType} ${hit.address}+${hit.quantity})`);
  }
}

function span(p: ReadPoint): string {
  const end = p.def.address + p.length - 1;
  return `${p.def.registerType} ${p.def.address}${end > p.def.address ? `..${end}` : ''}`;
}

function readProfiles(r: FieldReader, v: unknown): Record<string, ProfileDef> {
  const out: Record<string, ProfileDef> = {};
  if (v === undefined) {
    r.fail(['profiles'], 'expected at least one profile (basic_power, full_power, energy)');
    return out;
  }
  if (!isPlain(v)) {
    r.fail(['profiles'], 'expected a mapping of profile name to profile');
    return out;
  }
  for (const [name, body] of Object.entries(v)) {
    const path: FieldPath = ['profiles', name];
    if (!PROFILE_NAME.test(name)) r.fail(path, `profile name "${name}" is not snake_case`);
    const m = r.mapping(body, path, ['description', 'extends', 'points', 'derived']);
    if (!m) continue;
    const extendsList = typeof m.extends === 'string' ? [m.extends] : r.strings(m.extends, [...path, 'extends']);
    const points = r.strings(m.points, [...path, 'points']);
    if (!points.length && !extendsList.length) r.fail(path, 'a profile needs points, or extends another profile');
    const derived = readDerived(r, m.derived, [...path, 'derived']);
    out[name] = { name, description: r.string(m.description, [...path, 'description']), extends: extendsList, points, derived };
  }
  if (!Object.keys(out).length && !r.issues.length) r.fail(['profiles'], 'expected at least one profile');
  return out;
}

function readDerived(r: FieldReader, v: unknown, path: FieldPath): ProfileDerivedPoint[] {
  const out: ProfileDerivedPoint[] = [];
  (r.list(v, path) ?? []).forEach((item, i) => {
    const m = r.mapping(item, [...path, i], ['name', 'expression', 'unit', 'description']);
    if (!m) return;
    const name = r.string(m.name, [...path, i, 'name'], true);
    const expression = r.string(m.expression, [...path, i, 'expression'], true);
    if (name !== undefined && !POINT_NAME.test(name)) r.fail([...path, i, 'name'], `point name "${name}" is not snake_case`);
    const unit = r.string(m.unit, [...path, i, 'unit']);
    const description = r.string(m.description, [...path, i, 'description']);
    if (name && expression) out.push({ name, expression, ...(unit ? { unit } : {}), ...(description ? { description } : {}) });
  });
  return out;
}

/** Derived points may use the profile's points (inherited ones too) and the derived points before them. */
function checkDerived(r: FieldReader, profiles: Record<string, ProfileDef>, profile: ProfileDef, pointNames: Set<string>): void {
  const known = new Set(resolveProfile(profiles, profile.name));
  for (const d of resolveDerived(profiles, profile.name)) if (!profile.derived.includes(d)) known.add(d.name);
  profile.derived.forEach((d, i) => {
    const path: FieldPath = ['profiles', profile.name, 'derived', i];
    if (pointNames.has(d.name)) r.fail([...path, 'name'], `"${d.name}" is a point the meter provides; a derived point needs a name of its own`);
    const problems: DeriveProblem[] = [];
    if (!checkExpression(d.expression, false, '', problems, known)) r.fail([...path, 'expression'], problems[0].message);
    known.add(d.name);
  });
}

function checkProfileReferences(r: FieldReader, profiles: Record<string, ProfileDef>, pointNames: Set<string>): void {
  const known = Object.keys(profiles);
  for (const profile of Object.values(profiles)) {
    const path: FieldPath = ['profiles', profile.name];
    profile.extends.forEach((base, i) => {
      if (!hasOwn(profiles, base)) r.fail([...path, 'extends', ...(profile.extends.length > 1 ? [i] : [])], `profile "${base}" does not exist; known profiles: ${known.join(', ')}`);
    });
    const seen = new Set<string>();
    profile.points.forEach((name, i) => {
      if (!pointNames.has(name)) r.fail([...path, 'points', i], `point "${name}" does not exist in this model`);
      else if (seen.has(name)) r.fail([...path, 'points', i], `point "${name}" is listed twice`);
      seen.add(name);
    });
    const cycle = findCycle(profiles, profile.name, []);
    if (cycle) r.fail([...path, 'extends'], `profiles extend each other in a loop: ${cycle.join(' -> ')}`);
    else checkDerived(r, profiles, profile, pointNames);
  }
}

function findCycle(profiles: Record<string, ProfileDef>, name: string, trail: string[]): string[] | undefined {
  if (trail.includes(name)) return trail[0] === name ? [...trail, name] : undefined;
  const p = own(profiles, name);
  if (!p) return undefined;
  for (const base of p.extends) {
    const c = findCycle(profiles, base, [...trail, name]);
    if (c) return c;
  }
  return undefined;
}

/** Points of a profile in order: each base profile's first, then its own; each name once. */
export function resolveProfile(profiles: Record<string, ProfileDef>, name: string): string[] {
  const out: string[] = [];
  const visit = (n: string, trail: string[]): void => {
    const p = own(profiles, n);
    if (!p || trail.includes(n)) return;
    for (const base of p.extends) visit(base, [...trail, n]);
    for (const point of p.points) if (!out.includes(point)) out.push(point);
  };
  visit(name, []);
  return out;
}

/** Derived points of a profile in order: each base profile's first; a later one of the same name wins. */
export function resolveDerived(profiles: Record<string, ProfileDef>, name: string): ProfileDerivedPoint[] {
  const out = new Map<string, ProfileDerivedPoint>();
  const visit = (n: string, trail: string[]): void => {
    const p = Object.prototype.hasOwnProperty.call(profiles, n) ? profiles[n] : undefined;
    if (!p || trail.includes(n)) return;
    for (const base of p.extends) visit(base, [...trail, n]);
    for (const d of p.derived ?? []) {
      out.delete(d.name);
      out.set(d.name, d);
    }
  };
  visit(name, []);
  return [...out.values()];
}

export type { Plain };
