import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import type { QueueStats } from '../../nodes/lib/queue/durable-queue';
import type { PublisherStats } from '../../nodes/lib/publish/publisher';
import { summarize } from '../../nodes/lib/publish/status';
import { Backoff, parseRetryAfter, RateLimiter } from '../../nodes/lib/publish/backoff';
import { InputError, PublishRecord, recordFromMessage } from '../../nodes/lib/publish/record';
import { firstMatch, parseDeadbandRules, parseIntervalRules } from '../../nodes/lib/publish/rules';
import { Shaper } from '../../nodes/lib/publish/shaper';
import { renderPayloadTemplate, renderTopic, topicTemplateProblem } from '../../nodes/lib/publish/template';
import type { ReadingMessage } from '../../nodes/lib/reading';

function msg(device: string, seq: number, payload: Record<string, number | string | null>, ts = 1_700_000_000_000 + seq * 1000): ReadingMessage {
  return {
    topic: device,
    payload,
    rtu: { device, line: 'bus A', protocol: 'modbus', model: 'em24', timestamp: ts, quality: 'good', latencyMs: 5, units: { p: 'W' }, seq },
  };
}

test('a reading becomes a record; anything else is refused naming what is missing', () => {
  const r = recordFromMessage({ ...msg('m1', 7, { p: 5, bad: NaN, text: 'on' }), rtu: { ...msg('m1', 7, {}).rtu, points: { p: { address: 40001, dataType: 'float32', description: 'Total power' } } } }, false);
  assert.deepEqual(r.values, { p: 5, bad: null, text: 'on' });
  assert.equal(r.line, 'bus A');
  assert.equal(r.seq, 7);
  assert.equal(r.test, undefined);
  assert.deepEqual(r.points?.p, { address: 40001, dataType: 'float32', description: 'Total power' });
  assert.equal(recordFromMessage(msg('m1', 1, { p: 1 }), true).test, true);
  assert.throws(() => recordFromMessage({ payload: 1 }, false), (e: Error) => e instanceof InputError && /msg\.rtu is missing/.test(e.message));
  assert.throws(() => recordFromMessage({ topic: 'x', payload: 5, rtu: { device: 'x' } }, false), /msg\.payload is not an object/);
  assert.throws(() => recordFromMessage('text', false), /not an object/);
});

test('topic templates: fields filled, wildcards and separators in names made safe, bad templates explained', () => {
  assert.equal(renderTopic('site/{line}/{device}/{point}', { device: 'pv/1+', line: 'bus A', point: 'p' }), 'site/bus A/pv_1_/p');
  assert.equal(renderTopic('site/{model}/{device}', { device: 'm1' }), 'site/_/m1');
  assert.equal(topicTemplateProblem('site/{device}', false), undefined);
  assert.match(topicTemplateProblem('site/+/x', false) ?? '', /wildcard/);
  assert.match(topicTemplateProblem('site/{dev}', false) ?? '', /unknown field \{dev\}/);
  assert.match(topicTemplateProblem('site/{device}', true) ?? '', /needs \{point\}/);
});

test('payload templates: JSON values by default, bare text in triple braces', () => {
  const ctx = { device: 'm "1"', values: { p: 5.5 }, missing: undefined };
  const out = renderPayloadTemplate('{"d": {{device}}, "p": {{ values.p }}, "x": {{missing}}, "name": "rtu-{{{device}}}"}', ctx);
  assert.deepEqual(JSON.parse(out), { d: 'm "1"', p: 5.5, x: null, name: 'rtu-m "1"' });
});

test('interval and deadband rules: wildcards, first match wins, bad entries named', () => {
  const iv = parseIntervalRules('meter1=10, pv_*=60s');
  assert.equal(firstMatch(iv, 'pv_roof'), 60_000);
  assert.equal(firstMatch(iv, 'meter1'), 10_000);
  assert.equal(firstMatch(iv, 'meter2'), undefined);
  assert.throws(() => parseIntervalRules('m1=ten'), /"m1=ten" needs a number of seconds/);
  assert.throws(() => parseIntervalRules('m1'), /"m1" is not name=value/);
  const db = parseDeadbandRules('power_*=50; *=1%');
  assert.deepEqual(firstMatch(db, 'power_total'), { amount: 50, percent: false });
  assert.deepEqual(firstMatch(db, 'voltage'), { amount: 1, percent: true });
  assert.throws(() => parseDeadbandRules('p=-1'), /"p=-1" needs a number >= 0/);
});

test('shaper: min, max and avg over a window; each device on its own interval', async () => {
  for (const [aggregate, want] of [['min', 1], ['max', 3], ['avg', 2], ['latest', 3]] as const) {
    const out: PublishRecord[] = [];
    const s = new Shaper({ intervalMs: 40, aggregate, rbe: false, intervals: parseIntervalRules('slow=0.2') }, (r) => out.push(r));
    for (const [i, v] of [1, 3, 2].entries()) s.add(recordFromMessage(msg('fast', i + 1, { p: aggregate === 'latest' && i === 2 ? 3 : v, state: `s${i}` }), false));
    s.add(recordFromMessage(msg('slow', 1, { p: 9 }), false));
    await new Promise((r) => setTimeout(r, 90));
    const fast = out.filter((r) => r.device === 'fast');
    assert.equal(fast.length, 1, `${aggregate}: one message per window`);
    assert.equal(fast[0].values.p, want, aggregate);
    assert.equal(fast[0].values.state, 's2', 'non-numeric points take the latest value');
    assert.deepEqual(fast[0].window && { samples: fast[0].window.samples, aggregate: fast[0].window.aggregate }, { samples: 3, aggregate });
    assert.equal(out.filter((r) => r.device === 'slow').length, 0, 'the slow device has its own, longer interval');
    s.stop();
  }
});

test('shaper: report by exception with absolute and relative deadbands and a heartbeat', () => {
  const out: PublishRecord[] = [];
  const s = new Shaper({ intervalMs: 0, aggregate: 'latest', rbe: true, deadbands: parseDeadbandRules('p=10, v=1%'), heartbeatMs: 10_000 }, (r) => out.push(r));
  const send = (seq: number, p: number, v: number): void => s.add(recordFromMessage(msg('m', seq, { p, v }), false));
  send(1, 100, 230);
  send(2, 105, 231); // both inside
  send(3, 111, 231); // p moved 11 > 10
  send(4, 111, 233.5); // v moved 3.5 > 2.3
  send(5, 111, 233.5);
  send(15, 111, 233.5); // heartbeat: 10 s since p and v were last published at seq 3/4... p at 3 → 12 s
  assert.deepEqual(out.map((r) => r.values), [{ p: 100, v: 230 }, { p: 111 }, { v: 233.5 }, { p: 111, v: 233.5 }]);
  s.stop();
});

test('shaper: flush publishes open windows; test and production readings never mix', () => {
  const out: PublishRecord[] = [];
  const s = new Shaper({ intervalMs: 60_000, aggregate: 'avg', rbe: false }, (r) => out.push(r));
  s.add(recordFromMessage(msg('m', 1, { p: 10 }), false));
  s.add(recordFromMessage(msg('m', 2, { p: 1000 }), true));
  s.add(recordFromMessage(msg('m', 3, { p: 20 }), false));
  s.flush();
  s.stop();
  assert.deepEqual(out.map((r) => [r.test ?? false, r.values.p]).sort(), [[false, 15], [true, 1000]]);
});

test('backoff grows with jitter up to its ceiling; Retry-After in seconds or as a date', () => {
  const b = new Backoff({ minMs: 1000, maxMs: 8000 }, () => 1);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 2000, 4000, 8000, 8000]);
  const low = new Backoff({ minMs: 1000, maxMs: 8000 }, () => 0);
  assert.deepEqual([low.next(), low.next()], [500, 1000]);
  b.reset();
  assert.equal(b.next(), 1000);
  assert.equal(parseRetryAfter('120'), 120_000);
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter('999999'), 3_600_000);
});

test('rate limiter spaces messages at the configured rate', () => {
  const r = new RateLimiter(100);
  const delays = Array.from({ length: 30 }, () => r.delay());
  assert.ok(delays.slice(0, 10).every((d) => d === 0), 'a small burst goes out at once');
  assert.ok(delays[29] >= 150, `then messages wait their turn (${delays[29]} ms)`);
  assert.equal(new RateLimiter(0).delay(), 0);
});

test('status summary: the reason without the target, what is queued, drops; rendered from the catalogue', () => {
  const catalog = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../nodes/rtu-mqtt-out/locales/en-US/rtu-mqtt-out.json'), 'utf8'))['rtu-mqtt-out'];
  const render = (s: ReturnType<typeof summarize>): string => {
    const fill = (text: string): string => text.replace(/__(\w+)__/g, (_, k: string) => String((s.params as Record<string, unknown>)[k]));
    return fill(catalog.status[s.key]) + (s.params.dropped > 0 ? fill(catalog.status.dropped) : '');
  };
  const queue = (depth: number, oldestAgeMs: number, drops = 0, diskError: string | null = null): QueueStats => ({
    depth, inFlight: 0, oldestAgeMs, drops, pushed: depth, acked: 0, diskBytes: 0, memoryBytes: 0, diskError, memoryOnly: false, recovery: null,
  });
  const target = 'broker mqtt://10.0.0.5:1883';
  const base: PublisherStats = { state: 'connected', lastError: null, target, delivered: 0, rejected: 0, paused: false, queue: queue(0, 0), testQueue: null };
  const down = summarize({ ...base, state: 'down', lastError: `${target} refused the connection: bad user name or password`, queue: queue(2, 65_000) }, false, true);
  assert.equal(down.kind, 'error');
  assert.equal(render(down), 'refused the connection: bad user name or password · 2 queued');
  const draining = summarize({ ...base, queue: queue(1200, 7_200_000, 5) }, false, true);
  assert.equal(render(draining), 'sending backlog: 1200 left (oldest 2h) · 5 dropped');
  assert.equal(summarize({ ...base, queue: queue(3, 100) }, false, true).key, 'connected');
  assert.equal(summarize(base, true, false).kind, 'test');
  assert.equal(render(summarize(base, true, false)), 'test mode: dry run only');
  const disk = summarize({ ...base, queue: queue(9, 0, 0, 'queue x: cannot write /q/seg-1.log: the disk is full (ENOSPC)') }, false, true);
  assert.equal(disk.kind, 'error');
  assert.match(render(disk), /^queue: .*the disk is full \(ENOSPC\) · 9 queued$/);
});

test('templates read only the record\'s own fields: inherited names are missing values', () => {
  const ctx = { device: 'm1', values: { p: 1 } };
  assert.equal(renderPayloadTemplate('{"a": {{values.constructor}}, "b": "{{{device.constructor}}}", "c": {{__proto__}}}', ctx), '{"a": null, "b": "", "c": null}');
});

test('per-device intervals and deadbands: a quoted name may contain commas, semicolons, equals signs and quotes', () => {
  const iv = parseIntervalRules('"Hall A, meter 1"=5s; "x=y;z"=7, "say ""hi"""=3\n pv_*=60');
  assert.deepEqual(iv.map((r) => r.pattern), ['Hall A, meter 1', 'x=y;z', 'say "hi"', 'pv_*']);
  assert.equal(firstMatch(iv, 'Hall A, meter 1'), 5000);
  assert.equal(firstMatch(iv, 'Hall A'), undefined);
  assert.equal(firstMatch(iv, 'x=y;z'), 7000);
  assert.equal(firstMatch(iv, 'say "hi"'), 3000);
  assert.equal(firstMatch(iv, 'pv_roof'), 60_000);
  const db = parseDeadbandRules('"power, total"=50, *=1%');
  assert.deepEqual(firstMatch(db, 'power, total'), { amount: 50, percent: false });
  assert.deepEqual(firstMatch(db, 'power'), { amount: 1, percent: true });
  assert.throws(() => parseIntervalRules('"Hall A, meter 1=5'), /per-device intervals: "Hall A, meter 1=5 has no closing quote/);
  assert.throws(() => parseIntervalRules('"Hall A" x=5'), /has text after the closing quote/);
  assert.throws(() => parseIntervalRules('"Hall A, meter 1"'), /""Hall A, meter 1"" is not name=value/);
});
