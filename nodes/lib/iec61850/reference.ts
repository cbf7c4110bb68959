/**
 * IEC 61850 object references and their MMS names (IEC 61850-8-1 clause 8):
 * `LD/LN.DO.DA [FC]` is domain `LD`, item `LN$FC$DO$DA`. Data sets are
 * `LD/LN.Name` (item `LN$Name`), report control blocks `LD/LN.Name [RP|BR]`.
 */
import { AccessStep } from './alternate-access';
import { ObjectName, VariableName } from './mms-names';

export const FUNCTIONAL_CONSTRAINTS = [
  'ST', 'MX', 'SP', 'SV', 'CF', 'DC', 'SG', 'SE', 'SR', 'OR', 'BL', 'EX', 'CO', 'US', 'MS', 'RP', 'BR', 'LG', 'GO', 'GS',
] as const;
export type FC = (typeof FUNCTIONAL_CONSTRAINTS)[number];

export interface DataReference {
  ld: string;
  ln: string;
  /**
   * Data object, then nested attributes: ['TotW', 'mag', 'f']. May be empty (the whole FC of the LN).
   * An array element carries its index: ['HA', 'phsAHar(7)', 'cVal', 'mag', 'f'].
   */
  path: string[];
  fc: FC;
}

const NAME = /^[A-Za-z0-9_-]+$/;
/** A path element, optionally an array element: `phsAHar(7)`. */
const ELEMENT = /^([A-Za-z0-9_-]+)(?:\((\d{1,9})\))?$/;
const MAX_MMS_IDENTIFIER = 64;

export function isFc(text: string): text is FC {
  return (FUNCTIONAL_CONSTRAINTS as readonly string[]).includes(text);
}

/** The reference as an integrator writes it: `LD/LN.DO.DA [FC]`. */
export function formatReference(r: DataReference): string {
  return `${r.ld}/${[r.ln, ...r.path].join('.')} [${r.fc}]`;
}

/** The point name a reading uses when the integrator gives none: `LN.DO.DA`. */
export function defaultPointName(r: DataReference): string {
  return [r.ln, ...r.path].join('.');
}

/** The MMS item of the reference up to its first array element; what follows is alternate access. */
export function mmsItem(r: DataReference): string {
  if (!hasElement(r)) return [r.ln, r.fc, ...r.path].join('$');
  const names: string[] = [];
  for (const part of r.path) {
    const m = ELEMENT.exec(part);
    names.push(m ? m[1] : part);
    if (m?.[2] !== undefined) break;
  }
  return [r.ln, r.fc, ...names].join('$');
}

/** Alternate access of a reference that selects array elements (none for plain references). */
export function alternateSteps(r: DataReference): AccessStep[] {
  const steps: AccessStep[] = [];
  for (const part of r.path) {
    const m = ELEMENT.exec(part);
    if (steps.length) steps.push({ kind: 'component', name: m ? m[1] : part });
    if (m?.[2] !== undefined) steps.push({ kind: 'index', index: Number(m[2]) });
  }
  return steps;
}

/** Reads name thousands of references a second: the plain ones skip the element parsing. */
function hasElement(r: DataReference): boolean {
  return r.path.some((p) => p.includes('('));
}

export function toObjectName(r: DataReference): VariableName {
  const name: VariableName = { scope: 'domain', domain: r.ld, item: mmsItem(r) };
  if (!hasElement(r)) return name;
  const steps = alternateSteps(r);
  return steps.length ? { ...name, alternate: steps } : name;
}

/**
 * Parses `LD/LN.DO.DA [FC]` (space optional, FC also as `(FC)` or `.FC` suffix-free MMS
 * form `LD/LN$FC$DO$DA`). Throws RangeError saying what is wrong with the text.
 */
export function parseReference(text: string): DataReference {
  const raw = String(text ?? '').trim();
  const fail = (why: string): never => {
    throw new RangeError(`reference "${raw}" ${why}; expected LD/LN.DO.DA [FC], e.g. ied1Inverter/MMXU1.TotW.mag.f [MX]`);
  };
  const slash = raw.indexOf('/');
  if (slash <= 0) fail('has no logical device (LD/...)');
  const ld = raw.slice(0, slash);
  let rest = raw.slice(slash + 1).trim();
  let fc: string | undefined;
  const bracket = /\s*[[(]\s*([A-Za-z]{2})\s*[\])]\s*$/.exec(rest);
  if (bracket) {
    fc = bracket[1].toUpperCase();
    rest = rest.slice(0, bracket.index);
  }
  let parts: string[];
  if (rest.includes('$')) {
    const mms = rest.split('$');
    if (fc) fail('mixes MMS form ($) with a bracketed FC');
    fc = mms[1];
    parts = [mms[0], ...mms.slice(2)];
  } else {
    parts = rest.split('.');
  }
  if (!fc) fail('has no functional constraint');
  if (!isFc(fc as string)) fail(`has unknown functional constraint "${fc}" (one of ${FUNCTIONAL_CONSTRAINTS.join(', ')})`);
  if (!NAME.test(ld)) fail(`has an invalid logical device name "${ld}"`);
  parts.forEach((p, i) => {
    if (!(i === 0 ? NAME : ELEMENT).test(p)) fail(p ? `has an invalid name "${p}"` : 'has an empty name between separators');
  });
  const r: DataReference = { ld, ln: parts[0], path: parts.slice(1), fc: fc as FC };
  if (mmsItem(r).length > MAX_MMS_IDENTIFIER) fail(`is longer than ${MAX_MMS_IDENTIFIER} characters in MMS form`);
  return r;
}

export interface ListReference {
  ld: string;
  /** The MMS item of the list: `LN$Name`. */
  item: string;
}

/** A data set `LD/LN.Name` (or MMS `LD/LN$Name`). */
export function parseDataSetReference(text: string): ListReference {
  const raw = String(text ?? '').trim();
  const m = /^([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)[.$]([A-Za-z0-9_-]+)$/.exec(raw);
  if (!m) throw new RangeError(`data set "${raw}" is not LD/LN.Name, e.g. simpleIOGenericIO/LLN0.Events`);
  return { ld: m[1], item: `${m[2]}$${m[3]}` };
}

export function formatDataSet(l: ListReference): string {
  return `${l.ld}/${l.item.replace('$', '.')}`;
}

export interface ControlBlockReference {
  ld: string;
  ln: string;
  name: string;
  fc: 'RP' | 'BR';
}

/** A report control block: `LD/LN.Name [RP]` or MMS `LD/LN$RP$Name`. */
export function parseControlBlockReference(text: string): ControlBlockReference {
  const r = parseReference(text);
  if ((r.fc !== 'RP' && r.fc !== 'BR') || r.path.length !== 1) {
    throw new RangeError(`report control block "${String(text).trim()}" is not LD/LN.Name [RP] or [BR], e.g. simpleIOGenericIO/LLN0.EventsRCB01 [RP]`);
  }
  return { ld: r.ld, ln: r.ln, name: r.path[0], fc: r.fc };
}

export function controlBlockAttribute(cb: ControlBlockReference, attribute: string): ObjectName {
  return { scope: 'domain', domain: cb.ld, item: `${cb.ln}$${cb.fc}$${cb.name}$${attribute}` };
}

export function formatControlBlock(cb: ControlBlockReference): string {
  return `${cb.ld}/${cb.ln}.${cb.name} [${cb.fc}]`;
}

/** A data set name as RCBs and reports carry it (`LD/LN$Name`) → domain and item. */
export function parseMmsListName(text: string): ListReference | undefined {
  const m = /^([^/]+)\/(.+)$/.exec(text);
  return m ? { ld: m[1], item: m[2] } : undefined;
}

/** The IEC 61850 reference of an MMS variable name: domain `LD`, item `LN$FC$DO$DA`. */
export function fromObjectName(n: VariableName): DataReference | undefined {
  if (n.scope !== 'domain') return undefined;
  const parts = n.item.split('$');
  if (parts.length < 2 || !isFc(parts[1])) return undefined;
  const path = parts.slice(2);
  for (const s of n.alternate ?? []) {
    if (s.kind === 'component') path.push(s.name);
    else if (!path.length) return undefined;
    else path[path.length - 1] += s.kind === 'index' ? `(${s.index})` : s.kind === 'range' ? `(${s.low}..${s.low + s.count - 1})` : '(*)';
  }
  return { ld: n.domain, ln: parts[0], fc: parts[1], path };
}
