/**
 * Earliest-deadline-first scheduling of device polls on one line.
 *
 * Each device is released every `intervalMs`; a released poll's deadline is
 * release + interval. The line asks `take(now)` whenever it has room and gets
 * the released poll with the earliest deadline, so a fast device cannot starve
 * a slow one: the slow one's deadline stays put while the fast one's moves on.
 * Cycles stay on each device's grid (first release + k x interval), so a poll
 * that EDF starts late under overload (up to about one interval, at its
 * deadline) keeps the device's phase and rate. The contract against bursts,
 * for any lateness or length of a poll:
 * - a cycle whose deadline passed before the previous poll ended is dropped,
 *   never replayed; a poll that started more than half an interval after its
 *   deadline counts for the cycle it started in;
 * - two polls of a device never start less than half an interval apart (the
 *   next one is held back to that).
 * Equal deadlines go to the
 * device that waited longest (round-robin), which is what "as fast as
 * possible" (interval 0) needs.
 */

export interface ScheduleEntry<T> {
  readonly item: T;
  readonly intervalMs: number;
  /** When the current or next poll is released (ms, same clock as `now`). */
  readonly release: number;
  readonly deadline: number;
  readonly state: 'waiting' | 'ready' | 'running' | 'removed';
}

interface Entry<T> extends ScheduleEntry<T> {
  intervalMs: number;
  release: number;
  deadline: number;
  state: 'waiting' | 'ready' | 'running' | 'removed';
  /** Grid time of the current or next cycle (release is later when that poll is held back). */
  slot: number;
  /** Order of release, for round-robin among equal deadlines. */
  seq: number;
  startedAt: number;
  heapIndex: number;
}

export class EdfScheduler<T> {
  private readonly waiting = new IndexedHeap<Entry<T>>((a, b) => a.release - b.release || a.seq - b.seq);
  private readonly ready = new IndexedHeap<Entry<T>>((a, b) => a.deadline - b.deadline || a.seq - b.seq);
  private seq = 0;
  private count = 0;
  private runningCount = 0;

  get size(): number {
    return this.count;
  }

  get running(): number {
    return this.runningCount;
  }

  add(item: T, intervalMs: number, firstRelease: number): ScheduleEntry<T> {
    checkInterval(intervalMs);
    const entry: Entry<T> = {
      item,
      intervalMs,
      release: firstRelease,
      deadline: firstRelease + intervalMs,
      slot: firstRelease,
      state: 'waiting',
      seq: this.seq++,
      startedAt: firstRelease,
      heapIndex: -1,
    };
    this.waiting.push(entry);
    this.count++;
    return entry;
  }

  remove(handle: ScheduleEntry<T>): void {
    const entry = handle as Entry<T>;
    if (entry.state === 'removed') return;
    if (entry.state === 'waiting') this.waiting.remove(entry);
    else if (entry.state === 'ready') this.ready.remove(entry);
    else this.runningCount--;
    entry.state = 'removed';
    this.count--;
  }

  /** Changes the interval; takes effect from the next release. */
  setInterval(handle: ScheduleEntry<T>, intervalMs: number): void {
    checkInterval(intervalMs);
    (handle as Entry<T>).intervalMs = intervalMs;
  }

  /** The released poll with the earliest deadline, now marked running; undefined when none is due. */
  take(now: number): ScheduleEntry<T> | undefined {
    this.releaseDue(now);
    const entry = this.ready.pop();
    if (!entry) return undefined;
    entry.state = 'running';
    entry.startedAt = now;
    this.runningCount++;
    return entry;
  }

  /**
   * The poll finished at `now`. The next cycle is the first on the device's grid
   * whose deadline is still ahead; its poll is released no earlier than half an
   * interval after this one started, and never before `notBefore` (which
   * starts a new grid there).
   */
  complete(handle: ScheduleEntry<T>, now: number, notBefore = 0): void {
    const entry = handle as Entry<T>;
    if (entry.state !== 'running') return;
    this.runningCount--;
    const interval = entry.intervalMs;
    let slot: number;
    let release: number;
    if (interval > 0) {
      // the first later cycle whose deadline is still ahead...
      let k = Math.max(1, Math.floor((now - entry.slot) / interval));
      // ...and after the cycle this poll started in, when it started more than half an interval
      // past its own deadline (EDF under overload starts polls at about their deadline: that keeps the phase)
      const late = entry.startedAt - entry.slot;
      if (late > 1.5 * interval) k = Math.max(k, Math.floor(late / interval) + 1);
      slot = entry.slot + k * interval;
      release = Math.max(slot, entry.startedAt + interval / 2);
    } else {
      slot = release = Math.max(entry.slot, entry.startedAt);
    }
    if (notBefore > release) slot = release = notBefore;
    entry.slot = slot;
    entry.release = release;
    entry.deadline = slot + interval;
    entry.seq = this.seq++;
    entry.state = 'waiting';
    this.waiting.push(entry);
  }

  /** Holds an idle entry back until `until` (its unit is backing off). */
  defer(handle: ScheduleEntry<T>, until: number): void {
    const entry = handle as Entry<T>;
    if ((entry.state !== 'waiting' && entry.state !== 'ready') || entry.release >= until) return;
    if (entry.state === 'ready') this.ready.remove(entry);
    else this.waiting.remove(entry);
    entry.release = entry.slot = until;
    entry.deadline = until + entry.intervalMs;
    entry.state = 'waiting';
    this.waiting.push(entry);
  }

  /** Earliest release among idle entries (in the past when something is due), or undefined. */
  nextRelease(): number | undefined {
    return this.next()?.release;
  }

  /** The entry whose release comes first (ready before waiting). */
  next(): ScheduleEntry<T> | undefined {
    return this.ready.peek() ?? this.waiting.peek();
  }

  private releaseDue(now: number): void {
    for (let head = this.waiting.peek(); head && head.release <= now; head = this.waiting.peek()) {
      this.waiting.pop();
      head.state = 'ready';
      this.ready.push(head);
    }
  }
}

function checkInterval(intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new Error(`poll interval ${intervalMs} ms must be a number >= 0`);
}

/** Binary min-heap that knows each element's position, for O(log n) removal. */
export class IndexedHeap<E extends { heapIndex: number }> {
  private readonly items: E[] = [];

  constructor(private readonly before: (a: E, b: E) => number) {}

  get length(): number {
    return this.items.length;
  }

  peek(): E | undefined {
    return this.items[0];
  }

  push(entry: E): void {
    entry.heapIndex = this.items.length;
    this.items.push(entry);
    this.up(entry.heapIndex);
  }

  pop(): E | undefined {
    const top = this.items[0];
    if (top) this.removeAt(0);
    return top;
  }

  remove(entry: E): void {
    const i = entry.heapIndex;
    if (i >= 0 && this.items[i] === entry) this.removeAt(i);
  }

  private removeAt(i: number): void {
    const items = this.items;
    const removed = items[i];
    const last = items.pop() as E;
    removed.heapIndex = -1;
    if (i < items.length) {
      items[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(last.heapIndex);
    }
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(items[i], items[parent]) >= 0) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.before(items[l], items[m]) < 0) m = l;
      if (r < items.length && this.before(items[r], items[m]) < 0) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const t = items[a];
    items[a] = items[b];
    items[b] = t;
    items[a].heapIndex = a;
    items[b].heapIndex = b;
  }
}
