/**
 * What rtu-mqtt-out and rtu-http-out share as Node-RED adapters: queue and shaping options
 * from the form, status from the publisher's figures, log lines and the two outputs
 * (1: delivery events, 2: dry run / test-mode preview).
 */
import path from 'path';
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { FsyncPolicy, QueueOptions } from '../lib/queue/durable-queue';
import type { QueuedPublisher } from '../lib/publish/publisher';
import { InputError, PublishRecord, recordFromMessage } from '../lib/publish/record';
import { parseDeadbandRules, parseIntervalRules } from '../lib/publish/rules';
import type { Aggregate, ShaperOptions } from '../lib/publish/shaper';
import { summarize, StatusKind } from '../lib/publish/status';
import type { TestModeState, TestModeSwitch } from '../lib/test-mode';
import { shortText, status as shapes, userDirPath } from '../shared/runtime';

export interface QueueConfig {
  queueDir?: string;
  queueSizeMb?: number | string;
  fsync?: string;
  maxRate?: number | string;
}

export interface ShapingConfig {
  interval?: number | string;
  intervals?: string;
  aggregate?: string;
  rbe?: boolean;
  deadbands?: string;
  heartbeat?: number | string;
}

function num(value: unknown, fallback: number): number {
  const n = Number(value);
  return value === '' || value === undefined || value === null || !Number.isFinite(n) ? fallback : n;
}

/** Queue directory `<base>/<node id>` (base: the form's value, relative to the user dir, or `rtu-queues`). */
export function queueSetup(RED: NodeAPI, nodeId: string, config: QueueConfig): { dir: string; queue: QueueOptions; maxRatePerS: number } {
  const base = (config.queueDir ?? '').trim();
  const dir = base ? path.resolve(userDirPath(RED), base, nodeId) : userDirPath(RED, 'rtu-queues', nodeId);
  const sizeMb = num(config.queueSizeMb, 64);
  if (!(sizeMb > 0)) throw new Error(`queue size ${config.queueSizeMb} MB must be more than 0`);
  const fsync = (['always', 'interval', 'never'].includes(String(config.fsync)) ? config.fsync : 'interval') as FsyncPolicy;
  return { dir, queue: { maxBytes: Math.round(sizeMb * 1024 * 1024), fsync }, maxRatePerS: Math.max(0, num(config.maxRate, 0)) };
}

export function shapingFrom(config: ShapingConfig): ShaperOptions {
  const aggregate = (['latest', 'min', 'max', 'avg'].includes(String(config.aggregate)) ? config.aggregate : 'latest') as Aggregate;
  return {
    intervalMs: Math.max(0, num(config.interval, 0)) * 1000,
    intervals: config.intervals ? parseIntervalRules(config.intervals) : undefined,
    aggregate,
    rbe: !!config.rbe,
    deadbands: config.rbe && config.deadbands ? parseDeadbandRules(config.deadbands) : undefined,
    heartbeatMs: Math.max(0, num(config.heartbeat, 0)) * 1000,
  };
}

const SHAPES: Record<StatusKind, (text: string) => ReturnType<typeof shapes.ok>> = {
  ok: shapes.ok,
  connecting: shapes.connecting,
  error: shapes.error,
  warn: shapes.warn,
  test: shapes.test,
  idle: shapes.idle,
};

export interface AttachOptions<P> {
  type: string;
  testMode: TestModeSwitch;
  hasTestTarget: boolean;
  /** Turns a publisher's dry-run preview into the message for output 2. */
  preview: (p: P) => NodeMessage;
}

/**
 * Wires a publisher to its node: status every second and on every change, log lines,
 * events on output 1, previews on output 2, and the test-mode switch. Returns the detach.
 */
export function attachPublisher<P>(RED: NodeAPI, node: Node, publisher: QueuedPublisher<unknown> & { add(r: PublishRecord): void }, opt: AttachOptions<P>): () => void {
  const t = (key: string, params: object = {}): string => RED._(`${opt.type}.${key}`, params as Record<string, string | number>);
  let lastText = '';
  const show = (): void => {
    const s = summarize(publisher.stats(), opt.testMode.enabled, opt.hasTestTarget);
    let text = t(`status.${s.key}`, s.params);
    if (s.params.dropped > 0) text += t('status.dropped', s.params);
    if (text === lastText) return;
    lastText = text;
    node.status(SHAPES[s.kind](shortText(text, 80)));
  };
  const event = (topic: string, payload: Record<string, unknown>): void => {
    node.send([{ topic, payload: { ...payload, stats: publisher.stats() } }, null]);
  };
  let lastLogged = '';
  const onState = (state: string, error: string | null): void => {
    const line = error ? `${state}: ${error}` : state;
    if (line !== lastLogged) {
      lastLogged = line;
      if (state === 'connected') node.log(t('log.connected', { target: publisher.stats().target }));
      else if (error && state !== 'connecting') node.warn(error);
      event('state', { state, error });
    }
    show();
  };
  const onRejected = (r: { reason: string; items: unknown[]; file: string }): void => {
    node.warn(t('log.rejected', { count: r.items.length, reason: r.reason, file: r.file }));
    event('rejected', r as unknown as Record<string, unknown>);
  };
  const onDrop = (d: { lane: string; count: number; reason: string }): void => {
    node.warn(t(`log.drop.${d.reason}`, d));
    event('drop', d);
    show();
  };
  const onDiskError = (err: Error): void => {
    node.error(err.message);
    event('disk-error', { error: err.message });
    show();
  };
  const onDiskOk = (): void => {
    node.log(t('log.diskOk'));
    show();
  };
  const onErrorLog = (text: string): void => node.error(text);
  const onPreview = (p: P): void => node.send([null, { ...opt.preview(p), test: true }]);
  const onTestMode = (s: TestModeState): void => {
    publisher.wake();
    event('test-mode', { enabled: s.enabled, changedBy: s.changedBy });
    show();
  };
  publisher.on('state', onState);
  publisher.on('rejected', onRejected);
  publisher.on('drop', onDrop);
  publisher.on('disk-error', onDiskError);
  publisher.on('disk-ok', onDiskOk);
  publisher.on('error-log', onErrorLog);
  publisher.on('dry-run', onPreview);
  opt.testMode.on('change', onTestMode);
  const timer = setInterval(show, 1000);
  show();
  return () => {
    clearInterval(timer);
    opt.testMode.off('change', onTestMode);
    publisher.removeAllListeners();
  };
}

/** The input handler: a reading in, queued; anything else is an error a Catch node sees. */
export function readingInput(getPublisher: () => { add(r: PublishRecord): void } | undefined, configError: () => string | undefined, testMode: TestModeSwitch) {
  return (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void): void => {
    const publisher = getPublisher();
    if (!publisher) return done(new Error(configError() ?? 'not configured'));
    let record: PublishRecord;
    try {
      record = recordFromMessage(msg, testMode.enabled);
    } catch (err) {
      const topic = typeof msg.topic === 'string' ? ` (msg.topic "${msg.topic}")` : '';
      return done(new Error(`${(err as InputError).message}${topic}`));
    }
    publisher.add(record);
    done();
  };
}
