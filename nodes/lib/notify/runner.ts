/**
 * What the Discord and Telegram nodes share: turning messages into notices,
 * filtering them, opening the outbox, and reporting the notifier's state. The
 * nodes hand in a service and a few callbacks; nothing here knows Node-RED.
 */
import fs from 'fs';
import { SEVERITIES } from '../alert/types';
import type { AlertPayload, AlertState, Severity } from '../alert/types';
import type { TestModeSwitch } from '../test-mode';
import { MemoryOutbox } from './memory-outbox';
import { Notifier, NotifierOptions, NotifierStatus } from './notifier';
import { QueueOutbox } from './queue-outbox';
import type { ChatService, Notice, Outbox, OutgoingMessage, Target } from './types';

export type StatusKind = 'ok' | 'warn' | 'error' | 'idle' | 'test' | 'connecting';

export interface RunnerHooks {
  status(kind: StatusKind, text: string): void;
  error(text: string): void;
  warn(text: string): void;
  output(msg: { topic: string; payload: unknown }): void;
  /** Locale text for a status key under `<node type>.status`. */
  t(key: string, vars?: Record<string, string | number>): string;
}

export interface RunnerOptions {
  label: string;
  /** Outbox directory (durable); undefined keeps the queue in memory. */
  queueDir?: string;
  notifier: NotifierOptions;
  states: AlertState[];
  minSeverity: Severity;
  testMode: TestModeSwitch;
}

function isAlertPayload(p: unknown): p is AlertPayload {
  const a = p as Partial<AlertPayload> | null;
  return !!a && typeof a === 'object' && typeof a.id === 'string' && typeof a.device === 'string' && typeof a.state === 'string' && typeof a.severity === 'string';
}

/** A notice for the message, undefined when the filter drops it, or an error text. */
function noticeFor(msg: { payload?: unknown }, opts: Pick<RunnerOptions, 'states' | 'minSeverity' | 'testMode'>, now: number): Notice | undefined | string {
  const p = msg.payload;
  const test = opts.testMode.enabled;
  if (isAlertPayload(p)) {
    if (!opts.states.includes(p.state)) return undefined;
    if (SEVERITIES.indexOf(p.severity) > SEVERITIES.indexOf(opts.minSeverity)) return undefined;
    return { alert: p, test: test || p.test === true, at: now };
  }
  if (typeof p === 'string' && p.trim()) return { text: p, test, at: now };
  if (typeof p === 'number' || typeof p === 'boolean') return { text: String(p), test, at: now };
  return `msg.payload must be an alert (from rtu-alert) or a text to send; got ${p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p}`;
}

export class NotifierRunner {
  private notifier?: Notifier;
  private readonly ready: Promise<Notifier>;
  private sent = 0;

  constructor(private readonly service: ChatService, private readonly opts: RunnerOptions, private readonly hooks: RunnerHooks) {
    this.ready = this.open();
    this.ready.catch((err: Error) => {
      hooks.error(`${opts.label}: ${err.message}`);
      hooks.status('error', err.message);
    });
    opts.testMode.on('change', this.onTestMode);
  }

  /** Queues the message's notice; resolves with an error text when it cannot be taken. */
  async accept(msg: { payload?: unknown }): Promise<string | undefined> {
    const notice = noticeFor(msg, this.opts, Date.now());
    if (notice === undefined) return undefined;
    if (typeof notice === 'string') return `${this.opts.label}: ${notice}`;
    const notifier = await this.ready;
    await notifier.notify(notice);
    return undefined;
  }

  async close(removed: boolean): Promise<void> {
    this.opts.testMode.off('change', this.onTestMode);
    try {
      const notifier = await this.ready;
      await notifier.close();
    } catch {
      this.service.close();
    }
    if (removed && this.opts.queueDir) fs.rmSync(this.opts.queueDir, { recursive: true, force: true });
  }

  private async open(): Promise<Notifier> {
    let outbox: Outbox;
    if (this.opts.queueDir) {
      const q = await QueueOutbox.open(this.opts.queueDir, { owner: this.opts.label });
      const diskError = q.queue.stats().diskError;
      if (diskError) this.hooks.warn(`${this.opts.label}: ${diskError}; notifications are queued in memory only`);
      outbox = q;
    } else {
      outbox = new MemoryOutbox();
    }
    const notifier = new Notifier(this.service, outbox, this.opts.notifier, {
      onSent: (m, target, status) => this.onSent(m, target, status),
      onDryRun: (m) => this.hooks.output({ topic: 'dry-run', payload: { text: m.text, body: m.body, notices: m.ids.length, test: true } }),
      onProblem: (d) => {
        if (d.kind === 'auth' || d.kind === 'rejected') this.hooks.error(`${this.opts.label}: ${d.error}`);
        else if (d.kind === 'retry') this.hooks.warn(`${this.opts.label}: ${d.error}`);
      },
      onStatus: (s) => this.showStatus(s),
    });
    this.notifier = notifier;
    notifier.start();
    return notifier;
  }

  private onSent(m: OutgoingMessage, target: Target, status: number): void {
    this.sent++;
    this.hooks.output({ topic: 'sent', payload: { text: m.text, target: this.service.describe(target), status, notices: m.ids.length, test: m.test } });
  }

  private readonly onTestMode = (): void => {
    if (this.notifier) this.showStatus(this.notifier.currentStatus());
  };

  private showStatus(s: NotifierStatus): void {
    const t = this.hooks.t;
    const queued = s.queued;
    switch (s.phase) {
      case 'closed':
        return;
      case 'held':
        return this.hooks.status('error', t('held', { error: s.error ?? '' }));
      case 'rate-limited':
        return this.hooks.status('warn', t('rateLimited', { queued }));
      case 'backoff':
        return this.hooks.status('warn', t('retrying', { queued }));
      case 'grouping':
      case 'sending':
        return this.hooks.status('connecting', t('sending', { queued }));
      case 'idle':
        if (this.opts.testMode.enabled) {
          const where = this.opts.notifier.testTarget === 'dry-run' || !this.service.hasTestTarget() ? t('dryRun') : t('testTarget');
          return this.hooks.status('test', `${t('test')}: ${where}`);
        }
        return this.hooks.status(this.sent ? 'ok' : 'idle', this.sent ? t('sent', { count: this.sent }) : t('ready'));
    }
  }
}
