/**
 * IEC 104 master (controlling station): keeps a connection to an outstation
 * (trying redundant addresses in turn, reconnecting with backoff), starts data
 * transfer, interrogates at start and on an interval, synchronises the clock,
 * runs counter interrogation, and sends commands with or without
 * select-before-operate. Monitor-direction ASDUs come out as 'asdu' events.
 */
import { EventEmitter } from 'events';
import net from 'net';
import { Asdu, AsduSizes, DEFAULT_SIZES, InformationObject, decodeAsdu, encodeAsdu } from './asdu';
import { Cp56Time, cp56FromDate } from './cp56';
import { Iec104DecodeError } from './errors';
import { DEFAULT_LINK, DEFAULT_T0, Iec104Link, LinkOptions } from './link';
import { linkOverSocket } from './socket-link';
import { COT, QOI_STATION, T, TYPES, TYPE_BY_NAME, typeName } from './types';

export interface Endpoint {
  host: string;
  port: number;
}

export interface MasterOptions {
  /** The outstation's addresses; later ones are redundant connections tried when one fails. */
  endpoints: Endpoint[];
  commonAddress: number;
  originator?: number;
  sizes?: AsduSizes;
  link?: LinkOptions;
  /** Connect timeout (t0), ms. */
  t0?: number;
  interrogateOnStart?: boolean;
  /** General interrogation every n ms; 0 = only at start. */
  interrogationMs?: number;
  /** Clock synchronisation at start and every n ms; 0 = never. */
  clockSyncMs?: number;
  /** Counter interrogation (freeze without reset, then read) every n ms; 0 = never. */
  counterMs?: number;
  /** Reconnect backoff, ms: doubles from min to max. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long to wait for a confirmation or termination, ms. Default 10 s. */
  confirmTimeoutMs?: number;
  name?: string;
}

export type MasterState = 'connecting' | 'connected' | 'started' | 'disconnected' | 'stopped';

/** The outstation refused a request: its negative confirmation. */
export class NegativeConfirmError extends Error {
  constructor(readonly type: string, readonly ioa: number, readonly cot: number) {
    super(`${type} IOA ${ioa}: negative confirmation, cause ${cot}${CAUSE_TEXT[cot] ? ` (${CAUSE_TEXT[cot]})` : ''}`);
    this.name = 'NegativeConfirmError';
  }
}

const CAUSE_TEXT: Record<number, string> = { 7: 'refused', 9: 'refused', 44: 'unknown type', 45: 'unknown cause of transmission', 46: 'unknown common address', 47: 'unknown IOA' };

export interface CommandRequest {
  ioa: number;
  /** C_SC_NA_1, C_DC_NA_1, C_RC_NA_1, C_SE_NA_1, C_SE_NB_1, C_SE_NC_1 or their TA/TB/TC variants. */
  type: string;
  value: number | boolean;
  /** Select before operate. */
  sbo?: boolean;
  qualifier?: number;
  /** Wait for the act-term (default true). */
  awaitTermination?: boolean;
}

export interface CommandResult {
  ioa: number;
  type: string;
  selected: boolean;
  terminated: boolean;
}

interface Pending {
  typeId: number;
  ioa: number;
  /** COT values that settle it. */
  want: Set<number>;
  resolve: (asdu: Asdu) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export interface MasterStats {
  state: MasterState;
  endpoint?: string;
  connects: number;
  disconnects: number;
  lastError?: string;
  asdus: number;
  objects: number;
  interrogations: number;
  commands: number;
  negatives: number;
  unacked: number;
  queued: number;
  iSent: number;
  iReceived: number;
}

export class Iec104Master extends EventEmitter {
  private link: Iec104Link | undefined;
  private socket: net.Socket | undefined;
  private stateValue: MasterState = 'disconnected';
  private endpointIndex = 0;
  private backoff: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private pending: Pending[] = [];
  private stopped = false;
  private readonly sizes: AsduSizes;
  private readonly counts = { connects: 0, disconnects: 0, asdus: 0, objects: 0, interrogations: 0, commands: 0, negatives: 0 };
  private lastError: string | undefined;
  readonly name: string;

  constructor(private readonly options: MasterOptions) {
    super();
    if (!options.endpoints.length) throw new Error('IEC 104 master: no outstation address');
    this.sizes = options.sizes ?? DEFAULT_SIZES;
    this.backoff = options.reconnectMinMs ?? 1000;
    this.name = options.name ?? `${options.endpoints[0].host}:${options.endpoints[0].port}`;
  }

  get state(): MasterState {
    return this.stateValue;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.setState('stopped');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.clearIntervals();
    const socket = this.socket;
    if (this.link && this.link.state !== 'closed') this.link.close('master stopped');
    if (socket && !socket.destroyed) await new Promise((r) => socket.once('close', r));
  }

  stats(): MasterStats {
    const ep = this.options.endpoints[this.endpointIndex];
    return {
      state: this.stateValue,
      endpoint: `${ep.host}:${ep.port}`,
      ...this.counts,
      lastError: this.lastError,
      unacked: this.link?.unacked ?? 0,
      queued: this.link?.queued ?? 0,
      iSent: this.link?.stats.iSent ?? 0,
      iReceived: this.link?.stats.iReceived ?? 0,
    };
  }

  /** General (qoi 20) or group (21..36) interrogation; resolves at the act-term. */
  async interrogate(qoi = QOI_STATION): Promise<void> {
    this.counts.interrogations++;
    await this.request(T.C_IC_NA_1, { ioa: 0, qualifier: qoi }, COT.ACTIVATION, [COT.ACTIVATION_TERM]);
  }

  /** Counter interrogation: qcc = request (5 = general) | freeze << 6. Resolves at the act-term. */
  async counterInterrogate(qcc = 5): Promise<void> {
    await this.request(T.C_CI_NA_1, { ioa: 0, qualifier: qcc }, COT.ACTIVATION, [COT.ACTIVATION_TERM]);
  }

  /** Clock synchronisation with the given time (default now, UTC); resolves with the outstation's act-con time. */
  async clockSync(time: Cp56Time = cp56FromDate(new Date())): Promise<Cp56Time | undefined> {
    const con = await this.request(T.C_CS_NA_1, { ioa: 0, time }, COT.ACTIVATION, [COT.ACTIVATION_CON]);
    return con.objects[0]?.time;
  }

  /** Read one object (C_RD_NA_1); resolves with the answer. */
  async read(ioa: number): Promise<Asdu> {
    return this.requestAny(T.C_RD_NA_1, { ioa }, COT.REQUEST);
  }

  async command(cmd: CommandRequest): Promise<CommandResult> {
    const info = TYPE_BY_NAME.get(cmd.type);
    if (!info || info.direction !== 'control' || !['sco', 'dco', 'rco', 'se-nva', 'se-sva', 'se-float'].includes(info.kind)) {
      throw new Error(`IEC 104 command: "${cmd.type}" is not a command type`);
    }
    this.counts.commands++;
    // A boolean double command means OFF (1) / ON (2), as the outstation maps it back.
    const value = info.kind === 'dco' && typeof cmd.value === 'boolean' ? (cmd.value ? 2 : 1) : cmd.value;
    const object = (select: boolean): InformationObject => ({
      ioa: cmd.ioa,
      value,
      qualifier: cmd.qualifier ?? 0,
      select,
      ...(info.timed ? { time: cp56FromDate(new Date()) } : {}),
    });
    if (cmd.sbo) await this.request(info.id, object(true), COT.ACTIVATION, [COT.ACTIVATION_CON]);
    const wantTerm = cmd.awaitTermination !== false;
    await this.request(info.id, object(false), COT.ACTIVATION, wantTerm ? [COT.ACTIVATION_TERM] : [COT.ACTIVATION_CON]);
    return { ioa: cmd.ioa, type: info.name, selected: !!cmd.sbo, terminated: wantTerm };
  }

  /** Cancel a select (deactivation); resolves at the deact-con. */
  async cancel(cmd: CommandRequest): Promise<void> {
    const info = TYPE_BY_NAME.get(cmd.type);
    if (!info) throw new Error(`IEC 104 command: "${cmd.type}" is not a command type`);
    await this.request(info.id, { ioa: cmd.ioa, value: cmd.value, qualifier: cmd.qualifier ?? 0, select: true }, COT.DEACTIVATION, [COT.DEACTIVATION_CON]);
  }

  /** Send an ASDU as is (tests and tools); no confirmation awaited. */
  sendRaw(asdu: Buffer): void {
    if (!this.link || this.link.state !== 'started') throw new Error(`${this.name}: data transfer not started`);
    this.link.send(asdu);
  }

  private request(typeId: number, object: InformationObject, cot: number, settle: number[]): Promise<Asdu> {
    return this.requestAny(typeId, object, cot, settle);
  }

  /**
   * Sends an activation and resolves when one of `settle` arrives for it. A
   * negative confirmation rejects. Without `settle`, any reply settles.
   */
  private requestAny(typeId: number, object: InformationObject, cot: number, settle?: number[]): Promise<Asdu> {
    const link = this.link;
    if (!link || link.state !== 'started') return Promise.reject(new Error(`${this.name}: data transfer not started (${this.stateValue})`));
    const asdu: Asdu = { typeId, sq: false, cot, negative: false, test: false, originator: this.options.originator ?? 0, commonAddress: this.options.commonAddress, objects: [object] };
    const bytes = encodeAsdu(asdu, this.sizes);
    const ms = this.options.confirmTimeoutMs ?? 10000;
    return new Promise<Asdu>((resolve, reject) => {
      const p: Pending = {
        typeId,
        ioa: object.ioa,
        want: new Set(settle ?? []),
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending = this.pending.filter((x) => x !== p);
          reject(new Error(`${this.name}: no ${settle ? settle.join('/') : 'reply'} for ${typeName(typeId)} IOA ${object.ioa} within ${ms} ms`));
        }, ms),
      };
      this.pending.push(p);
      link.send(bytes);
    });
  }

  private setState(s: MasterState): void {
    if (this.stateValue === s) return;
    this.stateValue = s;
    this.emit('state', s);
  }

  private connect(): void {
    if (this.stopped) return;
    const ep = this.options.endpoints[this.endpointIndex];
    this.setState('connecting');
    const socket = net.connect(ep.port, ep.host);
    this.socket = socket;
    const t0 = setTimeout(() => socket.destroy(new Error(`t0: no connection within ${this.options.t0 ?? DEFAULT_T0} ms`)), this.options.t0 ?? DEFAULT_T0);
    const link = linkOverSocket('master', socket, this.options.link ?? DEFAULT_LINK, `${this.name} → ${ep.host}:${ep.port}`);
    this.link = link;
    socket.once('connect', () => {
      clearTimeout(t0);
      this.counts.connects++;
      this.setState('connected');
      link.startDataTransfer();
    });
    link.on('started', () => this.onStarted());
    link.on('asdu', (bytes) => this.onAsdu(link, bytes));
    link.on('closed', (reason) => {
      clearTimeout(t0);
      this.onClosed(reason);
    });
  }

  private onStarted(): void {
    this.backoff = this.options.reconnectMinMs ?? 1000;
    this.setState('started');
    const run = (what: string, job: () => Promise<unknown>): void => {
      job().catch((err: Error) => this.emit('warning', `${what}: ${err.message}`));
    };
    if (this.options.clockSyncMs) run('clock sync', () => this.clockSync());
    if (this.options.interrogateOnStart !== false) run('general interrogation', () => this.interrogate());
    this.clearIntervals();
    if (this.options.interrogationMs) this.timers.push(setInterval(() => run('general interrogation', () => this.interrogate()), this.options.interrogationMs));
    if (this.options.clockSyncMs) this.timers.push(setInterval(() => run('clock sync', () => this.clockSync()), this.options.clockSyncMs));
    if (this.options.counterMs) this.timers.push(setInterval(() => run('counter interrogation', () => this.counterInterrogate(5 | (1 << 6))), this.options.counterMs));
  }

  private clearIntervals(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  private onClosed(reason: string): void {
    this.clearIntervals();
    this.counts.disconnects++;
    this.lastError = reason;
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`${this.name}: connection closed (${reason})`));
    }
    this.pending = [];
    this.emit('closed', reason);
    if (this.stopped) return;
    this.setState('disconnected');
    // Redundant connections: the next address on every failure.
    this.endpointIndex = (this.endpointIndex + 1) % this.options.endpoints.length;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.options.reconnectMaxMs ?? 30000);
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  private onAsdu(link: Iec104Link, bytes: Buffer): void {
    let asdu: Asdu;
    try {
      asdu = decodeAsdu(bytes, this.sizes);
    } catch (err) {
      if (!(err instanceof Iec104DecodeError)) throw err;
      link.close(`malformed ASDU ${bytes.subarray(0, 24).toString('hex')}: ${err.message}`);
      return;
    }
    const info = TYPES.get(asdu.typeId);
    if (info?.direction === 'control' || !info) {
      this.settle(asdu);
      return;
    }
    if (asdu.cot === COT.REQUEST) {
      const read = this.pending.find((x) => x.typeId === T.C_RD_NA_1 && x.ioa === asdu.objects[0]?.ioa);
      if (read) {
        this.drop(read);
        read.resolve(asdu);
      }
    }
    this.counts.asdus++;
    this.counts.objects += asdu.objects.length;
    this.emit('asdu', asdu);
  }

  private settle(asdu: Asdu): void {
    const ioa = asdu.objects[0]?.ioa ?? 0;
    const p = this.pending.find((x) => x.typeId === asdu.typeId && x.ioa === ioa);
    if (!p) return;
    if (asdu.negative) {
      this.counts.negatives++;
      this.drop(p);
      p.reject(new NegativeConfirmError(typeName(asdu.typeId), ioa, asdu.cot));
      return;
    }
    if (p.want.size === 0 || p.want.has(asdu.cot)) {
      this.drop(p);
      p.resolve(asdu);
    }
  }

  private drop(p: Pending): void {
    clearTimeout(p.timer);
    this.pending = this.pending.filter((x) => x !== p);
  }
}
