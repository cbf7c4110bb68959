/**
 * Reading records back from the segment files, for a consumer that fell behind
 * the records kept in memory: one segment open at a time, read in chunks from
 * where the last read stopped.
 */
import fs from 'fs';
import { FRAME_BYTES, HEADER_BYTES, parseRecords, SegmentInfo } from './segment';
import { QueueError } from './types';

const READ_CHUNK = 256 * 1024;

export interface ReadRecord {
  seq: number;
  enqueuedAt: number;
  json: Buffer;
}

export class SegmentReader {
  private seg?: SegmentInfo;
  private fd?: fs.promises.FileHandle;
  private offset = 0;

  constructor(private readonly maxRecordBytes: number) {}

  /**
   * The next records of `seg` (opened if it is not the one being read). When nothing is
   * left past the read position, `atEnd` is called (at once, before anything is awaited
   * again) and no records come back. Rejects for a short or damaged segment.
   */
  async next(seg: SegmentInfo, atEnd: () => void): Promise<ReadRecord[]> {
    if (this.seg !== seg || !this.fd) {
      this.close();
      this.fd = await fs.promises.open(seg.file, 'r');
      this.seg = seg;
      this.offset = HEADER_BYTES;
    }
    return this.readChunk(this.fd, seg, atEnd);
  }

  /** Stops reading `seg` (it is being deleted). */
  forget(seg: SegmentInfo): void {
    if (this.seg === seg) this.close();
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    this.seg = undefined;
    if (fd) fd.close().catch(() => undefined);
  }

  /** Closes the file and waits for it (the queue is closing). */
  async release(): Promise<void> {
    await this.fd?.close().catch(() => undefined);
  }

  private async readChunk(fd: fs.promises.FileHandle, seg: SegmentInfo, atEnd: () => void): Promise<ReadRecord[]> {
    let want = Math.min(READ_CHUNK, seg.bytes - this.offset);
    if (want <= 0) {
      this.offset = seg.bytes;
      atEnd();
      return [];
    }
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fd.read(buf, 0, want, this.offset);
      if (bytesRead < want) throw new QueueError(`segment ends at byte ${this.offset + bytesRead}, expected ${this.offset + want}`);
      const parsed = parseRecords(buf.subarray(0, bytesRead), 0, this.maxRecordBytes);
      if (parsed.stop === 'corrupt') {
        throw new QueueError(`${parsed.reason} at byte ${this.offset + parsed.end}`);
      }
      if (!parsed.records.length && parsed.stop === 'partial') {
        // One record larger than the chunk: read exactly that record.
        const length = bytesRead >= 4 ? buf.readUInt32LE(0) : 0;
        const need = FRAME_BYTES + length;
        if (need <= want || this.offset + need > seg.bytes) throw new QueueError(`record cut short at byte ${this.offset}`);
        want = need;
        continue;
      }
      this.offset += parsed.end;
      return parsed.records;
    }
  }
}
