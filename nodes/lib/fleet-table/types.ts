/** One device of a device table: which meter, where it hangs, how often it is read. */
export interface FleetRow {
  /** Device name: unique in the table (and in the whole fleet). */
  name: string;
  /** Name of an rtu-modbus-line node. */
  line: string;
  unitId: number;
  /** Registry model id, e.g. eastron/sdm630. */
  model: string;
  profile: string;
  /** Seconds between polls. */
  interval: number;
  enabled: boolean;
}

export const ROW_FIELDS = ['name', 'line', 'unitId', 'model', 'profile', 'interval', 'enabled'] as const;
export type RowField = (typeof ROW_FIELDS)[number];

/** One thing wrong with a table: the row (1-based, as a person counts) and the field it is about. */
export interface RowProblem {
  row: number;
  device?: string;
  field: RowField | 'table';
  message: string;
}

/** What validation needs to know of the site: the configured lines and the registry. */
export interface TableContext {
  lines: ReadonlySet<string>;
  /** Why a model + profile cannot be used, or undefined when it can. */
  profileProblem(model: string, profile: string): string | undefined;
}

export function describeProblem(p: RowProblem): string {
  if (p.field === 'table') return p.message;
  const who = p.device ? ` (${p.device})` : '';
  return `row ${p.row}${who}, field "${p.field}": ${p.message}`;
}

export class FleetTableError extends Error {
  constructor(readonly problems: RowProblem[]) {
    super(problems.map(describeProblem).join('\n'));
    this.name = 'FleetTableError';
  }
}
