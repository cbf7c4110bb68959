/**
 * Keeps one report control block enabled for a poller: enables it on every new
 * association, retries while the IED refuses it, turns each report of its RptID
 * into a reading, and disables it when stopped.
 */
import { EventEmitter } from 'events';
import { testMode } from '../test-mode';
import { IedClient, ReportOptions, ReportSubscription } from './ied-client';
import { IedLink } from './ied-link';
import { buildReading, IedReading, Leaf, leafReference, leavesOf } from './readings';
import { ControlBlockReference, defaultPointName, formatControlBlock, fromObjectName } from './reference';
import { Report } from './report';

const RESUBSCRIBE_MS = 10_000;

export interface ReportSubscriberOptions {
  device: string;
  link: IedLink;
  controlBlock: ControlBlockReference;
  report: ReportOptions;
  units: Record<string, string>;
  /** The poller's reading counter, shared by polls and reports. */
  nextSeq: () => number;
}

export declare interface ReportSubscriber {
  on(event: 'reading', listener: (msg: IedReading) => void): this;
  on(event: 'state', listener: (enabled: boolean, error?: Error) => void): this;
}

export class ReportSubscriber extends EventEmitter {
  private subscription?: { client: IedClient; sub: ReportSubscription; names: string[] };
  private subscribing?: Promise<void>;
  /** Reports that arrive while enabling: the GI report can share a TCP chunk with the write response. */
  private early?: Report[];
  private lastAttempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private running = false;
  reports = 0;
  lastError?: string;
  private readonly onConnected = (client: IedClient): void => void this.subscribe(client);
  private readonly onReport = (r: Report): void => this.report(r);

  constructor(private readonly o: ReportSubscriberOptions) {
    super();
  }

  get enabled(): boolean {
    return !!this.subscription && this.subscription.client === this.o.link.client;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.o.link.on('connected', this.onConnected);
    this.o.link.on('report', this.onReport);
    if (this.o.link.client) void this.subscribe(this.o.link.client);
    // An IED may refuse the control block for a while (another client holds it): try again.
    this.retryTimer = setInterval(() => {
      const client = this.o.link.client;
      if (client && !this.enabled && Date.now() - this.lastAttempt >= RESUBSCRIBE_MS) void this.subscribe(client);
    }, RESUBSCRIBE_MS);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.o.link.off('connected', this.onConnected);
    this.o.link.off('report', this.onReport);
    const s = this.subscription;
    this.subscription = undefined;
    if (s && s.client === this.o.link.client) await s.client.disableReport(s.sub.controlBlock).catch(() => undefined);
  }

  private subscribe(client: IedClient): Promise<void> {
    const cb = this.o.controlBlock;
    if (!this.running) return Promise.resolve();
    if (this.subscribing) return this.subscribing;
    this.lastAttempt = Date.now();
    this.early = [];
    this.subscribing = client
      .enableReport(cb, this.o.report)
      .then(
        (sub) => {
          if (!this.running) return void client.disableReport(cb).catch(() => undefined);
          const names = sub.members.map((m) => {
            const ref = fromObjectName(m);
            return ref ? defaultPointName(ref) : m.item;
          });
          this.subscription = { client, sub, names };
          this.emit('state', true);
          const early = this.early ?? [];
          this.early = undefined;
          early.forEach((r) => this.report(r));
        },
        (err: Error) => {
          this.lastError = `report ${formatControlBlock(cb)}: ${err.message}`;
          this.emit('state', false, new Error(this.lastError));
        },
      )
      .finally(() => {
        this.subscribing = undefined;
        this.early = undefined;
      });
    return this.subscribing;
  }

  private report(r: Report): void {
    if (this.early && !this.subscription) {
      this.early.push(r);
      return;
    }
    const s = this.subscription;
    if (!s || r.rptId !== s.sub.rptId || !this.running) return;
    const now = Date.now();
    const leaves: Leaf[] = [];
    const references: Record<string, string> = {};
    const reasons: Record<string, string[]> = {};
    for (const e of r.entries) {
      const member = s.sub.members[e.index];
      const ref = member && fromObjectName(member);
      if (!ref) continue;
      const own = leavesOf(s.names[e.index], ref, e.value, s.sub.memberTypes[e.index]);
      for (const l of own) {
        references[l.point] = leafReference(l, ref.fc);
        if (e.reasons) reasons[l.point] = e.reasons;
      }
      leaves.push(...own);
    }
    const reading = buildReading({
      device: this.o.device,
      ied: this.o.link.name,
      leaves,
      references,
      units: this.o.units,
      seq: this.o.nextSeq(),
      started: now,
      finished: now,
      test: testMode.enabled,
      errors: [],
      fallbackTimestamp: r.timeOfEntry,
    });
    reading.iec61850 = { ...reading.iec61850, source: 'report', rptId: r.rptId, seqNum: r.seqNum, dataSet: r.dataSet, reasons };
    this.reports++;
    this.emit('reading', reading);
  }
}
