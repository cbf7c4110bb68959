/**
 * The IED's data model as a tree (logical devices → logical nodes → data objects
 * → attributes with FC), built from GetNameList answers and, when fetched, the
 * type of each logical node (GetVariableAccessAttributes).
 */
import { TypeSpec } from './mms-types';
import { FC, isFc } from './reference';

export type ModelKind = 'ld' | 'ln' | 'do' | 'da' | 'dataset' | 'rcb';

export interface ModelNode {
  name: string;
  kind: ModelKind;
  fc?: FC;
  /** Basic type of an attribute: float32, int64, boolean, quality, utc-time... */
  type?: string;
  /** What to put in a poller: `LD/LN.DO.DA [FC]`, a data set `LD/LN.Name`, or an RCB `LD/LN.Name [RP]`. */
  reference?: string;
  children?: ModelNode[];
}

/** A short type name for the editor. */
export function describeType(t: TypeSpec, name = ''): string {
  switch (t.type) {
    case 'integer':
      return `int${t.bits}`;
    case 'unsigned':
      return `uint${t.bits}`;
    case 'float':
      return t.formatWidth === 64 ? 'float64' : 'float32';
    case 'bit-string':
      return name === 'q' && Math.abs(t.size) === 13 ? 'quality' : `bit-string(${Math.abs(t.size)})`;
    case 'octet-string':
    case 'visible-string':
    case 'mms-string':
      return `${t.type}(${Math.abs(t.size)})`;
    case 'structure':
      return 'struct';
    case 'array':
      return `array[${t.count}]`;
    case 'binary-time':
      return 'binary-time';
    case 'named':
      return t.item;
    default:
      return t.type;
  }
}

function child(parent: ModelNode, name: string, kind: ModelKind, fc?: FC): ModelNode {
  parent.children ??= [];
  let node = parent.children.find((c) => c.name === name && c.kind === kind && (kind === 'do' || c.fc === fc));
  if (!node) {
    node = { name, kind, ...(fc && kind !== 'do' ? { fc } : {}) };
    parent.children.push(node);
  }
  return node;
}

/** The control-block FCs: their members are RCB attributes, not data. */
const CONTROL_FCS = new Set<string>(['RP', 'BR', 'LG', 'GO', 'GS', 'MS', 'US']);

/**
 * One logical device from its variable names (`LN`, `LN$FC`, `LN$FC$DO$DA...`)
 * and its data set names (`LN$Name`).
 */
export function buildLogicalDevice(ld: string, variables: string[], dataSets: string[] = []): ModelNode {
  const root: ModelNode = { name: ld, kind: 'ld', children: [] };
  for (const item of variables) {
    const [ln, fc, ...path] = item.split('$');
    const lnNode = child(root, ln, 'ln');
    lnNode.children ??= [];
    if (!fc || !isFc(fc) || !path.length) continue;
    if (fc === 'RP' || fc === 'BR') {
      if (path.length === 1) {
        const rcb = child(lnNode, path[0], 'rcb', fc);
        rcb.reference = `${ld}/${ln}.${path[0]} [${fc}]`;
      }
      continue;
    }
    if (CONTROL_FCS.has(fc)) continue;
    let node = child(lnNode, path[0], 'do');
    for (let i = 1; i < path.length; i++) node = child(node, path[i], 'da', fc);
    if (path.length > 1) node.reference = `${ld}/${[ln, ...path].join('.')} [${fc}]`;
  }
  for (const item of dataSets) {
    const [ln, name] = item.split('$');
    if (!name) continue;
    const ds = child(child(root, ln, 'ln'), name, 'dataset');
    ds.reference = `${ld}/${ln}.${name}`;
  }
  return root;
}

/** Adds attribute types from the logical node's MMS structure (components FC → DO → DA...). */
export function applyTypes(lnNode: ModelNode, lnType: TypeSpec): void {
  if (lnType.type !== 'structure') return;
  for (const fcComp of lnType.components) {
    if (fcComp.spec.type !== 'structure') continue;
    for (const doComp of fcComp.spec.components) {
      const doNode = lnNode.children?.find((c) => c.kind === 'do' && c.name === doComp.name);
      if (doNode) typeAttributes(doNode, doComp.spec, fcComp.name);
    }
  }
}

function typeAttributes(parent: ModelNode, spec: TypeSpec, fc: string): void {
  if (spec.type !== 'structure') return;
  for (const comp of spec.components) {
    const node = parent.children?.find((c) => c.kind === 'da' && c.name === comp.name && c.fc === fc);
    if (!node) continue;
    node.type = describeType(comp.spec, comp.name);
    typeAttributes(node, comp.spec, fc);
  }
}
