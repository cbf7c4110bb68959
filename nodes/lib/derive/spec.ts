/**
 * What a user writes for rtu-derive (in the editor's tables, or in a registry
 * profile), and its validation: every problem names the row, the field and, for
 * expressions, the position, and a bad row is left out while the others run.
 */
import { INTERVAL_MINUTES } from './clock';
import { compileExpression } from './expression-compile';
import { ExpressionError } from './expression-parse';
import { PointTable } from './point-table';

export interface DerivedPointSpec {
  /** Device name or pattern (`meter-*`) whose readings get this point; for site points, the name of the site device. */
  device?: string;
  name: string;
  expression: string;
  unit?: string;
  description?: string;
  /** A site point: computed on the node's interval from other devices' points, emitted as its own device. */
  site?: boolean;
}

export type DemandKind = 'none' | 'fixed' | 'sliding';

export interface IntervalSpec {
  /** Device name or pattern; default every device. */
  device?: string;
  /** The energy counter point. */
  point: string;
  minutes: number;
  /** Name of the interval energy point; default `<point>_<minutes>min`. */
  name?: string;
  demand?: DemandKind;
  /** Sliding demand: the window in intervals (3 × 5 min = a 15-minute window moving every 5 minutes). */
  window?: number;
  /** The counter value at which the meter wraps to zero (e.g. 99999999.9). */
  rollover?: number;
  /** Seconds between readings beyond which the gap is marked instead of interpolated; default one interval. */
  maxGap?: number;
}

export interface DeriveSpec {
  points?: unknown[];
  intervals?: unknown[];
}

export interface DeriveProblem {
  /** `point row 2`, `interval row 1`, `model x/y profile z derived point w`. */
  row: string;
  field: string;
  message: string;
  /** 0-based character offset in the expression, for expression problems. */
  position?: number;
}

export function problemText(p: DeriveProblem): string {
  return `${p.row}, ${p.field}: ${p.message}`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const PLACEHOLDER_DEVICE = '\u0000device';

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  return Number.isFinite(n) ? n : NaN;
}

export function checkPointName(name: string, row: string, field: string, problems: DeriveProblem[]): boolean {
  if (!name) problems.push({ row, field, message: 'is empty' });
  else if (!NAME.test(name) || RESERVED.has(name)) problems.push({ row, field, message: `"${name}" is not a usable point name (letters, digits and _, not starting with a digit)` });
  else return true;
  return false;
}

/** Parses and compiles an expression against a scratch table to find every error before any reading. */
export function checkExpression(expression: string, site: boolean, row: string, problems: DeriveProblem[], knownPoints?: ReadonlySet<string>): boolean {
  try {
    compileExpression(expression, { table: new PointTable(), device: site ? undefined : PLACEHOLDER_DEVICE, knownPoints });
    return true;
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    problems.push({ row, field: 'expression', message: `${err.message} in "${expression}"`, position: err.position });
    return false;
  }
}

export function validatePoints(rows: unknown[], problems: DeriveProblem[]): DerivedPointSpec[] {
  const out: DerivedPointSpec[] = [];
  const seen = new Set<string>();
  rows.forEach((raw, i) => {
    const row = `point row ${i + 1}`;
    const r = (raw ?? {}) as Record<string, unknown>;
    const name = str(r.name);
    const expression = str(r.expression);
    const site = r.site === true || r.site === 'true';
    const device = str(r.device);
    const before = problems.length;
    checkPointName(name, row, 'name', problems);
    if (!expression) problems.push({ row, field: 'expression', message: 'is empty' });
    else checkExpression(expression, site, row, problems);
    if (site && (!device || /[*?]/.test(device))) problems.push({ row, field: 'device', message: 'a site point needs the plain name of the device it is emitted as' });
    const key = `${site ? 'site' : 'device'}\u0000${device}\u0000${name}`;
    if (seen.has(key)) problems.push({ row, field: 'name', message: `"${name}" is defined twice for ${device || 'every device'}` });
    seen.add(key);
    if (problems.length === before) out.push({ device: device || undefined, name, expression, unit: str(r.unit) || undefined, description: str(r.description) || undefined, site });
  });
  return out;
}

export function validateIntervals(rows: unknown[], problems: DeriveProblem[]): IntervalSpec[] {
  const out: IntervalSpec[] = [];
  rows.forEach((raw, i) => {
    const row = `interval row ${i + 1}`;
    const r = (raw ?? {}) as Record<string, unknown>;
    const before = problems.length;
    const point = str(r.point);
    checkPointName(point, row, 'point', problems);
    const minutes = num(r.minutes);
    if (minutes === undefined || !INTERVAL_MINUTES.includes(minutes)) {
      problems.push({ row, field: 'minutes', message: `must be one of ${INTERVAL_MINUTES.join(', ')} (got ${minutes === undefined ? 'nothing' : str(r.minutes)})` });
    }
    const name = str(r.name) || undefined;
    if (name) checkPointName(name, row, 'name', problems);
    const demand = (str(r.demand) || 'fixed') as DemandKind;
    if (!['none', 'fixed', 'sliding'].includes(demand)) problems.push({ row, field: 'demand', message: `must be none, fixed or sliding (got "${demand}")` });
    const window = num(r.window) ?? (demand === 'sliding' ? 3 : 1);
    if (!Number.isInteger(window) || window < 1 || window > 96) problems.push({ row, field: 'window', message: `must be a whole number of intervals from 1 to 96 (got ${str(r.window)})` });
    const rollover = num(r.rollover);
    if (rollover !== undefined && !(rollover > 0)) problems.push({ row, field: 'rollover', message: `must be a positive counter value (got ${str(r.rollover)})` });
    const maxGap = num(r.maxGap);
    if (maxGap !== undefined && !(maxGap > 0)) problems.push({ row, field: 'maxGap', message: `must be a positive number of seconds (got ${str(r.maxGap)})` });
    if (problems.length === before) {
      out.push({ device: str(r.device) || undefined, point, minutes: minutes as number, name, demand, window: demand === 'sliding' ? window : 1, rollover, maxGap });
    }
  });
  return out;
}
