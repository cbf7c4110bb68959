/**
 * The requests waiting for a line: on-demand ones first, then poll requests in
 * their poll's deadline order, first come first served among equals.
 */
import type { ModbusRequest } from './pdu';
import { IndexedHeap } from './scheduler';

/** An on-demand request refused because the line already has its limit of them waiting. */
export class QueueFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueFullError';
  }
}

export const DEMAND = 0;
export const POLL = 1;

export interface Job {
  unitId: number;
  request: ModbusRequest;
  priority: typeof DEMAND | typeof POLL;
  deadline: number;
  seq: number;
  heapIndex: number;
  timeoutMs: number;
  attemptsLeft: number;
  /** While the link is down, a queued on-demand request gives up at this time. */
  expiresAt: number;
  /** An explicit read (verify, read now): sent even to a unit that is backing off. */
  probe: boolean;
  /** The unit's timed-out requests when this one was queued (a probe is refused once that grows). */
  unitFailures: number;
  /** Once aborted, the request is never put on the wire again (see RequestOptions.signal). */
  signal?: AbortSignal;
  /** Called each time the request is put on the wire. */
  onSend?: () => void;
  resolve: (values: number[]) => void;
  /** Rejects the caller's promise as is: the line adds the context. */
  reject: (err: Error) => void;
}

export class RequestQueue {
  private readonly heap = new IndexedHeap<Job>((a, b) => a.priority - b.priority || a.deadline - b.deadline || a.seq - b.seq);
  private seq = 0;
  private demand = 0;

  get length(): number {
    return this.heap.length;
  }

  /** On-demand requests waiting (not those in flight). */
  get demandWaiting(): number {
    return this.demand;
  }

  /** Queues a new job, or a retry (which keeps its place among equals by its first sequence number). */
  push(job: Job): void {
    if (job.seq < 0) job.seq = this.seq++;
    if (job.priority === DEMAND) this.demand++;
    this.heap.push(job);
  }

  /** The next job to send, taken out of the queue. */
  pop(): Job | undefined {
    const job = this.heap.pop();
    if (job?.priority === DEMAND) this.demand--;
    return job;
  }

  /** Takes a job out before it is sent (a caller gave up on it): false when it is no longer queued. */
  cancel(job: Job): boolean {
    if (job.heapIndex < 0) return false;
    this.heap.remove(job);
    if (job.priority === DEMAND) this.demand--;
    return true;
  }

  /** Takes out every queued job that `which` picks, in queue order. */
  takeWhere(which: (job: Job) => boolean): Job[] {
    const taken: Job[] = [];
    const keep: Job[] = [];
    for (let job = this.pop(); job; job = this.pop()) (which(job) ? taken : keep).push(job);
    for (const job of keep) this.push(job);
    return taken;
  }
}
