/**
 * One IEC 61850 "device" for the reading pipeline: a list of data attribute
 * references and/or a data set read every interval from a shared IED link, and
 * optionally an unbuffered report control block whose reports become readings
 * as they arrive.
 *
 *   const poller = new IedPoller({ device: 'inv1', link, intervalMs: 1000,
 *     points: [{ reference: 'ied1Inverter/MMXU1.TotW.mag.f [MX]', name: 'power', unit: 'W' }] });
 *   poller.on('reading', (msg) => send(msg));   // polls and reports alike
 *   poller.start();  ...  await poller.stop();
 */
import { EventEmitter } from 'events';
import { SampleRing } from '../modbus/line-stats';
import { testMode } from '../test-mode';
import { IedClient, ReportOptions } from './ied-client';
import { IedLink } from './ied-link';
import { EntryIdStore } from './entry-ids';
import { TypeSpec } from './mms-types';
import { buildReading, IedReading, Leaf, leafReference, leavesOf } from './readings';
import {
  ControlBlockReference,
  DataReference,
  defaultPointName,
  formatDataSet,
  formatReference,
  fromObjectName,
  ListReference,
  parseControlBlockReference,
  parseDataSetReference,
  parseReference,
} from './reference';
import { ReportSubscriber } from './report-subscriber';
import { fromPointValue } from './values';

export interface PointSpec {
  reference: string;
  /** Payload key; defaults to `LN.DO.DA`. */
  name?: string;
  unit?: string;
}

export interface ReportSpec extends ReportOptions {
  controlBlock: string;
}

export interface IedPollerOptions {
  device: string;
  link: IedLink;
  /** Where buffered report control blocks keep their last EntryID (so a restart resumes). */
  entryIds?: EntryIdStore;
  /** 0 polls only on demand (with reports, the usual choice). */
  intervalMs: number;
  points?: PointSpec[];
  dataSet?: string;
  report?: ReportSpec;
}

interface Point {
  name: string;
  ref: DataReference;
}

interface DataSetDirectory {
  members: Array<{ name: string; ref: DataReference }>;
  types: (TypeSpec | undefined)[];
}

export interface IedPollerStats {
  ied: string;
  polls: { ok: number; partial: number; failed: number; skipped: number };
  reports: number;
  lastGoodAt?: number;
  lastPollAt?: number;
  consecutiveFailures: number;
  latencyMs: { p50?: number; p95?: number };
  lastError?: string;
  intervalMs: number;
  reportEnabled: boolean;
}

/** Configuration that cannot work, with every problem listed. */
export class PollerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'PollerConfigError';
  }
}

export declare interface IedPoller {
  on(event: 'reading', listener: (msg: IedReading) => void): this;
  on(event: 'report-state', listener: (enabled: boolean, error?: Error) => void): this;
  on(event: 'report-notice', listener: (text: string) => void): this;
}

export class IedPoller extends EventEmitter {
  readonly points: Point[];
  readonly dataSet?: ListReference;
  readonly controlBlock?: ControlBlockReference;
  private readonly units: Record<string, string> = {};
  private readonly directories = new WeakMap<IedClient, Promise<DataSetDirectory>>();
  private readonly reporter?: ReportSubscriber;
  private timer?: NodeJS.Timeout;
  private running = false;
  private polling = false;
  private seq = 0;
  private readonly latency = new SampleRing(128);
  private readonly counts = { ok: 0, partial: 0, failed: 0, skipped: 0 };
  private lastGoodAt?: number;
  private lastPollAt?: number;
  private lastError?: string;
  private consecutiveFailures = 0;
  /** A poll skipped while the association was being opened runs as soon as it is up. */
  private pollWhenConnected = false;
  private readonly onConnected = (): void => {
    if (this.pollWhenConnected) {
      this.pollWhenConnected = false;
      this.tick();
    }
  };

  constructor(readonly options: IedPollerOptions) {
    super();
    const problems: string[] = [];
    const where = `device "${options.device}"`;
    this.points = (options.points ?? []).flatMap((p, i) => {
      try {
        const ref = parseReference(p.reference);
        const name = (p.name ?? '').trim() || defaultPointName(ref);
        if (p.unit) this.units[name] = p.unit;
        return [{ name, ref }];
      } catch (err) {
        problems.push(`${where}, point ${i + 1}: ${(err as Error).message}`);
        return [];
      }
    });
    const names = this.points.map((p) => p.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) problems.push(`${where}: point name "${dup}" is used twice`);
    const attempt = <T>(what: string, fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (err) {
        problems.push(`${where}, ${what}: ${(err as Error).message}`);
        return undefined;
      }
    };
    if (options.dataSet?.trim()) this.dataSet = attempt('data set', () => parseDataSetReference(options.dataSet as string));
    if (options.report?.controlBlock?.trim()) this.controlBlock = attempt('report', () => parseControlBlockReference(options.report?.controlBlock as string));
    if (!this.points.length && !options.dataSet?.trim() && !this.controlBlock && !problems.length) {
      problems.push(`${where}: nothing to read; give references, a data set or a report control block`);
    }
    if (!Number.isFinite(options.intervalMs) || options.intervalMs < 0) problems.push(`${where}: interval ${options.intervalMs} ms is not valid`);
    if (problems.length) throw new PollerConfigError(problems);
    if (this.controlBlock) {
      const { controlBlock: _text, ...report } = options.report as ReportSpec;
      this.reporter = new ReportSubscriber({ device: options.device, link: options.link, controlBlock: this.controlBlock, report, units: this.units, nextSeq: () => this.seq++, entryIds: options.entryIds });
      this.reporter.on('reading', (r) => this.emit('reading', r));
      this.reporter.on('state', (enabled, err) => this.emit('report-state', enabled, err));
      this.reporter.on('notice', (text) => this.emit('report-notice', `device "${options.device}": ${text}`));
    }
  }

  get device(): string {
    return this.options.device;
  }

  get reportEnabled(): boolean {
    return !!this.reporter?.enabled;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.options.link.on('connected', this.onConnected);
    this.reporter?.start();
    if (this.options.intervalMs > 0 && (this.points.length || this.dataSet)) {
      this.timer = setInterval(() => this.tick(), this.options.intervalMs);
      setImmediate(() => this.tick());
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
    this.options.link.off('connected', this.onConnected);
    await this.reporter?.stop();
  }

  /** Reads every point and the data set now; resolves with the reading, good or bad. */
  async readNow(): Promise<IedReading> {
    const started = Date.now();
    const link = this.options.link;
    // An association being opened right now is worth waiting for; one that failed is reported at once.
    const client = link.state === 'connecting' ? await link.whenConnected(link.ied.timeoutMs * 3) : link.client;
    const leaves: Leaf[] = [];
    const references: Record<string, string> = {};
    const errors: string[] = [];
    if (!client) {
      errors.push(this.options.link.describeOutage());
      for (const p of this.points) leaves.push(...leavesOf(p.name, p.ref, null));
    } else {
      const [fromPoints, fromDataSet] = await Promise.all([this.readPoints(client, references, errors), this.readDataSet(client, references, errors)]);
      leaves.push(...fromPoints, ...fromDataSet);
    }
    for (const p of this.points) references[p.name] ??= formatReference(p.ref);
    const reading = buildReading({
      device: this.device,
      ied: this.options.link.name,
      leaves,
      references,
      units: this.units,
      seq: this.seq++,
      started,
      finished: Date.now(),
      test: testMode.enabled,
      errors,
    });
    this.record(reading, errors.length > 0);
    return reading;
  }

  /**
   * Writes one data attribute, named by a point name of this poller or by a
   * reference; the value is converted to the attribute's type as the IED reports it.
   */
  async write(target: string, value: unknown): Promise<string> {
    const client = this.options.link.client;
    if (!client) throw new Error(this.options.link.describeOutage());
    const point = this.points.find((p) => p.name === target);
    const ref = point ? point.ref : parseReference(target);
    const reference = formatReference(ref);
    const type = await client.typeOfReference(ref);
    await client.write(ref, fromPointValue(type, value, reference));
    return reference;
  }

  stats(): IedPollerStats {
    return {
      ied: this.options.link.name,
      polls: { ...this.counts },
      reports: this.reporter?.reports ?? 0,
      lastGoodAt: this.lastGoodAt,
      lastPollAt: this.lastPollAt,
      consecutiveFailures: this.consecutiveFailures,
      latencyMs: { p50: this.latency.percentile(50), p95: this.latency.percentile(95) },
      lastError: this.lastError ?? this.reporter?.lastError,
      intervalMs: this.options.intervalMs,
      reportEnabled: this.reportEnabled,
    };
  }

  private tick(): void {
    if (!this.running) return;
    if (this.polling || this.options.link.state === 'connecting') {
      this.counts.skipped++;
      if (!this.polling) this.pollWhenConnected = true;
      return;
    }
    this.polling = true;
    this.readNow().then(
      (reading) => {
        this.polling = false;
        if (this.running) this.emit('reading', reading);
      },
      () => (this.polling = false),
    );
  }

  private async readPoints(client: IedClient, references: Record<string, string>, errors: string[]): Promise<Leaf[]> {
    if (!this.points.length) return [];
    this.options.link.countRequests(Math.ceil(this.points.length / 32));
    let outcomes;
    try {
      outcomes = await client.read(this.points.map((p) => p.ref));
    } catch (err) {
      errors.push((err as Error).message);
      return this.points.flatMap((p) => leavesOf(p.name, p.ref, null));
    }
    const perPoint = await Promise.all(
      outcomes.map(async (o, i): Promise<Leaf[]> => {
        const p = this.points[i];
        if (!o.ok) {
          errors.push(o.error.message);
          return leavesOf(p.name, p.ref, null);
        }
        const structured = o.value.type === 'structure' || o.value.type === 'array';
        const type = structured ? await client.typeOfReference(p.ref).catch(() => undefined) : undefined;
        const own = leavesOf(p.name, p.ref, o.value, type);
        if (structured) own.forEach((l) => (references[l.point] = leafReference(l, p.ref.fc)));
        return own;
      }),
    );
    return perPoint.flat();
  }

  private directory(client: IedClient, ds: ListReference): Promise<DataSetDirectory> {
    let d = this.directories.get(client);
    if (!d) {
      d = (async () => {
        const names = await client.dataSetDirectory(ds);
        const members = names.map((n) => {
          const ref = fromObjectName(n);
          if (!ref) throw new RangeError(`data set ${formatDataSet(ds)}: member ${n.scope === 'domain' ? `${n.domain}/${n.item}` : n.item} is not an IEC 61850 reference`);
          return { name: defaultPointName(ref), ref };
        });
        const types = await Promise.all(names.map((n) => client.typeOf(n).catch(() => undefined)));
        return { members, types };
      })();
      d.catch(() => this.directories.delete(client));
      this.directories.set(client, d);
    }
    return d;
  }

  private async readDataSet(client: IedClient, references: Record<string, string>, errors: string[]): Promise<Leaf[]> {
    const ds = this.dataSet;
    if (!ds) return [];
    const leaves: Leaf[] = [];
    this.options.link.countRequests(1);
    try {
      const dir = await this.directory(client, ds);
      const results = await client.readDataSet(ds);
      if (results.length !== dir.members.length) {
        const first = results[0];
        const why = results.length === 1 && first && !first.ok ? `DataAccessError ${first.error}` : `${results.length} values for ${dir.members.length} members`;
        throw new Error(`data set ${formatDataSet(ds)}: ${why}`);
      }
      dir.members.forEach((m, i) => {
        const r = results[i];
        if (!r.ok) errors.push(`data set ${formatDataSet(ds)} member ${formatReference(m.ref)}: DataAccessError ${r.error}`);
        const own = leavesOf(m.name, m.ref, r.ok ? r.value : null, dir.types[i]);
        own.forEach((l) => (references[l.point] = leafReference(l, m.ref.fc)));
        leaves.push(...own);
      });
    } catch (err) {
      errors.push((err as Error).message);
    }
    return leaves;
  }

  private record(reading: IedReading, partial: boolean): void {
    this.lastPollAt = Date.now();
    if (reading.rtu.error) this.lastError = reading.rtu.error;
    if (reading.rtu.quality === 'bad') {
      this.counts.failed++;
      this.consecutiveFailures++;
      return;
    }
    this.latency.add(reading.rtu.latencyMs);
    this.lastGoodAt = this.lastPollAt;
    this.consecutiveFailures = 0;
    if (partial) this.counts.partial++;
    else this.counts.ok++;
  }
}
