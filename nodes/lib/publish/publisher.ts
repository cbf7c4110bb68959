/**
 * What the MQTT and HTTP publishers share: two durable queues ("main" for production,
 * "test" for the test target), the test-mode routing, delivery lanes that drain a queue in
 * order, and the figures shown in status and by the health node.
 *
 * Test mode: a message made while the RTU is in test mode is flagged `test` and goes to the
 * test queue (drained to the test target) or, without a test target, nowhere but the dry-run
 * output. While test mode is on, the production lane is paused: nothing reaches production.
 */
import { EventEmitter } from 'events';
import path from 'path';
import { DurableQueue, DropEvent, QueueError, QueueOptions, QueueStats } from '../queue/durable-queue';
import { Sleeper } from './backoff';
import { DeadLetter, DeadLetterFile } from './dead-letter';

export type Lane = 'main' | 'test';
export type PublisherState = 'starting' | 'connecting' | 'connected' | 'down' | 'blocked' | 'failed' | 'stopped';

export interface PublisherOptions {
  /** Names the publisher in errors, the queue registry and the dead-letter file. */
  owner: string;
  /** Directory for the queues and the dead-letter file. */
  queueDir: string;
  queue?: QueueOptions;
  /** A test target exists: test-mode messages are queued for it instead of only shown. */
  testTarget: boolean;
  /** Consulted before every delivery: production is paused while it returns true. */
  isTestMode: () => boolean;
  /** Upper bound on messages per second when draining a backlog (0 = as fast as the target takes them). */
  maxRatePerS?: number;
}

export interface PublisherStats {
  state: PublisherState;
  lastError: string | null;
  target: string;
  delivered: number;
  rejected: number;
  /** Production delivery is held because test mode is on. */
  paused: boolean;
  queue: QueueStats | null;
  testQueue: QueueStats | null;
}

export type EnqueueResult = 'queued' | 'dry-run';

export interface LaneControl<T> {
  lane: Lane;
  queue: DurableQueue<T>;
  sleeper: Sleeper;
  /** True once stop() was called. */
  stopping(): boolean;
  /** True while this lane must not deliver (production during test mode). */
  paused(): boolean;
}

const EARLY_LIMIT = 10_000;

export abstract class QueuedPublisher<T> extends EventEmitter {
  state: PublisherState = 'starting';
  lastError: string | null = null;
  delivered = 0;
  rejected = 0;
  protected main?: DurableQueue<T>;
  protected test?: DurableQueue<T>;
  protected readonly deadLetters: DeadLetterFile;
  private early: Array<{ item: T; test: boolean }> = [];
  private earlyDropped = 0;
  private stoppingFlag = false;
  private starting?: Promise<void>;
  private lanes: Array<{ ctl: LaneControl<T>; done: Promise<void> }> = [];

  constructor(protected readonly base: PublisherOptions) {
    super();
    this.deadLetters = new DeadLetterFile(path.join(base.queueDir, 'dead-letter.jsonl'));
  }

  /** Where production messages go, for status and errors ("broker mqtt://...", "POST https://..."). */
  abstract get target(): string;

  /** Runs one lane until it is stopped: take from ctl.queue in order, deliver, ack or nack. */
  protected abstract runLane(ctl: LaneControl<T>): Promise<void>;

  /** Opens the queues and starts delivery. Messages enqueued meanwhile wait in memory. */
  start(): Promise<void> {
    if (!this.starting) this.starting = this.open();
    return this.starting;
  }

  private async open(): Promise<void> {
    const q = this.base.queue ?? {};
    this.main = await DurableQueue.open<T>(path.join(this.base.queueDir, 'main'), { ...q, owner: this.base.owner });
    this.watch(this.main, 'main');
    if (this.base.testTarget) {
      this.test = await DurableQueue.open<T>(path.join(this.base.queueDir, 'test'), { ...q, owner: `${this.base.owner} (test)` });
      this.watch(this.test, 'test');
    }
    const early = this.early;
    this.early = [];
    for (const e of early) this.enqueue(e.item, e.test);
    if (this.earlyDropped) this.emit('drop', { lane: 'main', count: this.earlyDropped, reason: 'memory' });
    if (this.stoppingFlag) return;
    this.startLane('main', this.main, () => this.base.isTestMode());
    if (this.test) this.startLane('test', this.test, () => false);
  }

  /**
   * Queues a message for delivery. Test messages go to the test queue, or nowhere
   * ('dry-run') without a test target. Never blocks; throws only for an item the queue refuses.
   */
  enqueue(item: T, test: boolean): EnqueueResult {
    if (test && !this.base.testTarget) return 'dry-run';
    const queue = test ? this.test : this.main;
    if (!queue) {
      // Messages that arrive while the queues are still opening wait here.
      this.early.push({ item, test });
      if (this.early.length > EARLY_LIMIT) {
        this.early.shift();
        this.earlyDropped++;
      }
      return 'queued';
    }
    queue.push(item);
    return 'queued';
  }

  /** Resolves when everything queued so far is written and synced (see DurableQueue.flush). */
  async flush(): Promise<void> {
    await this.start();
    await Promise.all([this.main?.flush(), this.test?.flush()]);
  }

  /** Call when the test-mode switch flips, so a paused lane resumes at once. */
  wake(): void {
    for (const l of this.lanes) l.ctl.sleeper.wake();
  }

  stats(): PublisherStats {
    return {
      state: this.state,
      lastError: this.lastError,
      target: this.target,
      delivered: this.delivered,
      rejected: this.rejected,
      paused: this.base.isTestMode(),
      queue: this.main ? this.main.stats() : null,
      testQueue: this.test ? this.test.stats() : null,
    };
  }

  /** Stops delivery, lets in-flight messages settle briefly, and closes the queues (what is left stays on disk). */
  async stop(): Promise<void> {
    this.stoppingFlag = true;
    this.wake();
    await this.starting?.catch(() => undefined);
    await Promise.all(this.lanes.map((l) => l.done));
    this.lanes = [];
    await Promise.all([this.main?.close(), this.test?.close()]);
    this.setState('stopped', null);
  }

  protected setState(state: PublisherState, error: string | null): void {
    const changed = state !== this.state || error !== this.lastError;
    this.state = state;
    this.lastError = error;
    if (changed) this.emit('state', state, error);
  }

  /** Sets messages aside that the target refused for good; false when even that failed (they stay queued). */
  protected async setAside(letter: DeadLetter): Promise<boolean> {
    try {
      await this.deadLetters.add(letter);
    } catch (err) {
      this.emit('error-log', `${this.base.owner}: cannot write the dead-letter file ${this.deadLetters.file}: ${(err as Error).message}; the rejected messages stay queued`);
      return false;
    }
    this.rejected += letter.items.length;
    this.emit('rejected', { ...letter, file: this.deadLetters.file });
    return true;
  }

  private startLane(lane: Lane, queue: DurableQueue<T>, paused: () => boolean): void {
    const ctl: LaneControl<T> = {
      lane,
      queue,
      sleeper: new Sleeper(),
      stopping: () => this.stoppingFlag,
      paused,
    };
    const done = this.runLane(ctl).catch((err) => {
      this.emit('error-log', `${this.base.owner}: ${lane} delivery stopped: ${(err as Error).stack ?? err}`);
    });
    this.lanes.push({ ctl, done });
  }

  private watch(queue: DurableQueue<T>, lane: Lane): void {
    queue.on('drop', (e: DropEvent) => this.emit('drop', { lane, ...e }));
    queue.on('disk-error', (e: QueueError) => this.emit('disk-error', e));
    queue.on('disk-ok', () => this.emit('disk-ok'));
  }
}
