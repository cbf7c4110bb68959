/**
 * MMS AlternateAccess (ISO 9506-2): a variable narrowed to an array element and/or
 * components of it, as data set members name `phsAHar(7)` or `phsAHar(10).cVal.mag.f`.
 *
 *   AlternateAccess ::= SEQUENCE OF CHOICE { unnamed AlternateAccessSelection, named [5] ... }
 *   AlternateAccessSelection ::= CHOICE {
 *     selectAlternateAccess [0] SEQUENCE { accessSelection CHOICE { component [0], index [1],
 *                                          indexRange [2], allElements [3] }, alternateAccess AlternateAccess },
 *     selectAccess CHOICE { component [1], index [2], indexRange [3], allElements [4] } }
 *
 * Steps are a flat list; a component name joined with `$` (as some servers send it) is split.
 */
import * as ber from './ber';
import { DecodeError } from './errors';
import { MmsValue } from './mms-data';
import { TypeSpec } from './mms-types';

export type AccessStep =
  | { kind: 'component'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'range'; low: number; count: number }
  | { kind: 'all' };

/** The nesting of alternate access is bounded like data. */
const MAX_STEPS = 16;

function selection(step: AccessStep, nested: boolean): Buffer {
  // Inside selectAlternateAccess the choice tags start at 0, in selectAccess at 1.
  const base = nested ? 0 : 1;
  switch (step.kind) {
    case 'component':
      return ber.ctx(base, Buffer.from(step.name, 'latin1'));
    case 'index':
      return ber.ctx(base + 1, ber.uintBytes(step.index));
    case 'range':
      return ber.ctxC(base + 2, ber.ctx(0, ber.uintBytes(step.low)), ber.ctx(1, ber.uintBytes(step.count)));
    case 'all':
      return ber.ctx(base + 3, Buffer.alloc(0));
  }
}

/** The content of an AlternateAccess (one unnamed selection, nested for each further step). */
function encodeSelection(steps: AccessStep[]): Buffer {
  const [first, ...rest] = steps;
  if (!rest.length) return selection(first, false);
  return ber.ctxC(0, selection(first, true), ber.seq(encodeSelection(rest)));
}

/** `[5] IMPLICIT AlternateAccess` of a listOfVariable entry. */
export function encodeAlternateAccess(steps: AccessStep[]): Buffer {
  if (!steps.length) throw new RangeError('alternate access without steps');
  return ber.ctxC(5, encodeSelection(steps));
}

function decodeChoice(t: ber.Tlv, nested: boolean): AccessStep[] {
  const base = nested ? 0 : 1;
  const what = 'alternate access';
  if (t.cls !== ber.CONTEXT) throw new DecodeError('mms', `${what} ${ber.describeTag(t)} is not context-specific`, t.start);
  switch (t.tag - base) {
    case 0:
      return ber
        .decodeVisible(t, 'component name')
        .split('$')
        .map((name) => ({ kind: 'component', name }));
    case 1:
      return [{ kind: 'index', index: Number(ber.uintFromBytes(t.value, 'array index', t.start)) }];
    case 2: {
      const [low, count] = ber.children(t);
      if (!ber.isCtx(low, 0) || !ber.isCtx(count, 1)) throw new DecodeError('mms', 'index range without low index and count', t.start);
      return [{ kind: 'range', low: Number(ber.uintFromBytes(low.value, 'low index')), count: Number(ber.uintFromBytes(count.value, 'element count')) }];
    }
    case 3:
      return [{ kind: 'all' }];
    default:
      throw new DecodeError('mms', `${what} choice [${t.tag}] is not valid`, t.start);
  }
}

/** Decodes the elements of an AlternateAccess into steps. */
function decodeElements(list: ber.Tlv[], depth: number): AccessStep[] {
  if (depth > MAX_STEPS) throw new DecodeError('mms', `alternate access nested deeper than ${MAX_STEPS}`);
  if (list.length !== 1) throw new DecodeError('mms', `alternate access with ${list.length} selections (only one path is supported)`, list[0]?.start);
  const t = list[0];
  if (t.cls === ber.CONTEXT && t.tag === 0 && t.constructed) {
    const [choice, nested] = ber.children(t);
    if (!choice || !nested) throw new DecodeError('mms', 'selectAlternateAccess without its selection and nested access', t.start);
    return [...decodeChoice(choice, true), ...decodeElements(ber.children(nested), depth + 1)];
  }
  if (t.cls === ber.CONTEXT && t.tag === 5 && t.constructed) {
    // named: componentName [0] then the selection; the name comes first in the path.
    const [name, choice] = ber.children(t);
    if (!ber.isCtx(name, 0) || !choice) throw new DecodeError('mms', 'named alternate access without name and selection', t.start);
    return [{ kind: 'component', name: ber.decodeVisible(name) }, ...decodeElements([choice], depth + 1)];
  }
  return decodeChoice(t, false);
}

/** The steps of `[5] IMPLICIT AlternateAccess`. */
export function decodeAlternateAccess(t: ber.Tlv): AccessStep[] {
  return decodeElements(ber.children(t), 0);
}

/** `(7)`, `(10).cVal.mag.f`: the IEC 61850 text of steps, appended to the variable's reference. */
export function formatSteps(steps: AccessStep[]): string {
  return steps
    .map((s) => (s.kind === 'component' ? `.${s.name}` : s.kind === 'index' ? `(${s.index})` : s.kind === 'range' ? `(${s.low}..${s.low + s.count - 1})` : '(*)'))
    .join('');
}

/** The type of the selected part of a variable of type `type`; undefined when the steps do not fit it. */
export function selectType(type: TypeSpec | undefined, steps: AccessStep[]): TypeSpec | undefined {
  let t = type;
  for (const s of steps) {
    if (!t) return undefined;
    if (s.kind === 'component') t = t.type === 'structure' ? t.components.find((c) => c.name === s.name)?.spec : undefined;
    else if (s.kind === 'index') t = t.type === 'array' ? t.element : undefined;
    else if (t.type !== 'array') return undefined;
    else t = s.kind === 'range' ? { ...t, count: s.count } : t;
  }
  return t;
}

/** The selected part of a value (what a server answers for a variable with alternate access). */
export function selectValue(value: MmsValue, type: TypeSpec | undefined, steps: AccessStep[]): MmsValue | undefined {
  let v: MmsValue | undefined = value;
  let t = type;
  for (const s of steps) {
    if (!v) return undefined;
    if (s.kind === 'component') {
      const i = t?.type === 'structure' ? t.components.findIndex((c) => c.name === s.name) : -1;
      if (i < 0 || v.type !== 'structure' || t?.type !== 'structure') return undefined;
      v = v.value[i];
      t = t.components[i].spec;
    } else {
      if (v.type !== 'array') return undefined;
      t = t?.type === 'array' ? t.element : undefined;
      if (s.kind === 'index') v = v.value[s.index];
      else if (s.kind === 'range') v = s.low + s.count <= v.value.length ? { type: 'array', value: v.value.slice(s.low, s.low + s.count) } : undefined;
    }
  }
  return v;
}
