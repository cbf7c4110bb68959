/**
 * Turns loosely typed input (a message payload, an HTTP body, a CSV line, a
 * YAML entry) into a FleetRow, collecting every field that cannot be read.
 */
import { FleetRow, RowField, RowProblem } from './types';

type Loose = Record<string, unknown>;

const ALIASES: Record<string, RowField> = {
  name: 'name',
  device: 'name',
  line: 'line',
  unitid: 'unitId',
  unit: 'unitId',
  unit_id: 'unitId',
  model: 'model',
  profile: 'profile',
  interval: 'interval',
  intervals: 'interval',
  enabled: 'enabled',
};

/** The field a column or key names ("unit", "unit_id", "unitId" all mean the unit id), if any. */
export function fieldOf(key: string): RowField | undefined {
  return ALIASES[key.trim().toLowerCase()];
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v).trim();
}

function parseBool(v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return true;
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['true', 'yes', 'y', '1', 'on'].includes(s)) return true;
  if (['false', 'no', 'n', '0', 'off'].includes(s)) return false;
  return undefined;
}

/** Reads a row; `row` is its 1-based position for the messages. Unknown keys are problems (a typo must not pass silently). */
export function readRow(input: unknown, row: number): { row?: FleetRow; problems: RowProblem[] } {
  const problems: RowProblem[] = [];
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    return { problems: [{ row, field: 'name', message: `a row must be an object with name, line, unitId, model, profile, interval, enabled; got ${JSON.stringify(input)}` }] };
  }
  const fields: Partial<Record<RowField, unknown>> = {};
  for (const [k, v] of Object.entries(input as Loose)) {
    const f = fieldOf(k);
    if (!f) {
      problems.push({ row, field: 'table', message: `row ${row}: unknown field "${k}" (known: name, line, unitId, model, profile, interval, enabled)` });
      continue;
    }
    fields[f] = v;
  }
  const name = text(fields.name);
  const device = name || undefined;
  const bad = (field: RowField, message: string) => problems.push({ row, device, field, message });
  if (!name) bad('name', 'no device name');
  const unitText = text(fields.unitId);
  const unitId = Number(unitText);
  if (!unitText) bad('unitId', 'no unit id');
  else if (!Number.isInteger(unitId) || unitId < 1 || unitId > 247) bad('unitId', `unit id "${unitText}" is not a whole number in 1..247`);
  const intervalText = text(fields.interval);
  const interval = intervalText === '' ? 1 : Number(intervalText);
  if (!Number.isFinite(interval) || interval <= 0) bad('interval', `interval "${intervalText}" is not a number of seconds > 0`);
  const enabled = parseBool(fields.enabled);
  if (enabled === undefined) bad('enabled', `"${text(fields.enabled)}" is not true or false`);
  const out: FleetRow = {
    name,
    line: text(fields.line),
    unitId,
    model: text(fields.model),
    profile: text(fields.profile),
    interval,
    enabled: enabled ?? true,
  };
  return problems.length ? { problems } : { row: out, problems };
}

/** Reads every row, numbering from 1. */
export function readRows(input: unknown): { rows: FleetRow[]; numbers: number[]; problems: RowProblem[] } {
  if (!Array.isArray(input)) return { rows: [], numbers: [], problems: [{ row: 0, field: 'table', message: 'the device table must be a list of rows' }] };
  const rows: FleetRow[] = [];
  const numbers: number[] = [];
  const problems: RowProblem[] = [];
  input.forEach((item, i) => {
    const r = readRow(item, i + 1);
    problems.push(...r.problems);
    if (r.row) {
      rows.push(r.row);
      numbers.push(i + 1);
    }
  });
  return { rows, numbers, problems };
}

export function sameRow(a: FleetRow, b: FleetRow): boolean {
  return (
    a.name === b.name && a.line === b.line && a.unitId === b.unitId && a.model === b.model && a.profile === b.profile && a.interval === b.interval && a.enabled === b.enabled
  );
}
