/**
 * One association per IED, shared by every poller on it. Users register and
 * deregister; the first one connects, the last one leaving releases. A lost or
 * refused association is retried with exponential backoff until it holds again.
 *
 *   const link = new IedLink(resolveIedOptions({ name: 'bay1', host: '10.0.0.5' }));
 *   link.register('poller-1');              // connects
 *   link.on('connected', (client) => ...);  // IedClient, after every (re)association
 *   link.on('report', (report) => ...);     // decoded reports of any enabled RCB
 *   await link.deregister('poller-1');      // last user: conclude, release, close
 */
import { EventEmitter } from 'events';
import { Backoff } from '../modbus/backoff';
import { RateMeter } from '../modbus/line-stats';
import { AssociationError } from './errors';
import { IedClient } from './ied-client';
import { MmsConnection } from './mms-connection';
import { ResolvedIedOptions } from './options';
import { Report } from './report';

export type LinkState = 'idle' | 'connecting' | 'connected' | 'waiting';

export interface IedLinkOptions {
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Variables per Read request. */
  maxVariablesPerRead: number;
  /** Opens the association; the default is MmsConnection.open (tests and benchmarks may wrap it). */
  open?: (o: ResolvedIedOptions) => Promise<MmsConnection>;
}

export interface IedLinkStats {
  ied: string;
  connected: boolean;
  state: LinkState;
  queueDepth: number;
  inFlight: number;
  requestsPerSec: number;
  users: number;
  associations: number;
  lastError?: string;
  retryAt?: number;
}

export declare interface IedLink {
  on(event: 'connected', listener: (client: IedClient) => void): this;
  on(event: 'disconnected', listener: (err: Error) => void): this;
  on(event: 'state', listener: (state: LinkState, detail?: string) => void): this;
  on(event: 'report', listener: (report: Report) => void): this;
  on(event: 'warning', listener: (text: string) => void): this;
}

export class IedLink extends EventEmitter {
  private readonly users = new Set<string>();
  private readonly backoff: Backoff;
  private readonly options: IedLinkOptions;
  private readonly rate = new RateMeter(10);
  private current?: IedClient;
  private timer?: NodeJS.Timeout;
  private running = false;
  private linkState: LinkState = 'idle';
  private lastError?: string;
  private retryAt?: number;
  private associations = 0;
  /** Bumped by every start and stop, so an association opened for an earlier run is closed, not kept. */
  private generation = 0;

  constructor(
    readonly ied: ResolvedIedOptions,
    options: Partial<IedLinkOptions> = {},
  ) {
    super();
    this.options = { reconnectMinMs: 1000, reconnectMaxMs: 30_000, maxVariablesPerRead: 32, ...options };
    this.backoff = new Backoff({ initialMs: this.options.reconnectMinMs, maxMs: Math.max(this.options.reconnectMinMs, this.options.reconnectMaxMs) });
    this.setMaxListeners(0);
  }

  get name(): string {
    return this.ied.name;
  }

  get state(): LinkState {
    return this.linkState;
  }

  /** The client of the live association, or undefined while (re)connecting. */
  get client(): IedClient | undefined {
    return this.current?.connection.isOpen ? this.current : undefined;
  }

  /** Why the IED is not reachable right now, for reading errors and status. */
  describeOutage(): string {
    const retry = this.retryAt ? `, retry in ${Math.max(1, Math.round((this.retryAt - Date.now()) / 1000))} s` : '';
    return `${this.name}: not connected (${this.linkState}${retry})${this.lastError ? `: ${this.lastError}` : ''}`;
  }

  register(userId: string): void {
    this.users.add(userId);
    if (!this.running) this.start();
  }

  async deregister(userId: string): Promise<void> {
    this.users.delete(userId);
    if (this.users.size === 0) await this.stop();
  }

  /** The client once the association is up; undefined if it is not up within `ms` (or the link is idle). */
  whenConnected(ms: number): Promise<IedClient | undefined> {
    if (this.client || this.linkState === 'idle') return Promise.resolve(this.client);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ms);
      const onState = (): void => {
        if (this.linkState !== 'connecting') finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
        resolve(this.client);
      };
      this.on('state', onState);
    });
  }

  /**
   * Runs `fn` on the live association, or, when the link is idle or down, on a
   * short-lived one of its own (the editor browses IEDs that no poller uses yet).
   */
  async withClient<T>(fn: (client: IedClient) => Promise<T>): Promise<T> {
    const live = this.client;
    if (live) return fn(live);
    const connection = await (this.options.open ?? MmsConnection.open)(this.ied);
    try {
      return await fn(new IedClient(connection, { maxVariablesPerRead: this.options.maxVariablesPerRead }));
    } finally {
      await connection.close();
    }
  }

  /** Counts a request towards the rate figure (the pollers call it per request they make). */
  countRequests(n: number): void {
    this.rate.add(Date.now(), n);
  }

  stats(): IedLinkStats {
    const load = this.current?.connection.isOpen ? this.current.connection.load : { inFlight: 0, queued: 0 };
    return {
      ied: this.name,
      connected: !!this.client,
      state: this.linkState,
      queueDepth: load.queued,
      inFlight: load.inFlight,
      requestsPerSec: this.rate.perSecond(Date.now()),
      users: this.users.size,
      associations: this.associations,
      lastError: this.lastError,
      retryAt: this.retryAt,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation++;
    this.backoff.reset();
    void this.connect();
  }

  /** Concludes and releases the association (when up) and stops reconnecting. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.retryAt = undefined;
    const client = this.current;
    this.current = undefined;
    this.setState('idle');
    if (client) await client.connection.close();
  }

  private setState(state: LinkState, detail?: string): void {
    this.linkState = state;
    this.emit('state', state, detail);
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    const generation = this.generation;
    this.retryAt = undefined;
    this.setState('connecting');
    let connection: MmsConnection;
    try {
      connection = await (this.options.open ?? MmsConnection.open)(this.ied);
    } catch (err) {
      if (generation === this.generation) this.scheduleRetry(err as Error);
      return;
    }
    if (!this.running || generation !== this.generation) {
      await connection.close();
      return;
    }
    const client = new IedClient(connection, { maxVariablesPerRead: this.options.maxVariablesPerRead });
    client.on('report', (r) => this.emit('report', r));
    client.on('warning', (w) => this.emit('warning', w));
    connection.on('warning', (w) => this.emit('warning', w));
    connection.on('close', (err) => {
      if (this.current !== client) return;
      this.current = undefined;
      const reason = err ?? new AssociationError(this.name, 'association closed');
      this.emit('disconnected', reason);
      this.scheduleRetry(reason);
    });
    this.current = client;
    this.associations++;
    this.backoff.reset();
    this.lastError = undefined;
    this.setState('connected');
    this.emit('connected', client);
  }

  private scheduleRetry(err: Error): void {
    this.lastError = err.message;
    if (!this.running) return;
    const delay = this.backoff.next();
    this.retryAt = Date.now() + delay;
    this.setState('waiting', err.message);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}
