/**
 * A line's link: opens the transport, notices when it goes away, and reopens it
 * with backoff (0.5 s ... 30 s) until stopped, so a line never needs a redeploy.
 * What to do with queued requests when the link comes or goes is the line's
 * business: it is told through `LinkHooks`.
 */
import { Backoff, BackoffOptions } from './backoff';
import type { LineCounters, LineState } from './line-types';
import { LinkError } from './transport-errors';
import type { Transport } from './transport-types';

export interface LinkHooks {
  /** The transport is open. */
  up(): void;
  /** The link is down (lost, dropped or failed to open); a reconnect is scheduled. */
  down(reason: string): void;
  /** Line events: 'connect' (), 'disconnect' (Error), 'connect-failed' (Error). */
  emit(event: 'connect' | 'disconnect' | 'connect-failed', err?: Error): void;
}

export class LineConnection {
  private current: LineState = 'stopped';
  private since?: number;
  private error?: Error;
  private errorAt?: number;
  private readonly backoff: Backoff;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly transport: Transport,
    reconnect: BackoffOptions,
    random: () => number,
    private readonly counters: LineCounters,
    private readonly hooks: LinkHooks,
  ) {
    this.backoff = new Backoff(reconnect, random);
    transport.on('close', (err: Error) => this.lost(err));
  }

  get state(): LineState {
    return this.current;
  }

  /** Open and usable for requests. */
  get usable(): boolean {
    return this.current === 'connected' && this.transport.isOpen;
  }

  get connectedSince(): number | undefined {
    return this.since;
  }

  get lastError(): Error | undefined {
    return this.error;
  }

  get lastErrorAt(): number | undefined {
    return this.errorAt;
  }

  start(): void {
    if (this.current !== 'stopped') return;
    this.current = 'connecting';
    this.open();
  }

  async stop(): Promise<void> {
    this.current = 'stopped';
    this.since = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.transport.close();
  }

  /** Something answered over the link: the next reconnect starts from the shortest delay. */
  answered(): void {
    this.backoff.reset();
  }

  /** Forces a reconnect of a link that stopped answering altogether (a half-open TCP socket). */
  drop(reason: string): void {
    if (this.current !== 'connected') return;
    const err = new LinkError(`${this.transport.description}: ${reason}; reconnecting`);
    this.note(err);
    this.counters.disconnects++;
    this.hooks.emit('disconnect', err);
    this.scheduleReconnect();
    this.transport.close().catch(() => undefined);
  }

  private open(): void {
    this.transport.open().then(
      () => {
        if (this.current === 'stopped') return;
        this.current = 'connected';
        this.since = Date.now();
        this.hooks.emit('connect');
        this.hooks.up();
      },
      (err: Error) => {
        if (this.current === 'stopped') return;
        this.note(err);
        this.hooks.emit('connect-failed', err);
        this.scheduleReconnect();
      },
    );
  }

  private lost(err: Error): void {
    if (this.current === 'stopped') return;
    this.note(err);
    this.counters.disconnects++;
    this.hooks.emit('disconnect', err);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.current = 'reconnecting';
    this.since = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current !== 'reconnecting') return;
      this.counters.reconnects++;
      this.open();
    }, this.backoff.next());
    this.hooks.down(this.error?.message ?? 'link lost');
  }

  private note(err: Error): void {
    this.error = err;
    this.errorAt = Date.now();
  }
}
