/** Small typed readers for a parsed YAML document that collect errors with their field path. */
import type { FieldPath } from './yaml-positions';

export interface FieldIssue {
  path: FieldPath;
  message: string;
}

export type Plain = Record<string, unknown>;

export function isPlain(v: unknown): v is Plain {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `"${v}"` : String(v);
}

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

export class FieldReader {
  readonly issues: FieldIssue[] = [];

  fail(path: FieldPath, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  mapping(v: unknown, path: FieldPath, known: readonly string[]): Plain | undefined {
    if (!isPlain(v)) return this.fail(path, `expected a mapping, found ${describe(v)}`);
    for (const key of Object.keys(v)) {
      if (!known.includes(key)) this.fail([...path, key], `unknown field; known fields are ${known.join(', ')}`);
    }
    return v;
  }

  list(v: unknown, path: FieldPath, required = false): unknown[] | undefined {
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v)) return this.fail(path, `expected a list, found ${describe(v)}`);
    return v;
  }

  string(v: unknown, path: FieldPath, required = false): string | undefined {
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.trim() === '') return this.fail(path, `expected a non-empty text, found ${describe(v)}`);
    return v;
  }

  strings(v: unknown, path: FieldPath): string[] {
    const items = this.list(v, path) ?? [];
    return items.map((item, i) => this.string(item, [...path, i], true)).filter((s): s is string => s !== undefined);
  }

  integer(v: unknown, path: FieldPath, min: number, max: number, required = false): number | undefined {
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      return this.fail(path, `expected a whole number in ${min}..${max}, found ${describe(v)}`);
    }
    return v;
  }

  number(v: unknown, path: FieldPath): number | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail(path, `expected a number, found ${describe(v)}`);
    return v;
  }

  boolean(v: unknown, path: FieldPath): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return this.fail(path, `expected true or false, found ${describe(v)}`);
    return v;
  }

  oneOf<T extends string | number>(v: unknown, path: FieldPath, allowed: readonly T[], what: string, required = false): T | undefined {
    if (v === undefined && !required) return undefined;
    if (!allowed.includes(v as T)) {
      return this.fail(path, `${describe(v)} is not a known ${what}; use one of ${allowed.join(', ')}`);
    }
    return v as T;
  }
}
