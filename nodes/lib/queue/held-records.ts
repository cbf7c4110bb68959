/**
 * The queue's newest records in memory, sorted by seq: the written ones first (a
 * cache, so a consumer that keeps up never reads the disk), then the ones not yet
 * written. While the disk fails, or for a memory-only queue, this is all there is,
 * so it is bounded and drops its oldest records beyond the bound.
 */
import { Deque } from './deque';
import { FRAME_BYTES } from './segment';

/** A record as it goes to disk (see segment.ts), with its seq and enqueue time at hand. */
export interface Held {
  seq: number;
  at: number;
  record: Buffer;
}

export class HeldRecords {
  /** Set once when the queue cannot use its directory: nothing is ever written. */
  memoryOnly = false;
  private readonly held = new Deque<Held>();
  private totalBytes = 0;
  private writtenBytes = 0;

  constructor(private readonly cacheBytes: number) {}

  get length(): number {
    return this.held.length;
  }

  at(index: number): Held {
    return this.held.at(index);
  }

  first(): Held | undefined {
    return this.held.first();
  }

  /** Bytes of the records not yet on disk. */
  get unwrittenBytes(): number {
    return this.totalBytes - this.writtenBytes;
  }

  /** Seq of the oldest record held, or `next` (the next seq to be pushed) when there is none. */
  firstSeq(next: number): number {
    const first = this.held.first();
    return first ? first.seq : next;
  }

  /** Index of the first record with a seq at or above `seq`. */
  indexOf(seq: number): number {
    return this.held.lowerBound(seq, (h) => h.seq);
  }

  add(h: Held): void {
    this.held.push(h);
    this.totalBytes += h.record.length;
  }

  markWritten(bytes: number): void {
    this.writtenBytes += bytes;
  }

  /**
   * Drops records once they are written and handed out, or when the cache is over its size.
   * Every record below `cursor` is handed out, every one below `writeCursor` written (or dropped).
   */
  evict(cursor: number, writeCursor: number): void {
    for (let h = this.held.first(); h; h = this.held.first()) {
      if (this.memoryOnly) {
        // Nothing is ever written: a record handed out lives on in its entry (in flight or retry).
        if (h.seq >= cursor) break;
      } else if (h.seq >= writeCursor || (h.seq >= cursor && this.writtenBytes <= this.cacheBytes)) {
        break;
      }
      this.held.shift();
      this.totalBytes -= h.record.length;
      if (!this.memoryOnly) this.writtenBytes -= h.record.length;
    }
  }

  /**
   * Brings the unwritten records under `limit` by dropping the oldest, never one at or
   * below `writingUpTo` (being written). Returns how many of them were lost, that is,
   * not yet handed out (handed-out records live on in their entries).
   */
  trim(limit: number, cursor: number, writeCursor: number, writingUpTo: number): number {
    if (this.unwrittenBytes <= limit) return 0;
    this.evict(cursor, writeCursor);
    let dropped = 0;
    while (this.unwrittenBytes > limit) {
      const h = this.held.first();
      if (!h || h.seq <= writingUpTo) break;
      this.held.shift();
      this.totalBytes -= h.record.length;
      if (!this.memoryOnly && h.seq < writeCursor) {
        this.writtenBytes -= h.record.length;
        continue;
      }
      if (h.seq >= cursor) dropped++;
    }
    return dropped;
  }
}

/** The item's JSON inside a held record. */
export function heldJson(h: Held): Buffer {
  return h.record.subarray(FRAME_BYTES + 16);
}
