/**
 * The edge node's own MQTT session. Sparkplug needs what a shared publisher connection does
 * not give: a clean session, the NDEATH (with this connection's bdSeq) as the will, set before
 * CONNECT and different on every connect, and subscriptions to NCMD, DCMD and the host STATE.
 * A fresh client per attempt (reconnectPeriod 0), reconnecting with backoff and jitter.
 */
import { EventEmitter } from 'events';
import fs from 'fs';
import path from 'path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { Backoff } from '../publish/backoff';
import type { MqttLinkOptions } from '../publish/mqtt-link';
import { describeNetError } from '../publish/net-errors';
import { loadTls } from '../publish/tls-material';
import { withTimeout } from '../with-timeout';

export type ConnectionSettings = Pick<MqttLinkOptions, 'host' | 'port' | 'tls' | 'tlsMaterial' | 'protocolVersion' | 'clientId' | 'keepaliveS' | 'username' | 'password' | 'connectTimeoutMs' | 'reconnectMinMs' | 'reconnectMaxMs'>;

/**
 * bdSeq: 0..255, one more for every MQTT connect, kept in a file so that the will of a session
 * that ended with a crash never carries the number of the session after it.
 */
export class BdSeqCounter {
  private value: number;
  constructor(private readonly file?: string) {
    let last = -1;
    try {
      if (file) last = Number(JSON.parse(fs.readFileSync(file, 'utf8')).bdSeq);
    } catch {
      // First start: 0.
    }
    this.value = Number.isInteger(last) && last >= 0 && last <= 255 ? last : -1;
  }

  next(): number {
    this.value = (this.value + 1) % 256;
    if (this.file) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.writeFileSync(`${this.file}.tmp`, JSON.stringify({ bdSeq: this.value }));
      fs.renameSync(`${this.file}.tmp`, this.file);
    }
    return this.value;
  }
}

export interface SessionHooks {
  /** The will of the coming connection (the NDEATH with its bdSeq). */
  will(bdSeq: number): { topic: string; payload: Buffer };
  subscriptions: string[];
}

/**
 * Events: 'up' (client, bdSeq) once connected and subscribed; 'down' (error text) when the
 * connection ended; 'message' (topic, payload).
 */
export class SparkplugConnection extends EventEmitter {
  client?: MqttClient;
  bdSeq = -1;
  lastError: string | null = null;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private readonly backoff: Backoff;
  private tlsOptions: ReturnType<typeof loadTls> | undefined;

  constructor(private readonly settings: ConnectionSettings, private readonly hooks: SessionHooks, private readonly counter: BdSeqCounter) {
    super();
    this.backoff = new Backoff({ minMs: settings.reconnectMinMs ?? 1000, maxMs: settings.reconnectMaxMs ?? 30_000 });
  }

  get target(): string {
    return `broker ${this.settings.tls ? 'mqtts' : 'mqtt'}://${this.settings.host}:${this.settings.port}`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tlsOptions = this.settings.tls ? loadTls(this.settings.tlsMaterial ?? {}) : undefined;
    this.connect();
  }

  /** Publishes `last` (the NDEATH) at QoS 1 when connected, then disconnects cleanly. */
  async end(last?: { topic: string; payload: Buffer }, reconnectAfterMs?: number): Promise<void> {
    if (reconnectAfterMs === undefined) this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      if (last && client.connected) {
        await withTimeout(new Promise<void>((resolve) => client.publish(last.topic, last.payload, { qos: 1, retain: false }, () => resolve())), 2000).catch(() => undefined);
      }
      await withTimeout(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), 2000).catch(() => client.end(true));
      this.emit('down', null);
    }
    if (reconnectAfterMs !== undefined && !this.stopped) this.timer = setTimeout(() => this.connect(), reconnectAfterMs);
  }

  private connect(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const s = this.settings;
    const bdSeq = this.counter.next();
    const will = this.hooks.will(bdSeq);
    const opts: IClientOptions = {
      host: s.host,
      port: s.port,
      protocol: s.tls ? 'mqtts' : 'mqtt',
      protocolVersion: s.protocolVersion,
      clientId: s.clientId,
      keepalive: s.keepaliveS,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: s.connectTimeoutMs ?? 10_000,
      resubscribe: false,
      queueQoSZero: false,
      will: { topic: will.topic, payload: will.payload, qos: 1, retain: false },
      ...(this.tlsOptions ?? {}),
    };
    if (s.protocolVersion === 5) opts.properties = { sessionExpiryInterval: 0 };
    if (s.username) opts.username = s.username;
    if (s.password) opts.password = s.password;
    // Loaded on first connect: a flow without MQTT does not carry mqtt.js.
    const client = (require('mqtt') as typeof import('mqtt')).connect(opts); // eslint-disable-line @typescript-eslint/no-require-imports
    this.client = client;
    let error: string | null = null;
    client.on('connect', () => {
      if (client !== this.client) return;
      client.subscribe(this.hooks.subscriptions, { qos: 1 }, (err) => {
        if (client !== this.client) return;
        if (err) {
          error = `${this.target}: subscribing to ${this.hooks.subscriptions.join(', ')} failed: ${err.message}`;
          return this.lose(client, error);
        }
        this.backoff.reset();
        this.lastError = null;
        this.bdSeq = bdSeq;
        this.emit('up', client, bdSeq);
      });
    });
    client.on('message', (topic, payload) => {
      if (client === this.client) this.emit('message', topic, payload);
    });
    client.on('error', (err: Error & { code?: unknown }) => {
      if (client !== this.client) return;
      error = typeof err.code === 'number' ? `${this.target} refused the connection (code ${err.code})` : describeNetError(err, this.target);
      if (!client.connected) this.lose(client, error);
    });
    client.on('close', () => {
      if (client === this.client) this.lose(client, error ?? `${this.target}: connection lost`);
    });
  }

  private lose(client: MqttClient, error: string): void {
    this.client = undefined;
    client.on('error', () => undefined);
    client.end(true);
    this.lastError = error;
    this.emit('down', error);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.connect(), this.backoff.next());
  }
}
