/**
 * Deploy-time TypedInput values: a field typed in the dialog, or looked up once at deploy from
 * an environment variable or context, so one flow serves many sites with per-site values.
 * Flows saved before a field had a type carry no `<field>Type`: they keep the plain value,
 * untouched, and the node parses it exactly as before.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';

export type PlainType = 'str' | 'num';
export type LookupType = 'env' | 'global' | 'flow';
export type DeployType = PlainType | LookupType;

/** Looks a name up at deploy (no message: msg sources make no sense for deploy-time config). */
export type Lookup = (name: string, type: LookupType) => unknown;

export function deployLookup(RED: NodeAPI, node: Node): Lookup {
  return (name, type) => RED.util.evaluateNodeProperty(name, type, node, undefined as unknown as NodeMessage);
}

/** One typed field of a node's config. `types[0]` is the plain type old flows imply. */
export interface TypedField {
  /** The field's name as errors show it: "port", "chat id". */
  field: string;
  value: unknown;
  /** The `<field>Type` property; undefined in flows saved before the field was typed. */
  type: unknown;
  types: readonly DeployType[];
}

interface LookedUp {
  found: unknown;
  /** "port from env SCADA_PORT" */
  source: string;
}

function sourceType(f: TypedField): DeployType {
  const t = f.type === undefined || f.type === null || f.type === '' ? f.types[0] : String(f.type);
  if (!(f.types as readonly string[]).includes(t)) throw new Error(`${f.field}: value source "${t}" is not one of ${f.types.join(', ')}`);
  return t as DeployType;
}

function lookUp(f: TypedField, type: LookupType, lookup: Lookup): LookedUp {
  const name = String(f.value ?? '').trim();
  const source = `${f.field} from ${type}`;
  if (!name) throw new Error(`${source}: no ${type === 'env' ? 'environment variable' : `${type} context key`} named`);
  let found: unknown;
  try {
    found = lookup(name, type);
  } catch (err) {
    throw new Error(`${source} ${name}: ${(err as Error).message}`);
  }
  return { found, source: `${source} ${name}` };
}

function shown(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * A text field. Plain: the configured text as it is. Looked up: a string (or a number, taken as
 * its digits); `required` refuses an empty one, naming the lookup and what it returned.
 */
export function typedText(f: TypedField, lookup: Lookup, required: boolean): string {
  const type = sourceType(f);
  if (type === 'str' || type === 'num') return String(f.value ?? '');
  const { found, source } = lookUp(f, type, lookup);
  if (typeof found === 'number' && Number.isFinite(found)) return String(found);
  if (typeof found !== 'string' && !(found === undefined && !required)) throw new Error(`${source} is ${shown(found)} — not a text`);
  const text = (found ?? '').trim();
  if (required && !text) throw new Error(`${source} is ${shown(found)} — empty`);
  return text;
}

/** The range a looked-up number must be in; plain numbers keep the node's own checks. */
export interface NumberRange {
  min: number;
  max: number;
}

/**
 * A number field. Plain: the configured value as it is (string or number), for the node's own
 * parsing. Looked up: a whole number in range, or an error naming the lookup and what it returned.
 */
export function typedNumber(f: TypedField, lookup: Lookup, range: NumberRange): unknown {
  const type = sourceType(f);
  if (type === 'str' || type === 'num') return f.value;
  const { found, source } = lookUp(f, type, lookup);
  const n = typeof found === 'number' ? found : typeof found === 'string' && found.trim() !== '' ? Number(found) : NaN;
  if (!Number.isInteger(n) || n < range.min || n > range.max) throw new Error(`${source} is ${shown(found)} — not a whole number in ${range.min}..${range.max}`);
  return n;
}
