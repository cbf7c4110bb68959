/**
 * A device-table node's table at runtime: the flow's rows (the base), the
 * runtime changes kept in the user dir (the overlay, see
 * ../lib/fleet-table/overlay.ts for the merge), and the running devices.
 * A change is checked as a whole, against the table and against what the
 * runtime can start, before any running device is touched.
 */
import {
  applyChange,
  describeProblem,
  FleetChange,
  FleetOverlay,
  FleetRow,
  FleetTableError,
  mergeOverlay,
  overlayBetween,
  RowProblem,
  TableContext,
} from '../lib/fleet-table';
import type { DeviceSet, DeviceState } from './device-set';
import type { OverlayFile } from './overlay-file';

/** A change the runtime refused; `problems` name the row and the field. */
export class ChangeRefused extends Error {
  constructor(readonly problems: string[]) {
    super(`change refused, nothing was changed:\n${problems.join('\n')}`);
    this.name = 'ChangeRefused';
  }
}

export interface TableView {
  base: FleetRow[];
  overlay: FleetOverlay;
  /** Overlay rows left out of the running table because they no longer fit the flow's table. */
  skipped: Array<{ row: FleetRow; problems: string[] }>;
  devices: Array<FleetRow & { changed: 'base' | 'runtime'; state: DeviceState }>;
}

export class DeviceTable {
  private overlay: FleetOverlay;
  private skipped: Array<{ row: FleetRow; problems: RowProblem[] }> = [];

  constructor(
    private readonly base: FleetRow[],
    private readonly file: OverlayFile,
    private readonly devices: DeviceSet,
    private readonly context: () => TableContext,
    stored: FleetOverlay,
  ) {
    this.overlay = stored;
  }

  /** Merges the stored overlay into the base and starts the devices; returns what had to be left out. */
  start(): string[] {
    const merged = mergeOverlay(this.base, this.overlay, this.context());
    this.skipped = merged.skipped;
    const problems = this.devices.problemsFor(merged.table);
    this.devices.apply(merged.table);
    return [
      ...merged.skipped.map((s) => `runtime change for device "${s.row.name}" is not applied (kept until cleared): ${s.problems.map(describeProblem).join('; ')}`),
      ...problems,
    ];
  }

  change(change: FleetChange): FleetRow[] {
    let next: FleetRow[];
    try {
      next = applyChange(this.devices.rows(), change, this.context());
    } catch (err) {
      if (err instanceof FleetTableError) throw new ChangeRefused(err.problems.map(describeProblem));
      throw err;
    }
    const problems = this.devices.problemsFor(next);
    if (problems.length) throw new ChangeRefused(problems);
    this.commit(next);
    return next;
  }

  /** Back to the flow's table: the overlay is removed from the user dir. */
  clear(): void {
    const merged = mergeOverlay(this.base, { rows: [], removed: [] }, this.context());
    this.skipped = [];
    this.overlay = { rows: [], removed: [] };
    this.file.clear();
    this.devices.apply(merged.table);
  }

  view(): TableView {
    const changed = new Set(this.overlay.rows.map((r) => r.name));
    return {
      base: this.base,
      overlay: this.overlay,
      skipped: this.skipped.map((s) => ({ row: s.row, problems: s.problems.map(describeProblem) })),
      devices: this.devices.rows().map((r) => ({ ...r, changed: changed.has(r.name) ? 'runtime' : 'base', state: this.devices.state(r.name) })),
    };
  }

  private commit(next: FleetRow[]): void {
    // Written before the devices move: a change that cannot be stored is refused, not half made.
    const overlay = overlayBetween(this.base, next, this.skipped.map((s) => s.row));
    this.file.save(overlay);
    this.overlay = overlay;
    this.skipped = this.skipped.filter((s) => overlay.rows.includes(s.row));
    this.devices.apply(next);
  }
}
