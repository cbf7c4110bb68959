/**
 * The data model the MMS test server serves: the basic I/O example device of the
 * captures (LD simpleIOGenericIO, same LNs, DOs, data sets and control blocks as
 * model-basic-io.txt) and a small inverter LD with 64-bit and UTF-8 attributes.
 * Each logical node is an MMS structure FC → DO → DA; leaf values live in a map.
 */
import { MmsValue, utcTimeFromMs } from '../../../nodes/lib/iec61850/mms-data';
import { TypeSpec } from '../../../nodes/lib/iec61850/mms-types';
import { VariableName } from '../../../nodes/lib/iec61850/mms-names';

export interface Leaf {
  fc: string;
  /** DO then DA path below it. */
  path: string[];
  spec: TypeSpec;
  value: MmsValue;
}

export interface ControlBlockDef {
  ln: string;
  name: string;
  fc: 'RP' | 'BR';
  dataSet: string;
  rptId: string;
}

export interface DomainModel {
  /** Logical node name → its leaves. */
  lns: Map<string, Leaf[]>;
  /** `LN$Name` → members. */
  dataSets: Map<string, VariableName[]>;
  controlBlocks: ControlBlockDef[];
}

export type ServerModel = Map<string, DomainModel>;

const T = {
  bool: { type: 'boolean' } as TypeSpec,
  int8: { type: 'integer', bits: 8 } as TypeSpec,
  int32: { type: 'integer', bits: 32 } as TypeSpec,
  int64: { type: 'integer', bits: 64 } as TypeSpec,
  uint8: { type: 'unsigned', bits: 8 } as TypeSpec,
  uint32: { type: 'unsigned', bits: 32 } as TypeSpec,
  float32: { type: 'float', formatWidth: 32, exponentWidth: 8 } as TypeSpec,
  float64: { type: 'float', formatWidth: 64, exponentWidth: 11 } as TypeSpec,
  quality: { type: 'bit-string', size: -13 } as TypeSpec,
  utc: { type: 'utc-time' } as TypeSpec,
  vis255: { type: 'visible-string', size: -255 } as TypeSpec,
  vis65: { type: 'visible-string', size: -65 } as TypeSpec,
  uni255: { type: 'mms-string', size: -255 } as TypeSpec,
  oct64: { type: 'octet-string', size: -64 } as TypeSpec,
  oct8: { type: 'octet-string', size: 8 } as TypeSpec,
  check: { type: 'bit-string', size: 2 } as TypeSpec,
  optFlds: { type: 'bit-string', size: 10 } as TypeSpec,
  trgOps: { type: 'bit-string', size: 6 } as TypeSpec,
  entryTime: { type: 'binary-time', withDate: true } as TypeSpec,
};

export const BASE_TIME = Date.UTC(2026, 10, 21, 8, 0, 0);
const GOOD = (): MmsValue => ({ type: 'bit-string', value: new Array(13).fill(false) });
const time = (): MmsValue => ({ type: 'utc-time', value: utcTimeFromMs(BASE_TIME) });
const leaf = (fc: string, path: string[], spec: TypeSpec, value: MmsValue): Leaf => ({ fc, path, spec, value });

function status(name: string, value: MmsValue, spec: TypeSpec): Leaf[] {
  return [leaf('ST', [name, 'stVal'], spec, value), leaf('ST', [name, 'q'], T.quality, GOOD()), leaf('ST', [name, 't'], T.utc, time())];
}

const ens = (name: string, v = 1): Leaf[] => status(name, { type: 'integer', value: v }, T.int32);
const sps = (name: string, v = false): Leaf[] => status(name, { type: 'boolean', value: v }, T.bool);

function mod(): Leaf[] {
  return [...ens('Mod'), leaf('CF', ['Mod', 'ctlModel'], T.int8, { type: 'integer', value: 0 })];
}

function analogue(name: string, f: number, spec = T.float32): Leaf[] {
  const value: MmsValue = spec === T.float64 ? { type: 'float', value: f, double: true } : { type: 'float', value: f };
  return [leaf('MX', [name, 'mag', 'f'], spec, value), leaf('MX', [name, 'q'], T.quality, GOOD()), leaf('MX', [name, 't'], T.utc, time())];
}

function origin(fc: string, path: string[]): Leaf[] {
  return [
    leaf(fc, [...path, 'origin', 'orCat'], T.int8, { type: 'integer', value: 0 }),
    leaf(fc, [...path, 'origin', 'orIdent'], T.oct64, { type: 'octet-string', value: Buffer.alloc(0) }),
  ];
}

function spc(name: string, withOrigin: boolean): Leaf[] {
  const oper = [name, 'Oper'];
  return [
    leaf('ST', [name, 'stVal'], T.bool, { type: 'boolean', value: false }),
    leaf('ST', [name, 'q'], T.quality, GOOD()),
    leaf('ST', [name, 't'], T.utc, time()),
    ...(withOrigin ? [...origin('ST', [name]), leaf('ST', [name, 'ctlNum'], T.uint8, { type: 'unsigned', value: 0 })] : []),
    leaf('CO', [...oper, 'ctlVal'], T.bool, { type: 'boolean', value: false }),
    ...origin('CO', oper),
    leaf('CO', [...oper, 'ctlNum'], T.uint8, { type: 'unsigned', value: 0 }),
    leaf('CO', [...oper, 'T'], T.utc, time()),
    leaf('CO', [...oper, 'Test'], T.bool, { type: 'boolean', value: false }),
    leaf('CO', [...oper, 'Check'], T.check, { type: 'bit-string', value: [false, false] }),
    leaf('CF', [name, 'ctlModel'], T.int8, { type: 'integer', value: 1 }),
  ];
}

/** A controllable object of the given ctlModel (0 status-only ... 4 sbo-with-enhanced-security), IEC 61850-8-1 layout. */
function controllable(name: string, ctlModel: number, ctlVal: TypeSpec, initial: MmsValue): Leaf[] {
  const zero: MmsValue = initial.type === 'boolean' ? { type: 'boolean', value: false } : { type: 'integer', value: 0 };
  const control = (service: string, withCheck: boolean): Leaf[] => [
    leaf('CO', [name, service, 'ctlVal'], ctlVal, zero),
    ...origin('CO', [name, service]),
    leaf('CO', [name, service, 'ctlNum'], T.uint8, { type: 'unsigned', value: 0 }),
    leaf('CO', [name, service, 'T'], T.utc, time()),
    leaf('CO', [name, service, 'Test'], T.bool, { type: 'boolean', value: false }),
    ...(withCheck ? [leaf('CO', [name, service, 'Check'], T.check, { type: 'bit-string', value: [false, false] })] : []),
  ];
  return [
    leaf('ST', [name, 'stVal'], ctlVal, initial),
    leaf('ST', [name, 'q'], T.quality, GOOD()),
    leaf('ST', [name, 't'], T.utc, time()),
    ...(ctlModel > 0 ? control('Oper', true) : []),
    ...(ctlModel === 2 ? [leaf('CO', [name, 'SBO'], T.vis65, { type: 'visible-string', value: '' })] : []),
    ...(ctlModel === 4 ? control('SBOw', true) : []),
    ...(ctlModel === 2 || ctlModel === 4 ? control('Cancel', false) : []),
    leaf('CF', [name, 'ctlModel'], T.int8, { type: 'integer', value: ctlModel }),
    ...(ctlModel === 2 || ctlModel === 4 ? [leaf('CF', [name, 'sboTimeout'], T.uint32, { type: 'unsigned', value: 30_000 })] : []),
  ];
}

/** Control objects of every model: SPCSO1..4 = ctlModel 1..4, SPCSO5 status-only, ISCSO1 an integer set-point. */
function controls(): Leaf[] {
  const off: MmsValue = { type: 'boolean', value: false };
  return [
    ...ens('Beh'),
    ...[1, 2, 3, 4].flatMap((m) => controllable(`SPCSO${m}`, m, T.bool, off)),
    ...controllable('SPCSO5', 0, T.bool, off),
    ...controllable('ISCSO1', 1, T.int32, { type: 'integer', value: 0 }),
  ];
}

function namePlate(vendor: string, ld = false): Leaf[] {
  const text = (v: string): MmsValue => ({ type: 'visible-string', value: v });
  return [
    leaf('DC', ['NamPlt', 'vendor'], T.vis255, text(vendor)),
    leaf('DC', ['NamPlt', 'swRev'], T.vis255, text('1.5.3')),
    leaf('DC', ['NamPlt', 'd'], T.vis255, text('test device')),
    ...(ld
      ? [leaf('DC', ['NamPlt', 'configRev'], T.vis255, text('1')), leaf('EX', ['NamPlt', 'ldNs'], T.vis255, text('IEC 61850-7-4:2007'))]
      : []),
  ];
}

function controlBlock(def: ControlBlockDef, ld: string): Leaf[] {
  const p = (a: string): string[] => [def.name, a];
  const u = (v: number): MmsValue => ({ type: 'unsigned', value: v });
  const common = [
    leaf(def.fc, p('RptID'), T.vis65, { type: 'visible-string', value: def.rptId }),
    leaf(def.fc, p('RptEna'), T.bool, { type: 'boolean', value: false }),
    ...(def.fc === 'RP' ? [leaf(def.fc, p('Resv'), T.bool, { type: 'boolean', value: false })] : []),
    leaf(def.fc, p('DatSet'), T.vis65, { type: 'visible-string', value: `${ld}/${def.ln}$${def.dataSet}` }),
    leaf(def.fc, p('ConfRev'), T.uint32, u(1)),
    leaf(def.fc, p('OptFlds'), T.optFlds, { type: 'bit-string', value: [false, true, true, true, true, false, false, false, true, false] }),
    leaf(def.fc, p('BufTm'), T.uint32, u(50)),
    leaf(def.fc, p('SqNum'), def.fc === 'RP' ? T.uint8 : { type: 'unsigned', bits: 16 }, u(0)),
    leaf(def.fc, p('TrgOps'), T.trgOps, { type: 'bit-string', value: [false, true, false, false, true, true] }),
    leaf(def.fc, p('IntgPd'), T.uint32, u(5000)),
    leaf(def.fc, p('GI'), T.bool, { type: 'boolean', value: false }),
  ];
  if (def.fc === 'RP') return common;
  return [
    ...common,
    leaf(def.fc, p('PurgeBuf'), T.bool, { type: 'boolean', value: false }),
    leaf(def.fc, p('EntryID'), T.oct8, { type: 'octet-string', value: Buffer.alloc(8) }),
    leaf(def.fc, p('TimeofEntry'), T.entryTime, { type: 'binary-time', value: { msOfDay: 0, days: 0 } }),
  ];
}

const v = (domain: string, item: string): VariableName => ({ scope: 'domain', domain, item });

function basicIo(): DomainModel {
  const ld = 'simpleIOGenericIO';
  const controlBlocks: ControlBlockDef[] = [
    { ln: 'LLN0', name: 'EventsRCB01', fc: 'RP', dataSet: 'Events', rptId: 'Events1' },
    { ln: 'LLN0', name: 'EventsIndexed01', fc: 'RP', dataSet: 'Events', rptId: 'Events2' },
    { ln: 'LLN0', name: 'MeasurementsRCB01', fc: 'RP', dataSet: 'Measurements', rptId: '' },
    { ln: 'LLN0', name: 'EventsBRCB01', fc: 'BR', dataSet: 'Events', rptId: 'Events' },
  ];
  const ggio = [
    ...mod(),
    ...ens('Beh'),
    ...ens('Health'),
    ...namePlate('libiec61850.com'),
    ...analogue('AnIn1', 0.09), ...analogue('AnIn2', 1.5), ...analogue('AnIn3', -3.25), ...analogue('AnIn4', 230.1),
    ...spc('SPCSO1', true), ...spc('SPCSO2', false), ...spc('SPCSO3', false), ...spc('SPCSO4', false),
    ...sps('Ind1'), ...sps('Ind2', true), ...sps('Ind3'), ...sps('Ind4'),
  ];
  const lln0 = [...mod(), ...ens('Beh'), ...ens('Health'), ...namePlate('libiec61850.com', true), ...controlBlocks.flatMap((cb) => controlBlock(cb, ld))];
  const lphd = [leaf('DC', ['PhyNam', 'vendor'], T.vis255, { type: 'visible-string', value: 'energy-rtu' }), ...ens('PhyHealth'), ...sps('Proxy')];
  const spcso = [1, 2, 3, 4];
  return {
    lns: new Map([['GGIO1', ggio], ['LLN0', lln0], ['LPHD1', lphd]]),
    dataSets: new Map([
      ['LLN0$Events', spcso.map((i) => v(ld, `GGIO1$ST$SPCSO${i}$stVal`))],
      ['LLN0$Events2', spcso.map((i) => v(ld, `GGIO1$ST$SPCSO${i}`))],
      ['LLN0$Measurements', spcso.flatMap((i) => [v(ld, `GGIO1$MX$AnIn${i}$mag$f`), v(ld, `GGIO1$MX$AnIn${i}$q`)])],
    ]),
    controlBlocks,
  };
}

const CMV: TypeSpec = {
  type: 'structure',
  components: [
    { name: 'cVal', spec: { type: 'structure', components: [{ name: 'mag', spec: { type: 'structure', components: [{ name: 'f', spec: T.float32 }] } }] } },
    { name: 'q', spec: T.quality },
    { name: 't', spec: T.utc },
  ],
};

/** Harmonic n of phase A: n % 1 A, good quality, time BASE_TIME + n ms. */
export function harmonic(n: number): MmsValue {
  return {
    type: 'structure',
    value: [
      { type: 'structure', value: [{ type: 'structure', value: [{ type: 'float', value: n + 0.5 }] }] },
      GOOD(),
      { type: 'utc-time', value: utcTimeFromMs(BASE_TIME + n) },
    ],
  };
}

/** Harmonics as an array of CMV (MHAI.HA.phsAHar), the members of which data sets select by alternate access. */
function harmonics(): Leaf[] {
  const spec: TypeSpec = { type: 'array', count: 16, element: CMV };
  return [leaf('MX', ['HA', 'phsAHar'], spec, { type: 'array', value: Array.from({ length: 16 }, (_, n) => harmonic(n)) })];
}

/** Data set members with alternate access: whole elements, and one component of an element. */
export const HARMONIC_MEMBERS: VariableName[] = [
  ...[3, 5, 7].map((index): VariableName => ({ scope: 'domain', domain: 'ied1Inverter', item: 'MHAI1$MX$HA$phsAHar', alternate: [{ kind: 'index', index }] })),
  ...[10, 11].map(
    (index): VariableName => ({
      scope: 'domain',
      domain: 'ied1Inverter',
      item: 'MHAI1$MX$HA$phsAHar',
      alternate: [{ kind: 'index', index }, { kind: 'component', name: 'cVal' }, { kind: 'component', name: 'mag' }, { kind: 'component', name: 'f' }],
    }),
  ),
];

function inverter(): DomainModel {
  const ld = 'ied1Inverter';
  const controlBlocks: ControlBlockDef[] = [
    { ln: 'LLN0', name: 'MeterRCB01', fc: 'RP', dataSet: 'Meter', rptId: 'Meter' },
    { ln: 'LLN0', name: 'HarmonicsRCB01', fc: 'RP', dataSet: 'Harmonics', rptId: 'Harmonics' },
  ];
  const lln0 = [
    ...mod(),
    ...ens('Beh'),
    ...ens('Health'),
    ...namePlate('energy-rtu', true),
    leaf('DC', ['NamPlt', 'dU'], T.uni255, { type: 'mms-string', value: 'Wechselrichter Süd' }),
    ...controlBlocks.flatMap((cb) => controlBlock(cb, ld)),
  ];
  const mmxu = [...ens('Beh'), ...analogue('TotW', 4210.5), ...analogue('Hz', 50.01), ...analogue('TotPF', 0.98765432101, T.float64)];
  const mmtr = [
    ...ens('Beh'),
    leaf('ST', ['TotWh', 'actVal'], T.int64, { type: 'integer', value: 2n ** 53n + 7n }),
    leaf('ST', ['TotWh', 'q'], T.quality, GOOD()),
    leaf('ST', ['TotWh', 't'], T.utc, time()),
  ];
  return {
    lns: new Map([['LLN0', lln0], ['MMXU1', mmxu], ['MMTR1', mmtr], ['MHAI1', [...ens('Beh'), ...harmonics()]], ['GGIO2', controls()]]),
    dataSets: new Map([
      ['LLN0$Meter', [v(ld, 'MMXU1$MX$TotW$mag$f'), v(ld, 'MMXU1$MX$Hz$mag$f'), v(ld, 'MMTR1$ST$TotWh')]],
      ['LLN0$Harmonics', HARMONIC_MEMBERS],
    ]),
    controlBlocks,
  };
}

export function basicIoModel(): ServerModel {
  return new Map([
    ['simpleIOGenericIO', basicIo()],
    ['ied1Inverter', inverter()],
  ]);
}

/** A model with many logical nodes, for name-list paging and the benchmark. */
export function largeModel(lnCount: number): ServerModel {
  const lns = new Map<string, Leaf[]>();
  for (let i = 1; i <= lnCount; i++) lns.set(`GGIO${i}`, [...ens('Beh'), ...analogue('AnIn1', i), ...analogue('AnIn2', -i), ...sps('Ind1')]);
  return new Map([['bigLD', { lns, dataSets: new Map(), controlBlocks: [] }]]);
}
