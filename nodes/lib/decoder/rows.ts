/**
 * Shared by the importers: validates labelled rows into points, then checks
 * names and overlaps across the list, every error naming where the row came from.
 */
import { findOverlaps, validatePointRow } from '../modbus/points';
import type { PointDef } from '../modbus/types';

export interface LabelledRow {
  /** Where the row came from: `points.csv line 4` or `device "inv1" register #3`. */
  label: string;
  /** Absent when the entry is not a row at all (its `early` problems say so). */
  row?: Record<string, unknown>;
  /** Names the place of a field in the source (a CSV column); omitted when the label says enough. */
  place?: (field: keyof PointDef) => string | undefined;
  /** Problems found before validation (an unreadable address); the row yields no point. */
  early?: string[];
}

export function pointsFromRows(rows: LabelledRow[]): { points: PointDef[]; errors: string[] } {
  const points: PointDef[] = [];
  const errors: string[] = [];
  const labelOf = new Map<PointDef, string>();
  const firstByName = new Map<string, string>();
  for (const r of rows) {
    errors.push(...(r.early ?? []));
    if (!r.row) continue;
    const { point, problems } = validatePointRow(r.row);
    for (const p of problems) {
      const place = r.place?.(p.field);
      errors.push(`${r.label}${place ? `, ${place}` : ''}: ${p.message}`);
    }
    // A name counts as taken even when its row has other problems: the user fixes both.
    const name = r.row.name === undefined || r.row.name === null ? '' : String(r.row.name).trim();
    const first = name ? firstByName.get(name) : undefined;
    if (first) errors.push(`${r.label}: point "${name}" is already defined at ${first}`);
    else if (name) firstByName.set(name, r.label);
    if (!point || r.early?.length || first) continue;
    labelOf.set(point, r.label);
    points.push(point);
  }
  for (const o of findOverlaps(points)) errors.push(`${labelOf.get(o.point)}: point "${o.point.name}": ${o.message}`);
  return { points, errors };
}
