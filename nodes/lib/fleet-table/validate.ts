/**
 * Checks a whole device table: every row on its own, then the rows against
 * each other (a name is one device; a unit id answers once on a line).
 */
import { readRows } from './rows';
import { FleetRow, FleetTableError, RowProblem, TableContext } from './types';

/** `numbers`: each row's number as the person counts it, when rows were left out before (unreadable ones). */
export function tableProblems(rows: readonly FleetRow[], ctx: TableContext, numbers?: readonly number[]): RowProblem[] {
  const problems: RowProblem[] = [];
  const names = new Map<string, number>();
  const units = new Map<string, number>();
  // A model's profile check repeats for every meter of that kind: ask the registry once per pair.
  const profileChecks = new Map<string, string | undefined>();
  const nameAt = (row: number) => rows[numbers ? numbers.indexOf(row) : row - 1]?.name;
  rows.forEach((r, i) => {
    const row = numbers?.[i] ?? i + 1;
    const bad = (field: RowProblem['field'], message: string) => problems.push({ row, device: r.name, field, message });
    const firstName = names.get(r.name);
    if (firstName !== undefined) bad('name', `device name "${r.name}" is already used in row ${firstName}`);
    else names.set(r.name, row);
    if (!r.line) bad('line', 'no line chosen');
    else if (!ctx.lines.has(r.line)) bad('line', `unknown line "${r.line}"; configured lines: ${[...ctx.lines].sort().join(', ') || 'none'}`);
    if (!Number.isInteger(r.unitId) || r.unitId < 1 || r.unitId > 247) bad('unitId', `unit id ${r.unitId} is not a whole number in 1..247`);
    else if (r.line) {
      const key = `${r.line}\u0000${r.unitId}`;
      const first = units.get(key);
      if (first !== undefined) bad('unitId', `unit id ${r.unitId} on line "${r.line}" is already used in row ${first} (${nameAt(first)})`);
      else units.set(key, row);
    }
    if (!r.model) bad('model', 'no meter model chosen');
    else if (!r.profile) bad('profile', 'no profile chosen');
    else {
      const key = `${r.model}\u0000${r.profile}`;
      if (!profileChecks.has(key)) profileChecks.set(key, ctx.profileProblem(r.model, r.profile));
      const wrong = profileChecks.get(key);
      if (wrong) bad(/profile "/.test(wrong) && /has no profile/.test(wrong) ? 'profile' : 'model', wrong);
    }
    if (!(Number.isFinite(r.interval) && r.interval > 0)) bad('interval', `interval ${r.interval} is not a number of seconds > 0`);
  });
  return problems;
}

/** Reads and checks loosely typed rows; throws a FleetTableError naming every problem. */
export function checkedTable(input: unknown, ctx: TableContext): FleetRow[] {
  const { rows, numbers, problems } = readRows(input);
  const wrong = [...problems, ...tableProblems(rows, ctx, numbers)].sort((a, b) => a.row - b.row);
  if (wrong.length) throw new FleetTableError(wrong);
  return rows;
}
