/**
 * A Sparkplug B 3.0 edge node: one MQTT session (connection.ts), the node birth and death
 * with their bdSeq, a device birth per device, data by exception by alias, device death on a
 * bad reading, seq 0..255 over every message, rebirth on NCMD, writes on DCMD, and
 * store-and-forward tied to the primary host.
 *
 * Store-and-forward: while the edge node is not born (broker unreachable, or the primary host
 * offline) data goes into the durable queue, marked historical. Once born again (NBIRTH, every
 * DBIRTH) the queue is sent in order before live data; while it drains, new data joins the
 * queue behind it. History of a device not yet born in this session (after a restart) waits up
 * to `historyWaitMs` for the device's first reading.
 */
import { EventEmitter } from 'events';
import type { MqttClient } from 'mqtt';
import type { DurableQueue, QueueEntry } from '../queue/durable-queue';
import type { PointValue, ReadingMessage } from '../reading';
import type { Deadband, NameRule } from '../publish/rules';
import { parseDeviceCommand, parseHostState, parseNodeCommand } from './commands';
import { BdSeqCounter, ConnectionSettings, SparkplugConnection } from './connection';
import { DeviceState, DeviceTable, Sample } from './devices';
import { dcmdDevice, deviceTopic, EdgeIds, nodeTopic, stateTopic } from './ids';
import type { SparkplugType } from './metrics';
import { dbirthPayload, ddataPayload, ddeathPayload, nbirthPayload, ndataPayload, ndeathPayload, NodeMetric } from './payloads';

/** A queue record: data (`h`: read while the host could not receive it) or a device death. */
export interface StoredEvent {
  k: 'data' | 'death';
  d: string;
  ts: number;
  m?: Sample[];
  h?: 1;
  life?: number;
}

export interface NodeMetricDef {
  name: string;
  type: SparkplugType;
}

export interface EdgeNodeOptions {
  ids: EdgeIds;
  /** Wait for this host's STATE online before birth; go dead while it is offline. */
  primaryHostId?: string;
  connection: ConnectionSettings;
  queue: DurableQueue<StoredEvent>;
  deadbands?: NameRule<Deadband>[];
  /** Where bdSeq is kept across restarts. */
  bdSeqFile?: string;
  nodeMetrics?: { defs: NodeMetricDef[]; read(): PointValue[]; intervalMs: number };
  historyWaitMs?: number;
  /** Why a device's point may not be written, or undefined when it may. */
  writeRefusal?: (device: string, point: string) => string | undefined;
  write?: (device: string, values: Record<string, PointValue>) => Promise<void>;
  testMode?: () => boolean;
}

export type EdgeState = 'connecting' | 'waiting for host' | 'online' | 'down' | 'stopped';

export interface CommandEvent {
  kind: 'rebirth' | 'write';
  device?: string;
  writes?: Record<string, PointValue>;
  dryRun?: boolean;
  ok: boolean;
  error?: string;
}

export interface EdgeStats {
  state: EdgeState;
  bdSeq: number;
  devices: number;
  published: number;
  stored: number;
  historicalSent: number;
  dropped: number;
}

/**
 * Events: 'state' (EdgeState, error text | null), 'log' ('info' | 'warn' | 'error', text),
 * 'command' (CommandEvent).
 */
export class SparkplugEdgeNode extends EventEmitter {
  private readonly table: DeviceTable;
  private readonly conn: SparkplugConnection;
  private readonly nodeMetrics: NodeMetric[];
  private client?: MqttClient;
  private born = false;
  private hostOnline: boolean;
  private hostTs = 0;
  private seq = 0;
  private session = 0;
  private draining = false;
  private drainTask: Promise<void> = Promise.resolve();
  private readonly sessionBorn = new Set<string>();
  /** Devices whose stored data no longer waits for their birth in this session. */
  private readonly abandoned = new Set<string>();
  private ndataTimer?: NodeJS.Timeout;
  private state: EdgeState = 'stopped';
  private readonly counts = { published: 0, stored: 0, historicalSent: 0, dropped: 0 };

  constructor(private readonly opt: EdgeNodeOptions) {
    super();
    const defs = opt.nodeMetrics?.defs ?? [];
    this.nodeMetrics = defs.map((d, i) => ({ name: d.name, alias: i + 1, type: d.type, value: null }));
    this.table = new DeviceTable(defs.length + 1, opt.deadbands ?? []);
    this.hostOnline = !opt.primaryHostId;
    const ids = opt.ids;
    const subscriptions = [nodeTopic(ids, 'NCMD'), `${deviceTopic(ids, 'DCMD', '+')}`];
    if (opt.primaryHostId) subscriptions.push(stateTopic(opt.primaryHostId));
    this.conn = new SparkplugConnection(opt.connection, { subscriptions, will: (bdSeq) => this.ndeath(bdSeq) }, new BdSeqCounter(opt.bdSeqFile));
    this.conn.on('up', (client: MqttClient) => this.onUp(client));
    this.conn.on('down', (error: string | null) => this.onDown(error));
    this.conn.on('message', (topic: string, payload: Buffer) => this.onMessage(topic, payload));
  }

  get target(): string {
    return this.conn.target;
  }

  stats(): EdgeStats {
    return { state: this.state, bdSeq: this.conn.bdSeq, devices: this.table.size, ...this.counts };
  }

  device(id: string): DeviceState | undefined {
    return this.table.get(id);
  }

  start(): void {
    this.setState('connecting', null);
    this.conn.start();
    const nm = this.opt.nodeMetrics;
    if (nm && nm.intervalMs > 0) this.ndataTimer = setInterval(() => this.publishNodeData(), nm.intervalMs);
  }

  /** A clean stop: NDEATH, then disconnect. */
  async stop(): Promise<void> {
    if (this.ndataTimer) clearInterval(this.ndataTimer);
    this.ndataTimer = undefined;
    this.born = false;
    this.session++;
    await this.conn.end(this.conn.bdSeq >= 0 ? this.ndeath(this.conn.bdSeq) : undefined);
    await this.drainTask;
    this.setState('stopped', null);
  }

  /**
   * Takes one reading. Returns 'stored' when it went into the durable queue (the caller may
   * wait for `queue.flush()`), 'sent' when published, 'none' when nothing changed. Throws when
   * the device name cannot be a Sparkplug device id.
   */
  add(reading: ReadingMessage): 'stored' | 'sent' | 'none' {
    const { change, rejected } = this.table.update(reading);
    for (const text of rejected) this.emit('log', 'warn', text);
    const live = this.born && !this.draining;
    switch (change.kind) {
      case 'none':
        return 'none';
      case 'birth': {
        const device = change.device;
        if (this.born) {
          this.publishDeviceBirth(device);
          // A device first heard of with a bad reading: the host learns its metrics, and that it is offline.
          if (!device.alive) {
            if (live) this.publishDeviceDeath(device, device.latestTs);
            else this.store({ k: 'death', d: device.id, ts: device.latestTs, life: device.life });
          }
          return 'sent';
        }
        if (!device.alive) return 'none';
        const samples: Sample[] = [];
        for (const [name, v] of change.device.latest) samples.push([name, v.value, v.quality]);
        this.store({ k: 'data', d: change.device.id, ts: change.device.latestTs, m: samples, h: 1 });
        return 'stored';
      }
      case 'death':
        if (live) {
          this.publishDeviceDeath(change.device, change.ts);
          return 'sent';
        }
        if (!this.born) return 'none';
        this.store({ k: 'death', d: change.device.id, ts: change.ts, life: change.device.life });
        return 'stored';
      case 'data':
        if (live && this.sessionBorn.has(change.device.id)) {
          this.publish(deviceTopic(this.opt.ids, 'DDATA', change.device.id), ddataPayload(change.device, this.nextSeq(), change.ts, change.samples, false));
          return 'sent';
        }
        this.store({ k: 'data', d: change.device.id, ts: change.ts, m: change.samples, ...(this.born ? {} : { h: 1 as const }) });
        return 'stored';
    }
  }

  /** Publishes the node metrics that changed (NDATA), e.g. right after test mode was switched. */
  publishNodeData(): void {
    if (!this.born || !this.opt.nodeMetrics) return;
    const values = this.opt.nodeMetrics.read();
    const changed = this.nodeMetrics.filter((m, i) => {
      if (m.value === values[i]) return false;
      m.value = values[i] ?? null;
      return true;
    });
    if (changed.length) this.publish(nodeTopic(this.opt.ids, 'NDATA'), ndataPayload(this.nextSeq(), changed));
  }

  /** NBIRTH with every node metric, then a DBIRTH per device (what NCMD Rebirth asks for). */
  rebirth(): void {
    if (!this.client) return;
    this.seq = 0;
    if (this.opt.nodeMetrics) {
      const values = this.opt.nodeMetrics.read();
      this.nodeMetrics.forEach((m, i) => (m.value = values[i] ?? null));
    }
    this.publish(nodeTopic(this.opt.ids, 'NBIRTH'), nbirthPayload(this.conn.bdSeq, this.nextSeq(), this.nodeMetrics));
    this.born = true;
    this.sessionBorn.clear();
    this.abandoned.clear();
    const dead: DeviceState[] = [];
    for (const device of this.table.all()) {
      this.publishDeviceBirth(device);
      if (!device.alive) dead.push(device);
    }
    const queued = this.opt.queue.available > 0 || this.draining;
    for (const device of dead) {
      if (queued) this.store({ k: 'death', d: device.id, ts: device.latestTs, life: device.life });
      else this.publishDeviceDeath(device, device.latestTs);
    }
    this.setState('online', null);
    if (this.opt.queue.available > 0 && !this.draining) this.startDrain();
  }

  private ndeath(bdSeq: number): { topic: string; payload: Buffer } {
    return { topic: nodeTopic(this.opt.ids, 'NDEATH'), payload: Buffer.from(ndeathPayload(bdSeq)) };
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  private publish(topic: string, payload: Uint8Array, done?: (err?: Error) => void): void {
    const client = this.client;
    if (!client) {
      done?.(new Error('not connected'));
      return;
    }
    this.counts.published++;
    client.publish(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 0, retain: false }, done);
  }

  private publishDeviceBirth(device: DeviceState): void {
    this.publish(deviceTopic(this.opt.ids, 'DBIRTH', device.id), dbirthPayload(device, this.nextSeq()));
    this.table.rebased(device);
    this.sessionBorn.add(device.id);
    this.emit('dbirth', device.id);
  }

  private publishDeviceDeath(device: DeviceState, ts: number): void {
    if (!this.sessionBorn.delete(device.id)) return;
    this.publish(deviceTopic(this.opt.ids, 'DDEATH', device.id), ddeathPayload(this.nextSeq(), ts));
  }

  private store(event: StoredEvent): void {
    this.counts.stored++;
    this.opt.queue.push(event);
    if (this.born && !this.draining) this.startDrain();
  }

  // ---- session ----

  private onUp(client: MqttClient): void {
    this.client = client;
    this.session++;
    // Every new session waits for the host's (retained) STATE: it may have gone while we were away.
    if (this.opt.primaryHostId) this.hostOnline = false;
    if (this.hostOnline) this.rebirth();
    else this.setState('waiting for host', null);
  }

  private onDown(error: string | null): void {
    this.client = undefined;
    this.born = false;
    this.draining = false;
    this.session++;
    if (this.state !== 'stopped') this.setState(error ? 'down' : 'connecting', error);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const ids = this.opt.ids;
    const host = this.opt.primaryHostId;
    if (host && topic === stateTopic(host)) return this.onHostState(host, payload);
    if (topic === nodeTopic(ids, 'NCMD')) {
      const cmd = parseNodeCommand(payload);
      if (cmd instanceof Error) return void this.emit('log', 'error', cmd.message);
      for (const name of cmd.unknown) this.emit('log', 'warn', `NCMD metric "${name}" is not a command of this edge node; ignored`);
      if (cmd.rebirth && !this.born) {
        this.emit('log', 'warn', 'NCMD: rebirth requested while the primary host is offline; the birth follows when it is back');
      } else if (cmd.rebirth) {
        this.emit('log', 'info', 'NCMD: rebirth requested');
        this.rebirth();
        this.emit('command', { kind: 'rebirth', ok: true } satisfies CommandEvent);
      }
      return;
    }
    const deviceId = dcmdDevice(ids, topic);
    if (deviceId !== undefined) void this.onDeviceCommand(deviceId, payload);
  }

  private onHostState(host: string, payload: Buffer): void {
    const state = parseHostState(host, payload);
    if (state instanceof Error) return void this.emit('log', 'error', state.message);
    if (state.timestamp < this.hostTs) return; // an older STATE than the one we acted on
    this.hostTs = state.timestamp;
    if (state.online === this.hostOnline) return;
    this.hostOnline = state.online;
    if (state.online) {
      this.emit('log', 'info', `primary host "${host}" is online`);
      if (this.client && !this.born) this.rebirth();
      return;
    }
    this.emit('log', 'warn', `primary host "${host}" is offline: ending the session, storing data until it is back`);
    // Sparkplug 3.0: the edge node ends its session (NDEATH) and waits for the host to return.
    this.born = false;
    this.draining = false;
    this.session++;
    this.setState('waiting for host', null);
    void this.conn.end(this.ndeath(this.conn.bdSeq), 100);
  }

  private async onDeviceCommand(deviceId: string, payload: Buffer): Promise<void> {
    const device = this.table.get(deviceId);
    if (!device) return void this.emit('log', 'warn', `DCMD for device "${deviceId}", which this edge node does not have; ignored`);
    const cmd = parseDeviceCommand(device, payload);
    if (cmd instanceof Error) return void this.emit('log', 'error', cmd.message);
    const writes: Record<string, PointValue> = {};
    for (const [point, value] of Object.entries(cmd.writes)) {
      const refusal = this.opt.writeRefusal?.(deviceId, point) ?? (this.opt.write ? undefined : 'writes are not enabled');
      if (refusal) cmd.refused.push(`metric "${point}" of device "${deviceId}": ${refusal}`);
      else writes[point] = value;
    }
    for (const why of cmd.refused) this.emit('log', 'warn', `DCMD refused: ${why}`);
    if (!Object.keys(writes).length) return;
    if (this.opt.testMode?.()) {
      this.emit('log', 'info', `DCMD dry run (test mode): device "${deviceId}" ${JSON.stringify(writes)}`);
      return void this.emit('command', { kind: 'write', device: deviceId, writes, dryRun: true, ok: true } satisfies CommandEvent);
    }
    try {
      await this.opt.write!(deviceId, writes);
      this.emit('command', { kind: 'write', device: deviceId, writes, ok: true } satisfies CommandEvent);
    } catch (err) {
      const error = `DCMD write to device "${deviceId}" failed: ${(err as Error).message}`;
      this.emit('log', 'error', error);
      this.emit('command', { kind: 'write', device: deviceId, writes, ok: false, error } satisfies CommandEvent);
    }
  }

  // ---- history ----

  private startDrain(): void {
    this.draining = true;
    const session = this.session;
    this.drainTask = this.drainTask.then(() => this.drain(session)).catch((err: Error) => {
      this.emit('log', 'error', `sending stored data failed: ${err.message}`);
    });
  }

  private async drain(session: number): Promise<void> {
    const queue = this.opt.queue;
    const waitUntil = Date.now() + (this.opt.historyWaitMs ?? 60_000);
    while (this.session === session && this.born) {
      const batch = await queue.take(256);
      if (this.session !== session || !this.born) return queue.nack(batch);
      if (!batch.length) {
        if (queue.available === 0) {
          this.draining = false;
          return;
        }
        continue;
      }
      const blocked = batch.findIndex((e) => !this.sessionBorn.has(e.item.d) && !this.abandoned.has(e.item.d) && this.table.get(e.item.d)?.alive !== false);
      const ready = blocked < 0 ? batch : batch.slice(0, blocked);
      const sent = await this.sendStored(ready);
      if (sent < ready.length || blocked >= 0) queue.nack(batch.slice(sent));
      if (sent < ready.length) return;
      const waitingFor = blocked >= 0 ? batch[blocked].item.d : undefined;
      if (waitingFor !== undefined && !(await this.waitForBirth(waitingFor, waitUntil))) {
        // Given up on this device for this session: its stored data is dropped (counted) as it comes.
        this.abandoned.add(waitingFor);
        this.emit('log', 'warn', `stored data of device "${waitingFor}" dropped: the device sent no reading within ${Math.round((this.opt.historyWaitMs ?? 60_000) / 1000)} s of the birth`);
      }
    }
  }

  /** Publishes stored events in order; returns how many went out (and acks them). */
  private sendStored(entries: QueueEntry<StoredEvent>[]): Promise<number> {
    return new Promise((resolve) => {
      if (!entries.length) return resolve(0);
      let left = entries.length;
      let failedAt = entries.length;
      const finish = (): void => {
        const sent = entries.slice(0, failedAt);
        this.opt.queue.ack(sent);
        resolve(sent.length);
      };
      entries.forEach((entry, i) => {
        const done = (err?: Error): void => {
          if (err && i < failedAt) failedAt = i;
          if (--left === 0) finish();
        };
        const e = entry.item;
        const device = this.table.get(e.d);
        if (!device || !this.sessionBorn.has(e.d) || (e.k === 'death' && e.life !== device.life)) {
          if (e.k === 'data') this.counts.dropped++;
          return done();
        }
        if (e.k === 'death') {
          this.sessionBorn.delete(e.d);
          return this.publish(deviceTopic(this.opt.ids, 'DDEATH', e.d), ddeathPayload(this.nextSeq(), e.ts), done);
        }
        if (e.h) this.counts.historicalSent++;
        this.publish(deviceTopic(this.opt.ids, 'DDATA', e.d), ddataPayload(device, this.nextSeq(), e.ts, e.m ?? [], e.h === 1), done);
      });
    });
  }

  private waitForBirth(device: string, until: number): Promise<boolean> {
    return new Promise((resolve) => {
      const onBirth = (id: string): void => {
        if (id !== device) return;
        cleanup();
        resolve(true);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(false);
      }, Math.max(0, until - Date.now()));
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('dbirth', onBirth);
      };
      this.on('dbirth', onBirth);
    });
  }

  private setState(state: EdgeState, error: string | null): void {
    this.state = state;
    this.emit('state', state, error);
  }
}
