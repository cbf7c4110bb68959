import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelegramService } from '../../nodes/lib/notify/telegram';
import { MemoryOutbox } from '../../nodes/lib/notify/memory-outbox';
import { Notifier, NotifierOptions } from '../../nodes/lib/notify/notifier';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { parseTelegramHtml, TelegramReceiver, waitFor } from './notify-receivers';
import { startNotifier } from './notifier-rig';

const TOKEN = '123456:AAbbCC-dd_ee';
const CHAT = '-1001234567890';
const TEST_CHAT = '-1009999';

function alertAt(i: number, over: Partial<AlertPayload> = {}): AlertPayload {
  const device = over.device ?? `meter-${i}`;
  return {
    id: `${device}/voltage_l1/v-high`,
    state: 'raised',
    severity: 'critical',
    category: 'power',
    device,
    point: 'voltage_l1',
    value: 262.5,
    limit: 253,
    unit: 'V',
    rule: 'v-high',
    kind: 'highHigh',
    timestamp: Date.now(),
    raisedAt: Date.now(),
    text: `${device} voltage_l1 262.5 V above high-high limit 253 V`,
    ...over,
  };
}

async function rig(opts: { token?: string; chat?: string; testChat?: boolean; notifier?: NotifierOptions; minIntervalMs?: number } = {}) {
  const receiver = await new TelegramReceiver().start();
  receiver.tokens.add(TOKEN);
  receiver.chats.add(CHAT);
  receiver.chats.add(TEST_CHAT);
  const service = new TelegramService({
    token: opts.token ?? TOKEN,
    chatId: opts.chat ?? CHAT,
    testChatId: opts.testChat ? TEST_CHAT : undefined,
    apiBase: receiver.base,
    title: 'Substation <North> & Co',
    timeZone: 'UTC',
    minIntervalMs: opts.minIntervalMs,
  });
  return startNotifier(receiver, service, opts.notifier);
}

test('the test receiver parses HTML the way Telegram does', () => {
  assert.equal(parseTelegramHtml('<b>a &amp; b</b> &lt;x&gt;'), 'a & b <x>');
  assert.throws(() => parseTelegramHtml('a < b'), /can't parse entities/);
  assert.throws(() => parseTelegramHtml('<b>open'), /Can't find end tag/);
  assert.throws(() => parseTelegramHtml('R&D'), /Character entity expected/);
});

test('the token is checked for shape and never shown; without token or chat id live deliveries are held', async () => {
  assert.throws(() => new TelegramService({ token: 'nonsense', chatId: '1' }), /bot token must look like 123456789:AA/);
  const message = { body: { text: 'x' }, ids: ['q-1'], text: 'x', test: false };
  for (const [config, reason] of [[{ token: TOKEN, chatId: ' ' }, /no chat id/], [{ chatId: '42' }, /no bot token/]] as const) {
    const unset = new TelegramService(config);
    const d = await unset.send(message, 'live');
    assert.equal(d.kind, 'auth');
    assert.match('error' in d ? d.error : '', reason);
    unset.close();
  }
  const s = new TelegramService({ token: TOKEN, chatId: '42' });
  assert.equal(s.describe('live'), 'chat 42 at api.telegram.org');
  s.close();
});

test('a few alerts: one HTML message, names with <, > and & arrive intact', async () => {
  const r = await rig();
  try {
    await r.notifier.notify({ alert: alertAt(1, { device: 'PV <roof> & carport', text: 'PV <roof> & carport voltage_l1 262.5 V above high-high limit 253 V' }), test: false, at: Date.now() });
    await r.notifier.notify({ alert: alertAt(2), test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1 && r.outbox.size() === 0);
    const [m] = r.receiver.messages;
    assert.equal(m.chat, CHAT);
    assert.equal(m.parseMode, 'HTML');
    const lines = m.text.split('\n');
    assert.equal(lines[0], 'Substation <North> & Co');
    assert.match(lines[1], /^🔴 RAISED critical · PV <roof> & carport voltage_l1 262.5 V above high-high limit 253 V · .* UTC$/);
    assert.equal(lines.length, 3);
    assert.deepEqual(r.receiver.violations, []);
  } finally {
    await r.close();
  }
});

test('a storm of 1000 alerts in one second: a handful of messages at Telegram pace, nothing dropped, no 429', async () => {
  const r = await rig({ notifier: { groupWindowMs: 1200 } });
  try {
    const started = Date.now();
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 100; i++) await r.notifier.notify({ alert: alertAt(burst * 100 + i), test: false, at: Date.now() });
      await new Promise((res) => setTimeout(res, 90));
    }
    await waitFor(() => r.outbox.size() === 0, 20000, 'outbox drained');
    const msgs = r.receiver.messages;
    assert.ok(msgs.length <= 5, `${msgs.length} messages`);
    assert.deepEqual(r.receiver.violations, []);
    assert.deepEqual(r.receiver.rateLimitHits, []);
    const text = msgs.map((m) => m.text).join('\n');
    for (let i = 0; i < 1000; i++) assert.ok(new RegExp(`\\bmeter-${i}\\b`).test(text), `meter-${i} missing`);
    assert.match(msgs[0].text, /^Substation <North> & Co \(1\/\d\)\n🔴 RAISED critical · highHigh voltage_l1 \(limit 253 V\) · 1000 alerts/);
    console.log(`telegram: 1000 alerts → ${msgs.length} messages in ${Date.now() - started} ms`);
  } finally {
    await r.close();
  }
});

test('429 with parameters.retry_after: the client waits as told and sends the same message once', async () => {
  const r = await rig({ minIntervalMs: 10 });
  try {
    r.receiver.minGapMs = 0;
    r.receiver.script.push({ status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } } });
    await r.notifier.notify({ text: 'one', test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1, 5000);
    const [limited, ok] = r.receiver.requests;
    assert.equal(limited.status, 429);
    assert.ok(ok.at - limited.at >= 990, `waited ${ok.at - limited.at} ms`);
    assert.equal(r.problems[0].kind, 'rate-limited');
    assert.match(r.problems[0].error, /Too Many Requests: retry after 1/);
    assert.equal(r.receiver.messages.length, 1);
  } finally {
    await r.close();
  }
});

test('a client ignoring the pace would be throttled: the receiver enforces it, the notifier recovers', async () => {
  const r = await rig({ minIntervalMs: 10, notifier: { maxBatch: 1, groupWindowMs: 10 } });
  try {
    r.receiver.minGapMs = 700;
    for (let i = 0; i < 3; i++) await r.notifier.notify({ text: `n${i}`, test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 3, 8000);
    assert.ok(r.receiver.rateLimitHits.length >= 1, 'the too-fast client met 429s');
    assert.deepEqual(r.receiver.messages.map((m) => m.text.split('\n').pop()), ['n0', 'n1', 'n2']);
  } finally {
    await r.close();
  }
});

test('revoked token (401), unknown token (404), wrong chat (400 chat not found): held with a clear error', async () => {
  const cases: [string, string | undefined, RegExp][] = [
    ['revoked', undefined, /HTTP 401 Unauthorized — the bot token was revoked or is wrong/],
    ['unknown', undefined, /HTTP 404 Not Found — the bot token was revoked or is wrong/],
    ['chat', '-100555', /chat -100555 at 127\.0\.0\.1:\d+: HTTP 400 Bad Request: chat not found — check the chat id/],
  ];
  for (const [kind, chat, expected] of cases) {
    const token = kind === 'unknown' ? '999:unknownToken' : TOKEN;
    const r = await rig({ token, chat });
    try {
      if (kind === 'revoked') r.receiver.revoked.add(TOKEN);
      await r.notifier.notify({ text: 'x', test: false, at: Date.now() });
      await waitFor(() => r.problems.length === 1);
      assert.equal(r.problems[0].kind, 'auth');
      assert.match(r.problems[0].error, expected);
      assert.ok(!r.problems[0].error.includes(token));
      assert.equal(r.notifier.currentStatus().phase, 'held');
      assert.equal(r.outbox.size(), 1);
    } finally {
      await r.close();
    }
  }
});

test('a group that became a supergroup: the message follows to the new chat id', async () => {
  const r = await rig({ minIntervalMs: 10 });
  try {
    r.receiver.minGapMs = 0;
    r.receiver.migrated.set(CHAT, '-100777');
    r.receiver.chats.add('-100777');
    await r.notifier.notify({ text: 'moved', test: false, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1);
    assert.equal(r.receiver.messages[0].chat, '-100777');
    assert.match(r.problems[0].error, /became supergroup -100777; .*put -100777 as the chat id/);
  } finally {
    await r.close();
  }
});

test('test mode: to the test chat, or dry-run only; every message says TEST', async () => {
  const r = await rig({ testChat: true, minIntervalMs: 10 });
  try {
    r.receiver.minGapMs = 0;
    await r.notifier.notify({ alert: alertAt(1), test: true, at: Date.now() });
    await waitFor(() => r.receiver.messages.length === 1);
    assert.equal(r.receiver.messages[0].chat, TEST_CHAT);
    assert.match(r.receiver.messages[0].text, /^🧪 TEST · Substation <North> & Co\n/);
  } finally {
    await r.close();
  }
  const dry = await rig();
  try {
    await dry.notifier.notify({ alert: alertAt(1), test: true, at: Date.now() });
    await waitFor(() => dry.dryRun.length === 1);
    assert.equal(dry.receiver.requests.length, 0);
    assert.match(dry.dryRun[0].text, /^🧪 TEST · Substation <North> & Co\n🔴 RAISED/);
  } finally {
    await dry.close();
  }
});

test('HTML Telegram cannot parse (a broken template) is resent as plain text', async () => {
  const receiver = await new TelegramReceiver().start();
  receiver.tokens.add(TOKEN);
  receiver.chats.add(CHAT);
  receiver.minGapMs = 0;
  const service = new TelegramService({ token: TOKEN, chatId: CHAT, apiBase: receiver.base, template: '<i>{text}', timeZone: 'UTC' });
  const notifier = new Notifier(service, new MemoryOutbox(), { groupWindowMs: 10 });
  try {
    await notifier.notify({ alert: alertAt(5), test: false, at: Date.now() });
    await waitFor(() => receiver.messages.length === 1);
    assert.equal(receiver.messages[0].parseMode, undefined);
    assert.match(receiver.messages[0].text, /^meter-5 voltage_l1 262.5 V above/);
  } finally {
    await notifier.close();
    await receiver.stop();
  }
});
