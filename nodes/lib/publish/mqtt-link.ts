/**
 * One connection to an MQTT broker (owned by the rtu-mqtt-broker config node), on the `mqtt`
 * package. It reconnects by itself with backoff and jitter, announces itself with a birth
 * message, says goodbye with a close message and leaves a last will.
 *
 * A fresh client is made for every connection attempt (reconnectPeriod 0) so that nothing
 * is resent behind the publisher's back: whatever was in flight when the connection dropped
 * fails here and is sent again, in order, from the durable queue.
 */
import { EventEmitter } from 'events';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import { Backoff } from './backoff';
import { describeNetError } from './net-errors';
import { loadTls, TlsConfigError, TlsMaterial } from './tls-material';
import { withTimeout } from '../with-timeout';

export type LinkState = 'idle' | 'connecting' | 'connected' | 'down' | 'failed';
export type QoS = 0 | 1 | 2;

export interface StatusMessages {
  /** Topic of the birth (online), close and last-will (offline) messages. */
  topic: string;
  /** While test mode is on they go to this prefix + topic instead; empty: no status messages in test mode. */
  testPrefix?: string;
  online: string;
  offline: string;
  qos: QoS;
  retain: boolean;
}

export interface MqttLinkOptions {
  host: string;
  port: number;
  /** mqtts: TLS, with `tlsMaterial` or the system's CAs. */
  tls?: boolean;
  tlsMaterial?: TlsMaterial;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: 4 | 5;
  clientId: string;
  keepaliveS: number;
  clean: boolean;
  /** MQTT 5, persistent session: how long the broker keeps it after a disconnect. */
  sessionExpiryS?: number;
  username?: string;
  password?: string;
  status?: StatusMessages;
  /** Consulted at every connect and by testModeChanged(): the status messages then avoid the production topic. */
  isTestMode?: () => boolean;
  connectTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface PublishOptions {
  qos: QoS;
  retain: boolean;
  /** MQTT 5 user properties (ignored on 3.1.1). */
  userProperties?: Record<string, string>;
}

/** The connection went away before the broker confirmed the message. */
export class LinkDown extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkDown';
  }
}

/** The broker refused this message (MQTT 5 reason code); `permanent` when sending it again cannot help. */
export class PublishRejected extends Error {
  constructor(message: string, readonly reasonCode: number, readonly permanent: boolean) {
    super(message);
    this.name = 'PublishRejected';
  }
}

const CONNACK_V3: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

const REASON_V5: Record<number, string> = {
  0x80: 'unspecified error', 0x81: 'malformed packet', 0x82: 'protocol error', 0x83: 'implementation specific error',
  0x84: 'unsupported protocol version', 0x85: 'client id not valid', 0x86: 'bad user name or password',
  0x87: 'not authorized', 0x88: 'server unavailable', 0x89: 'server busy', 0x8a: 'banned',
  0x8c: 'bad authentication method', 0x90: 'topic name invalid', 0x95: 'packet too large',
  0x97: 'quota exceeded', 0x99: 'payload format invalid', 0x9a: 'retain not supported',
  0x9b: 'QoS not supported', 0x9c: 'use another server', 0x9f: 'connection rate exceeded',
};

/** Reason codes for which sending the same message again cannot succeed. */
const PERMANENT = new Set([0x90, 0x95, 0x99, 0x9a, 0x9b]);

export class MqttLink extends EventEmitter {
  state: LinkState = 'idle';
  lastError: string | null = null;
  /** How many QoS 1/2 messages the broker takes in flight (MQTT 5 receive maximum). */
  receiveMaximum = 65535;
  private client?: MqttClient;
  private roundError: string | null = null;
  private pending = new Set<(err: Error) => void>();
  private reconnectTimer?: NodeJS.Timeout;
  private readonly backoff: Backoff;
  private stopped = true;
  private tlsOptions: ReturnType<typeof loadTls> | undefined;
  /** The status topic of the current connection (its will is fixed when it connects). */
  private statusTopicInUse: string | null = null;

  constructor(readonly options: MqttLinkOptions) {
    super();
    this.backoff = new Backoff({ minMs: options.reconnectMinMs ?? 1000, maxMs: options.reconnectMaxMs ?? 30_000 });
  }

  get target(): string {
    return `broker ${this.options.tls ? 'mqtts' : 'mqtt'}://${this.options.host}:${this.options.port}`;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    try {
      this.tlsOptions = this.options.tls ? loadTls(this.options.tlsMaterial ?? {}) : undefined;
    } catch (err) {
      // Wrong key or certificate: retrying cannot help until the configuration changes.
      this.setState('failed', `${this.target}: ${(err as TlsConfigError).message}`);
      return;
    }
    this.connect();
  }

  /** Sends the close message (when connected), disconnects, and fails whatever is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.client;
    const status = this.options.status;
    // The close message goes where this connection's will would have gone: never to the
    // production topic while test mode is on.
    const closeTopic = this.statusTopicInUse === this.statusTopic() ? this.statusTopicInUse : null;
    if (client && this.connected && status && closeTopic) {
      await withTimeout(this.publish(closeTopic, status.offline, { qos: status.qos, retain: status.retain }), 2000).catch(() => undefined);
    }
    this.client = undefined;
    this.failPending(new LinkDown(`${this.target}: connection closed`));
    if (client) {
      await withTimeout(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), 2000).catch(() => client.end(true));
    }
    this.setState('idle', null);
  }

  /**
   * Call when test mode flips. The will is fixed per connection, so when the status topic has
   * to change the link reconnects: a clean disconnect (the broker discards the will, nothing
   * reaches the old topic but a close message on a test topic), then birth and will on the new one.
   */
  async testModeChanged(): Promise<void> {
    const client = this.client;
    if (this.stopped || !client || !this.connected || this.statusTopic() === this.statusTopicInUse) return;
    const status = this.options.status as StatusMessages;
    const old = this.statusTopicInUse;
    if (old && old !== status.topic) {
      await withTimeout(this.publish(old, status.offline, { qos: status.qos, retain: status.retain }), 2000).catch(() => undefined);
    }
    if (client !== this.client) return;
    this.client = undefined;
    // Not connected from here on, so publishers wait instead of failing message after message.
    this.setState('connecting', null);
    this.failPending(new LinkDown(`${this.target}: reconnecting for the test-mode status topic`));
    client.on('error', () => undefined);
    await withTimeout(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), 2000).catch(() => client.end(true));
    if (this.stopped || this.client) return;
    this.connect();
  }

  /** Where the status messages go now: the configured topic, its test twin in test mode, or nowhere. */
  private statusTopic(): string | null {
    const s = this.options.status;
    if (!s) return null;
    if (!this.options.isTestMode?.()) return s.topic;
    return s.testPrefix ? `${s.testPrefix}${s.topic}` : null;
  }

  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void> {
    const client = this.client;
    if (!client || this.state !== 'connected') {
      return Promise.reject(new LinkDown(this.lastError ?? `${this.target}: not connected`));
    }
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      this.pending.add(fail);
      const options: IClientPublishOptions = { qos: opts.qos, retain: opts.retain };
      if (this.options.protocolVersion === 5 && opts.userProperties) options.properties = { userProperties: opts.userProperties };
      client.publish(topic, payload, options, (err) => {
        if (!this.pending.delete(fail)) return; // already failed when the connection dropped
        if (!err) return resolve();
        const code = (err as Error & { code?: unknown }).code;
        if (typeof code === 'number') {
          const why = REASON_V5[code] ?? `reason code 0x${code.toString(16)}`;
          reject(new PublishRejected(`${this.target} refused the message on ${topic}: ${why}`, code, PERMANENT.has(code)));
        } else {
          reject(new LinkDown(`${this.target}: ${err.message}`));
        }
      });
    });
  }

  private connect(): void {
    if (this.stopped) return;
    this.roundError = null;
    this.setState('connecting', this.lastError);
    const o = this.options;
    const opts: IClientOptions = {
      host: o.host,
      port: o.port,
      protocol: o.tls ? 'mqtts' : 'mqtt',
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      keepalive: o.keepaliveS,
      clean: o.clean,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      resubscribe: false,
      queueQoSZero: false,
      ...(this.tlsOptions ?? {}),
    };
    if (o.username) opts.username = o.username;
    if (o.password) opts.password = o.password;
    const statusTopic = this.statusTopic();
    this.statusTopicInUse = statusTopic;
    if (o.status && statusTopic) opts.will = { topic: statusTopic, payload: Buffer.from(o.status.offline), qos: o.status.qos, retain: o.status.retain };
    if (o.protocolVersion === 5 && !o.clean) opts.properties = { sessionExpiryInterval: o.sessionExpiryS ?? 3600 };
    // Loaded on first connect: a flow without MQTT does not carry mqtt.js.
    const client = (require('mqtt') as typeof import('mqtt')).connect(opts); // eslint-disable-line @typescript-eslint/no-require-imports
    this.client = client;
    client.on('connect', (connack) => {
      if (client !== this.client) return;
      this.backoff.reset();
      this.receiveMaximum = connack.properties?.receiveMaximum ?? 65535;
      this.lastError = null;
      this.setState('connected', null);
      const s = o.status;
      if (s && statusTopic) client.publish(statusTopic, s.online, { qos: s.qos, retain: s.retain }, () => undefined);
      // Test mode flipped during the handshake: move to the right topic now.
      if (statusTopic !== this.statusTopic()) void this.testModeChanged();
    });
    client.on('error', (err) => {
      if (client !== this.client) return;
      this.roundError = this.describe(err);
      if (!client.connected) this.lose(client);
    });
    client.on('close', () => {
      if (client === this.client) this.lose(client);
    });
  }

  private describe(err: Error & { code?: unknown }): string {
    if (typeof err.code === 'number') {
      const table = this.options.protocolVersion === 5 ? REASON_V5 : CONNACK_V3;
      return `${this.target} refused the connection: ${table[err.code] ?? `return code ${err.code}`}`;
    }
    return describeNetError(err, this.target);
  }

  private lose(client: MqttClient): void {
    this.client = undefined;
    // Our listeners ignore a discarded client by themselves; mqtt.js's own 'close' listener
    // must stay (it clears the CONNACK and keepalive timers).
    client.on('error', () => undefined);
    client.end(true);
    const wasConnected = this.state === 'connected';
    this.lastError = this.roundError ?? (wasConnected ? `${this.target}: connection lost` : `${this.target}: connection closed during the MQTT handshake`);
    this.failPending(new LinkDown(this.lastError));
    if (this.stopped) return;
    this.setState('down', this.lastError);
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private failPending(err: Error): void {
    const pending = [...this.pending];
    this.pending.clear();
    for (const fail of pending) fail(err);
  }

  private setState(state: LinkState, error?: string | null): void {
    if (error !== undefined) this.lastError = error;
    const changed = state !== this.state;
    this.state = state;
    if (changed || error) this.emit('state', state, this.lastError);
  }
}
