/**
 * The queue's checkpoint: how far the consumer has acknowledged, and how many
 * records were dropped, written to checkpoint.json by an atomic rename. Acks
 * within a short delay share one write; a write asked for while one runs
 * follows it.
 */
import fs from 'fs';
import path from 'path';
import { CHECKPOINT_FILE } from './recover';
import { describeFsError, QueueError } from './types';

export interface CheckpointState {
  ackedThrough: number;
  drops: number;
}

export interface CheckpointHooks {
  /** Where the queue stands now. */
  current(): CheckpointState;
  /** The checkpoint is on disk. */
  written(ackedThrough: number): void;
  /** Not fatal: a stale checkpoint only means some delivered entries are sent again after a restart. */
  failed(err: QueueError): void;
}

export class Checkpointer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private last: CheckpointState = { ackedThrough: 0, drops: 0 };

  constructor(
    private readonly dir: string,
    private readonly opt: { owner: string; delayMs: number; sync: boolean },
    private readonly hooks: CheckpointHooks,
  ) {}

  /** The checkpoint found on open. */
  resume(state: CheckpointState): void {
    this.last = { ackedThrough: state.ackedThrough, drops: state.drops };
  }

  schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.opt.delayMs);
    this.timer.unref();
  }

  /** No more scheduled writes (the queue is closing; it writes the last one itself). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Resolves when the write under way (if any) is done. */
  idle(): Promise<void> | undefined {
    return this.running;
  }

  write(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = this.writeNow().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    });
    this.running = run;
    return run;
  }

  private async writeNow(): Promise<void> {
    const now = this.hooks.current();
    const ackedThrough = Math.max(this.last.ackedThrough, now.ackedThrough);
    const drops = now.drops;
    if (ackedThrough === this.last.ackedThrough && drops === this.last.drops) return;
    const file = path.join(this.dir, CHECKPOINT_FILE);
    const tmp = `${file}.tmp`;
    try {
      const fd = await fs.promises.open(tmp, 'w');
      try {
        await fd.writeFile(JSON.stringify({ v: 1, ackedThrough, drops }));
        if (this.opt.sync) await fd.datasync();
      } finally {
        await fd.close();
      }
      await fs.promises.rename(tmp, file);
      this.last = { ackedThrough, drops };
    } catch (err) {
      this.hooks.failed(describeFsError(err, `queue ${this.opt.owner}: cannot write ${file}`));
      return;
    }
    this.hooks.written(ackedThrough);
  }
}
