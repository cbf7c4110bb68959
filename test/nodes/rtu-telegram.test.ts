import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import vm from 'vm';
import telegramNode from '../../nodes/rtu-telegram/rtu-telegram';
import alertNode from '../../nodes/rtu-alert/rtu-alert';
import { testMode } from '../../nodes/lib/test-mode';
import { caughtErrors, coreNode, helper, helperNodes, nextMessage, startServer, statusWhere, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';
import { editorContext, expandedEditorHtml } from '../support/editor-html';
import { TelegramReceiver } from '../integration/notify-receivers';

const catchNode = coreNode('common/25-catch.js');

interface TestNode {
  receive(msg: unknown): void;
}

const TOKEN = '777000:AAtest-Token_x';
const CHAT = '-100424242';
const TEST_CHAT = '-100999';
let userDir = '';
let receiver: TelegramReceiver;

before(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-telegram-node-'));
  helper.settings({ userDir });
  receiver = await new TelegramReceiver().start();
  receiver.tokens.add(TOKEN);
  receiver.chats.add(CHAT);
  receiver.chats.add(TEST_CHAT);
  receiver.minGapMs = 0;
  await startServer();
});
afterEach(async () => {
  testMode.set(false, 'test');
  await helper.unload();
  // Every test's node has the same id, so the same durable outbox: start each test with an empty one
  // (a notice in flight at unload is delivered again at the next deploy, as at-least-once allows).
  fs.rmSync(path.join(userDir, 'energy-rtu', 'outbox'), { recursive: true, force: true });
  receiver.messages.length = 0;
  receiver.revoked.clear();
});
after(async () => {
  await stopServer();
  await receiver.stop();
  fs.rmSync(userDir, { recursive: true, force: true });
});

function flow(config: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'telegram' },
    {
      id: 'al', z: 'tab', type: 'rtu-alert', name: 'alerts', wires: [['tg']], persist: false,
      rules: [{ id: 'f-band', point: 'frequency', type: 'band', low: 49.8, high: 50.2, severity: 'critical', text: '{device}: grid frequency {value} {unit} outside 49.8..50.2' }],
    },
    { id: 'tg', z: 'tab', type: 'rtu-telegram', name: 'on-call', chatId: CHAT, groupWindow: 0.2, timeZone: 'UTC', apiBase: receiver.base, wires: [['out']], ...config },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ];
}

const reading = (device: string, frequency: number) => ({ topic: device, payload: { frequency }, rtu: { device, timestamp: Date.now(), quality: 'good', units: { frequency: 'Hz' } } });

test('an alert with the rule text reaches the chat as escaped HTML', async () => {
  await helper.load([alertNode, telegramNode, catchNode], flow(), { tg: { token: TOKEN } });
  const sent = nextMessage<{ topic: string; payload: { status: number } }>('out');
  (helper.getNode('al') as TestNode).receive(reading('grid <main> & aux', 50.31));
  assert.equal((await sent).payload.status, 200);
  const [m] = receiver.messages;
  assert.equal(m.chat, CHAT);
  assert.equal(m.parseMode, 'HTML');
  assert.match(m.text, /^🔴 RAISED critical · grid <main> & aux: grid frequency 50\.31 Hz outside 49\.8\.\.50\.2 · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  assert.deepEqual(receiver.violations, []);
});

test('a revoked token: red status and an error without the token; the notice stays queued', async () => {
  receiver.revoked.add(TOKEN);
  await helper.load([alertNode, telegramNode, catchNode], flow(), { tg: { token: TOKEN } });
  const red = statusWhere('tg', (s) => s.fill === 'red' && s.text === 'rtu-telegram.status.held');
  (helper.getNode('tg') as TestNode).receive({ payload: 'transformer door opened' });
  await red;
  const logged = (helper.log().args as Array<[{ msg?: unknown }]>).map((a) => String(a[0]?.msg));
  assert.ok(logged.some((x) => /telegram "on-call": Telegram chat -100424242 at 127\.0\.0\.1:\d+: HTTP 401 Unauthorized — the bot token was revoked/.test(x)), logged.join('\n'));
  assert.ok(!logged.some((x) => x.includes(TOKEN)));
  await helper.unload();
  receiver.revoked.clear();
  await helper.load([alertNode, telegramNode, catchNode], flow(), { tg: { token: TOKEN } });
  await waitFor(() => receiver.messages.length === 1, 'sent after the fix');
  assert.equal(receiver.messages[0].text, 'transformer door opened');
});

test('a malformed token or missing chat id is a configuration error', async () => {
  await helper.load([alertNode, telegramNode, catchNode], flow({ chatId: '' }), { tg: { token: 'not-a-token' } });
  const caught = nextMessage<{ error: { message: string } }>('caught');
  (helper.getNode('tg') as TestNode).receive({ payload: 'x' });
  assert.match((await caught).error.message, /telegram "on-call": the Telegram bot token must look like 123456789:AA/);
});

test('test mode sends to the test chat, marked TEST', async () => {
  await helper.load([alertNode, telegramNode, catchNode], flow({ testChatId: TEST_CHAT }), { tg: { token: TOKEN } });
  testMode.set(true, 'test');
  (helper.getNode('al') as TestNode).receive(reading('grid', 49.5));
  await waitFor(() => receiver.messages.length === 1, 'test message');
  assert.equal(receiver.messages[0].chat, TEST_CHAT);
  assert.match(receiver.messages[0].text, /^🧪 TEST\n🔴 RAISED critical · grid: grid frequency 49\.5 Hz/);
});

test('chat id and test chat id from environment variables, read at deploy', async () => {
  process.env.RTU_TEST_TG_CHAT = CHAT;
  process.env.RTU_TEST_TG_TEST_CHAT = TEST_CHAT;
  try {
    await helper.load([alertNode, telegramNode, catchNode], flow({ chatId: 'RTU_TEST_TG_CHAT', chatIdType: 'env', testChatId: 'RTU_TEST_TG_TEST_CHAT', testChatIdType: 'env' }), { tg: { token: TOKEN } });
  } finally {
    delete process.env.RTU_TEST_TG_CHAT;
    delete process.env.RTU_TEST_TG_TEST_CHAT;
  }
  (helper.getNode('tg') as TestNode).receive({ payload: 'site north: door opened' });
  await waitFor(() => receiver.messages.length === 1, 'the message to the env chat');
  assert.equal(receiver.messages[0].chat, CHAT);
  testMode.set(true, 'test');
  (helper.getNode('tg') as TestNode).receive({ payload: 'site north: test' });
  await waitFor(() => receiver.messages.length === 2, 'the message to the env test chat');
  assert.equal(receiver.messages[1].chat, TEST_CHAT);
});

test('an empty chat variable: the node warns naming it and keeps alerts in its outbox; a flow without chatIdType keeps its plain chat', async () => {
  await helper.load([alertNode, telegramNode, catchNode], flow({ chatId: 'RTU_TEST_TG_UNSET', chatIdType: 'env' }), { tg: { token: TOKEN } });
  const warned = (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level === 30).map(([e]) => String(e.msg));
  assert.ok(warned.some((m) => m.startsWith('telegram "on-call": chat id from env RTU_TEST_TG_UNSET is "" — empty; alerts are kept in the outbox')), warned.join('\n'));
  await helper.unload();
  const plain = flow();
  assert.equal('chatIdType' in plain[2] || 'testChatIdType' in plain[2], false);
  await helper.load([alertNode, telegramNode, catchNode], plain, { tg: { token: TOKEN } });
  (helper.getNode('tg') as TestNode).receive({ payload: 'plain chat' });
  await waitFor(() => receiver.messages.length === 1, 'the message to the plain chat');
  assert.equal(receiver.messages[0].chat, CHAT);
});

test('locale keys exist in en-US and de, help has four sections, the token is a credential', () => {
  const dir = path.resolve(__dirname, '../../../nodes/rtu-telegram');
  const html = expandedEditorHtml('rtu-telegram');
  const used = new Set<string>(['errors.noToken', 'errors.noChat']);
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?rtu-telegram\.([\w.]+)"/g)) used.add(m[1]);
  for (const m of html.matchAll(/_\('rtu-telegram\.([\w.]*\w)'/g)) used.add(m[1]);
  for (const k of ['ready', 'sent', 'sending', 'rateLimited', 'retrying', 'held', 'test', 'dryRun', 'testTarget']) used.add(`status.${k}`);
  for (const lang of ['en-US', 'de']) {
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-telegram.json'), 'utf8'))['rtu-telegram'];
    for (const key of used) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
      assert.equal(typeof value, 'string', `${lang}: rtu-telegram.${key} missing`);
    }
    assert.equal((fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-telegram.html'), 'utf8').match(/<h3>/g) ?? []).length, 4);
  }
  let registered: { defaults: Record<string, unknown>; credentials: Record<string, { type: string }> } | undefined;
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  vm.runInContext(script, editorContext({ RED: { nodes: { registerType: (_t: string, def: typeof registered) => (registered = def) }, validators: { number: () => () => true } } }));
  assert.deepEqual(JSON.parse(JSON.stringify(registered?.credentials)), { token: { type: 'password' } });
  assert.ok(!('token' in (registered?.defaults ?? {})));
});
