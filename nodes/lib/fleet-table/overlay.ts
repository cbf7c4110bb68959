/**
 * Runtime changes on top of the flow's table. The flow's table is the base;
 * the overlay holds what was changed at runtime (rows added or changed, by
 * name, and names removed) and is kept, across restarts and redeploys, until
 * it is cleared.
 *
 * Merge: start from the base; drop the rows whose names the overlay removed;
 * replace a base row by the overlay row of the same name; append overlay rows
 * the base does not have, in the order they were added. An overlay row that
 * no longer fits the new base (say the base now uses its unit id) is left out
 * of the running table and reported; it stays in the overlay until cleared.
 */
import { readRows, sameRow } from './rows';
import { tableProblems } from './validate';
import { describeProblem, FleetRow, RowProblem, TableContext } from './types';


export interface FleetOverlay {
  /** Rows added or changed at runtime, in the order they were first changed. */
  rows: FleetRow[];
  /** Names of base rows removed at runtime. */
  removed: string[];
}

export const EMPTY_OVERLAY: FleetOverlay = Object.freeze({ rows: [], removed: [] }) as FleetOverlay;

/** The overlay that turns `base` into `table`. */
export function overlayBetween(base: readonly FleetRow[], table: readonly FleetRow[], unmerged: readonly FleetRow[] = []): FleetOverlay {
  const inBase = new Map(base.map((r) => [r.name, r]));
  const inTable = new Set(table.map((r) => r.name));
  const rows = table.filter((r) => {
    const b = inBase.get(r.name);
    return !b || !sameRow(b, r);
  });
  const removed = base.filter((r) => !inTable.has(r.name)).map((r) => r.name);
  // Overlay rows the merge left out are still runtime changes: kept until cleared or changed again.
  const changed = new Set(rows.map((r) => r.name));
  const kept = unmerged.filter((r) => !changed.has(r.name) && !removed.includes(r.name));
  return { rows: [...rows, ...kept], removed };
}

export interface Merged {
  table: FleetRow[];
  /** Overlay rows left out because the table would not be valid with them. */
  skipped: Array<{ row: FleetRow; problems: RowProblem[] }>;
}

export function mergeOverlay(base: readonly FleetRow[], overlay: FleetOverlay, ctx: TableContext): Merged {
  const removed = new Set(overlay.removed);
  const byName = new Map(overlay.rows.map((r) => [r.name, r]));
  const table: FleetRow[] = base.filter((r) => !removed.has(r.name));
  const skipped: Merged['skipped'] = [];
  const baseNames = new Set(table.map((r) => r.name));
  // The base is valid (the node refuses an invalid one), so any problem is the overlay row's.
  const attempt = (candidate: FleetRow[], row: FleetRow): FleetRow[] | undefined => {
    const problems = tableProblems(candidate, ctx);
    if (!problems.length) return candidate;
    skipped.push({ row, problems });
    return undefined;
  };
  let current = table;
  table.forEach((r, i) => {
    const o = byName.get(r.name);
    if (!o) return;
    const candidate = [...current];
    candidate[i] = o;
    current = attempt(candidate, o) ?? current;
  });
  for (const o of overlay.rows) {
    if (baseNames.has(o.name)) continue;
    current = attempt([...current, o], o) ?? current;
  }
  return { table: current, skipped };
}

/** Reads an overlay file's contents; anything unreadable is an empty overlay plus the reason. */
export function parseOverlay(json: unknown): { overlay: FleetOverlay; problem?: string } {
  const o = json as Partial<FleetOverlay> | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.rows) || !Array.isArray(o.removed)) {
    return { overlay: { rows: [], removed: [] }, problem: 'the runtime changes file is not { rows: [...], removed: [...] }' };
  }
  const read = readRows(o.rows);
  const problem = read.problems.length ? `the runtime changes file has rows that cannot be read: ${read.problems.map(describeProblem).join('; ')}` : undefined;
  return { overlay: { rows: read.rows, removed: o.removed.map(String) }, problem };
}

export function isEmptyOverlay(o: FleetOverlay): boolean {
  return o.rows.length === 0 && o.removed.length === 0;
}
