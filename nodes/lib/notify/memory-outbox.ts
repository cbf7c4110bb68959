/**
 * An outbox in memory: for tests and for a notifier configured without
 * persistence. Same contract as the durable one, minus surviving a restart.
 */
import type { EntryId, Notice, Outbox, OutboxEntry } from './types';

export class MemoryOutbox implements Outbox {
  private entries: OutboxEntry[] = [];
  private nextId = 1;

  async push(notice: Notice): Promise<void> {
    this.entries.push({ id: `m-${this.nextId++}`, notice });
  }

  async peek(max: number): Promise<OutboxEntry[]> {
    return this.entries.slice(0, max);
  }

  async ack(ids: EntryId[]): Promise<void> {
    const done = new Set(ids);
    this.entries = this.entries.filter((e) => !done.has(e.id));
  }

  size(): number {
    return this.entries.length;
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
