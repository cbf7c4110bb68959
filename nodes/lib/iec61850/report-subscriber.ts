/**
 * Keeps one report control block enabled for a poller: enables it on every new
 * association, retries while the IED refuses it, turns each report of its RptID
 * into a reading, and disables it when stopped.
 *
 * A buffered block resumes after the last EntryID delivered (kept in the EntryID
 * store, so a restart resumes too), and an entry already delivered is never
 * delivered again, whatever the IED resends.
 */
import { EventEmitter } from 'events';
import { testMode } from '../test-mode';
import { IedClient, ReportOptions, ReportSubscription } from './ied-client';
import { IedLink } from './ied-link';
import { buildReading, IedReading, Leaf, leafReference, leavesOf } from './readings';
import { ControlBlockReference, defaultPointName, formatControlBlock, fromObjectName } from './reference';
import { Report } from './report';
import { EntryIdStore } from './entry-ids';

const RESUBSCRIBE_MS = 10_000;

export interface ReportSubscriberOptions {
  device: string;
  link: IedLink;
  controlBlock: ControlBlockReference;
  report: ReportOptions;
  units: Record<string, string>;
  /** The poller's reading counter, shared by polls and reports. */
  nextSeq: () => number;
  /** Where buffered blocks keep their last EntryID; without it, resuming works across reconnects only. */
  entryIds?: EntryIdStore;
}

/** EntryIDs remembered per block to drop entries delivered before. */
const SEEN_ENTRIES = 1024;

export declare interface ReportSubscriber {
  on(event: 'reading', listener: (msg: IedReading) => void): this;
  on(event: 'state', listener: (enabled: boolean, error?: Error) => void): this;
  on(event: 'notice', listener: (text: string) => void): this;
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
  /** Reports dropped because their entry had been delivered already. */
  repeatedEntries = 0;
  lastError?: string;
  /** Buffered blocks: the last EntryID delivered (hex), and the ones before it. */
  private lastEntryId?: string;
  private readonly seen = new Set<string>();
  private readonly onConnected = (client: IedClient): void => void this.subscribe(client);
  private readonly onReport = (r: Report): void => this.report(r);

  constructor(private readonly o: ReportSubscriberOptions) {
    super();
    this.lastEntryId = o.entryIds?.get(this.entryKey);
    if (this.lastEntryId) this.seen.add(this.lastEntryId);
  }

  /** The block's key in the EntryID store: IED address and control block reference. */
  get entryKey(): string {
    return `${this.o.link.ied.host}:${this.o.link.ied.port} ${formatControlBlock(this.o.controlBlock)}`;
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
    await this.o.entryIds?.flush();
  }

  private subscribe(client: IedClient): Promise<void> {
    const cb = this.o.controlBlock;
    if (!this.running) return Promise.resolve();
    if (this.subscribing) return this.subscribing;
    this.lastAttempt = Date.now();
    this.early = [];
    const resumeAfter = cb.fc === 'BR' && this.lastEntryId ? Buffer.from(this.lastEntryId, 'hex') : undefined;
    this.subscribing = client
      .enableReport(cb, { ...this.o.report, resumeAfter })
      .then(
        (sub) => {
          if (!this.running) return void client.disableReport(cb).catch(() => undefined);
          if (cb.fc === 'BR') {
            // After a purge every entry is new: an IED that restarted may count EntryIDs from the start again.
            if (!sub.resumed) this.seen.clear();
            this.emit(
              'notice',
              sub.resumed
                ? `report ${formatControlBlock(cb)}: resumed after EntryID ${this.lastEntryId}`
                : `report ${formatControlBlock(cb)}: ${resumeAfter ? `EntryID ${this.lastEntryId} no longer buffered by the IED; ` : ''}buffer purged, general interrogation asked for`,
            );
          }
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
    const entryId = r.entryId?.toString('hex');
    if (entryId && !this.deliver(entryId)) return;
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
    if (entryId) reading.iec61850.entryId = entryId;
    this.reports++;
    this.emit('reading', reading);
  }

  /** False for an entry delivered before; else remembers it as the last one delivered. */
  private deliver(entryId: string): boolean {
    if (this.seen.has(entryId)) {
      this.repeatedEntries++;
      return false;
    }
    this.seen.add(entryId);
    if (this.seen.size > SEEN_ENTRIES) this.seen.delete(this.seen.values().next().value as string);
    this.lastEntryId = entryId;
    this.o.entryIds?.set(this.entryKey, entryId);
    return true;
  }
}
