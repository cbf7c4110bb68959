/**
 * Opening a queue directory after a clean stop or a crash: read the queue id and the
 * checkpoint, scan the segments, cut off a torn last record, and work out what is still
 * to be delivered.
 */
import crypto from 'crypto';
import fs from 'fs';
import path from 'path';
import { scanSegment, segmentFirstSeq, SegmentInfo } from './segment';

export const CHECKPOINT_FILE = 'checkpoint.json';
const QUEUE_ID_FILE = 'queue-id';

export interface Checkpoint {
  v: 1;
  /** Every record with seq <= this was acknowledged (or dropped). */
  ackedThrough: number;
  /** Records dropped over the queue's life (full, or damaged on disk). */
  drops: number;
}

export interface RecoveryReport {
  segments: number;
  /** Records found that were not yet acknowledged. */
  pending: number;
  /** Bytes cut off the end of the last segment: a record torn by a crash. */
  tornBytes: number;
  /** Damage found inside older segments, with the records it cost. */
  damaged: Array<{ file: string; problem: string; lostRecords: number }>;
}

export interface RecoveredState {
  prefix: string;
  checkpoint: Checkpoint;
  segments: SegmentInfo[];
  /** Not-yet-acknowledged records per segment, in segment order. */
  pendingPerSegment: number[];
  nextSeq: number;
  report: RecoveryReport;
}

async function readQueueId(dir: string, fsyncFiles: boolean): Promise<string> {
  const file = path.join(dir, QUEUE_ID_FILE);
  try {
    const id = (await fs.promises.readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{8}$/.test(id)) return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // The id prefixes every message id, so receivers can tell redeliveries from new messages.
  const id = crypto.randomBytes(4).toString('hex');
  const handle = await fs.promises.open(file, 'w');
  try {
    await handle.writeFile(id);
    if (fsyncFiles) await handle.sync();
  } finally {
    await handle.close();
  }
  return id;
}

async function readCheckpoint(dir: string): Promise<Checkpoint> {
  try {
    const raw = JSON.parse(await fs.promises.readFile(path.join(dir, CHECKPOINT_FILE), 'utf8')) as Partial<Checkpoint>;
    return { v: 1, ackedThrough: Number(raw.ackedThrough) || 0, drops: Number(raw.drops) || 0 };
  } catch {
    // Missing on first start. The file is replaced by rename, so it is never half-written.
    return { v: 1, ackedThrough: 0, drops: 0 };
  }
}

export async function recover(dir: string, maxRecordBytes: number, fsyncFiles: boolean): Promise<RecoveredState> {
  await fs.promises.mkdir(dir, { recursive: true });
  const prefix = await readQueueId(dir, fsyncFiles);
  const checkpoint = await readCheckpoint(dir);
  const report: RecoveryReport = { segments: 0, pending: 0, tornBytes: 0, damaged: [] };

  const names = (await fs.promises.readdir(dir))
    .filter((n) => segmentFirstSeq(n) !== undefined)
    .sort((a, b) => (segmentFirstSeq(a) as number) - (segmentFirstSeq(b) as number));
  const files = names.map((n) => path.join(dir, n));

  const segments: SegmentInfo[] = [];
  const pendingPerSegment: number[] = [];
  for (let i = 0; i < files.length; i++) {
    const isLast = i === files.length - 1;
    const nextFirst = isLast ? Infinity : (segmentFirstSeq(files[i + 1]) as number);
    if (nextFirst - 1 <= checkpoint.ackedThrough) {
      // Everything in it was delivered before the stop; the delete just had not happened yet.
      await fs.promises.rm(files[i], { force: true });
      continue;
    }
    const scan = await scanSegment(files[i], maxRecordBytes, checkpoint.ackedThrough);
    if (scan.info.bytes === 0) {
      // Created but its header never made it to disk: it never held an acknowledged record.
      await fs.promises.rm(files[i], { force: true });
      continue;
    }
    if (scan.trailingBytes > 0) {
      if (isLast) {
        report.tornBytes += scan.trailingBytes;
        await fs.promises.truncate(files[i], scan.info.bytes);
      } else {
        const lost = Math.max(0, nextFirst - 1 - scan.info.lastSeq);
        report.damaged.push({ file: files[i], problem: scan.damage ?? 'trailing bytes', lostRecords: lost });
        checkpoint.drops += lost;
      }
    }
    if (scan.info.count === 0 && !isLast) {
      await fs.promises.rm(files[i], { force: true });
      continue;
    }
    segments.push(scan.info);
    pendingPerSegment.push(scan.pendingAbove);
  }
  report.segments = segments.length;
  report.pending = pendingPerSegment.reduce((a, b) => a + b, 0);
  const lastSeq = segments.reduce((m, s) => Math.max(m, s.lastSeq), 0);
  const nextSeq = Math.max(lastSeq, checkpoint.ackedThrough) + 1;
  return { prefix, checkpoint, segments, pendingPerSegment, nextSeq, report };
}

