/**
 * Rules from YAML: either a list of rules, or a mapping with a `rules` list.
 * Invalid YAML is one error naming the line and column; the rules from the
 * dialog keep working.
 */
import * as yaml from 'js-yaml';
import type { SpecSource } from './rules';
import type { RuleProblem } from './types';

/** js-yaml 4 merged `<<: *anchor` keys by default, js-yaml 5 only when asked; rule files written for 4 keep working. */
const SCHEMA = yaml.CORE_SCHEMA.withTags(yaml.mergeTag);

export interface YamlRules {
  specs: SpecSource[];
  problems: RuleProblem[];
}

export function specsFromYaml(text: string, name: string): YamlRules {
  if (!text.trim()) return { specs: [], problems: [] };
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: name, schema: SCHEMA });
  } catch (err) {
    const e = err as yaml.YAMLException;
    const where = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    return { specs: [], problems: [{ level: 'error', rule: name, source: name, message: `invalid YAML in ${name}${where}: ${e.reason ?? e.message}` }] };
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? (doc as { rules?: unknown }).rules : undefined;
  if (!Array.isArray(list)) {
    return {
      specs: [],
      problems: [{ level: 'error', rule: name, source: name, message: `${name} must hold a list of rules, or a "rules:" list; found ${describe(doc)}` }],
    };
  }
  const lines = itemLines(text, Array.isArray(doc));
  return {
    specs: list.map((spec, i) => ({
      spec,
      source: `${name} rule ${i + 1}${lines[i] ? ` (line ${lines[i]})` : ''}`,
    })),
    problems: [],
  };
}

function describe(doc: unknown): string {
  if (doc === null || doc === undefined) return 'nothing';
  if (typeof doc !== 'object') return `a ${typeof doc}`;
  const keys = Object.keys(doc);
  return keys.length ? `a mapping with keys ${keys.join(', ')}` : 'an empty mapping';
}

/**
 * Line numbers (1-based) of the top-level list items, so an error can point at
 * the rule in the file. A best effort: block-style lists only.
 */
function itemLines(text: string, topLevel: boolean): number[] {
  const rows = text.split(/\r?\n/);
  let start = 0;
  if (!topLevel) {
    start = rows.findIndex((r) => /^rules\s*:/.test(r)) + 1;
    if (start === 0) return [];
  }
  let indent = -1;
  const out: number[] = [];
  for (let i = start; i < rows.length; i++) {
    const m = /^(\s*)-(\s|$)/.exec(rows[i]);
    if (!m) {
      if (indent >= 0 && /^\S/.test(rows[i]) && !rows[i].startsWith('#')) break;
      continue;
    }
    if (indent < 0) indent = m[1].length;
    if (m[1].length === indent) out.push(i + 1);
  }
  return out;
}
