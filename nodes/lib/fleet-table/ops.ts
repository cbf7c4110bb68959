/**
 * Changes to a running device table. Each change yields the whole new table,
 * checked as a whole: a change that would leave any row invalid is refused
 * and the table stays as it was.
 */
import { readRow } from './rows';
import { tableProblems } from './validate';
import { FleetRow, FleetTableError, TableContext } from './types';

export type FleetChange =
  | { op: 'add'; row: unknown }
  | { op: 'update'; name: string; row: unknown }
  | { op: 'enable'; name: string }
  | { op: 'disable'; name: string }
  | { op: 'remove'; name: string };

export const CHANGE_OPS = ['add', 'update', 'enable', 'disable', 'remove'] as const;

function refuse(message: string): never {
  throw new FleetTableError([{ row: 0, field: 'table', message }]);
}

function indexOf(rows: readonly FleetRow[], name: string): number {
  const i = rows.findIndex((r) => r.name === name);
  if (i < 0) refuse(`there is no device "${name}" in the table`);
  return i;
}

/** The table after `change`; throws a FleetTableError (naming row and field) when the result is not valid. */
export function applyChange(rows: readonly FleetRow[], change: FleetChange, ctx: TableContext): FleetRow[] {
  const next = [...rows];
  switch (change.op) {
    case 'add': {
      const read = readRow(change.row, next.length + 1);
      if (!read.row) throw new FleetTableError(read.problems);
      next.push(read.row);
      break;
    }
    case 'update': {
      const i = indexOf(next, change.name);
      // A partial row changes only the fields it names.
      const patch = change.row && typeof change.row === 'object' && !Array.isArray(change.row) ? change.row : refuse(`an update needs the row's fields, got ${JSON.stringify(change.row)}`);
      const read = readRow({ ...next[i], ...(patch as object) }, i + 1);
      if (!read.row) throw new FleetTableError(read.problems);
      next[i] = read.row;
      break;
    }
    case 'enable':
    case 'disable': {
      const i = indexOf(next, change.name);
      next[i] = { ...next[i], enabled: change.op === 'enable' };
      break;
    }
    case 'remove':
      next.splice(indexOf(next, change.name), 1);
      break;
    default:
      refuse(`unknown change "${(change as { op: unknown }).op}"; use ${['add', 'update', 'enable', 'disable', 'remove'].join(', ')}`);
  }
  const problems = tableProblems(next, ctx);
  if (problems.length) throw new FleetTableError(problems);
  return next;
}
