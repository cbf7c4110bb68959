/**
 * Plausibility of decoded values, by point name and unit: what "verify
 * configuration" uses to catch a wrong register map, byte order or scale
 * before a site goes live (a voltage of 2.3e-41 V is a word-order mistake, an
 * energy counter that runs backwards is a wrong data type).
 *
 * The built-in rules describe a low-voltage site (230/400 V, 50/60 Hz). Sites
 * that differ (medium voltage through PTs, DC plants) add their own limits by
 * point pattern; those take precedence over the built-in rules.
 */
import { compilePattern, NameMatcher } from './alert/glob';
import type { PointValue } from './reading';

export interface PlausibilityRule {
  id: string;
  /** What the rule is about, in the words the flag uses ("voltage L-N"). */
  what: string;
  applies(point: string, unit: string): boolean;
  /** Limits in the rule's base unit (V, A, Hz, ...); the value is scaled from its unit's prefix first. */
  min?: number;
  max?: number;
  /** Counters: a new value below the previous one is flagged. */
  neverDecreases?: boolean;
}

/** A site's own limit, as typed in the editor: a point name or pattern (`*`, `?`) and bounds in the point's own unit. */
export interface PointLimit {
  point: string;
  min?: number;
  max?: number;
}

export interface PlausibilityFlag {
  rule: string;
  text: string;
}

const PREFIX: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9 };

/** Splits "kV" into its prefix factor and base unit, for the families the rules know. */
export function baseUnit(unit: string): { base: string; factor: number } {
  const u = unit.trim();
  const m = /^([mkMG]?)(V|A|Hz|Wh|varh|VArh|VAh|W|var|VA)$/.exec(u);
  if (!m) return { base: u, factor: 1 };
  return { base: m[2] === 'VArh' ? 'varh' : m[2], factor: m[1] ? PREFIX[m[1]] : 1 };
}

const has = (re: RegExp) => (point: string) => re.test(point.toLowerCase());
const isPhaseToNeutral = has(/(^|_)(l[123]_?n|[123]_?n|ln|phase_?n|[abc]_?n)(_|$)|_ln_|ln_avg/);
const isPhaseToPhase = has(/(^|_)(l1_?l2|l2_?l3|l3_?l1|l12|l23|l31|ll|12|23|31)(_|$)|ll_avg/);
const isThd = has(/(^|_)thd/);
const isPowerFactor = has(/power_?factor|(^|_)pf(_|$)|cos_?phi/);
const isFrequency = has(/freq/);
const isUnbalance = has(/unbalance|imbalance/);
const isTemperature = has(/temp/);

/** The built-in rules, first match wins. */
const DEFAULT_RULES: readonly PlausibilityRule[] = [
  { id: 'thd-voltage', what: 'voltage THD', applies: (p, u) => isThd(p) && p.includes('volt') && u === '%', min: 0, max: 100 },
  { id: 'thd', what: 'THD', applies: (p, u) => isThd(p) && u === '%', min: 0 },
  { id: 'unbalance', what: 'unbalance', applies: (p, u) => isUnbalance(p) && u === '%', min: 0, max: 100 },
  { id: 'power-factor', what: 'power factor', applies: (p, u) => isPowerFactor(p) && (u === '' || u === 'PF'), min: -1, max: 1 },
  { id: 'frequency', what: 'frequency', applies: (p, u) => baseUnit(u).base === 'Hz' || (u === '' && isFrequency(p)), min: 45, max: 65 },
  { id: 'voltage-ln', what: 'voltage L-N', applies: (p, u) => baseUnit(u).base === 'V' && isPhaseToNeutral(p), min: 80, max: 300 },
  { id: 'voltage-ll', what: 'voltage L-L', applies: (p, u) => baseUnit(u).base === 'V' && isPhaseToPhase(p), min: 140, max: 520 },
  { id: 'voltage', what: 'voltage', applies: (_p, u) => baseUnit(u).base === 'V', min: 0 },
  { id: 'current', what: 'current', applies: (_p, u) => baseUnit(u).base === 'A', min: 0 },
  {
    id: 'energy-counter',
    what: 'energy counter',
    applies: (_p, u) => ['Wh', 'varh', 'VAh'].includes(baseUnit(u).base),
    min: 0,
    neverDecreases: true,
  },
  { id: 'hour-counter', what: 'hour counter', applies: (p, u) => u === 'h' && /hour/.test(p), min: 0, neverDecreases: true },
  { id: 'temperature', what: 'temperature', applies: (p, u) => u === '°C' || (u === 'C' && isTemperature(p)), min: -40, max: 125 },
];

function show(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(10)));
}

function showRange(rule: Pick<PlausibilityRule, 'min' | 'max'>, unit: string): string {
  const u = unit ? ` ${unit}` : '';
  if (rule.min !== undefined && rule.max !== undefined) return `${show(rule.min)}..${show(rule.max)}${u}`;
  if (rule.min !== undefined) return `≥ ${show(rule.min)}${u}`;
  return `≤ ${show(rule.max as number)}${u}`;
}

export class PlausibilityChecker {
  private readonly limits: Array<PointLimit & { matches: NameMatcher }>;

  constructor(limits: readonly PointLimit[] = [], private readonly rules: readonly PlausibilityRule[] = DEFAULT_RULES) {
    this.limits = limits.map((l) => ({ ...l, matches: compilePattern(l.point) }));
  }

  /** The rule that applies to a point, or undefined when none does (status words, counts of events). */
  ruleFor(point: string, unit: string): PlausibilityRule | PointLimit | undefined {
    return this.limits.find((l) => l.matches(point)) ?? this.rules.find((r) => r.applies(point, unit));
  }

  /**
   * Checks one value; `previous` is the value from the reading before, for counters.
   * Returns why the value is implausible, or undefined when it is fine (or no rule applies).
   */
  check(point: string, unit: string | undefined, value: PointValue | undefined, previous?: PointValue): PlausibilityFlag | undefined {
    const u = unit ?? '';
    if (value === null || value === undefined) return { rule: 'no-value', text: 'no value (the read or the decoding failed)' };
    if (typeof value !== 'number') return undefined;
    if (!Number.isFinite(value)) return { rule: 'not-finite', text: `${String(value)} is not a finite number (wrong data type or byte order?)` };
    const limit = this.limits.find((l) => l.matches(point));
    if (limit) {
      if ((limit.min !== undefined && value < limit.min) || (limit.max !== undefined && value > limit.max)) {
        return { rule: `limit ${limit.point}`, text: `${show(value)} ${u} is outside the site limit ${showRange(limit, u)}`.replace(/ {2}/g, ' ') };
      }
      return undefined;
    }
    const rule = this.rules.find((r) => r.applies(point, u));
    if (!rule) return undefined;
    const { base, factor } = baseUnit(u);
    const scaled = value * factor;
    if ((rule.min !== undefined && scaled < rule.min) || (rule.max !== undefined && scaled > rule.max)) {
      const shown = u ? `${show(value)} ${u}` : show(value);
      return { rule: rule.id, text: `${shown} is outside the plausible range for a ${rule.what} (${showRange(rule, factor === 1 ? u : base)})` };
    }
    if (rule.neverDecreases && typeof previous === 'number' && Number.isFinite(previous) && value < previous) {
      return { rule: `${rule.id}-decreasing`, text: `${rule.what} went down from ${show(previous)} to ${show(value)} ${u} (counter reset, or wrong data type?)`.trimEnd() };
    }
    return undefined;
  }
}

/** Checks the limits typed in the editor; returns problems naming the row and field. */
export function validateLimits(rows: unknown, where: string): { limits: PointLimit[]; errors: string[] } {
  const limits: PointLimit[] = [];
  const errors: string[] = [];
  if (rows === undefined || rows === null || rows === '') return { limits, errors };
  if (!Array.isArray(rows)) return { limits, errors: [`${where}: plausibility limits must be a list, got ${typeof rows}`] };
  rows.forEach((raw, i) => {
    const row = (raw ?? {}) as Record<string, unknown>;
    const at = `${where}: limit ${i + 1}`;
    const point = typeof row.point === 'string' ? row.point.trim() : '';
    if (!point) return void errors.push(`${at}: point name or pattern is empty`);
    const num = (field: 'min' | 'max'): number | undefined => {
      const v = row[field];
      if (v === undefined || v === null || v === '') return undefined;
      const n = Number(v);
      if (!Number.isFinite(n)) errors.push(`${at} (${point}): ${field} "${String(v)}" is not a number`);
      return Number.isFinite(n) ? n : undefined;
    };
    const min = num('min');
    const max = num('max');
    if (min === undefined && max === undefined) return void errors.push(`${at} (${point}): give a min, a max or both`);
    if (min !== undefined && max !== undefined && min > max) return void errors.push(`${at} (${point}): min ${min} is above max ${max}`);
    limits.push({ point, min, max });
  });
  return { limits, errors };
}
