/**
 * Durable store-and-forward queue: the publishers (MQTT, HTTP) and notifiers put every
 * outgoing message here first and remove it only once the far end has accepted it.
 *
 * API
 *   const q = await DurableQueue.open<T>(dir, options)   // creates or recovers `dir`
 *   const id = q.push(item)        // sync; item is JSON-serialisable; id is stable for life
 *   const batch = await q.take(n)  // up to n entries in push order, now "in flight"
 *   q.ack(batch)                   // delivered: gone for good (entries or ids)
 *   q.nack(batch)                  // not delivered: back to the head of the queue, same ids
 *   q.depth, q.oldestAgeMs(), q.drops, q.stats()
 *   await q.waitForItems(ms)       // resolves when take() would return something
 *   await q.flush()                // everything pushed so far is on disk and synced
 *   await q.close()                // writes the whole unwritten backlog; what a failing disk
 *                                  // keeps it from saving is counted in drops ('close')
 *   events: 'drop' {count, reason}, 'disk-error' (QueueError), 'disk-ok', 'checkpoint' (ackedThrough)
 *
 * Guarantees
 * - In order: take() hands out entries in push order; a nacked entry comes back before
 *   anything newer. One consumer per queue.
 * - At least once, with a stable id (`<queue id>-<seq>`, the queue id being random per
 *   directory): an entry is handed out again after nack, close or crash until it is acked.
 *   A receiver drops duplicates by id. Acks are stored as a position (everything up to the
 *   oldest entry still owed): an entry acked while an older one is still owed comes back
 *   after a restart or crash (checked by test/integration/queue-property.test.ts).
 * - Survives kill -9: records are appended to segment files (length + CRC-32 per record)
 *   as soon as the event loop is free (batched); the acked position is checkpointed by an
 *   atomic rename. A record torn by the crash is found by its length/CRC on open and cut
 *   off; that record was never reported as stored (flush() had not resolved for it).
 * - Bounded: when the segments pass `maxBytes`, the oldest segment is deleted; its
 *   undelivered records are counted in `drops` and reported by a 'drop' event.
 * - Never blocks the caller: push() only encodes and buffers. A failing disk (ENOSPC, EACCES,
 *   EROFS) is reported by 'disk-error' and stats().diskError; records then stay in memory
 *   (up to `maxMemoryBytes`, oldest dropped beyond) and writing is retried with backoff.
 *   An unusable directory at open gives a memory-only queue (or an error when
 *   `memoryFallback` is false).
 *
 * Layout: types.ts (options, entries, errors), held-records.ts (records in memory),
 * segment-writer.ts and segment-reader.ts (the files), checkpointer.ts (the acked
 * position), recover.ts (opening after a crash), segment.ts (the record format).
 *
 * Fsync policy (`fsync`). Appends are batched (everything pushed while the previous write
 * was in progress goes out as one write), so a sync is paid per batch, not per record.
 * - 'never': writes reach the OS page cache; safe against kill -9 and Node-RED crashes, not
 *   against power loss.
 * - 'interval' (default, every `fsyncIntervalMs` = 1 s): also survives power loss except for
 *   the last interval; one fdatasync per second.
 * - 'always': fdatasync after every write batch. Batches grow while a sync is running, so
 *   throughput stays high, but each record waits for the disk before it counts as stored,
 *   and on SD cards every sync costs time (often tens of milliseconds) and wear.
 * Measured by bench/publish.ts (2-core VM, fdatasync 0.22 ms, ~370-byte readings, append +
 * flush): never 206k, interval 264k, always 281k records/s in bursts of 1000; interval 213k,
 * always 203k records/s in bursts of 10. On this disk the policy costs nothing measurable;
 * where a sync takes tens of milliseconds, 'always' adds that to every batch's latency.
 */
import { EventEmitter } from 'events';
import path from 'path';
import { Checkpointer } from './checkpointer';
import { Deque } from './deque';
import { Held, heldJson, HeldRecords } from './held-records';
import { recover, RecoveryReport } from './recover';
import { registerQueue } from './registry';
import { encodeRecord } from './segment';
import { SegmentReader } from './segment-reader';
import { SegmentWriter } from './segment-writer';
import { describeFsError, DropEvent, MIB, QueueEntry, QueueError, QueueOptions, QueueSettings, queueSettings, QueueStats } from './types';

export { QueueError } from './types';
export type { DropEvent, FsyncPolicy, QueueEntry, QueueOptions, QueueStats } from './types';

interface Entry<T> extends QueueEntry<T> {
  /** Its segment was dropped while it was in flight: a nack loses it. */
  dropped?: boolean;
}

const MAX_WRITE = 1 * MIB;

export class DurableQueue<T> extends EventEmitter {
  readonly dir: string;
  private readonly opt: QueueSettings;
  private prefix = '';
  private closed = false;
  private memoryOnly = false;
  private recovery: RecoveryReport | null = null;

  private nextSeq = 1;
  private depthCount = 0;
  private dropCount = 0;
  private pushedCount = 0;
  private ackedCount = 0;

  private readonly mem: HeldRecords;
  /** Every mem record with a smaller seq has been written (or dropped). */
  private writeCursor = 1;

  /** Next seq not yet handed out or read ahead. Everything below it is in flight, in retry, read ahead, acked or dropped. */
  private cursor = 1;
  private readonly ahead = new Deque<Entry<T>>();
  private retry: Entry<T>[] = [];
  private readonly inflight = new Map<number, Entry<T>>();

  private readonly writer: SegmentWriter;
  private readonly reader: SegmentReader;
  private readonly checkpoints: Checkpointer;
  /** Bumped when a segment is dropped, so a read of it that was under way is ignored. */
  private readEpoch = 0;

  private writing?: Promise<void>;
  /** Last seq of the batch being written: memory pressure must not drop it mid-write. */
  private writingUpTo = 0;
  private writeTimer?: { cancel(): void };
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = 0;
  private diskError: QueueError | null = null;
  private flushWaiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private itemWaiters: Array<() => void> = [];

  private takeChain: Promise<unknown> = Promise.resolve();
  private unregister: () => void = () => undefined;

  private constructor(dir: string, options: QueueOptions) {
    super();
    this.dir = path.resolve(dir);
    this.opt = queueSettings(this.dir, options);
    this.mem = new HeldRecords(this.opt.cacheBytes);
    this.writer = new SegmentWriter(this.dir, this.opt, (err) => this.emit('disk-error', err));
    this.reader = new SegmentReader(this.opt.maxRecordBytes);
    this.checkpoints = new Checkpointer(
      this.dir,
      { owner: this.opt.owner, delayMs: this.opt.checkpointDelayMs, sync: this.opt.fsync !== 'never' },
      {
        current: () => ({ ackedThrough: this.ackedThrough(), drops: this.dropCount }),
        written: (ackedThrough) => {
          this.emit('checkpoint', ackedThrough);
          this.writer.deleteDelivered(ackedThrough, (seg) => this.reader.forget(seg));
        },
        failed: (err) => this.emit('disk-error', err),
      },
    );
  }

  /** Opens (creating or recovering) the queue in `dir`. */
  static async open<T>(dir: string, options: QueueOptions = {}): Promise<DurableQueue<T>> {
    const q = new DurableQueue<T>(dir, options);
    await q.start();
    return q;
  }

  private async start(): Promise<void> {
    try {
      const state = await recover(this.dir, this.opt.maxRecordBytes, this.opt.fsync !== 'never');
      this.prefix = state.prefix;
      this.recovery = state.report;
      this.nextSeq = state.nextSeq;
      this.writeCursor = state.nextSeq;
      this.cursor = state.checkpoint.ackedThrough + 1;
      this.depthCount = state.report.pending;
      this.dropCount = state.checkpoint.drops;
      this.checkpoints.resume(state.checkpoint);
      await this.writer.resume(state.segments);
    } catch (err) {
      const error = describeFsError(err, `queue ${this.opt.owner}: cannot use directory ${this.dir}`);
      if (!this.opt.memoryFallback) throw error;
      this.memoryOnly = true;
      this.mem.memoryOnly = true;
      this.diskError = error;
      this.prefix = `m${Date.now().toString(16).slice(-7)}`;
    }
    if (!this.memoryOnly && this.opt.fsync === 'interval') this.writer.startSyncTimer(this.opt.fsyncIntervalMs);
    this.enforceDiskBound();
    this.unregister = registerQueue({ owner: this.opt.owner, dir: this.dir, stats: () => this.stats() });
  }

  // ---- producer side ------------------------------------------------------------------

  /** Appends an item; returns its id. Throws only for a closed queue or an item that cannot be stored. */
  push(item: T): string {
    if (this.closed) throw new QueueError(`queue ${this.opt.owner} is closed`);
    const json = JSON.stringify(item);
    if (json === undefined) throw new QueueError(`queue ${this.opt.owner}: item is not JSON-serialisable`);
    if (json.length > this.opt.maxRecordBytes && Buffer.byteLength(json) > this.opt.maxRecordBytes) {
      throw new QueueError(`queue ${this.opt.owner}: item of ${Buffer.byteLength(json)} bytes exceeds the ${this.opt.maxRecordBytes}-byte limit`);
    }
    const seq = this.nextSeq++;
    const at = Date.now();
    this.mem.add({ seq, at, record: encodeRecord(seq, at, json) });
    this.depthCount++;
    this.pushedCount++;
    this.enforceMemoryBound();
    this.scheduleWrite();
    this.wakeItemWaiters();
    return this.idOf(seq);
  }

  /** Resolves when every item pushed so far is written and synced; rejects while the disk fails. */
  flush(): Promise<void> {
    if (this.memoryOnly) return Promise.reject(this.diskError ?? new QueueError(`queue ${this.opt.owner} is memory-only`));
    const seq = this.nextSeq - 1;
    return new Promise<void>((resolve, reject) => {
      this.flushWaiters.push({ seq, resolve, reject });
      if (this.writeCursor > seq) void this.settleFlushWaiters();
      else this.scheduleWrite();
    });
  }

  // ---- consumer side ------------------------------------------------------------------

  /** Up to `max` entries in order, oldest first; they are in flight until acked or nacked. */
  take(max: number): Promise<QueueEntry<T>[]> {
    const run = this.takeChain.then(() => this.takeNow(max));
    this.takeChain = run.catch(() => undefined);
    return run;
  }

  private async takeNow(max: number): Promise<QueueEntry<T>[]> {
    const out: Entry<T>[] = [];
    if (this.closed) return out;
    while (out.length < max && this.retry.length) out.push(this.retry.shift() as Entry<T>);
    while (out.length < max) {
      const fromAhead = this.ahead.shift();
      if (fromAhead) {
        out.push(fromAhead);
        continue;
      }
      if (this.cursor < this.memFirstSeq() && !this.memoryOnly) {
        await this.readAhead();
        continue;
      }
      const start = this.mem.indexOf(this.cursor);
      for (let i = start; i < this.mem.length && out.length < max; i++) {
        const held = this.mem.at(i);
        out.push(this.entryOf(held.seq, held.at, heldJson(held)));
        this.cursor = held.seq + 1;
      }
      break;
    }
    for (const e of out) this.inflight.set(e.seq, e);
    this.evictMem();
    return out.map(({ id, seq, enqueuedAt, item }) => ({ id, seq, enqueuedAt, item }));
  }

  /** Delivered: removes the entries for good. Unknown or repeated ids are ignored. */
  ack(entries: ReadonlyArray<QueueEntry<T> | string> | QueueEntry<T> | string): void {
    for (const x of Array.isArray(entries) ? entries : [entries]) {
      const seq = this.seqOf(x as QueueEntry<T> | string);
      if (!this.inflight.delete(seq)) continue;
      this.depthCount--;
      this.ackedCount++;
    }
    this.evictMem();
    this.scheduleCheckpoint();
  }

  /** Not delivered: the entries go back to the head of the queue and keep their ids. */
  nack(entries: ReadonlyArray<QueueEntry<T> | string> | QueueEntry<T> | string): void {
    let back = 0;
    for (const x of Array.isArray(entries) ? entries : [entries]) {
      const seq = this.seqOf(x as QueueEntry<T> | string);
      const e = this.inflight.get(seq);
      if (!e) continue;
      this.inflight.delete(seq);
      if (e.dropped) {
        this.countDrops(1, 'full');
        continue;
      }
      this.retry.push(e);
      back++;
    }
    if (back) {
      this.retry.sort((a, b) => a.seq - b.seq);
      this.wakeItemWaiters();
    }
    this.scheduleCheckpoint();
  }

  /** Entries that take() would hand out now (not in flight). */
  get available(): number {
    return Math.max(0, this.depthCount - this.inflight.size);
  }

  /** Resolves true as soon as take() has something, false after `timeoutMs` or on close. */
  waitForItems(timeoutMs: number): Promise<boolean> {
    if (this.available > 0) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve(this.available > 0);
      };
      const timer = setTimeout(() => {
        this.itemWaiters = this.itemWaiters.filter((w) => w !== wake);
        resolve(this.available > 0);
      }, timeoutMs);
      this.itemWaiters.push(wake);
    });
  }

  // ---- state --------------------------------------------------------------------------

  get depth(): number {
    return this.depthCount;
  }

  get drops(): number {
    return this.dropCount;
  }

  get id(): string {
    return this.prefix;
  }

  /** Age of the oldest undelivered entry (to one segment's span when it has not been read back yet). */
  oldestAgeMs(now = Date.now()): number {
    if (this.depthCount <= 0) return 0;
    let oldest = Infinity;
    for (const e of this.inflight.values()) if (!e.dropped) oldest = Math.min(oldest, e.enqueuedAt);
    if (this.retry.length) oldest = Math.min(oldest, this.retry[0].enqueuedAt);
    const a = this.ahead.first();
    if (a) oldest = Math.min(oldest, a.enqueuedAt);
    if (this.cursor >= this.memFirstSeq()) {
      const i = this.mem.indexOf(this.cursor);
      if (i < this.mem.length) oldest = Math.min(oldest, this.mem.at(i).at);
    } else {
      const seg = this.writer.holding(this.cursor);
      if (seg) oldest = Math.min(oldest, seg.firstAt);
    }
    return oldest === Infinity ? 0 : Math.max(0, now - oldest);
  }

  stats(): QueueStats {
    return {
      depth: this.depthCount,
      inFlight: this.inflight.size,
      oldestAgeMs: this.oldestAgeMs(),
      drops: this.dropCount,
      pushed: this.pushedCount,
      acked: this.ackedCount,
      diskBytes: this.writer.diskBytes,
      memoryBytes: this.mem.unwrittenBytes,
      diskError: this.diskError ? this.diskError.message : null,
      memoryOnly: this.memoryOnly,
      recovery: this.recovery,
    };
  }

  /** Writes what is buffered, checkpoints, and releases the files. In-flight entries count as not delivered. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.writer.stopSyncTimer();
    this.checkpoints.stop();
    this.writeTimer?.cancel();
    this.writeTimer = undefined;
    this.wakeItemWaiters();
    if (!this.memoryOnly) {
      await this.writing;
      await this.writeBacklog();
      this.countUnsaved();
      await this.writer.sync();
      await this.checkpoints.idle();
      await this.checkpoints.write();
      await this.writer.close();
      await this.reader.release();
    } else {
      this.countUnsaved();
    }
    for (const w of this.flushWaiters) w.reject(new QueueError(`queue ${this.opt.owner} closed before its data was written`));
    this.flushWaiters = [];
    this.unregister();
  }

  /** At close: writes every buffered record, batch after batch, until done or the disk fails. */
  private async writeBacklog(): Promise<void> {
    while (this.writeCursor < this.nextSeq) {
      const before = this.writeCursor;
      await this.writeBatch(Infinity);
      if (this.writeCursor === before) return;
    }
  }

  private countUnsaved(): void {
    const lost = this.unwrittenOwed();
    if (lost) this.countDrops(lost, 'close');
  }

  /** Records that a close leaves behind unwritten although the consumer has not acked them. */
  private unwrittenOwed(): number {
    let owed = 0;
    for (let i = this.mem.indexOf(this.memoryOnly ? 0 : this.writeCursor); i < this.mem.length; i++) {
      const seq = this.mem.at(i).seq;
      if (seq >= this.cursor) owed++;
    }
    for (const e of this.retry) if (this.memoryOnly || e.seq >= this.writeCursor) owed++;
    for (const e of this.inflight.values()) if (!e.dropped && (this.memoryOnly || e.seq >= this.writeCursor)) owed++;
    return owed;
  }

  // ---- ids ----------------------------------------------------------------------------

  private idOf(seq: number): string {
    return `${this.prefix}-${seq}`;
  }

  private seqOf(x: QueueEntry<T> | string): number {
    if (typeof x !== 'string') return x.seq;
    const dash = x.lastIndexOf('-');
    return dash > 0 && x.slice(0, dash) === this.prefix ? Number(x.slice(dash + 1)) : NaN;
  }

  private entryOf(seq: number, enqueuedAt: number, json: Buffer): Entry<T> {
    return { id: this.idOf(seq), seq, enqueuedAt, item: JSON.parse(json.toString('utf8')) as T };
  }

  private memFirstSeq(): number {
    return this.mem.firstSeq(this.nextSeq);
  }

  private wakeItemWaiters(): void {
    if (!this.itemWaiters.length) return;
    const waiters = this.itemWaiters;
    this.itemWaiters = [];
    for (const w of waiters) w();
  }

  // ---- memory -------------------------------------------------------------------------

  private evictMem(): void {
    this.mem.evict(this.cursor, this.writeCursor);
  }

  /** While the disk fails, unwritten records pile up in memory: beyond the limit the oldest go. */
  private enforceMemoryBound(): void {
    if (!this.memoryOnly && !this.diskError) return;
    const limit = this.memoryOnly ? Math.min(this.opt.maxMemoryBytes, this.opt.maxBytes) : this.opt.maxMemoryBytes;
    const dropped = this.mem.trim(limit, this.cursor, this.writeCursor, this.writingUpTo);
    if (dropped) this.countDrops(dropped, 'memory');
  }

  private countDrops(count: number, reason: DropEvent['reason']): void {
    this.dropCount += count;
    this.depthCount -= count;
    this.scheduleCheckpoint();
    this.emit('drop', { count, reason } satisfies DropEvent);
  }

  // ---- writing ------------------------------------------------------------------------

  private scheduleWrite(): void {
    if (this.memoryOnly || this.closed || this.writing || this.writeTimer || this.retryTimer) return;
    if (this.writeCursor >= this.nextSeq) return;
    const run = (): void => {
      this.writeTimer = undefined;
      void this.writeBatch(MAX_WRITE);
    };
    if (this.opt.writeDelayMs > 0) {
      const t = setTimeout(run, this.opt.writeDelayMs);
      this.writeTimer = { cancel: () => clearTimeout(t) };
    } else {
      const i = setImmediate(run);
      this.writeTimer = { cancel: () => clearImmediate(i) };
    }
  }

  private writeBatch(maxBytes: number): Promise<void> {
    const run = this.writeNow(maxBytes).finally(() => {
      this.writing = undefined;
      this.writingUpTo = 0;
      if (this.diskError) return;
      if (this.flushWaiters.length) void this.settleFlushWaiters();
      this.scheduleWrite();
    });
    this.writing = run;
    return run;
  }

  private async writeNow(maxBytes: number): Promise<void> {
    const start = this.mem.indexOf(this.writeCursor);
    const batch: Held[] = [];
    let bytes = 0;
    const limit = Math.min(maxBytes, this.opt.segmentBytes);
    for (let i = start; i < this.mem.length && (bytes < limit || !batch.length); i++) {
      const h = this.mem.at(i);
      batch.push(h);
      bytes += h.record.length;
    }
    if (!batch.length) return;
    this.writingUpTo = batch[batch.length - 1].seq;
    try {
      await this.writer.prepare(batch[0].seq, bytes);
      this.enforceDiskBound(bytes);
      await this.writer.append(batch, bytes);
      const after = this.writer.commit(batch, bytes);
      this.mem.markWritten(bytes);
      this.writeCursor = Math.max(this.writeCursor, after);
      if (this.opt.fsync === 'always') await this.writer.sync();
      this.retryDelayMs = 0;
      if (this.diskError) {
        this.diskError = null;
        this.emit('disk-ok');
      }
      await this.settleFlushWaiters();
      this.enforceDiskBound();
      this.evictMem();
    } catch (err) {
      await this.onWriteError(err);
    }
  }

  private async onWriteError(err: unknown): Promise<void> {
    const file = await this.writer.abandonBatch();
    const error = err instanceof QueueError ? err : describeFsError(err, `queue ${this.opt.owner}: cannot write ${file}`);
    const first = !this.diskError || this.diskError.message !== error.message;
    this.diskError = error;
    if (first) this.emit('disk-error', error);
    for (const w of this.flushWaiters) w.reject(error);
    this.flushWaiters = [];
    this.enforceMemoryBound();
    if (this.closed) return;
    this.retryDelayMs = Math.min(30_000, this.retryDelayMs ? this.retryDelayMs * 2 : 1000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.writeBatch(MAX_WRITE);
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async settleFlushWaiters(): Promise<void> {
    const done = this.flushWaiters.filter((w) => w.seq < this.writeCursor);
    if (!done.length) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.seq >= this.writeCursor);
    await this.writer.sync();
    for (const w of done) w.resolve();
  }

  // ---- bound --------------------------------------------------------------------------

  /** Drops the oldest segments until `incoming` more bytes fit under the bound. */
  private enforceDiskBound(incoming = 0): void {
    while (this.writer.overBound(this.opt.maxBytes, incoming)) this.dropOldestSegment();
  }

  private dropOldestSegment(): void {
    const seg = this.writer.shiftOldest();
    let lost = 0;
    if (this.cursor <= seg.lastSeq) {
      lost += this.cursor <= seg.firstSeq ? seg.count : Math.min(seg.count, seg.lastSeq - this.cursor + 1);
      this.cursor = seg.lastSeq + 1;
    }
    while (this.ahead.length && (this.ahead.first() as Entry<T>).seq <= seg.lastSeq) {
      this.ahead.shift();
      lost++;
    }
    const keep = this.retry.filter((e) => e.seq > seg.lastSeq);
    lost += this.retry.length - keep.length;
    this.retry = keep;
    for (const e of this.inflight.values()) if (e.seq <= seg.lastSeq) e.dropped = true;
    this.reader.forget(seg);
    this.readEpoch++;
    this.writer.remove(seg);
    if (lost) this.countDrops(lost, 'full');
  }

  // ---- reading back -------------------------------------------------------------------

  /** Reads the next records at the cursor from disk into `ahead`. */
  private async readAhead(): Promise<void> {
    const seg = this.writer.holding(this.cursor);
    if (!seg) {
      // The records in between never reached the disk (dropped from memory): skip the gap.
      this.cursor = this.memFirstSeq();
      return;
    }
    const epoch = this.readEpoch;
    try {
      const records = await this.reader.next(seg, () => {
        if (seg.lastSeq >= this.cursor) this.cursor = seg.lastSeq + 1;
      });
      if (epoch !== this.readEpoch) return;
      for (const r of records) {
        if (r.seq < this.cursor) continue;
        this.ahead.push(this.entryOf(r.seq, r.enqueuedAt, r.json));
        this.cursor = r.seq + 1;
      }
    } catch (err) {
      if (epoch !== this.readEpoch) return;
      // An unreadable segment cannot be delivered: count it and move on rather than stall the queue.
      const lost = Math.min(seg.count, seg.lastSeq - this.cursor + 1);
      this.reader.close();
      this.cursor = seg.lastSeq + 1;
      this.emit('disk-error', describeFsError(err, `queue ${this.opt.owner}: cannot read ${seg.file}`));
      if (lost > 0) this.countDrops(lost, 'damaged');
    }
  }

  // ---- checkpoint ---------------------------------------------------------------------

  private scheduleCheckpoint(): void {
    if (this.memoryOnly || this.closed) return;
    this.checkpoints.schedule();
  }

  /** Everything below the lowest entry still owed to the consumer is delivered or dropped. */
  private ackedThrough(): number {
    let lowest = this.cursor;
    for (const seq of this.inflight.keys()) if (seq < lowest) lowest = seq;
    if (this.retry.length) lowest = Math.min(lowest, this.retry[0].seq);
    const a = this.ahead.first();
    if (a) lowest = Math.min(lowest, a.seq);
    return lowest - 1;
  }
}
