import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import vm from 'vm';
import discordNode from '../../nodes/rtu-discord/rtu-discord';
import alertNode from '../../nodes/rtu-alert/rtu-alert';
import { testMode } from '../../nodes/lib/test-mode';
import { caughtErrors, collect, coreNode, helper, helperNodes, nextMessage, startServer, statusWhere, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';
import { editorContext, expandedEditorHtml } from '../support/editor-html';
import { DiscordReceiver } from '../integration/notify-receivers';

const catchNode = coreNode('common/25-catch.js');

interface TestNode {
  receive(msg: unknown): void;
}

let userDir = '';
let receiver: DiscordReceiver;
let hook = '';

before(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-discord-node-'));
  helper.settings({ userDir });
  receiver = await new DiscordReceiver().start();
  hook = receiver.addWebhook('4242', 'tok-en_1');
  await startServer();
});
afterEach(async () => {
  testMode.set(false, 'test');
  await helper.unload();
  // Tests reuse node ids and so durable outboxes: start each test with empty ones.
  fs.rmSync(path.join(userDir, 'energy-rtu', 'outbox'), { recursive: true, force: true });
  receiver.messages.length = 0;
  receiver.deleted.clear();
});
after(async () => {
  await stopServer();
  await receiver.stop();
  fs.rmSync(userDir, { recursive: true, force: true });
});

function flow(config: Record<string, unknown> = {}, id = 'dc') {
  return [
    { id: 'tab', type: 'tab', label: 'discord' },
    {
      id: 'al', z: 'tab', type: 'rtu-alert', name: 'alerts', wires: [[id]],
      rules: [{ id: 'p-high', device: 'inv-*', point: 'power', type: 'high', limit: 100, severity: 'critical' }],
      persist: false,
    },
    { id, z: 'tab', type: 'rtu-discord', name: 'ops channel', title: 'Plant North', groupWindow: 0.3, timeZone: 'UTC', apiBase: `${receiver.base}/api`, wires: [['out']], ...config },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ];
}

const reading = (device: string, power: number) => ({ topic: device, payload: { power }, rtu: { device, timestamp: Date.now(), quality: 'good', units: { power: 'kW' } } });

test('alerts from rtu-alert reach the channel grouped in one message; a sent report comes out', async () => {
  await helper.load([alertNode, discordNode, catchNode], flow(), { dc: { webhookUrl: `https://discord.com/api/webhooks/4242/tok-en_1` } });
  const sent = nextMessage<{ topic: string; payload: { notices: number; status: number; text: string } }>('out');
  const green = statusWhere('dc', (s) => s.fill === 'green' && s.text === 'rtu-discord.status.sent');
  const alerts = helper.getNode('al') as TestNode;
  for (let i = 0; i < 30; i++) alerts.receive(reading(`inv-${i}`, 150 + i));
  const report = await sent;
  assert.equal(report.topic, 'sent');
  assert.equal(report.payload.notices, 30);
  assert.equal(report.payload.status, 200);
  assert.equal(receiver.messages.length, 1);
  const embed = receiver.messages[0].embeds?.[0];
  assert.equal(embed?.title, 'Plant North');
  assert.match(embed?.description ?? '', /^🔴 \*\*RAISED\*\* critical · high power \(limit 100 kW\) · 30 alerts/);
  for (let i = 0; i < 30; i++) assert.match(embed?.description ?? '', new RegExp(`inv-${i} ${150 + i}\\b`));
  assert.deepEqual(receiver.violations, []);
  await green;
});

test('no webhook URL: a warning at deploy, the alert is kept in the outbox and delivered once a webhook is deployed', async () => {
  await helper.load([alertNode, discordNode, catchNode], flow({}, 'dn'));
  const warned = (helper.log().args as Array<[{ level?: number; msg?: unknown }]>).map((a) => String(a[0]?.msg));
  assert.ok(warned.some((m) => /discord "ops channel": rtu-discord\.errors\.noWebhook; alerts are kept/.test(m)), warned.join('\n'));
  const held = statusWhere('dn', (s) => s.fill === 'red' && s.text === 'rtu-discord.status.held');
  (helper.getNode('dn') as TestNode).receive({ payload: 'Transformer 2 inspection at 09:00' });
  await held;
  assert.equal(receiver.messages.length, 0);
  await helper.unload();

  await helper.load([alertNode, discordNode, catchNode], flow({}, 'dn'), { dn: { webhookUrl: hook } });
  await waitFor(() => receiver.messages.length === 1, 'the held text is delivered after the webhook is deployed');
  assert.match(receiver.messages[0].text, /Transformer 2 inspection at 09:00/);
});

test('a deleted webhook holds the queue with an error; the redeploy with a working one delivers it', async () => {
  receiver.deleted.add('4242');
  await helper.load([alertNode, discordNode, catchNode], flow({}, 'dq'), { dq: { webhookUrl: hook } });
  const held = statusWhere('dq', (s) => s.fill === 'red' && s.text === 'rtu-discord.status.held');
  (helper.getNode('dq') as TestNode).receive({ payload: 'Generator start test at 14:00' });
  await held;
  const logged = (helper.log().args as Array<[{ msg?: unknown }]>).map((a) => String(a[0]?.msg));
  assert.ok(logged.some((m) => /discord "ops channel": Discord webhook 4242 at 127\.0\.0\.1:\d+: HTTP 404 Unknown Webhook \(code 10015\) — the webhook was deleted/.test(m)), logged.join('\n'));
  assert.ok(!logged.some((m) => m.includes('tok-en_1')), 'the token never reaches the log');
  await helper.unload();

  receiver.deleted.clear();
  await helper.load([alertNode, discordNode, catchNode], flow({}, 'dq'), { dq: { webhookUrl: hook } });
  await waitFor(() => receiver.messages.length === 1, 'queued text delivered after the redeploy');
  assert.match(receiver.messages[0].text, /Generator start test at 14:00/);
});

test('test mode without a test webhook: dry-run on the output only, marked TEST', async () => {
  await helper.load([alertNode, discordNode, catchNode], flow({ testTarget: 'dry-run' }), { dc: { webhookUrl: hook } });
  const blue = statusWhere('dc', (s) => s.fill === 'blue');
  testMode.set(true, 'test');
  await blue;
  const dry = nextMessage<{ topic: string; payload: { text: string; test: boolean; body: { embeds: { title: string }[] } } }>('out');
  (helper.getNode('al') as TestNode).receive(reading('inv-1', 180));
  const m = await dry;
  assert.equal(m.topic, 'dry-run');
  assert.equal(m.payload.test, true);
  assert.equal(m.payload.body.embeds[0].title, '🧪 TEST · Plant North');
  assert.equal(receiver.messages.length, 0);
});

test('a payload that is neither an alert nor text goes to Catch; filtered states are skipped', async () => {
  await helper.load([alertNode, discordNode, catchNode], flow({ notifyCleared: false }), { dc: { webhookUrl: hook } });
  const caught = nextMessage<{ error: { message: string } }>('caught');
  (helper.getNode('dc') as TestNode).receive({ payload: { some: 'object' } });
  assert.match((await caught).error.message, /msg.payload must be an alert \(from rtu-alert\) or a text to send; got object/);
  const out = collect('out');
  const alerts = helper.getNode('al') as TestNode;
  alerts.receive(reading('inv-1', 180));
  await waitFor(() => out.length === 1, 'raise sent');
  alerts.receive(reading('inv-1', 10));
  // A later raise for another inverter is the second message sent: the clear in between was filtered out.
  alerts.receive(reading('inv-2', 180));
  await waitFor(() => receiver.messages.length >= 2, 'the raise for inv-2');
  assert.equal(receiver.messages.length, 2);
  assert.match(JSON.stringify(receiver.messages[1]), /inv-2/);
  assert.doesNotMatch(JSON.stringify(receiver.messages[1]), /inv-1/, 'the clear was filtered out');
});

test('locale keys exist in en-US and de, help has four sections, credentials are declared', () => {
  const dir = path.resolve(__dirname, '../../../nodes/rtu-discord');
  const html = expandedEditorHtml('rtu-discord');
  const used = new Set<string>();
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?rtu-discord\.([\w.]+)"/g)) used.add(m[1]);
  for (const m of html.matchAll(/_\('rtu-discord\.([\w.]*\w)'/g)) used.add(m[1]);
  for (const k of ['ready', 'sent', 'sending', 'rateLimited', 'retrying', 'held', 'test', 'dryRun', 'testTarget']) used.add(`status.${k}`);
  used.add('errors.noWebhook');
  for (const lang of ['en-US', 'de']) {
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-discord.json'), 'utf8'))['rtu-discord'];
    for (const key of used) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
      assert.equal(typeof value, 'string', `${lang}: rtu-discord.${key} missing`);
    }
    assert.equal((fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-discord.html'), 'utf8').match(/<h3>/g) ?? []).length, 4);
  }
  let registered: { defaults: Record<string, unknown>; credentials: Record<string, { type: string }> } | undefined;
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  vm.runInContext(script, editorContext({ RED: { nodes: { registerType: (_t: string, def: typeof registered) => (registered = def) }, validators: { number: () => () => true } } }));
  assert.deepEqual(JSON.parse(JSON.stringify(registered?.credentials)), { webhookUrl: { type: 'password' }, testWebhookUrl: { type: 'password' } });
  assert.ok(!('webhookUrl' in (registered?.defaults ?? {})), 'the webhook is not a plain setting');
});
