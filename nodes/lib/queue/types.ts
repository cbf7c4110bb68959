/** What the durable queue's users see of it: options, entries, statistics, drop events and errors. */
import path from 'path';
import type { RecoveryReport } from './recover';

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

/** The options with their defaults filled in. */
export type QueueSettings = Required<QueueOptions>;

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
  /** 'close': closed while the disk failed (or memory-only), so these were never saved. */
  reason: 'full' | 'memory' | 'damaged' | 'close';
}

/** A queue problem that names the queue, the file or directory and what went wrong. */
export class QueueError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'QueueError';
  }
}

export const MIB = 1024 * 1024;

/** Fills in the defaults for a queue in `dir` (an absolute path). */
export function queueSettings(dir: string, options: QueueOptions): QueueSettings {
  const maxBytes = options.maxBytes ?? 64 * MIB;
  return {
    maxBytes,
    segmentBytes: Math.max(4096, Math.min(options.segmentBytes ?? 4 * MIB, Math.floor(maxBytes / 4))),
    fsync: options.fsync ?? 'interval',
    fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
    writeDelayMs: options.writeDelayMs ?? 0,
    cacheBytes: options.cacheBytes ?? 4 * MIB,
    maxMemoryBytes: options.maxMemoryBytes ?? 16 * MIB,
    maxRecordBytes: options.maxRecordBytes ?? MIB,
    checkpointDelayMs: options.checkpointDelayMs ?? 100,
    owner: options.owner ?? path.basename(dir),
    memoryFallback: options.memoryFallback ?? true,
  };
}

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
