/**
 * MMS ObjectName and VariableAccessSpecification: how requests and reports name
 * variables (a list of variables, or a named variable list = an IEC 61850 data set).
 */
import { AccessStep, decodeAlternateAccess, encodeAlternateAccess, formatSteps } from './alternate-access';
import * as ber from './ber';
import { DecodeError } from './errors';

export type ObjectName =
  | { scope: 'vmd'; item: string }
  | { scope: 'domain'; domain: string; item: string }
  | { scope: 'aa'; item: string };

/** A variable of a list: a name, optionally narrowed by alternate access (an array element, components). */
export type VariableName = ObjectName & { alternate?: AccessStep[] };

export type VariableAccess = { kind: 'list'; variables: VariableName[] } | { kind: 'named-list'; name: ObjectName };

export function domainName(domain: string, item: string): ObjectName {
  return { scope: 'domain', domain, item };
}

/** `LD/LN$FC$DO` style text for errors and logs. */
export function describeName(n: VariableName): string {
  const base = n.scope === 'domain' ? `${n.domain}/${n.item}` : n.scope === 'aa' ? `@${n.item}` : n.item;
  return n.alternate?.length ? `${base}${formatSteps(n.alternate)}` : base;
}

/** The name without its alternate access (what GetVariableAccessAttributes is asked about). */
export function baseName(n: VariableName): ObjectName {
  if (!n.alternate) return n;
  const { alternate: _steps, ...name } = n;
  return name as ObjectName;
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

export function encodeObjectName(n: ObjectName): Buffer {
  switch (n.scope) {
    case 'vmd':
      return ber.ctx(0, latin1(n.item));
    case 'domain':
      return ber.ctxC(1, ber.visible(n.domain), ber.visible(n.item));
    case 'aa':
      return ber.ctx(2, latin1(n.item));
  }
}

export function decodeObjectName(t: ber.Tlv): ObjectName {
  if (t.cls !== ber.CONTEXT) throw new DecodeError('mms', `object name ${ber.describeTag(t)} is not context-specific`, t.start);
  switch (t.tag) {
    case 0:
      return { scope: 'vmd', item: ber.decodeVisible(t, 'vmd-specific name') };
    case 1: {
      const [domain, item] = ber.children(t);
      if (!domain || !item) throw new DecodeError('mms', 'domain-specific name without domain and item', t.start);
      return { scope: 'domain', domain: ber.decodeVisible(domain, 'domain id'), item: ber.decodeVisible(item, 'item id') };
    }
    case 2:
      return { scope: 'aa', item: ber.decodeVisible(t, 'aa-specific name') };
    default:
      throw new DecodeError('mms', `object name choice [${t.tag}] is not valid`, t.start);
  }
}

/** One entry of listOfVariable: variableSpecification name [0] holding the ObjectName, then alternateAccess [5]. */
export function encodeVariable(n: VariableName): Buffer {
  const spec = ber.ctxC(0, encodeObjectName(baseName(n)));
  return n.alternate?.length ? ber.seq(spec, encodeAlternateAccess(n.alternate)) : ber.seq(spec);
}

export function decodeVariable(t: ber.Tlv): VariableName {
  const [spec, alternate] = ber.children(t);
  if (!spec) throw new DecodeError('mms', 'empty variable entry', t.start);
  if (spec.cls !== ber.CONTEXT || spec.tag !== 0) {
    throw new DecodeError('mms', `variable specification [${spec.tag}] is not supported (only names)`, spec.start);
  }
  const name = decodeObjectName(ber.inner(spec, 'variable name'));
  if (!alternate) return name;
  if (alternate.cls !== ber.CONTEXT || alternate.tag !== 5) throw new DecodeError('mms', `variable entry element ${ber.describeTag(alternate)} is not alternate access`, alternate.start);
  return { ...name, alternate: decodeAlternateAccess(alternate) };
}

export function encodeVariableAccess(a: VariableAccess): Buffer {
  return a.kind === 'list' ? ber.ctxC(0, ...a.variables.map(encodeVariable)) : ber.ctxC(1, encodeObjectName(a.name));
}

export function decodeVariableAccess(t: ber.Tlv): VariableAccess {
  if (t.cls === ber.CONTEXT && t.tag === 0) return { kind: 'list', variables: ber.children(t).map(decodeVariable) };
  if (t.cls === ber.CONTEXT && t.tag === 1) return { kind: 'named-list', name: decodeObjectName(ber.inner(t, 'variable list name')) };
  throw new DecodeError('mms', `variable access ${ber.describeTag(t)} is not valid`, t.start);
}
