import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiscordService, webhookEndpoint } from '../../nodes/lib/notify/discord';
import { MemoryOutbox } from '../../nodes/lib/notify/memory-outbox';
import { Notifier, NotifierOptions } from '../../nodes/lib/notify/notifier';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { DiscordReceiver, waitFor } from './notify-receivers';
import { NotifierRig, startNotifier } from './notifier-rig';

const T0 = Date.now();

function alertAt(i: number, over: Partial<AlertPayload> = {}): AlertPayload {
  const device = over.device ?? `inv-${i}`;
  return {
    id: `${device}/power/p-high`,
    state: 'raised',
    severity: 'major',
    category: 'power',
    device,
    point: 'power',
    value: 150,
    limit: 100,
    unit: 'kW',
    rule: 'p-high',
    kind: 'high',
    timestamp: T0 + i,
    raisedAt: T0 + i,
    text: `${device} power 150 kW above high limit 100 kW`,
    ...over,
  };
}

async function rig(opts: { style?: 'embed' | 'text'; test?: boolean; notifier?: NotifierOptions; token?: string } = {}): Promise<NotifierRig<DiscordReceiver>> {
  const receiver = await new DiscordReceiver().start();
  const live = receiver.addWebhook('1111', 'live-token_A');
  const testHook = opts.test ? receiver.addWebhook('2222', 'test-token_B') : undefined;
  const service = new DiscordService({
    webhookUrl: opts.token ? `https://discord.com/api/webhooks/1111/${opts.token}` : live,
    testWebhookUrl: testHook,
    apiBase: `${receiver.base}/api`,
    style: opts.style,
    username: 'RTU',
    title: 'Site A',
    timeZone: 'UTC',
    minIntervalMs: 50,
  });
  return startNotifier(receiver, service, opts.notifier);
}

test('webhook URLs are rebased on the configured API base and never leak the token', () => {
  const url = webhookEndpoint('https://discordapp.com/api/webhooks/123/abc-DEF_9', 'http://127.0.0.1:9/api/');
  assert.equal(url.href, 'http://127.0.0.1:9/api/webhooks/123/abc-DEF_9?wait=true');
  assert.equal(webhookEndpoint('123/tok').href, 'https://discord.com/api/webhooks/123/tok?wait=true');
  assert.throws(() => webhookEndpoint('https://example.com/hook'), /must look like https:\/\/discord.com\/api\/webhooks\/<id>\/<token>/);
  const s = new DiscordService({ webhookUrl: '123/secret-token' });
  assert.equal(s.describe('live'), 'webhook 123 at discord.com');
  s.close();
});

test('alerts that fire together go out as one embed message with every alert in it', async () => {
  const r = await rig();
  try {
    for (let i = 0; i < 3; i++) await r.notifier.notify({ alert: alertAt(i), test: false, at: Date.now() });
    await r.notifier.notify({ alert: alertAt(9, { state: 'cleared', text: 'inv-9 power back to normal (80 kW)' }), test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1 && r.outbox.size() === 0);
    const [m] = r.receiver.messages;
    assert.equal(m.username, 'RTU');
    assert.equal(m.embeds?.length, 1);
    assert.equal(m.embeds?.[0].title, 'Site A');
    const lines = m.embeds?.[0].description?.split('\n') ?? [];
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^🟠 \*\*RAISED\*\* major · inv-0 power 150 kW above high limit 100 kW · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    assert.match(lines[3], /^🟢 \*\*CLEARED\*\*/);
    assert.equal(m.embeds?.[0].color, 0xf57c00);
    assert.deepEqual(r.receiver.violations, []);
    assert.equal(r.notifier.stats.noticesDelivered, 4);
  } finally {
    await r.close();
  }
});

test('a storm of 1000 alerts in one second reaches the channel as a handful of messages, nothing dropped, no 429', async () => {
  for (const style of ['embed', 'text'] as const) {
    const r = await rig({ style, notifier: { groupWindowMs: 1200 } });
    try {
      const started = Date.now();
      for (let burst = 0; burst < 10; burst++) {
        for (let i = 0; i < 100; i++) await r.notifier.notify({ alert: alertAt(burst * 100 + i), test: false, at: Date.now() });
        await new Promise((res) => setTimeout(res, 90));
      }
      await waitFor(() => r.outbox.size() === 0, 20000, 'outbox drained');
      const elapsed = Date.now() - started;
      const msgs = r.receiver.messages;
      assert.ok(msgs.length <= (style === 'embed' ? 5 : 9), `${style}: ${msgs.length} messages`);
      assert.deepEqual(r.receiver.violations, []);
      assert.deepEqual(r.receiver.rateLimitHits, [], 'the client kept to the rate-limit headers');
      const text = msgs.map((m) => m.text).join('\n');
      for (let i = 0; i < 1000; i++) assert.ok(new RegExp(`\\binv-${i}\\b`).test(text), `inv-${i} missing`);
      assert.equal(r.notifier.stats.noticesDelivered, 1000);
      console.log(`discord ${style}: 1000 alerts → ${msgs.length} messages in ${elapsed} ms`);
    } finally {
      await r.close();
    }
  }
});

test('the bucket runs empty: the client waits for X-RateLimit-Reset-After, and 429 retry_after is honoured', async () => {
  const r = await rig({ notifier: { groupWindowMs: 20, maxBatch: 1 } });
  try {
    r.receiver.limit = 2;
    r.receiver.windowMs = 600;
    r.receiver.script.push({ status: 429, body: { message: 'You are being rate limited.', retry_after: 0.3, global: false }, headers: { 'retry-after': '1' } });
    for (let i = 0; i < 5; i++) await r.notifier.notify({ alert: alertAt(i), test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 5, 8000);
    const first429 = r.receiver.requests.find((q) => q.status === 429)!;
    const retried = r.receiver.requests[r.receiver.requests.indexOf(first429) + 1];
    assert.ok(retried.at - first429.at >= 950, `waited ${retried.at - first429.at} ms; Retry-After said 1 s`);
    assert.deepEqual(r.receiver.rateLimitHits, [], 'no 429 from the bucket itself');
    assert.equal(r.notifier.stats.rateLimited, 1);
    assert.equal(r.problems[0].kind, 'rate-limited');
    // Five single-alert messages, each once.
    assert.deepEqual(r.receiver.messages.map((m) => /inv-(\d)/.exec(m.text)?.[1]), ['0', '1', '2', '3', '4']);
  } finally {
    await r.close();
  }
});

test('server errors and dropped connections back off and retry; the message goes out once', async () => {
  const r = await rig();
  try {
    r.receiver.script.push({ status: 502, body: { message: 'Bad Gateway' } }, { status: 0, destroy: true });
    await r.notifier.notify({ alert: alertAt(1), test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1, 5000);
    assert.equal(r.notifier.stats.retries, 2);
    assert.deepEqual(r.problems.map((p) => p.kind), ['retry', 'retry']);
    assert.match(r.problems[0].error, /Discord webhook 1111 at 127.0.0.1:\d+: HTTP 502 Bad Gateway/);
    assert.ok(r.statuses.some((s) => s.phase === 'backoff'));
  } finally {
    await r.close();
  }
});

test('a revoked token (401) or deleted webhook (404) holds the queue with a clear error; fixed credentials send it', async () => {
  const r = await rig({ token: 'revoked-token', notifier: { authRetryMs: 60000 } });
  try {
    await r.notifier.notify({ alert: alertAt(1), test: false, at: Date.now() });
    await waitFor(() => r.problems.length === 1);
    const p = r.problems[0];
    assert.equal(p.kind, 'auth');
    assert.match(p.error, /Discord webhook 1111 at 127\.0\.0\.1:\d+: HTTP 401 Invalid Webhook Token \(code 50027\) — the webhook was deleted or its token revoked/);
    assert.ok(!p.error.includes('revoked-token'), 'the token is not in the error');
    assert.equal(r.notifier.currentStatus().phase, 'held');
    assert.equal(r.outbox.size(), 1, 'kept for later');

    r.receiver.deleted.add('1111');
    const other = new Notifier(
      new DiscordService({ webhookUrl: '1111/live-token_A', apiBase: `${r.receiver.base}/api`, minIntervalMs: 10 }),
      new MemoryOutbox(),
      { groupWindowMs: 10 },
      { onProblem: (d) => r.problems.push(d) },
    );
    await other.notify({ text: 'hello', test: false, at: Date.now() });
    await waitFor(() => r.problems.length === 2);
    assert.match(r.problems[1].error, /HTTP 404 Unknown Webhook \(code 10015\)/);
    await other.close();

    // The redeploy with the right token: a new notifier over the same outbox.
    r.receiver.deleted.delete('1111');
    await r.notifier.close();
    const fixed = new Notifier(new DiscordService({ webhookUrl: '1111/live-token_A', apiBase: `${r.receiver.base}/api`, minIntervalMs: 10 }), r.outbox, { groupWindowMs: 10 });
    fixed.start();
    await waitFor(() => r.receiver.messages.length === 1);
    assert.match(r.receiver.messages[0].text, /inv-1 power 150 kW/);
    await fixed.close();
  } finally {
    await r.receiver.stop();
  }
});

test('test mode: to the test webhook when there is one, else dry-run only; every message says TEST', async () => {
  const withHook = await rig({ test: true });
  try {
    await withHook.notifier.notify({ alert: alertAt(1, { test: true }), test: true, at: Date.now() });
    await withHook.notifier.notify({ alert: alertAt(2), test: false, at: Date.now() });
    await waitFor(() => withHook.receiver.messages.length === 2);
    const [t, live] = withHook.receiver.messages;
    assert.equal(t.webhook, '2222');
    assert.equal(t.embeds?.[0].title, '🧪 TEST · Site A');
    assert.equal(live.webhook, '1111');
    assert.ok(!live.text.includes('TEST'));
  } finally {
    await withHook.close();
  }
  const dry = await rig();
  try {
    await dry.notifier.notify({ alert: alertAt(3), test: true, at: Date.now() });
    await waitFor(() => dry.dryRun.length === 1 && dry.outbox.size() === 0);
    assert.equal(dry.receiver.requests.length, 0, 'nothing sent in dry-run');
    assert.match(dry.dryRun[0].text, /^🧪 TEST · Site A\n/);
    assert.equal(dry.notifier.stats.dryRun, 1);
  } finally {
    await dry.close();
  }
});

test('a message Discord rejects (400) is reported and dropped; the next ones still go', async () => {
  const r = await rig({ notifier: { maxBatch: 1, groupWindowMs: 20 } });
  try {
    r.receiver.script.push({ status: 400, body: { code: 50035, message: 'Invalid Form Body' } });
    await r.notifier.notify({ text: 'first', test: false, at: Date.now() });
    await r.notifier.notify({ text: 'second', test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1 && r.outbox.size() === 0);
    assert.equal(r.problems[0].kind, 'rejected');
    assert.match(r.problems[0].error, /message rejected: Invalid Form Body \(code 50035\)/);
    assert.match(r.receiver.messages[0].text, /second/);
  } finally {
    await r.close();
  }
});

test('close during a long backoff returns at once and keeps the message queued', async () => {
  const r = await rig({ notifier: { backoffMs: 30000 } });
  r.receiver.script.push({ status: 503, body: { message: 'unavailable' } });
  await r.notifier.notify({ text: 'pending', test: false, at: Date.now() });
  await waitFor(() => r.problems.length === 1);
  const t = Date.now();
  await r.close();
  assert.ok(Date.now() - t < 1000);
  assert.equal(r.outbox.size(), 1);
});
