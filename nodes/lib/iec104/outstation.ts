/**
 * IEC 104 outstation (controlled station): serves a point table to one or
 * more masters over TCP. Spontaneous data on change (with deadband), cyclic
 * and background scan, general/group and counter interrogation, clock sync,
 * read, test command, and commands carried to devices through a writer, with
 * select-before-operate. Each connection (or redundancy group of connections)
 * has a bounded event buffer; what overflows is dropped and counted.
 */
import { EventEmitter } from 'events';
import net from 'net';
import type { PointValue, Quality as ReadingQuality } from '../reading';
import { Asdu, AsduSizes, DEFAULT_SIZES, GOOD, InformationObject, Quality, decodeAsdu, encodeAsdu } from './asdu';
import { cp56FromDate, cp56ToDate } from './cp56';
import { Iec104DecodeError } from './errors';
import { DEFAULT_LINK, Iec104Link, LinkOptions } from './link';
import { packObjects } from './pack';
import type { MappedPoint, PointTable } from './point-table';
import { linkOverSocket } from './socket-link';
import { COT, TYPES, TypeInfo, elementSize } from './types';
import { PointValueError, beyondDeadband, objectFor, qualityBits, wireValue } from './values';
import { CommandEvent, CommandHandler, CommandOptions } from './outstation-commands';

export interface RedundancyGroup {
  name: string;
  /** Remote addresses of the masters in this group (one active connection at a time). */
  hosts: string[];
}

export interface OutstationOptions extends CommandOptions {
  commonAddress: number;
  points: PointTable;
  sizes?: AsduSizes;
  link?: LinkOptions;
  /** Events held per connection or redundancy group before the oldest are dropped. Default 10,000. */
  eventBufferSize?: number;
  /** Measured values sent periodically (COT 1) every n ms; 0 = off. */
  cyclicMs?: number;
  /** All monitored points sent as background scan (COT 2) every n ms; 0 = off. */
  backgroundMs?: number;
  /** Set the RTU's clock from C_CS_NA_1 (through setClock); by default only the offset is recorded. */
  allowClockSet?: boolean;
  setClock?: (date: Date) => void;
  redundancyGroups?: RedundancyGroup[];
  /** Connections accepted at once; more are closed at accept. Default 8. */
  maxConnections?: number;
  /** Names the outstation in messages. */
  name?: string;
}

interface PointState {
  point: MappedPoint;
  value: number | boolean;
  quality: Quality;
  time: number;
  known: boolean;
  sent?: number | boolean;
  sentQuality?: Quality;
  /** Counters: baseline after a reset, frozen value and its sequence number. */
  baseline: number;
  frozen?: number;
  sequence: number;
}

interface BufferedEvent {
  typeId: number;
  cot: number;
  object: InformationObject;
}

export interface Connection {
  id: number;
  remote: string;
  group: Group;
  link: Iec104Link;
  commands: number;
  negatives: number;
}

/** An event ASDU handed to a connection and not yet acknowledged by any master of the group. */
interface InFlight {
  asdu: Buffer;
  /** The connection whose link holds it; undefined once taken back from a stopped link. */
  conn?: Connection;
  acked: boolean;
}

interface Group {
  name: string;
  configured: boolean;
  buffer: BufferedEvent[];
  head: number;
  dropped: number;
  /** Sent events in order until acknowledged: a connection taking over sends the unacknowledged ones again. */
  inflight: InFlight[];
  /** Set while unacknowledged events go again: the link's drain must not slip newer events in between. */
  resending: boolean;
  active?: Connection;
  members: Set<Connection>;
}

export interface ConnectionStats {
  id: number;
  remote: string;
  group: string;
  state: string;
  active: boolean;
  unacked: number;
  queued: number;
  buffered: number;
  dropped: number;
  iSent: number;
  iReceived: number;
  testFrames: number;
  commands: number;
  negatives: number;
}

export interface OutstationStats {
  connections: ConnectionStats[];
  accepted: number;
  closedWithError: number;
  malformed: number;
  points: number;
  spontaneous: number;
  interrogations: number;
  clockOffsetMs?: number;
  lastCloseReason?: string;
}

const sameQuality = (a: Quality | undefined, b: Quality): boolean =>
  !!a && a.iv === b.iv && a.nt === b.nt && a.sb === b.sb && a.bl === b.bl && a.ov === b.ov;

export class Iec104Outstation extends EventEmitter {
  readonly server: net.Server;
  private readonly sizes: AsduSizes;
  private readonly linkOptions: LinkOptions;
  private readonly states = new Map<number, PointState>();
  private readonly groups = new Map<string, Group>();
  private readonly connections = new Set<Connection>();
  private readonly commands: CommandHandler;
  private readonly timers: NodeJS.Timeout[] = [];
  private nextId = 1;
  private readonly counts = { accepted: 0, closedWithError: 0, malformed: 0, spontaneous: 0, interrogations: 0 };
  private clockOffsetMs: number | undefined;
  private lastCloseReason: string | undefined;
  private readonly bufferSize: number;
  readonly name: string;

  constructor(private readonly options: OutstationOptions) {
    super();
    this.sizes = options.sizes ?? DEFAULT_SIZES;
    this.linkOptions = options.link ?? DEFAULT_LINK;
    this.bufferSize = options.eventBufferSize ?? 10000;
    this.name = options.name ?? 'outstation';
    for (const p of options.points.monitor) {
      this.states.set(p.ioa, { point: p, value: wireValue(p, undefined), quality: { ...GOOD, iv: true }, time: Date.now(), known: false, baseline: 0, sequence: 0 });
    }
    for (const g of options.redundancyGroups ?? []) this.groups.set(g.name, this.newGroup(g.name, true));
    this.commands = new CommandHandler(options, (conn, asdu, cot, negative) => this.reply(conn as Connection, asdu, cot, negative));
    this.commands.on('command', (e: CommandEvent) => this.emit('command', e));
    this.server = net.createServer((socket) => this.accept(socket));
    if (options.cyclicMs) this.timers.push(setInterval(() => this.scan(COT.PERIODIC, true), options.cyclicMs));
    if (options.backgroundMs) this.timers.push(setInterval(() => this.scan(COT.BACKGROUND, false), options.backgroundMs));
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.commands.dispose();
    for (const c of this.connections) c.link.close('outstation closed');
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /**
   * New values (or only a new quality) of a device. Points whose value moved by
   * their deadband, or whose quality changed, go out spontaneously.
   */
  update(device: string, values: Record<string, PointValue>, meta: { quality: ReadingQuality; pointQuality?: Record<string, ReadingQuality>; timestamp?: number }): void {
    const points = this.options.points.byDevice.get(device);
    if (!points) return;
    const time = meta.timestamp ?? Date.now();
    for (const p of points) {
      const s = this.states.get(p.ioa) as PointState;
      const has = Object.prototype.hasOwnProperty.call(values, p.point) && values[p.point] !== null;
      let wire = s.value;
      if (has) {
        try {
          wire = wireValue(p, values[p.point]);
        } catch (err) {
          if (!(err instanceof PointValueError)) throw err;
          this.emit('pointError', err);
          continue;
        }
        s.known = true;
      } else if (!s.known) {
        continue; // never read and not in this reading: stays invalid, nothing to report
      }
      const q = qualityBits(meta.pointQuality?.[p.point] ?? meta.quality);
      s.value = wire;
      s.quality = q;
      s.time = time;
      if (p.info.kind === 'bcr') continue; // counters go out on counter interrogation
      if (!beyondDeadband(p.deadband, s.sent, wire) && sameQuality(s.sentQuality, q)) continue;
      s.sent = wire;
      s.sentQuality = q;
      this.counts.spontaneous++;
      this.enqueue(p.info.id, COT.SPONTANEOUS, this.objectOf(s));
    }
  }

  stats(): OutstationStats {
    return {
      connections: [...this.connections].map((c) => ({
        id: c.id,
        remote: c.remote,
        group: c.group.name,
        state: c.link.state,
        active: c.group.active === c,
        unacked: c.link.unacked,
        queued: c.link.queued,
        buffered: c.group.buffer.length - c.group.head,
        dropped: c.group.dropped,
        iSent: c.link.stats.iSent,
        iReceived: c.link.stats.iReceived,
        testFrames: c.link.stats.testFrames,
        commands: c.commands,
        negatives: c.negatives,
      })),
      ...this.counts,
      points: this.states.size,
      clockOffsetMs: this.clockOffsetMs,
      lastCloseReason: this.lastCloseReason,
    };
  }

  private newGroup(name: string, configured: boolean): Group {
    return { name, configured, buffer: [], head: 0, dropped: 0, inflight: [], resending: false, members: new Set() };
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (this.connections.size >= (this.options.maxConnections ?? 8)) {
      this.emit('refused', remote, `more than ${this.options.maxConnections ?? 8} connections`);
      socket.destroy();
      return;
    }
    const id = this.nextId++;
    const host = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const configured = (this.options.redundancyGroups ?? []).find((g) => g.hosts.includes(host));
    const group = configured ? (this.groups.get(configured.name) as Group) : this.newGroup(`connection ${id}`, false);
    if (!configured) this.groups.set(group.name, group);
    const link = linkOverSocket('outstation', socket, this.linkOptions, `${this.name} ← ${remote}`);
    const conn: Connection = { id, remote, group, link, commands: 0, negatives: 0 };
    this.connections.add(conn);
    group.members.add(conn);
    this.counts.accepted++;
    link.on('started', () => this.activate(conn));
    link.on('stopped', () => {
      if (group.active === conn) group.active = undefined;
      for (const e of link.withdrawTagged()) (e as InFlight).conn = undefined;
    });
    link.on('acked', (tags) => this.onAcked(group, tags as InFlight[]));
    link.on('drain', () => this.pump(group));
    link.on('asdu', (bytes) => this.onAsdu(conn, bytes));
    link.on('closed', (reason) => this.onClosed(conn, reason));
    this.emit('connection', { id, remote, group: group.name });
  }

  /** STARTDT on a connection makes it the active one of its group; the others stop receiving data. */
  private activate(conn: Connection): void {
    const group = conn.group;
    const previous = group.active;
    group.active = conn;
    if (previous && previous !== conn) {
      previous.link.suspend();
      this.emit('switchover', { group: group.name, from: previous.remote, to: conn.remote });
    }
    // Events another connection (or an earlier session) was given and no master acknowledged go again, first.
    group.resending = true;
    try {
      for (const e of group.inflight) {
        if (e.acked || e.conn === conn) continue;
        e.conn = conn;
        conn.link.send(e.asdu, e);
      }
    } finally {
      group.resending = false;
    }
    this.pump(group);
  }

  private onAcked(group: Group, tags: InFlight[]): void {
    for (const e of tags) e.acked = true;
    let done = 0;
    while (done < group.inflight.length && group.inflight[done].acked) done++;
    if (done) group.inflight.splice(0, done);
  }

  private onClosed(conn: Connection, reason: string): void {
    this.connections.delete(conn);
    conn.group.members.delete(conn);
    if (conn.group.active === conn) conn.group.active = undefined;
    if (!conn.group.configured) this.groups.delete(conn.group.name);
    this.commands.forget(conn);
    this.lastCloseReason = `${conn.remote}: ${reason}`;
    const clean = /closed by peer|outstation closed/.test(reason);
    if (!clean) this.counts.closedWithError++;
    this.emit('disconnect', { id: conn.id, remote: conn.remote, reason, error: !clean });
  }

  private objectOf(s: PointState): InformationObject {
    const q = s.known ? s.quality : { ...GOOD, iv: true };
    return objectFor(s.point, s.value, q, s.point.info.timed ? cp56FromDate(new Date(s.time)) : undefined);
  }

  private enqueue(typeId: number, cot: number, object: InformationObject): void {
    for (const g of this.groups.values()) {
      g.buffer.push({ typeId, cot, object });
      if (g.buffer.length - g.head > this.bufferSize) {
        g.head++;
        g.dropped++;
      }
      this.pump(g);
    }
  }

  /** Moves buffered events into the active connection's link while its window has room. */
  private pump(g: Group): void {
    const conn = g.active;
    if (!conn || g.resending || conn.link.state !== 'started') return;
    const link = conn.link;
    const k = this.linkOptions.k;
    while (g.head < g.buffer.length && link.queued < k) {
      const first = g.buffer[g.head];
      const info = TYPES.get(first.typeId) as TypeInfo;
      const batch: InformationObject[] = [first.object];
      let at = g.head + 1;
      const room = Math.min(127, Math.floor((249 - 2 - this.sizes.cot - this.sizes.ca) / (this.sizes.ioa + elementSize(info))));
      const seen = new Set<number>([first.object.ioa]);
      while (at < g.buffer.length && batch.length < room) {
        const e = g.buffer[at];
        if (e.typeId !== first.typeId || e.cot !== first.cot || seen.has(e.object.ioa)) break;
        seen.add(e.object.ioa);
        batch.push(e.object);
        at++;
      }
      g.head = at;
      const asdu = encodeAsdu({ typeId: first.typeId, sq: false, cot: first.cot, negative: false, test: false, originator: 0, commonAddress: this.options.commonAddress, objects: batch }, this.sizes);
      const entry: InFlight = { asdu, conn, acked: false };
      g.inflight.push(entry);
      link.send(asdu, entry);
    }
    if (g.head === g.buffer.length) {
      g.buffer = [];
      g.head = 0;
    } else if (g.head > 4096) {
      g.buffer = g.buffer.slice(g.head);
      g.head = 0;
    }
  }

  private scan(cot: number, measuredOnly: boolean): void {
    for (const s of this.states.values()) {
      const kind = s.point.info.kind;
      if (kind === 'bcr') continue;
      if (measuredOnly && kind !== 'nva' && kind !== 'nva-nq' && kind !== 'sva' && kind !== 'float') continue;
      this.enqueue(s.point.info.id, cot, this.objectOf(s));
    }
  }

  private send(conn: Connection, asdu: Asdu): void {
    conn.link.send(encodeAsdu(asdu, this.sizes));
  }

  private reply(conn: Connection, asdu: Asdu, cot: number, negative: boolean): void {
    if (negative) conn.negatives++;
    this.send(conn, { ...asdu, cot, negative });
  }

  private onAsdu(conn: Connection, bytes: Buffer): void {
    let asdu: Asdu;
    try {
      asdu = decodeAsdu(bytes, this.sizes);
    } catch (err) {
      if (!(err instanceof Iec104DecodeError)) throw err;
      this.counts.malformed++;
      conn.link.close(`malformed ASDU ${bytes.subarray(0, 24).toString('hex')}: ${err.message}`);
      return;
    }
    const info = TYPES.get(asdu.typeId);
    if (!info || info.direction !== 'control') return this.reply(conn, asdu, COT.UNKNOWN_TYPE, true);
    const broadcast = this.sizes.ca === 2 ? 0xffff : 0xff;
    if (asdu.commonAddress !== this.options.commonAddress && asdu.commonAddress !== broadcast) {
      return this.reply(conn, asdu, COT.UNKNOWN_CA, true);
    }
    const o = asdu.objects[0];
    switch (info.kind) {
      case 'qoi':
        return this.interrogate(conn, asdu, o);
      case 'qcc':
        return this.counterInterrogate(conn, asdu, o);
      case 'none':
        return this.read(conn, asdu, o);
      case 'cs':
        return this.clockSync(conn, asdu, o);
      case 'tsc':
        if (asdu.cot !== COT.ACTIVATION) return this.reply(conn, asdu, COT.UNKNOWN_COT, true);
        if (o.ioa !== 0) return this.reply(conn, asdu, COT.UNKNOWN_IOA, true);
        return this.reply(conn, asdu, COT.ACTIVATION_CON, false);
      default:
        conn.commands++;
        this.commands.handle(conn, asdu, info);
    }
  }

  private stationChecks(conn: Connection, asdu: Asdu, o: InformationObject): boolean {
    if (asdu.cot !== COT.ACTIVATION) {
      this.reply(conn, asdu, COT.UNKNOWN_COT, true);
      return false;
    }
    if (o.ioa !== 0) {
      this.reply(conn, asdu, COT.UNKNOWN_IOA, true);
      return false;
    }
    return true;
  }

  private interrogate(conn: Connection, asdu: Asdu, o: InformationObject): void {
    if (!this.stationChecks(conn, asdu, o)) return;
    const qoi = o.qualifier ?? 0;
    if (qoi < 20 || qoi > 36) return this.reply(conn, asdu, COT.ACTIVATION_CON, true);
    this.counts.interrogations++;
    this.reply(conn, asdu, COT.ACTIVATION_CON, false);
    const group = qoi - 20;
    const byType = new Map<number, InformationObject[]>();
    for (const s of this.states.values()) {
      if (s.point.info.kind === 'bcr') continue;
      if (group > 0 && s.point.group !== group) continue;
      // Interrogated data go without time tag: the NA variant of a TB type.
      const info = untimed(s.point.info);
      const list = byType.get(info.id) ?? [];
      const obj = this.objectOf(s);
      delete obj.time;
      list.push(obj);
      byType.set(info.id, list);
    }
    for (const [typeId, objects] of byType) {
      for (const a of packObjects(TYPES.get(typeId) as TypeInfo, objects, { cot: qoi, originator: asdu.originator, commonAddress: this.options.commonAddress }, this.sizes)) {
        this.send(conn, a);
      }
    }
    this.reply(conn, asdu, COT.ACTIVATION_TERM, false);
  }

  private counterInterrogate(conn: Connection, asdu: Asdu, o: InformationObject): void {
    if (!this.stationChecks(conn, asdu, o)) return;
    const qcc = o.qualifier ?? 0;
    const rqt = qcc & 0x3f;
    const frz = qcc >> 6;
    if (rqt < 1 || rqt > 5) return this.reply(conn, asdu, COT.ACTIVATION_CON, true);
    this.reply(conn, asdu, COT.ACTIVATION_CON, false);
    const counters = [...this.states.values()].filter((s) => s.point.info.kind === 'bcr' && (rqt === 5 || s.point.group === rqt));
    const byType = new Map<number, InformationObject[]>();
    for (const s of counters) {
      const current = (s.value as number) - s.baseline;
      if (frz === 1 || frz === 2) {
        s.frozen = current;
        s.sequence = (s.sequence + 1) & 0x1f;
      }
      if (frz === 2 || frz === 3) s.baseline = s.value as number;
      if (frz === 3) continue;
      const obj = this.objectOf(s);
      obj.value = frz === 0 ? s.frozen ?? current : (s.frozen as number);
      obj.sequence = s.sequence;
      const list = byType.get(s.point.info.id) ?? [];
      list.push(obj);
      byType.set(s.point.info.id, list);
    }
    for (const [typeId, objs] of byType) {
      for (const a of packObjects(TYPES.get(typeId) as TypeInfo, objs, { cot: COT.COUNTER_INTERROGATED_GENERAL + (rqt === 5 ? 0 : rqt), originator: asdu.originator, commonAddress: this.options.commonAddress }, this.sizes)) {
        this.send(conn, a);
      }
    }
    this.reply(conn, asdu, COT.ACTIVATION_TERM, false);
  }

  private read(conn: Connection, asdu: Asdu, o: InformationObject): void {
    if (asdu.cot !== COT.REQUEST) return this.reply(conn, asdu, COT.UNKNOWN_COT, true);
    const s = this.states.get(o.ioa);
    if (!s) return this.reply(conn, asdu, COT.UNKNOWN_IOA, true);
    this.send(conn, { typeId: s.point.info.id, sq: false, cot: COT.REQUEST, negative: false, test: false, originator: asdu.originator, commonAddress: this.options.commonAddress, objects: [this.objectOf(s)] });
  }

  private clockSync(conn: Connection, asdu: Asdu, o: InformationObject): void {
    if (!this.stationChecks(conn, asdu, o)) return;
    const sent = cp56ToDate(o.time as NonNullable<InformationObject['time']>);
    this.clockOffsetMs = sent.getTime() - Date.now();
    let set = false;
    if (this.options.allowClockSet && this.options.setClock) {
      this.options.setClock(sent);
      set = true;
    }
    this.emit('clock', { remote: conn.remote, offsetMs: this.clockOffsetMs, set });
    // The act-con carries the station's own clock, as the reference outstation does.
    this.reply(conn, { ...asdu, objects: [{ ioa: 0, time: cp56FromDate(new Date()) }] }, COT.ACTIVATION_CON, false);
  }
}

function untimed(info: TypeInfo): TypeInfo {
  if (!info.timed) return info;
  for (const t of TYPES.values()) if (t.kind === info.kind && !t.timed && t.direction === info.direction) return t;
  return info;
}

