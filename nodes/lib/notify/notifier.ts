/**
 * The notifier engine: every notice goes to the outbox first (so a restart
 * loses nothing), waits a short grouping window so alerts that fire together
 * share a message, then goes out paced to the service's rules. A message is
 * acknowledged in the outbox only once the service accepted it (at least
 * once); 429 waits as told, network and server errors back off, revoked
 * credentials hold the queue until the node is fixed.
 */
import type { ChatService, Delivery, Notice, Outbox, OutgoingMessage, Target } from './types';

export interface NotifierOptions {
  /** How long to collect notices before sending (ms). */
  groupWindowMs?: number;
  /** Most entries composed into one batch. */
  maxBatch?: number;
  /** Test-mode notices: to the service's test target when it has one, or only to the dry-run output. */
  testTarget?: 'channel' | 'dry-run';
  /** First and longest retry delay after a network or server error (ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** After 401/403/404, try again this much later (ms); a redeploy with fixed credentials retries at once. */
  authRetryMs?: number;
}

export type NotifierPhase = 'idle' | 'grouping' | 'sending' | 'rate-limited' | 'backoff' | 'held' | 'closed';

export interface NotifierStatus {
  phase: NotifierPhase;
  queued: number;
  /** The last error, while it applies. */
  error?: string;
}

export interface NotifierStats {
  messagesSent: number;
  noticesDelivered: number;
  rateLimited: number;
  retries: number;
  rejected: number;
  dryRun: number;
}

export interface NotifierHooks {
  onSent?(message: OutgoingMessage, target: Target, status: number): void;
  onDryRun?(message: OutgoingMessage): void;
  onProblem?(delivery: Exclude<Delivery, { kind: 'sent' }>, message: OutgoingMessage): void;
  onStatus?(status: NotifierStatus): void;
}

export class Notifier {
  readonly stats: NotifierStats = { messagesSent: 0, noticesDelivered: 0, rateLimited: 0, retries: 0, rejected: 0, dryRun: 0 };
  private readonly opts: Required<NotifierOptions>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;
  private nextSendAt = 0;
  private failures = 0;
  private wake: (() => void) | undefined;
  private status: NotifierStatus = { phase: 'idle', queued: 0 };

  constructor(
    private readonly service: ChatService,
    private readonly outbox: Outbox,
    options: NotifierOptions = {},
    private readonly hooks: NotifierHooks = {},
  ) {
    this.opts = {
      groupWindowMs: options.groupWindowMs ?? 2000,
      maxBatch: options.maxBatch ?? 1000,
      testTarget: options.testTarget ?? 'channel',
      backoffMs: options.backoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 60000,
      authRetryMs: options.authRetryMs ?? 300000,
    };
  }

  /** Sends what a previous run left in the outbox. */
  start(): void {
    if (this.outbox.size() > 0) this.schedule(0);
    else this.setStatus('idle');
  }

  async notify(notice: Notice): Promise<void> {
    if (this.closed) throw new Error(`${this.service.name} notifier is closed`);
    await this.outbox.push(notice);
    if (!this.running && !this.timer) this.schedule(this.opts.groupWindowMs);
    else this.setStatus(this.status.phase, this.status.error);
  }

  get queued(): number {
    return this.outbox.size();
  }

  currentStatus(): NotifierStatus {
    return { ...this.status, queued: this.outbox.size() };
  }

  /** Stops sending (a message in flight is abandoned and stays queued) and closes the outbox. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    this.service.close();
    await this.running?.catch(() => undefined);
    await this.outbox.close();
    this.setStatus('closed');
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer) return;
    this.setStatus(delayMs > 0 ? 'grouping' : this.status.phase, this.status.error);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) this.running = this.run().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async run(): Promise<void> {
    let held = false;
    try {
      while (!this.closed) {
        const entries = await this.outbox.peek(this.opts.maxBatch);
        if (!entries.length) break;
        const test = entries[0].notice.test;
        const end = entries.findIndex((e) => e.notice.test !== test);
        const batch = end < 0 ? entries : entries.slice(0, end);
        const target = !test ? 'live' : this.opts.testTarget === 'channel' && this.service.hasTestTarget() ? 'test' : 'dry-run';
        for (const message of this.service.compose(batch, test)) {
          if (target === 'dry-run') {
            this.stats.dryRun++;
            this.hooks.onDryRun?.(message);
            await this.outbox.ack(message.ids);
            continue;
          }
          const outcome = await this.deliver(message, target);
          if (outcome !== 'done') {
            held = outcome === 'held';
            return;
          }
        }
      }
    } finally {
      if (!this.closed) {
        if (held) {
          this.schedule(this.opts.authRetryMs);
          this.setStatus('held', this.status.error);
        } else if (this.outbox.size() > 0) {
          this.schedule(this.opts.groupWindowMs);
        } else {
          this.setStatus('idle');
        }
      }
    }
  }

  private async deliver(message: OutgoingMessage, target: Target): Promise<'done' | 'held' | 'closed'> {
    for (;;) {
      await this.sleep(this.nextSendAt - Date.now());
      if (this.closed) return 'closed';
      this.setStatus('sending', this.status.error);
      const d = await this.service.send(message, target);
      if (this.closed) return 'closed';
      const now = Date.now();
      switch (d.kind) {
        case 'sent':
          this.failures = 0;
          this.nextSendAt = now + Math.max(this.service.minIntervalMs, d.waitMs ?? 0);
          await this.outbox.ack(message.ids);
          this.stats.messagesSent++;
          this.stats.noticesDelivered += message.ids.length;
          this.status.error = undefined;
          this.hooks.onSent?.(message, target, d.status);
          return 'done';
        case 'rate-limited':
          this.stats.rateLimited++;
          this.nextSendAt = now + d.retryAfterMs;
          this.setStatus('rate-limited', d.error);
          this.hooks.onProblem?.(d, message);
          continue;
        case 'retry': {
          this.stats.retries++;
          this.failures++;
          const base = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** Math.min(this.failures - 1, 16));
          this.nextSendAt = now + base * (0.8 + Math.random() * 0.4);
          this.setStatus('backoff', d.error);
          this.hooks.onProblem?.(d, message);
          continue;
        }
        case 'auth':
          this.setStatus('held', d.error);
          this.hooks.onProblem?.(d, message);
          return 'held';
        case 'rejected':
          this.stats.rejected++;
          await this.outbox.ack(message.ids);
          this.setStatus(this.status.phase, d.error);
          this.hooks.onProblem?.(d, message);
          return 'done';
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  private setStatus(phase: NotifierPhase, error?: string): void {
    this.status = { phase, queued: this.outbox.size(), error };
    this.hooks.onStatus?.({ ...this.status });
  }
}
