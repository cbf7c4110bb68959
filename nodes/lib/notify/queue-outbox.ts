/**
 * The notifier outbox on the durable queue: notices survive a redeploy, a
 * restart and kill -9, and are delivered at least once.
 *
 * The queue hands entries out in flight; the notifier may deliver only part
 * of a batch (a revoked token stops it half way), so whatever is still in
 * flight when the next batch is asked for goes back to the head first.
 */
import { DurableQueue, QueueEntry, QueueOptions } from '../queue/durable-queue';
import type { EntryId, Notice, Outbox, OutboxEntry } from './types';

export class QueueOutbox implements Outbox {
  private readonly inFlight = new Map<string, QueueEntry<Notice>>();

  private constructor(readonly queue: DurableQueue<Notice>) {}

  static async open(dir: string, options: QueueOptions = {}): Promise<QueueOutbox> {
    // Notices are few and precious: keep the files small, sync every write batch.
    const queue = await DurableQueue.open<Notice>(dir, { maxBytes: 16 * 1024 * 1024, fsync: 'always', ...options });
    return new QueueOutbox(queue);
  }

  async push(notice: Notice): Promise<void> {
    this.queue.push(notice);
  }

  async peek(max: number): Promise<OutboxEntry[]> {
    if (this.inFlight.size) {
      this.queue.nack([...this.inFlight.values()]);
      this.inFlight.clear();
    }
    const batch = await this.queue.take(max);
    for (const e of batch) this.inFlight.set(e.id, e);
    return batch.map((e) => ({ id: e.id, notice: e.item }));
  }

  async ack(ids: EntryId[]): Promise<void> {
    this.queue.ack(ids);
    for (const id of ids) this.inFlight.delete(id);
  }

  size(): number {
    return this.queue.depth;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
