/**
 * Every open durable queue in the process, so the health node (and anything else that
 * reports on the RTU) can show depth, oldest age and drops without being wired to the
 * publishers and notifiers that own the queues.
 */
import type { QueueStats } from './types';

export interface RegisteredQueue {
  /** Who owns it, e.g. "rtu-mqtt-out 3f2a…" or "rtu-telegram 91cc…". */
  owner: string;
  dir: string;
  stats(): QueueStats;
}

const queues = new Set<RegisteredQueue>();

/** Adds a queue; returns the function that removes it again. */
export function registerQueue(queue: RegisteredQueue): () => void {
  queues.add(queue);
  return () => {
    queues.delete(queue);
  };
}

export function listQueues(): Array<{ owner: string; dir: string; stats: QueueStats }> {
  return [...queues].map((q) => ({ owner: q.owner, dir: q.dir, stats: q.stats() }));
}
