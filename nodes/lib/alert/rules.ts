/**
 * Rule validation: turns what a user wrote (dialog rows, YAML) into rules the
 * engine can trust. A bad rule is left out with an error naming the rule, the
 * field and the value; every other rule keeps working.
 */
import type { PointValue } from '../reading';
import {
  CATEGORIES,
  Category,
  DEVICE_POINT,
  Rule,
  RULE_KINDS,
  RuleKind,
  RuleProblem,
  SEVERITIES,
  Severity,
} from './types';

export interface RuleSet {
  rules: Rule[];
  problems: RuleProblem[];
}

/** Where a spec came from, shown in errors. */
export interface SpecSource {
  spec: unknown;
  source: string;
}

const KNOWN_FIELDS = new Set([
  'id', 'device', 'point', 'profile', 'model', 'line', 'type', 'limit', 'low', 'high', 'value', 'per',
  'direction', 'timeout', 'deadband', 'onDelay', 'offDelay', 'severity', 'category', 'text', 'enabled',
]);

const DEFAULT_SEVERITY: Record<RuleKind, Severity> = {
  highHigh: 'critical',
  lowLow: 'critical',
  high: 'major',
  low: 'major',
  band: 'major',
  state: 'major',
  offline: 'major',
  rate: 'minor',
  stale: 'warning',
};

class SpecError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** Validates every spec, then disables pairs of rules whose limits contradict each other. */
export function validateRules(specs: SpecSource[]): RuleSet {
  const problems: RuleProblem[] = [];
  const rules: Rule[] = [];
  const ids = new Set<string>();
  for (const { spec, source } of specs) {
    const label = ruleLabel(spec, source);
    try {
      const rule = validateRule(spec, source);
      if (!rule) continue;
      warnUnknownFields(spec as Record<string, unknown>, rule, problems);
      rule.id = uniqueId(rule, ids, problems);
      ids.add(rule.id);
      rules.push(rule);
    } catch (err) {
      const field = err instanceof SpecError ? err.field : undefined;
      problems.push({ level: 'error', rule: label, source, field, message: `${source}: ${(err as Error).message}` });
    }
  }
  const contradicted = findContradictions(rules, problems);
  return { rules: rules.filter((r) => !contradicted.has(r)), problems };
}

function ruleLabel(spec: unknown, source: string): string {
  const id = spec && typeof spec === 'object' ? (spec as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id ? id : source;
}

/** Returns undefined for a rule switched off with `enabled: false`. */
function validateRule(raw: unknown, source: string): Rule | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SpecError('', `a rule must be an object with at least "type", got ${JSON.stringify(raw)}`);
  }
  const spec = raw as Record<string, unknown>;
  if (spec.enabled === false || spec.enabled === 'false') return undefined;
  const kind = oneOf<RuleKind>(spec, 'type', RULE_KINDS, undefined);
  const device = optionalText(spec, 'device') ?? '*';
  const point = kind === 'offline' ? DEVICE_POINT : optionalText(spec, 'point');
  if (!point) throw new SpecError('point', `"point" is required for a ${kind} rule (a point name or pattern such as "voltage_l*")`);
  const rule: Rule = {
    id: optionalText(spec, 'id') ?? '',
    kind,
    device,
    point,
    profile: optionalText(spec, 'profile'),
    model: optionalText(spec, 'model'),
    line: optionalText(spec, 'line'),
    limit: NaN,
    low: NaN,
    high: NaN,
    value: null,
    per: optionalNumber(spec, 'per', { min: 0, exclusive: true }) ?? 1,
    direction: oneOf(spec, 'direction', ['rise', 'fall', 'both'] as const, 'both'),
    timeoutMs: 0,
    deadband: optionalNumber(spec, 'deadband', { min: 0 }) ?? 0,
    onDelayMs: (optionalNumber(spec, 'onDelay', { min: 0 }) ?? 0) * 1000,
    offDelayMs: (optionalNumber(spec, 'offDelay', { min: 0 }) ?? 0) * 1000,
    severity: oneOf<Severity>(spec, 'severity', SEVERITIES, DEFAULT_SEVERITY[kind]),
    category: oneOf<Category>(spec, 'category', CATEGORIES, kind === 'stale' || kind === 'offline' ? 'communication' : 'power'),
    text: optionalText(spec, 'text'),
    source,
  };
  fillLimits(rule, spec);
  if (!rule.id) rule.id = derivedId(rule);
  return rule;
}

function fillLimits(rule: Rule, spec: Record<string, unknown>): void {
  switch (rule.kind) {
    case 'high':
    case 'highHigh':
    case 'low':
    case 'lowLow':
      rule.limit = requiredNumber(spec, 'limit', rule.kind);
      break;
    case 'rate':
      rule.limit = requiredNumber(spec, 'limit', rule.kind);
      if (rule.limit <= 0) throw new SpecError('limit', `"limit" of a rate rule is a change per ${rule.per} s and must be above 0, got ${rule.limit}`);
      break;
    case 'band': {
      rule.low = requiredNumber(spec, 'low', rule.kind);
      rule.high = requiredNumber(spec, 'high', rule.kind);
      if (rule.low >= rule.high) {
        throw new SpecError('low', `contradictory limits: low ${rule.low} is not below high ${rule.high}`);
      }
      if (rule.deadband * 2 >= rule.high - rule.low) {
        throw new SpecError('deadband', `deadband ${rule.deadband} is too wide for the band ${rule.low} .. ${rule.high}: the alert could never clear`);
      }
      break;
    }
    case 'state':
      rule.value = stateValue(spec);
      break;
    case 'stale':
      rule.timeoutMs = requiredNumber(spec, 'timeout', rule.kind) * 1000;
      if (rule.timeoutMs <= 0) throw new SpecError('timeout', `"timeout" must be above 0 seconds, got ${spec.timeout}`);
      break;
    case 'offline':
      rule.timeoutMs = (optionalNumber(spec, 'timeout', { min: 0, exclusive: true }) ?? 0) * 1000;
      break;
  }
}

function stateValue(spec: Record<string, unknown>): PointValue {
  const v = spec.value;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  throw new SpecError('value', `"value" (the alarm value: a number, text or true/false) is required for a state rule, got ${JSON.stringify(v)}`);
}

function derivedId(rule: Rule): string {
  const scope = [rule.profile, rule.model, rule.line].filter(Boolean).join(',');
  return `${rule.kind}@${rule.device}${scope ? `[${scope}]` : ''}:${rule.point}`;
}

function uniqueId(rule: Rule, ids: Set<string>, problems: RuleProblem[]): string {
  if (!ids.has(rule.id)) return rule.id;
  let n = 2;
  while (ids.has(`${rule.id}#${n}`)) n++;
  problems.push({
    level: 'warning',
    rule: rule.id,
    source: rule.source,
    field: 'id',
    message: `${rule.source}: rule id "${rule.id}" is used twice; this one runs as "${rule.id}#${n}"`,
  });
  return `${rule.id}#${n}`;
}

function warnUnknownFields(spec: Record<string, unknown>, rule: Rule, problems: RuleProblem[]): void {
  for (const key of Object.keys(spec)) {
    if (KNOWN_FIELDS.has(key)) continue;
    problems.push({
      level: 'warning',
      rule: rule.id,
      source: rule.source,
      field: key,
      message: `${rule.source}: unknown field "${key}" in rule "${rule.id}" (ignored; known fields: ${[...KNOWN_FIELDS].join(', ')})`,
    });
  }
}

function optionalText(spec: Record<string, unknown>, field: string): string | undefined {
  const v = spec[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number') return String(v);
  throw new SpecError(field, `"${field}" must be text, got ${JSON.stringify(v)}`);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

function requiredNumber(spec: Record<string, unknown>, field: string, kind: RuleKind): number {
  const n = toNumber(spec[field]);
  if (!Number.isFinite(n)) {
    throw new SpecError(field, `"${field}" must be a number for a ${kind} rule, got ${JSON.stringify(spec[field])}`);
  }
  return n;
}

function optionalNumber(
  spec: Record<string, unknown>,
  field: string,
  range: { min: number; exclusive?: boolean },
): number | undefined {
  const v = spec[field];
  if (v === undefined || v === null || v === '') return undefined;
  const n = toNumber(v);
  const below = range.exclusive ? n <= range.min : n < range.min;
  if (!Number.isFinite(n) || below) {
    throw new SpecError(field, `"${field}" must be a number ${range.exclusive ? 'above' : 'of at least'} ${range.min}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function oneOf<T extends string>(spec: Record<string, unknown>, field: string, allowed: readonly T[], fallback: T | undefined): T {
  const v = spec[field];
  if ((v === undefined || v === null || v === '') && fallback !== undefined) return fallback;
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  throw new SpecError(field, `"${field}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

/**
 * Rules on the same selector whose limits cannot both make sense (a low limit
 * at or above a high one, a high-high below the high) are both disabled: the
 * engine cannot tell which one the user meant.
 */
function findContradictions(rules: Rule[], problems: RuleProblem[]): Set<Rule> {
  const groups = new Map<string, Rule[]>();
  for (const r of rules) {
    const key = [r.device, r.point, r.profile, r.model, r.line].join('\u0000');
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  const bad = new Set<Rule>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (const a of group) {
      for (const b of group) {
        if (a === b) continue;
        const reason = contradiction(a, b);
        if (!reason || (bad.has(a) && bad.has(b))) continue;
        bad.add(a);
        bad.add(b);
        problems.push({
          level: 'error',
          rule: a.id,
          source: `${a.source}, ${b.source}`,
          field: 'limit',
          device: a.device,
          point: a.point,
          message: `contradictory limits on ${a.device}/${a.point}: ${reason}; both rules "${a.id}" and "${b.id}" are disabled`,
        });
      }
    }
  }
  return bad;
}

function lowLimit(r: Rule): number | undefined {
  if (r.kind === 'low' || r.kind === 'lowLow') return r.limit;
  if (r.kind === 'band') return r.low;
  return undefined;
}

function highLimit(r: Rule): number | undefined {
  if (r.kind === 'high' || r.kind === 'highHigh') return r.limit;
  if (r.kind === 'band') return r.high;
  return undefined;
}

function limitName(r: Rule, side: 'low' | 'high'): string {
  return r.kind === 'band' ? `band ${side}` : `${r.kind} limit`;
}

function contradiction(a: Rule, b: Rule): string | undefined {
  const lo = lowLimit(a);
  const hi = highLimit(b);
  if (lo !== undefined && hi !== undefined && lo >= hi) {
    return `${limitName(a, 'low')} ${lo} of "${a.id}" is not below ${limitName(b, 'high')} ${hi} of "${b.id}"`;
  }
  if (a.kind === 'highHigh' && b.kind === 'high' && a.limit < b.limit) {
    return `highHigh limit ${a.limit} is below high limit ${b.limit}`;
  }
  if (a.kind === 'lowLow' && b.kind === 'low' && a.limit > b.limit) {
    return `lowLow limit ${a.limit} is above low limit ${b.limit}`;
  }
  return undefined;
}
