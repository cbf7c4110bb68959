/**
 * The last EntryID delivered per buffered report control block, kept in a JSON
 * file so that a reconnect and a restart both resume where delivery stopped
 * (IEC 61850-7-2 buffered reporting). Writes are coalesced: one in flight, the
 * newest state written next, then a temp file renamed over the old one.
 */
import fs from 'fs';
import path from 'path';

export class EntryIdStore {
  private entries?: Record<string, string>;
  private writing?: Promise<void>;
  private dirty = false;
  /** The last write error, for status and logs; writing goes on. */
  lastError?: string;

  constructor(readonly file: string) {}

  private load(): Record<string, string> {
    if (!this.entries) {
      try {
        const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as unknown;
        this.entries = parsed && typeof parsed === 'object' ? Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string' && /^([0-9a-f]{2})+$/.test(v))) : {};
      } catch {
        // No file yet, or a broken one: start fresh (the IED then purges and interrogates).
        this.entries = {};
      }
    }
    return this.entries;
  }

  /** The last EntryID (hex) delivered for a control block, if any. */
  get(key: string): string | undefined {
    return this.load()[key];
  }

  set(key: string, entryId: string): void {
    const entries = this.load();
    if (entries[key] === entryId) return;
    entries[key] = entryId;
    this.schedule();
  }

  delete(key: string): void {
    const entries = this.load();
    if (!(key in entries)) return;
    delete entries[key];
    this.schedule();
  }

  /** Resolves when everything set so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private schedule(): void {
    this.dirty = true;
    if (this.writing) return;
    this.writing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        const text = JSON.stringify(this.entries, null, 1);
        const tmp = `${this.file}.tmp`;
        try {
          await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
          await fs.promises.writeFile(tmp, text);
          await fs.promises.rename(tmp, this.file);
          this.lastError = undefined;
        } catch (err) {
          this.lastError = `EntryID file ${this.file}: ${(err as Error).message}`;
        }
      }
    })().finally(() => {
      this.writing = undefined;
      if (this.dirty) this.schedule();
    });
  }
}

/** Stores shared per file, so every poller of a runtime writes one file. */
const stores = new Map<string, EntryIdStore>();

export function entryIdStore(file: string): EntryIdStore {
  let s = stores.get(file);
  if (!s) stores.set(file, (s = new EntryIdStore(file)));
  return s;
}
