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
 *   await q.close()
 *   events: 'drop' {count, reason}, 'disk-error' (QueueError), 'disk-ok', 'checkpoint' (ackedThrough)
 *
 * Guarantees
 * - In order: take() hands out entries in push order; a nacked entry comes back before
 *   anything newer. One consumer per queue.
 * - At least once, with a stable id (`<queue id>-<seq>`, the queue id being random per
 *   directory): an entry is handed out again after nack, close or crash until it is acked.
 *   A receiver drops duplicates by id.
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
import fs from 'fs';
import path from 'path';
import { Deque } from './deque';
import { registerQueue } from './registry';
import { recover, RecoveryReport, CHECKPOINT_FILE } from './recover';
import { encodeRecord, parseRecords, segmentName, SegmentInfo, SEGMENT_MAGIC, HEADER_BYTES, FRAME_BYTES } from './segment';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface QueueOptions {
  /** Bound on the segment files; the oldest segment is dropped beyond it. Default 64 MiB. */
  maxBytes?: number;
  /** Size at which a new segment file is started (also the drop granularity). Default 4 MiB, at most maxBytes/4. */
  segmentBytes?: number;
  fsync?: FsyncPolicy;
  fsyncIntervalMs?: number;
  /** Wait this long to gather pushes into one write; 0 = as soon as the event loop is free. */
  writeDelayMs?: number;
  /** Recent records kept in memory so a consumer that keeps up never reads the disk. Default 4 MiB. */
  cacheBytes?: number;
  /** Unwritten records held in memory while the disk fails. Default 16 MiB. */
  maxMemoryBytes?: number;
  /** Largest accepted item (encoded JSON). Default 1 MiB. */
  maxRecordBytes?: number;
  /** Delay before an ack is checkpointed (acks within it share one write). Default 100 ms. */
  checkpointDelayMs?: number;
  /** Names the queue in errors and the registry. */
  owner?: string;
  /** When the directory cannot be used, run in memory (true, default) instead of failing open(). */
  memoryFallback?: boolean;
}

export interface QueueEntry<T> {
  id: string;
  seq: number;
  enqueuedAt: number;
  item: T;
}

export interface QueueStats {
  depth: number;
  inFlight: number;
  oldestAgeMs: number;
  drops: number;
  pushed: number;
  acked: number;
  diskBytes: number;
  memoryBytes: number;
  diskError: string | null;
  memoryOnly: boolean;
  recovery: RecoveryReport | null;
}

export interface DropEvent {
  count: number;
  reason: 'full' | 'memory' | 'damaged';
}

/** A queue problem that names the queue, the file or directory and what went wrong. */
export class QueueError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'QueueError';
  }
}

interface Held {
  seq: number;
  at: number;
  record: Buffer;
}

interface Entry<T> extends QueueEntry<T> {
  /** Its segment was dropped while it was in flight: a nack loses it. */
  dropped?: boolean;
}

const MIB = 1024 * 1024;
const READ_CHUNK = 256 * 1024;
const MAX_WRITE = 1 * MIB;

export function describeFsError(err: unknown, what: string): QueueError {
  const e = err as NodeJS.ErrnoException;
  const hints: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is exhausted',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a path component is not a directory',
    EIO: 'an I/O error from the disk',
  };
  const hint = (e && e.code && hints[e.code]) || (e && e.message) || String(err);
  return new QueueError(`${what}: ${hint}${e && e.code ? ` (${e.code})` : ''}`, e?.code);
}

export class DurableQueue<T> extends EventEmitter {
  readonly dir: string;
  private readonly opt: Required<Omit<QueueOptions, 'owner'>> & { owner: string };
  private prefix = '';
  private closed = false;
  private memoryOnly = false;
  private recovery: RecoveryReport | null = null;

  private nextSeq = 1;
  private depthCount = 0;
  private dropCount = 0;
  private pushedCount = 0;
  private ackedCount = 0;

  /** Newest records, sorted by seq: written ones first (a cache), then not-yet-written ones. */
  private readonly mem = new Deque<Held>();
  private memBytes = 0;
  private memWrittenBytes = 0;
  /** Every mem record with a smaller seq has been written (or dropped). */
  private writeCursor = 1;

  /** Next seq not yet handed out or read ahead. Everything below it is in flight, in retry, read ahead, acked or dropped. */
  private cursor = 1;
  private readonly ahead = new Deque<Entry<T>>();
  private retry: Entry<T>[] = [];
  private readonly inflight = new Map<number, Entry<T>>();

  private segments: SegmentInfo[] = [];
  private diskBytes = 0;
  private active?: { seg: SegmentInfo; fd: fs.promises.FileHandle };
  private rollBeforeNextWrite = false;
  private readSeg?: SegmentInfo;
  private readFd?: fs.promises.FileHandle;
  private readOffset = 0;
  private readEpoch = 0;

  private writing?: Promise<void>;
  /** Last seq of the batch being written: memory pressure must not drop it mid-write. */
  private writingUpTo = 0;
  private writeTimer?: { cancel(): void };
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = 0;
  private fsyncTimer?: NodeJS.Timeout;
  private dirty = false;
  private diskError: QueueError | null = null;
  private flushWaiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private itemWaiters: Array<() => void> = [];

  private checkpointTimer?: NodeJS.Timeout;
  private checkpointing?: Promise<void>;
  private checkpointAgain = false;
  private lastCheckpoint = { ackedThrough: 0, drops: 0 };
  private takeChain: Promise<unknown> = Promise.resolve();
  private unregister: () => void = () => undefined;

  private constructor(dir: string, options: QueueOptions) {
    super();
    this.dir = path.resolve(dir);
    const maxBytes = options.maxBytes ?? 64 * MIB;
    this.opt = {
      maxBytes,
      segmentBytes: Math.max(4096, Math.min(options.segmentBytes ?? 4 * MIB, Math.floor(maxBytes / 4))),
      fsync: options.fsync ?? 'interval',
      fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
      writeDelayMs: options.writeDelayMs ?? 0,
      cacheBytes: options.cacheBytes ?? 4 * MIB,
      maxMemoryBytes: options.maxMemoryBytes ?? 16 * MIB,
      maxRecordBytes: options.maxRecordBytes ?? MIB,
      checkpointDelayMs: options.checkpointDelayMs ?? 100,
      owner: options.owner ?? path.basename(this.dir),
      memoryFallback: options.memoryFallback ?? true,
    };
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
      this.segments = state.segments;
      this.diskBytes = state.segments.reduce((n, s) => n + s.bytes, 0);
      this.nextSeq = state.nextSeq;
      this.writeCursor = state.nextSeq;
      this.cursor = state.checkpoint.ackedThrough + 1;
      this.depthCount = state.report.pending;
      this.dropCount = state.checkpoint.drops;
      this.lastCheckpoint = { ackedThrough: state.checkpoint.ackedThrough, drops: state.checkpoint.drops };
      await this.reopenLastSegment();
    } catch (err) {
      const error = describeFsError(err, `queue ${this.opt.owner}: cannot use directory ${this.dir}`);
      if (!this.opt.memoryFallback) throw error;
      this.memoryOnly = true;
      this.diskError = error;
      this.prefix = `m${Date.now().toString(16).slice(-7)}`;
    }
    if (!this.memoryOnly && this.opt.fsync === 'interval') {
      this.fsyncTimer = setInterval(() => void this.syncIfDirty(), this.opt.fsyncIntervalMs);
      this.fsyncTimer.unref();
    }
    this.enforceDiskBound();
    this.unregister = registerQueue({ owner: this.opt.owner, dir: this.dir, stats: () => this.stats() });
  }

  private async reopenLastSegment(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    if (!last || last.bytes >= this.opt.segmentBytes) return;
    this.active = { seg: last, fd: await fs.promises.open(last.file, 'r+') };
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
    const record = encodeRecord(seq, at, json);
    this.mem.push({ seq, at, record });
    this.memBytes += record.length;
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
      const start = this.mem.lowerBound(this.cursor, (h) => h.seq);
      for (let i = start; i < this.mem.length && out.length < max; i++) {
        const held = this.mem.at(i);
        out.push(this.entryOf(held.seq, held.at, held.record.subarray(FRAME_BYTES + 16)));
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
      const i = this.mem.lowerBound(this.cursor, (h) => h.seq);
      if (i < this.mem.length) oldest = Math.min(oldest, this.mem.at(i).at);
    } else {
      const seg = this.segments.find((s) => s.lastSeq >= this.cursor && s.count > 0);
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
      diskBytes: this.diskBytes,
      memoryBytes: this.memBytes - this.memWrittenBytes,
      diskError: this.diskError ? this.diskError.message : null,
      memoryOnly: this.memoryOnly,
      recovery: this.recovery,
    };
  }

  /** Writes what is buffered, checkpoints, and releases the files. In-flight entries count as not delivered. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.retryTimer, this.fsyncTimer, this.checkpointTimer]) if (t) clearTimeout(t);
    this.writeTimer?.cancel();
    this.writeTimer = undefined;
    this.wakeItemWaiters();
    if (!this.memoryOnly) {
      await this.writing;
      if (this.writeCursor < this.nextSeq) await this.writeBatch(Infinity);
      await this.syncIfDirty();
      await this.checkpointing;
      await this.writeCheckpoint();
      await this.active?.fd.close().catch(() => undefined);
      await this.readFd?.close().catch(() => undefined);
    }
    for (const w of this.flushWaiters) w.reject(new QueueError(`queue ${this.opt.owner} closed before its data was written`));
    this.flushWaiters = [];
    this.unregister();
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
    const first = this.mem.first();
    return first ? first.seq : this.nextSeq;
  }

  private wakeItemWaiters(): void {
    if (!this.itemWaiters.length) return;
    const waiters = this.itemWaiters;
    this.itemWaiters = [];
    for (const w of waiters) w();
  }

  // ---- memory -------------------------------------------------------------------------

  /** Drops records from memory once they are written and handed out, or when the cache is over its size. */
  private evictMem(): void {
    for (let h = this.mem.first(); h; h = this.mem.first()) {
      if (this.memoryOnly) {
        // Nothing is ever written: a record handed out lives on in its entry (in flight or retry).
        if (h.seq >= this.cursor) break;
      } else if (h.seq >= this.writeCursor || (h.seq >= this.cursor && this.memWrittenBytes <= this.opt.cacheBytes)) {
        break;
      }
      this.mem.shift();
      this.memBytes -= h.record.length;
      if (!this.memoryOnly) this.memWrittenBytes -= h.record.length;
    }
  }

  /** While the disk fails, unwritten records pile up in memory: beyond the limit the oldest go. */
  private enforceMemoryBound(): void {
    if (!this.memoryOnly && !this.diskError) return;
    const limit = this.memoryOnly ? Math.min(this.opt.maxMemoryBytes, this.opt.maxBytes) : this.opt.maxMemoryBytes;
    if (this.memBytes - this.memWrittenBytes <= limit) return;
    this.evictMem();
    let dropped = 0;
    while (this.memBytes - this.memWrittenBytes > limit) {
      const h = this.mem.first();
      if (!h || h.seq <= this.writingUpTo) break;
      this.mem.shift();
      this.memBytes -= h.record.length;
      if (!this.memoryOnly && h.seq < this.writeCursor) {
        this.memWrittenBytes -= h.record.length;
        continue;
      }
      // Not handed out yet: it is lost. (Handed-out records live on in their entries.)
      if (h.seq >= this.cursor) dropped++;
    }
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
    const start = this.mem.lowerBound(this.writeCursor, (h) => h.seq);
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
      const active = await this.activeSegment(batch[0].seq, bytes);
      this.enforceDiskBound(bytes);
      const buf = batch.length === 1 ? batch[0].record : Buffer.concat(batch.map((h) => h.record), bytes);
      await writeFully(active.fd, buf, active.seg.bytes);
      const seg = active.seg;
      if (seg.count === 0) seg.firstAt = batch[0].at;
      seg.bytes += bytes;
      seg.count += batch.length;
      seg.lastSeq = batch[batch.length - 1].seq;
      this.diskBytes += bytes;
      this.dirty = true;
      this.memWrittenBytes += bytes;
      this.writeCursor = Math.max(this.writeCursor, seg.lastSeq + 1);
      if (this.opt.fsync === 'always') await this.syncIfDirty();
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
    const file = this.active?.seg.file ?? this.dir;
    // Cut off a partly written batch so the segment ends on a whole record; start a fresh segment next time.
    if (this.active) await this.active.fd.truncate(this.active.seg.bytes).catch(() => undefined);
    this.rollBeforeNextWrite = true;
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

  private async activeSegment(firstSeq: number, bytes: number): Promise<{ seg: SegmentInfo; fd: fs.promises.FileHandle }> {
    const current = this.active;
    const reuse = current && current.seg.count === 0 && current.seg.bytes === HEADER_BYTES;
    if (current && (reuse || (!this.rollBeforeNextWrite && current.seg.bytes + bytes <= this.opt.segmentBytes))) {
      this.rollBeforeNextWrite = false;
      return current;
    }
    if (current) {
      this.active = undefined;
      if (this.dirty && this.opt.fsync !== 'never') await current.fd.datasync().catch(() => undefined);
      this.dirty = false;
      await current.fd.close().catch(() => undefined);
    }
    const file = path.join(this.dir, segmentName(firstSeq));
    let fd: fs.promises.FileHandle | undefined;
    try {
      fd = await fs.promises.open(file, 'w+');
      await writeFully(fd, SEGMENT_MAGIC, 0);
      if (this.opt.fsync !== 'never') await syncDir(this.dir);
    } catch (err) {
      await fd?.close().catch(() => undefined);
      await fs.promises.rm(file, { force: true }).catch(() => undefined);
      throw describeFsError(err, `queue ${this.opt.owner}: cannot write ${file}`);
    }
    const seg: SegmentInfo = { file, firstSeq, lastSeq: firstSeq - 1, count: 0, bytes: HEADER_BYTES, firstAt: 0 };
    this.segments.push(seg);
    this.diskBytes += HEADER_BYTES;
    this.active = { seg, fd };
    this.rollBeforeNextWrite = false;
    return this.active;
  }

  private async syncIfDirty(): Promise<void> {
    if (!this.dirty || !this.active) return;
    this.dirty = false;
    try {
      await this.active.fd.datasync();
    } catch (err) {
      this.dirty = true;
      this.emit('disk-error', describeFsError(err, `queue ${this.opt.owner}: cannot sync ${this.active.seg.file}`));
    }
  }

  private async settleFlushWaiters(): Promise<void> {
    const done = this.flushWaiters.filter((w) => w.seq < this.writeCursor);
    if (!done.length) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.seq >= this.writeCursor);
    await this.syncIfDirty();
    for (const w of done) w.resolve();
  }

  // ---- bound --------------------------------------------------------------------------

  /** Drops the oldest segments until `incoming` more bytes fit under the bound. */
  private enforceDiskBound(incoming = 0): void {
    while (this.diskBytes + incoming > this.opt.maxBytes && this.segments.length > 1 && this.segments[0] !== this.active?.seg) {
      this.dropOldestSegment();
    }
  }

  private dropOldestSegment(): void {
    const seg = this.segments.shift() as SegmentInfo;
    this.diskBytes -= seg.bytes;
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
    if (this.readSeg === seg) this.closeReader();
    this.readEpoch++;
    fs.promises.rm(seg.file, { force: true }).catch(() => undefined);
    if (lost) this.countDrops(lost, 'full');
  }

  // ---- reading back -------------------------------------------------------------------

  private closeReader(): void {
    const fd = this.readFd;
    this.readFd = undefined;
    this.readSeg = undefined;
    if (fd) fd.close().catch(() => undefined);
  }

  /** Reads the next records at the cursor from disk into `ahead`. */
  private async readAhead(): Promise<void> {
    const seg = this.segments.find((s) => s.lastSeq >= this.cursor && s.count > 0);
    if (!seg) {
      // The records in between never reached the disk (dropped from memory): skip the gap.
      this.cursor = this.memFirstSeq();
      return;
    }
    const epoch = this.readEpoch;
    try {
      if (this.readSeg !== seg || !this.readFd) {
        this.closeReader();
        this.readFd = await fs.promises.open(seg.file, 'r');
        this.readSeg = seg;
        this.readOffset = HEADER_BYTES;
      }
      const records = await this.readChunk(this.readFd, seg);
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
      this.closeReader();
      this.cursor = seg.lastSeq + 1;
      this.emit('disk-error', describeFsError(err, `queue ${this.opt.owner}: cannot read ${seg.file}`));
      if (lost > 0) this.countDrops(lost, 'damaged');
    }
  }

  private async readChunk(fd: fs.promises.FileHandle, seg: SegmentInfo): Promise<Array<{ seq: number; enqueuedAt: number; json: Buffer }>> {
    let want = Math.min(READ_CHUNK, seg.bytes - this.readOffset);
    if (want <= 0) {
      this.readOffset = seg.bytes;
      if (seg.lastSeq >= this.cursor) this.cursor = seg.lastSeq + 1;
      return [];
    }
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fd.read(buf, 0, want, this.readOffset);
      if (bytesRead < want) throw new QueueError(`segment ends at byte ${this.readOffset + bytesRead}, expected ${this.readOffset + want}`);
      const parsed = parseRecords(buf.subarray(0, bytesRead), 0, this.opt.maxRecordBytes);
      if (parsed.stop === 'corrupt') {
        throw new QueueError(`${parsed.reason} at byte ${this.readOffset + parsed.end}`);
      }
      if (!parsed.records.length && parsed.stop === 'partial') {
        // One record larger than the chunk: read exactly that record.
        const length = bytesRead >= 4 ? buf.readUInt32LE(0) : 0;
        const need = FRAME_BYTES + length;
        if (need <= want || this.readOffset + need > seg.bytes) throw new QueueError(`record cut short at byte ${this.readOffset}`);
        want = need;
        continue;
      }
      this.readOffset += parsed.end;
      return parsed.records;
    }
  }

  // ---- checkpoint ---------------------------------------------------------------------

  private scheduleCheckpoint(): void {
    if (this.memoryOnly || this.checkpointTimer || this.closed) return;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = undefined;
      void this.writeCheckpoint();
    }, this.opt.checkpointDelayMs);
    this.checkpointTimer.unref();
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

  private writeCheckpoint(): Promise<void> {
    if (this.checkpointing) {
      this.checkpointAgain = true;
      return this.checkpointing;
    }
    const run = this.checkpointNow().finally(() => {
      this.checkpointing = undefined;
      if (this.checkpointAgain) {
        this.checkpointAgain = false;
        this.scheduleCheckpoint();
      }
    });
    this.checkpointing = run;
    return run;
  }

  private async checkpointNow(): Promise<void> {
    const ackedThrough = Math.max(this.lastCheckpoint.ackedThrough, this.ackedThrough());
    const drops = this.dropCount;
    if (ackedThrough === this.lastCheckpoint.ackedThrough && drops === this.lastCheckpoint.drops) return;
    const file = path.join(this.dir, CHECKPOINT_FILE);
    const tmp = `${file}.tmp`;
    try {
      const fd = await fs.promises.open(tmp, 'w');
      try {
        await fd.writeFile(JSON.stringify({ v: 1, ackedThrough, drops }));
        if (this.opt.fsync !== 'never') await fd.datasync();
      } finally {
        await fd.close();
      }
      await fs.promises.rename(tmp, file);
      this.lastCheckpoint = { ackedThrough, drops };
    } catch (err) {
      // Not fatal: a stale checkpoint only means some delivered entries are sent again after a restart.
      this.emit('disk-error', describeFsError(err, `queue ${this.opt.owner}: cannot write ${file}`));
      return;
    }
    this.emit('checkpoint', ackedThrough);
    this.deleteDeliveredSegments(ackedThrough);
  }

  private deleteDeliveredSegments(ackedThrough: number): void {
    while (this.segments.length > 1 && this.segments[0].lastSeq <= ackedThrough && this.segments[0] !== this.active?.seg) {
      const seg = this.segments.shift() as SegmentInfo;
      this.diskBytes -= seg.bytes;
      if (this.readSeg === seg) this.closeReader();
      fs.promises.rm(seg.file, { force: true }).catch(() => undefined);
    }
  }
}

async function writeFully(fd: fs.promises.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fd.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
    done += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes a new segment's directory entry durable; not every platform can open a directory.
  const fd = await fs.promises.open(dir, 'r').catch(() => undefined);
  if (!fd) return;
  await fd.sync().catch(() => undefined);
  await fd.close().catch(() => undefined);
}
