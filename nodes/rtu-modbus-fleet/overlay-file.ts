/** A device-table node's runtime changes as a JSON file in the Node-RED user dir, written whole (temp file, then rename). */
import fs from 'fs';
import path from 'path';
import { EMPTY_OVERLAY, FleetOverlay, isEmptyOverlay, parseOverlay } from '../lib/fleet-table';

export class OverlayFile {
  constructor(readonly file: string) {}

  /** The stored overlay; a missing file is an empty one, an unreadable one an empty one plus the reason. */
  load(): { overlay: FleetOverlay; problem?: string } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { overlay: EMPTY_OVERLAY };
      return { overlay: EMPTY_OVERLAY, problem: `${this.file}: ${(err as Error).message}` };
    }
    try {
      const read = parseOverlay(JSON.parse(text));
      return read.problem ? { ...read, problem: `${this.file}: ${read.problem}` } : read;
    } catch (err) {
      return { overlay: EMPTY_OVERLAY, problem: `${this.file}: ${(err as Error).message}` };
    }
  }

  save(overlay: FleetOverlay): void {
    if (isEmptyOverlay(overlay)) return this.clear();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ rows: overlay.rows, removed: overlay.removed }, null, 2));
    fs.renameSync(tmp, this.file);
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }
}
