/**
 * Readings to an HTTP endpoint: queued durably, sent in order in batches (by count and
 * time), optionally gzipped, one request at a time.
 *
 * Answers: 2xx delivered. 408, 429, 5xx and network failures: kept and retried with
 * exponential backoff and jitter, or after Retry-After when the server gives one.
 * 401/403/407 (credentials): kept and retried slowly, since fixing the credentials makes
 * them deliverable. 413 and every other 4xx: a batch is retried one message at a time, and a
 * single message the server still refuses is set aside in the dead-letter file, reported,
 * and not retried.
 */
import http from 'http';
import https from 'https';
import zlib from 'zlib';
import { promisify } from 'util';
import type { QueueEntry } from '../queue/durable-queue';
import { Backoff, parseRetryAfter } from './backoff';
import { FormatOptions, formatProblem, renderBody } from './http-formats';
import { HttpAnswer, safeUrl, sendRequest } from './http-send';
import { describeNetError } from './net-errors';
import { Lane, LaneControl, PublisherOptions, QueuedPublisher } from './publisher';
import type { PublishRecord } from './record';
import { Shaper, ShaperOptions } from './shaper';
import { loadTls, TlsMaterial } from './tls-material';

const gzip = promisify(zlib.gzip);

export interface HttpAuth {
  type: 'none' | 'basic' | 'bearer';
  username?: string;
  password?: string;
  token?: string;
}

export interface HttpPublisherOptions extends PublisherOptions {
  url: string;
  /** Where test-mode readings go; empty = only the dry-run output. */
  testUrl?: string;
  method: 'POST' | 'PUT';
  headers?: Record<string, string>;
  auth?: HttpAuth;
  format: FormatOptions;
  batchSize: number;
  /** Send a partial batch once its oldest reading has waited this long. */
  batchWaitMs: number;
  gzip: boolean;
  timeoutMs: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  tls?: TlsMaterial;
  /** Optional publish intervals and aggregation before queueing (see shaper.ts). */
  shaping?: ShaperOptions;
}

export interface HttpPreview {
  url: string;
  method: string;
  contentType: string;
  body: string;
}

/** A configuration mistake, found before anything is sent. */
export class HttpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpConfigError';
  }
}

type Outcome =
  | { kind: 'ok' }
  | { kind: 'retry'; message: string; afterMs?: number }
  | { kind: 'blocked'; message: string; afterMs?: number }
  | { kind: 'refused'; message: string; answer: HttpAnswer };

function parseUrl(text: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new HttpConfigError(`${field} "${text}" is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpConfigError(`${field} "${text}" must start with http:// or https://`);
  return url;
}

export class HttpPublisher extends QueuedPublisher<PublishRecord> {
  private readonly url: URL;
  private readonly testUrl?: URL;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly shaper?: Shaper;

  constructor(private readonly opt: HttpPublisherOptions) {
    super({ ...opt, testTarget: !!(opt.testUrl && opt.testUrl.trim()) });
    this.url = parseUrl(opt.url, 'URL');
    if (opt.testUrl && opt.testUrl.trim()) this.testUrl = parseUrl(opt.testUrl, 'test URL');
    const problem = formatProblem(opt.format);
    if (problem) throw new HttpConfigError(problem);
    if (!(opt.batchSize >= 1)) throw new HttpConfigError(`batch size ${opt.batchSize} must be at least 1`);
    const tls = opt.tls ? loadTls(opt.tls) : undefined;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets: 2 }),
      https: new https.Agent({ keepAlive: true, maxSockets: 2, ...(tls ?? {}) }),
    };
    if (opt.shaping && (opt.shaping.intervalMs > 0 || opt.shaping.intervals?.length || opt.shaping.rbe)) {
      this.shaper = new Shaper(opt.shaping, (r) => this.queueRecord(r));
    }
  }

  get target(): string {
    return `${this.opt.method} ${safeUrl(this.url)}`;
  }

  /** Takes one reading record; queued at once, or per device interval when shaping is set. */
  add(record: PublishRecord): void {
    if (this.shaper) this.shaper.add(record);
    else this.queueRecord(record);
  }

  /** Queues a record (or only previews it: test mode without a test URL). */
  private queueRecord(record: PublishRecord): void {
    try {
      this.enqueue(record, !!record.test);
    } catch (err) {
      this.emit('error-log', `${this.opt.owner}: cannot queue the reading of ${record.device}: ${(err as Error).message}`);
      return;
    }
    if (record.test) {
      const { body, contentType } = renderBody([{ id: 'preview', item: record }], this.opt.format);
      const preview: HttpPreview = { url: this.testUrl ? safeUrl(this.testUrl) : '', method: this.opt.method, contentType, body };
      this.emit('dry-run', preview);
    }
  }

  /** HTTP has no connection to wait for: ready once the queues are open. */
  override async start(): Promise<void> {
    await super.start();
    if (this.state === 'starting') this.setState('connected', null);
  }

  override async stop(): Promise<void> {
    this.shaper?.flush();
    this.shaper?.stop();
    await super.stop();
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  protected async runLane(ctl: LaneControl<PublishRecord>): Promise<void> {
    const url = ctl.lane === 'test' ? (this.testUrl as URL) : this.url;
    const queue = ctl.queue;
    const backoff = new Backoff({ minMs: this.opt.retryMinMs ?? 1000, maxMs: this.opt.retryMaxMs ?? 60_000 });
    let oneByOne = 0;
    let notBefore = 0;
    while (!ctl.stopping()) {
      if (ctl.paused()) {
        await ctl.sleeper.sleep(500);
        continue;
      }
      if (!(await queue.waitForItems(500))) continue;
      const wait = this.opt.batchWaitMs - queue.oldestAgeMs();
      if (oneByOne === 0 && queue.available < this.opt.batchSize && wait > 0) {
        await ctl.sleeper.sleep(Math.min(wait, 100));
        continue;
      }
      const early = notBefore - Date.now();
      if (early > 0) {
        await ctl.sleeper.sleep(early);
        continue;
      }
      const batch = await queue.take(oneByOne > 0 ? 1 : this.opt.batchSize);
      if (!batch.length) continue;
      const perS = this.opt.maxRatePerS ?? 0;
      // The drain rate spaces the batches: n messages may not be followed by more before n/rate seconds.
      if (perS > 0) notBefore = Date.now() + (batch.length / perS) * 1000;
      const outcome = await this.deliver(url, batch, ctl.lane);
      const where = ctl.lane === 'test' ? 'test target: ' : '';
      if (outcome.kind === 'ok') {
        queue.ack(batch);
        this.delivered += batch.length;
        backoff.reset();
        if (oneByOne > 0) oneByOne--;
        this.setState('connected', null);
        continue;
      }
      if (outcome.kind === 'refused' && batch.length > 1) {
        // Find the message(s) the server objects to: resend this batch one by one.
        queue.nack(batch);
        oneByOne = batch.length;
        this.emit('error-log', `${this.opt.owner}: ${where}${outcome.message}; sending the ${batch.length} messages of the batch one by one`);
        continue;
      }
      if (outcome.kind === 'refused') {
        const aside = await this.setAside({
          reason: outcome.message, target: safeUrl(url), status: outcome.answer.status, response: outcome.answer.body,
          items: batch.map((e) => ({ id: e.id, item: e.item })),
        });
        if (aside) {
          queue.ack(batch);
          if (oneByOne > 0) oneByOne--;
          continue;
        }
        queue.nack(batch);
        await ctl.sleeper.sleep(backoff.next());
        continue;
      }
      queue.nack(batch);
      this.setState(outcome.kind === 'blocked' ? 'blocked' : 'down', `${where}${outcome.message}`);
      const delay = outcome.afterMs ?? backoff.next();
      await ctl.sleeper.sleep(outcome.kind === 'blocked' ? Math.max(delay, 5000) : delay);
    }
  }

  private async deliver(url: URL, batch: Array<QueueEntry<PublishRecord>>, lane: Lane): Promise<Outcome> {
    const rendered = renderBody(batch, this.opt.format);
    if (!rendered.body) return { kind: 'ok' }; // e.g. line protocol of readings without a single value
    const headers: Record<string, string> = { 'content-type': rendered.contentType, ...this.authHeaders(), ...(this.opt.headers ?? {}) };
    headers['x-rtu-message-ids'] = batch.length === 1 ? batch[0].id : `${batch[0].id}..${batch[batch.length - 1].id}`;
    if (lane === 'test') headers['x-rtu-test'] = 'true';
    let body = Buffer.from(rendered.body);
    if (this.opt.gzip) {
      body = await gzip(body);
      headers['content-encoding'] = 'gzip';
    }
    const target = `${this.opt.method} ${safeUrl(url)}`;
    let answer: HttpAnswer;
    try {
      answer = await sendRequest({
        url, method: this.opt.method, headers, body, timeoutMs: this.opt.timeoutMs,
        agent: url.protocol === 'https:' ? this.agents.https : this.agents.http,
      });
    } catch (err) {
      return { kind: 'retry', message: describeNetError(err, target) };
    }
    return classify(answer, target);
  }

  private authHeaders(): Record<string, string> {
    const a = this.opt.auth;
    if (!a || a.type === 'none') return {};
    if (a.type === 'bearer') return a.token ? { authorization: `Bearer ${a.token}` } : {};
    const basic = Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`).toString('base64');
    return { authorization: `Basic ${basic}` };
  }
}

function classify(a: HttpAnswer, target: string): Outcome {
  const s = a.status;
  if (s >= 200 && s < 300) return { kind: 'ok' };
  const detail = a.body.trim().replace(/\s+/g, ' ').slice(0, 160);
  const message = `${target} answered ${s} ${a.statusText}${detail ? `: ${detail}` : ''}`;
  const afterMs = parseRetryAfter(a.headers['retry-after']);
  if (s === 408 || s === 429 || s >= 500) return { kind: 'retry', message, afterMs };
  if (s === 401 || s === 403 || s === 407) return { kind: 'blocked', message: `${message} (check the credentials)`, afterMs };
  if (s >= 300 && s < 400) {
    return { kind: 'blocked', message: `${target} redirects (${s}) to ${a.headers.location ?? '?'}; set that URL instead`, afterMs };
  }
  return { kind: 'refused', message, answer: a };
}
