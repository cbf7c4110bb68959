/**
 * The write side of the queue's files: the list of segments, appends to the
 * active (last) segment, rolling over to a new one, syncing per the fsync policy,
 * and removing segments that are delivered or dropped. It knows nothing of
 * consumers; the queue decides what a dropped segment costs.
 */
import fs from 'fs';
import path from 'path';
import type { Held } from './held-records';
import { HEADER_BYTES, SEGMENT_MAGIC, segmentName, SegmentInfo } from './segment';
import { describeFsError, QueueError, QueueSettings } from './types';

type FileHandle = fs.promises.FileHandle;

export class SegmentWriter {
  private segments: SegmentInfo[] = [];
  private bytesOnDisk = 0;
  private active?: { seg: SegmentInfo; fd: FileHandle };
  private rollBeforeNextWrite = false;
  private dirty = false;
  private syncTimer?: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly opt: Pick<QueueSettings, 'owner' | 'fsync' | 'segmentBytes'>,
    /** A sync that failed (the data stays written; the next sync tries again). */
    private readonly onSyncError: (err: QueueError) => void,
  ) {}

  get diskBytes(): number {
    return this.bytesOnDisk;
  }

  /** Takes over the recovered segments and appends to the last one while it has room. */
  async resume(segments: SegmentInfo[]): Promise<void> {
    this.segments = segments;
    this.bytesOnDisk = segments.reduce((n, s) => n + s.bytes, 0);
    const last = segments[segments.length - 1];
    if (!last || last.bytes >= this.opt.segmentBytes) return;
    this.active = { seg: last, fd: await fs.promises.open(last.file, 'r+') };
  }

  startSyncTimer(intervalMs: number): void {
    this.syncTimer = setInterval(() => void this.sync(), intervalMs);
    this.syncTimer.unref();
  }

  stopSyncTimer(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
  }

  /** The first segment holding records at or after `seq`. */
  holding(seq: number): SegmentInfo | undefined {
    return this.segments.find((s) => s.lastSeq >= seq && s.count > 0);
  }

  /** Makes sure a segment is open that `bytes` more fit in (or a fresh one), starting a new file named after `firstSeq` if needed. */
  async prepare(firstSeq: number, bytes: number): Promise<void> {
    const current = this.active;
    const reuse = current && current.seg.count === 0 && current.seg.bytes === HEADER_BYTES;
    if (current && (reuse || (!this.rollBeforeNextWrite && current.seg.bytes + bytes <= this.opt.segmentBytes))) {
      this.rollBeforeNextWrite = false;
      return;
    }
    if (current) {
      this.active = undefined;
      if (this.dirty && this.opt.fsync !== 'never') await current.fd.datasync().catch(() => undefined);
      this.dirty = false;
      await current.fd.close().catch(() => undefined);
    }
    const file = path.join(this.dir, segmentName(firstSeq));
    let fd: FileHandle | undefined;
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
    this.bytesOnDisk += HEADER_BYTES;
    this.active = { seg, fd };
    this.rollBeforeNextWrite = false;
  }

  /** Writes a batch of `bytes` at the end of the segment prepare() opened; commit() then counts it. */
  async append(batch: Held[], bytes: number): Promise<void> {
    const active = this.active as { seg: SegmentInfo; fd: FileHandle };
    const buf = batch.length === 1 ? batch[0].record : Buffer.concat(batch.map((h) => h.record), bytes);
    await writeFully(active.fd, buf, active.seg.bytes);
  }

  /** Counts an appended batch into its segment; returns the seq after the batch. */
  commit(batch: Held[], bytes: number): number {
    const seg = (this.active as { seg: SegmentInfo }).seg;
    if (seg.count === 0) seg.firstAt = batch[0].at;
    seg.bytes += bytes;
    seg.count += batch.length;
    seg.lastSeq = batch[batch.length - 1].seq;
    this.bytesOnDisk += bytes;
    this.dirty = true;
    return seg.lastSeq + 1;
  }

  /** After a failed write: cuts the partly written batch off so the segment ends on a whole record; the next write starts a new segment. Resolves with the file that failed. */
  async abandonBatch(): Promise<string> {
    const file = this.active?.seg.file ?? this.dir;
    if (this.active) await this.active.fd.truncate(this.active.seg.bytes).catch(() => undefined);
    this.rollBeforeNextWrite = true;
    return file;
  }

  async sync(): Promise<void> {
    if (!this.dirty || !this.active) return;
    this.dirty = false;
    try {
      await this.active.fd.datasync();
    } catch (err) {
      this.dirty = true;
      this.onSyncError(describeFsError(err, `queue ${this.opt.owner}: cannot sync ${this.active.seg.file}`));
    }
  }

  /** Whether the oldest segment could be dropped to fit `incoming` more bytes under `maxBytes` (never the one being written). */
  overBound(maxBytes: number, incoming: number): boolean {
    return this.bytesOnDisk + incoming > maxBytes && this.segments.length > 1 && this.segments[0] !== this.active?.seg;
  }

  /** Takes the oldest segment off the list; its file goes with remove(). */
  shiftOldest(): SegmentInfo {
    const seg = this.segments.shift() as SegmentInfo;
    this.bytesOnDisk -= seg.bytes;
    return seg;
  }

  remove(seg: SegmentInfo): void {
    fs.promises.rm(seg.file, { force: true }).catch(() => undefined);
  }

  /** Deletes the segments whose every record is acknowledged, calling `gone` for each first. */
  deleteDelivered(ackedThrough: number, gone: (seg: SegmentInfo) => void): void {
    while (this.segments.length > 1 && this.segments[0].lastSeq <= ackedThrough && this.segments[0] !== this.active?.seg) {
      const seg = this.shiftOldest();
      gone(seg);
      this.remove(seg);
    }
  }

  async close(): Promise<void> {
    await this.active?.fd.close().catch(() => undefined);
  }
}

async function writeFully(fd: FileHandle, buf: Buffer, position: number): Promise<void> {
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
