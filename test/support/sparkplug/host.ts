/**
 * An independent Sparkplug B 3.0 host application for the tests. It decodes every message with
 * its own wire decoder (wire.ts, not the library the node uses), tracks each edge node and device
 * as a host must, and records every breach of the edge-node rules it checks:
 * - topic namespace spBv1.0/<group>/<type>/<edge>[/<device>];
 * - NBIRTH: seq 0, a bdSeq metric, QoS 0, not retained; NDEATH: a bdSeq metric; an NDEATH whose
 *   bdSeq differs from the current NBIRTH's is stale and ends nothing;
 * - seq: +1 (mod 256) on every message after NBIRTH;
 * - aliases unique over the edge node's births; DDATA by alias, every alias from the device's birth;
 * - DBIRTH only after NBIRTH; DDATA only while the device is born (after DBIRTH, before DDEATH).
 */
import mqtt, { MqttClient } from 'mqtt';
import { decodePayload, encodeCommand, CommandMetric, DataType, Metric, Payload } from './wire';

export interface HostMessage {
  topic: string;
  type: string;
  edge: string;
  device?: string;
  payload: Payload;
  qos: number;
  retain: boolean;
}

export interface DataPoint {
  device: string;
  name: string;
  value: Metric['value'];
  timestamp?: number;
  historical: boolean;
  quality?: number;
}

interface DeviceView {
  online: boolean;
  aliases: Map<number, Metric>;
}

interface EdgeView {
  online: boolean;
  bdSeq?: number;
  seq?: number;
  aliases: Map<number, string>;
  devices: Map<string, DeviceView>;
}

const TYPES = new Set(['NBIRTH', 'NDEATH', 'NDATA', 'NCMD', 'DBIRTH', 'DDEATH', 'DDATA', 'DCMD']);

export class TestHost {
  readonly messages: HostMessage[] = [];
  readonly violations: string[] = [];
  readonly data: DataPoint[] = [];
  readonly edges = new Map<string, EdgeView>();
  private client?: MqttClient;

  constructor(readonly port: number, readonly hostId: string, readonly group: string) {}

  /** Connects; with `online`, announces STATE online (retained), the will saying offline. */
  async connect(online = true): Promise<void> {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port: this.port,
      clientId: `host-${this.hostId}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      will: { topic: `spBv1.0/STATE/${this.hostId}`, payload: Buffer.from(JSON.stringify({ online: false, timestamp: Date.now() })), qos: 1, retain: true },
    });
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('message', (topic, payload, packet) => this.receive(topic, payload, packet.qos, packet.retain));
    await client.subscribeAsync(`spBv1.0/${this.group}/#`, { qos: 1 });
    if (online) await this.setOnline(true);
  }

  async setOnline(online: boolean): Promise<void> {
    await this.client!.publishAsync(`spBv1.0/STATE/${this.hostId}`, JSON.stringify({ online, timestamp: Date.now() }), { qos: 1, retain: true });
  }

  publishRaw(topic: string, payload: Buffer | string, retain = false): Promise<unknown> {
    return this.client!.publishAsync(topic, payload, { qos: 1, retain });
  }

  rebirth(edge: string): Promise<unknown> {
    return this.publishRaw(`spBv1.0/${this.group}/NCMD/${edge}`, encodeCommand([{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: true }]));
  }

  command(edge: string, device: string, metrics: CommandMetric[]): Promise<unknown> {
    return this.publishRaw(`spBv1.0/${this.group}/DCMD/${edge}/${device}`, encodeCommand(metrics));
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.endAsync(true);
  }

  of(type: string, device?: string): HostMessage[] {
    return this.messages.filter((m) => m.type === type && (device === undefined || m.device === device));
  }

  /** The data points of one device and metric, in arrival order. */
  series(device: string, name: string): DataPoint[] {
    return this.data.filter((d) => d.device === device && d.name === name);
  }

  private violation(text: string): void {
    this.violations.push(text);
  }

  private receive(topic: string, raw: Buffer, qos: number, retain: boolean): void {
    const parts = topic.split('/');
    if (parts[0] !== 'spBv1.0' || parts.length < 4 || parts.length > 5 || !TYPES.has(parts[2]) || parts.some((p) => p === '')) {
      return this.violation(`topic "${topic}" is not in the Sparkplug B namespace`);
    }
    const [, , type, edgeId, device] = parts;
    if (type.startsWith('D') !== (device !== undefined)) return this.violation(`${type} on "${topic}": device level ${device === undefined ? 'missing' : 'not allowed'}`);
    if (type === 'NCMD' || type === 'DCMD') return;
    let payload: Payload;
    try {
      payload = decodePayload(raw);
    } catch (err) {
      return this.violation(`${topic}: payload does not decode (${(err as Error).message})`);
    }
    const msg: HostMessage = { topic, type, edge: edgeId, device, payload, qos, retain };
    this.messages.push(msg);
    if (type !== 'NDEATH' && (qos !== 0 || retain)) this.violation(`${topic}: ${type} must be QoS 0, not retained (got QoS ${qos}, retain ${retain})`);
    let edge = this.edges.get(edgeId);
    if (!edge) {
      edge = { online: false, aliases: new Map(), devices: new Map() };
      this.edges.set(edgeId, edge);
    }
    if (type === 'NDEATH') return this.ndeath(edge, msg);
    if (type === 'NBIRTH') return this.nbirth(edge, msg);
    if (!edge.online) return this.violation(`${topic}: ${type} while the edge node is not born`);
    this.checkSeq(edge, msg);
    if (type === 'DBIRTH') this.dbirth(edge, msg);
    else if (type === 'DDEATH') this.ddeath(edge, msg);
    else if (type === 'DDATA') this.ddata(edge, msg);
    else if (type === 'NDATA') this.ndata(edge, msg);
  }

  private ndata(edge: EdgeView, msg: HostMessage): void {
    for (const m of msg.payload.metrics) {
      if (m.alias === undefined || edge.aliases.get(m.alias) !== '') this.violation(`${msg.topic}: NDATA metric alias ${m.alias} is not a node metric of the NBIRTH`);
    }
  }

  private bdSeqOf(msg: HostMessage): number | undefined {
    const m = msg.payload.metrics.find((x) => x.name === 'bdSeq');
    if (!m || m.datatype !== DataType.Int64) {
      this.violation(`${msg.topic}: ${msg.type} without an Int64 bdSeq metric`);
      return undefined;
    }
    return Number(m.value);
  }

  private ndeath(edge: EdgeView, msg: HostMessage): void {
    const bdSeq = this.bdSeqOf(msg);
    if (msg.qos !== 1 || msg.retain) this.violation(`${msg.topic}: NDEATH must be QoS 1, not retained`);
    if (bdSeq === undefined || bdSeq !== edge.bdSeq) return; // stale death of an earlier session
    edge.online = false;
    for (const d of edge.devices.values()) d.online = false;
  }

  private nbirth(edge: EdgeView, msg: HostMessage): void {
    if (msg.payload.seq !== 0) this.violation(`${msg.topic}: NBIRTH seq ${msg.payload.seq}, must be 0`);
    edge.bdSeq = this.bdSeqOf(msg);
    if (!msg.payload.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.datatype === DataType.Boolean)) {
      this.violation(`${msg.topic}: NBIRTH without Node Control/Rebirth`);
    }
    edge.online = true;
    edge.seq = 0;
    edge.aliases = new Map();
    for (const d of edge.devices.values()) d.online = false;
    for (const m of msg.payload.metrics) if (m.alias !== undefined) this.claimAlias(edge, msg, m.alias, '');
  }

  private claimAlias(edge: EdgeView, msg: HostMessage, alias: number, owner: string): void {
    const had = edge.aliases.get(alias);
    if (had !== undefined && had !== owner) this.violation(`${msg.topic}: alias ${alias} already used by ${had || 'the edge node'}`);
    edge.aliases.set(alias, owner);
  }

  private checkSeq(edge: EdgeView, msg: HostMessage): void {
    const want = ((edge.seq ?? 0) + 1) % 256;
    if (msg.payload.seq !== want) this.violation(`${msg.topic}: seq ${msg.payload.seq}, expected ${want}`);
    edge.seq = msg.payload.seq;
  }

  private dbirth(edge: EdgeView, msg: HostMessage): void {
    const device: DeviceView = { online: true, aliases: new Map() };
    for (const m of msg.payload.metrics) {
      if (!m.name || m.alias === undefined || m.datatype === undefined) {
        this.violation(`${msg.topic}: DBIRTH metric without name, alias or datatype`);
        continue;
      }
      this.claimAlias(edge, msg, m.alias, msg.device!);
      device.aliases.set(m.alias, m);
      this.data.push({ device: msg.device!, name: m.name, value: m.value, timestamp: m.timestamp, historical: false, quality: quality(m) });
    }
    edge.devices.set(msg.device!, device);
  }

  private ddeath(edge: EdgeView, msg: HostMessage): void {
    const device = edge.devices.get(msg.device!);
    if (!device?.online) this.violation(`${msg.topic}: DDEATH for a device that is not born`);
    if (device) device.online = false;
  }

  private ddata(edge: EdgeView, msg: HostMessage): void {
    const device = edge.devices.get(msg.device!);
    if (!device?.online) return this.violation(`${msg.topic}: DDATA before DBIRTH (or after DDEATH)`);
    for (const m of msg.payload.metrics) {
      const def = m.alias === undefined ? undefined : device.aliases.get(m.alias);
      if (!def) {
        this.violation(`${msg.topic}: metric alias ${m.alias} (name ${m.name}) is not in the device's DBIRTH`);
        continue;
      }
      if (m.datatype !== undefined && m.datatype !== def.datatype) this.violation(`${msg.topic}: alias ${m.alias} datatype ${m.datatype}, birth said ${def.datatype}`);
      this.data.push({ device: msg.device!, name: def.name!, value: m.value, timestamp: m.timestamp, historical: !!m.isHistorical, quality: quality(m) });
    }
  }
}

function quality(m: Metric): number | undefined {
  const q = m.properties?.Quality;
  return q ? Number(q.value) : undefined;
}
