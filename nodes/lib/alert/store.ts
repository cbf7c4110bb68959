/**
 * Active alerts on disk, so a redeploy or a restart neither forgets an alert
 * nor raises it again. One small JSON file per alert node under the Node-RED
 * user dir, replaced atomically (write, fsync, rename) so a crash leaves
 * either the old or the new file, never half of one.
 */
import fs from 'fs';
import path from 'path';
import type { AlertPayload } from './types';

interface StoreFile {
  version: 1;
  savedAt: number;
  alerts: AlertPayload[];
}

function writeJsonAtomic(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(data));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export class ActiveAlertStore {
  private timer: NodeJS.Timeout | undefined;
  private pending: (() => AlertPayload[]) | undefined;
  /** Last write failure, shown in the node status; cleared by a good write. */
  lastError: Error | undefined;

  /** @param delayMs coalesces the writes of an alert storm into one */
  constructor(readonly file: string, private readonly delayMs = 100) {}

  /** The alerts saved last time; [] when there is no file. A corrupt file is moved aside and reported. */
  load(): { alerts: AlertPayload[]; error?: string } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { alerts: [] };
      return { alerts: [], error: `cannot read active alerts from ${this.file}: ${(err as Error).message}` };
    }
    try {
      const parsed = JSON.parse(text) as Partial<StoreFile>;
      if (!Array.isArray(parsed.alerts)) throw new Error('no "alerts" list');
      return { alerts: parsed.alerts };
    } catch (err) {
      const aside = `${this.file}.corrupt-${Date.now()}`;
      try {
        fs.renameSync(this.file, aside);
      } catch {
        // Leave it where it is; the next save replaces it.
      }
      return { alerts: [], error: `active alerts file ${this.file} is not valid (${(err as Error).message}); moved to ${aside}` };
    }
  }

  /** Schedules a write of what `snapshot` returns at write time. */
  schedule(snapshot: () => AlertPayload[]): void {
    this.pending = snapshot;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
  }

  /** Writes a scheduled snapshot now (on close, before a redeploy). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const snapshot = this.pending;
    this.pending = undefined;
    if (!snapshot) return;
    try {
      const file: StoreFile = { version: 1, savedAt: Date.now(), alerts: snapshot() };
      writeJsonAtomic(this.file, file);
      this.lastError = undefined;
    } catch (err) {
      this.lastError = new Error(`cannot save active alerts to ${this.file}: ${(err as Error).message}`);
    }
  }

  /** Deletes the file (the node was removed from the flow). */
  remove(): void {
    this.flushCancel();
    fs.rmSync(this.file, { force: true });
  }

  private flushCancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
