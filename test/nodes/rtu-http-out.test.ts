/** rtu-http-out in the real Node-RED runtime (5, or 4 with RTU_NODE_RED=4), against a loopback receiver. */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import httpOutNode from '../../nodes/rtu-http-out/rtu-http-out';
import { testMode } from '../../nodes/lib/test-mode';
import { Receiver, startReceiver } from '../integration/http-fixture';
import { reading, waitFor } from '../integration/mqtt-fixture';
import { caughtErrors, collect, coreNode, helper, helperNodes, startServer, statuses, stopServer } from '../support/node-red';
import { expandedEditorHtml } from '../support/editor-html';

const catchNode = coreNode('common/25-catch.js');

interface TestNode {
  receive(msg: unknown): void;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-http-node-'));
let rx: Receiver;

function flow(out: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'http' },
    {
      id: 'out', z: 'tab', type: 'rtu-http-out', name: 'to backend', url: `${rx.url}/api/readings`, method: 'POST', testUrl: '', format: 'document',
      authType: 'bearer', headers: 'X-Site: north', batchSize: 10, batchWait: 0.05, gzip: false, timeout: 2, retryMax: 1, queueSizeMb: 8, fsync: 'interval',
      wires: [['events'], ['preview']], ...out,
    },
    ...helperNodes('tab', 'events', 'preview'),
    ...caughtErrors('tab'),
  ];
}

before(async () => {
  helper.settings({ userDir });
  await startServer();
  rx = await startReceiver();
});
afterEach(async () => {
  await helper.unload();
  testMode.set(false, 'test');
  fs.rmSync(path.join(userDir, 'rtu-queues'), { recursive: true, force: true });
  rx.requests.length = 0;
  rx.answer = () => ({ status: 204 });
});
after(async () => {
  await rx.stop();
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const creds = { out: { token: 'tok-123', secretHeaders: 'X-Api-Key: k-456' } };

test('readings are posted with the token and secret header from credentials; status goes green', async () => {
  await helper.load([httpOutNode, catchNode], flow(), creds);
  const seen = statuses('out');
  const out = helper.getNode('out') as TestNode;
  for (let seq = 1; seq <= 3; seq++) out.receive(reading('meter1', seq, { power_total: seq }));
  await waitFor(() => rx.requests.length >= 1 && rx.accepted().length === 3, 'the posted readings');
  const req = rx.requests[0];
  assert.equal(req.url, '/api/readings');
  assert.equal(req.headers.authorization, 'Bearer tok-123');
  assert.equal(req.headers['x-api-key'], 'k-456');
  assert.equal(req.headers['x-site'], 'north');
  assert.deepEqual(rx.accepted<{ seq: number }>().map((d) => d.seq), [1, 2, 3]);
  await waitFor(() => seen.some((s) => s.fill === 'green' && s.text === 'rtu-http-out.status.connected'), 'a green status');
  assert.ok(fs.existsSync(path.join(userDir, 'rtu-queues', 'out', 'main', 'queue-id')), 'default queue folder: <user dir>/rtu-queues/<node id>');
});

test('a refused reading is reported on output 1 and logged; the others are delivered', async () => {
  rx.answer = (r) => (JSON.parse(r.body).some((d: { seq: number }) => d.seq === 2) ? { status: 422, body: 'bad value' } : { status: 200 });
  await helper.load([httpOutNode, catchNode], flow(), creds);
  const events = collect('events');
  const out = helper.getNode('out') as TestNode;
  for (let seq = 1; seq <= 3; seq++) out.receive(reading('meter1', seq, { power_total: seq }));
  await waitFor(() => events.some((e) => e.topic === 'rejected'), 'the rejected event');
  const rejected = events.find((e) => e.topic === 'rejected')?.payload as { reason: string; items: Array<{ item: { seq: number } }>; file: string };
  assert.match(rejected.reason, /answered 422 Unprocessable Entity: bad value/);
  assert.equal(rejected.items[0].item.seq, 2);
  assert.ok(fs.existsSync(rejected.file));
  await waitFor(() => rx.accepted().length === 2, `the other two (${JSON.stringify(rx.requests.map((r) => r.body))})`, 3000);
  const warned = (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level === 30).map(([e]) => String(e.msg));
  assert.ok(warned.some((m) => m === 'rtu-http-out.log.rejected'), 'a log line for the refusal');
});

test('test mode without a test URL: only the preview on output 2, nothing sent; status blue', async () => {
  await helper.load([httpOutNode, catchNode], flow(), creds);
  const seen = statuses('out');
  const previews = collect('preview');
  testMode.set(true, 'node test');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { power_total: 1 }));
  await waitFor(() => previews.length === 1, 'the preview');
  assert.equal(previews[0].test, true);
  assert.equal(JSON.parse(previews[0].payload as string)[0].test, true);
  await waitFor(() => seen.some((s) => s.fill === 'blue' && s.text === 'rtu-http-out.status.testDryRun'), 'a blue status');
  // Back in production, the next reading is the first request the backend sees: the test one never went out.
  testMode.set(false, 'node test');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 2, { power_total: 2 }));
  await waitFor(() => rx.requests.length >= 1, 'the production request');
  assert.deepEqual(JSON.parse(rx.requests[0].body).map((d: { seq: number }) => d.seq), [2]);
});

test('configuration mistakes: red status at deploy, input refused with the reason', async () => {
  await helper.load([httpOutNode, catchNode], flow({ format: 'template', template: '{"d": {{device}' }), creds);
  const caught = collect('caught');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught.length === 1, 'the refusal');
  assert.match((caught[0].error as { message: string }).message, /http-out "to backend": the payload template does not give valid JSON/);
  await helper.unload();
  await helper.load([httpOutNode, catchNode], flow({ headers: 'no colon here' }), creds);
  const caught2 = collect('caught');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught2.length === 1, 'the refusal');
  assert.match((caught2[0].error as { message: string }).message, /headers, line 1: "no colon here" is not "Name: value"/);
});

test('URL from an environment variable and test URL from global context, read at deploy', async () => {
  process.env.RTU_TEST_HTTP_URL = `${rx.url}/site/env`;
  helper.settings({ userDir, functionGlobalContext: { site: { testUrl: `${rx.url}/site/test` } } });
  try {
    await helper.load([httpOutNode, catchNode], flow({ url: 'RTU_TEST_HTTP_URL', urlType: 'env', testUrl: 'site.testUrl', testUrlType: 'global' }), creds);
    const out = helper.getNode('out') as TestNode;
    out.receive(reading('meter1', 1, { power_total: 1 }));
    await waitFor(() => rx.accepted().length === 1, 'the reading at the env URL');
    assert.equal(rx.requests[0].url, '/site/env');
    testMode.set(true, 'node test');
    out.receive(reading('meter1', 2, { power_total: 2 }));
    await waitFor(() => rx.requests.some((r) => r.url === '/site/test'), 'the test reading at the global test URL');
  } finally {
    delete process.env.RTU_TEST_HTTP_URL;
    helper.settings({ userDir });
  }
});

test('an unset URL variable or context key refuses input, naming the node, the field and what the lookup returned', async () => {
  await helper.load([httpOutNode, catchNode], flow({ url: 'RTU_TEST_HTTP_UNSET', urlType: 'env' }), creds);
  const caught = collect('caught');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught.length === 1, 'the refusal');
  assert.equal((caught[0].error as { message: string }).message.replace(/^Error: /, ''), 'http-out "to backend": URL from env RTU_TEST_HTTP_UNSET is "" — empty');
  await helper.unload();
  await helper.load([httpOutNode, catchNode], flow({ url: 'site.nothing', urlType: 'global' }), creds);
  const caught2 = collect('caught');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught2.length === 1, 'the refusal');
  assert.equal((caught2[0].error as { message: string }).message.replace(/^Error: /, ''), 'http-out "to backend": URL from global site.nothing is undefined — not a text');
  assert.equal(rx.requests.length, 0);
});

test('a flow saved before the URLs were typed (no urlType, testUrlType) posts to its plain URL', async () => {
  const nodes = flow({ url: `${rx.url}/plain` });
  assert.equal('urlType' in nodes[1] || 'testUrlType' in nodes[1], false);
  await helper.load([httpOutNode, catchNode], nodes, creds);
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { power_total: 1 }));
  await waitFor(() => rx.accepted().length === 1, 'the reading');
  assert.equal(rx.requests[0].url, '/plain');
});

test('every editor label and status text exists in English and German; help has the four sections', () => {
  const type = 'rtu-http-out';
  const dir = path.resolve(__dirname, '../../../nodes', type);
  const html = expandedEditorHtml(type);
  const used = new Set<string>();
  for (const m of html.matchAll(new RegExp(`(?:data-i18n="(?:\\[[a-z]+\\])?|_\\(')${type}\\.([\\w.]+)`, 'g'))) used.add(m[1]);
  for (const k of ['connected', 'draining', 'connecting', 'down', 'blocked', 'failed', 'diskError', 'testTarget', 'testDryRun', 'stopped', 'dropped']) used.add(`status.${k}`);
  for (const k of ['connected', 'rejected', 'drop.full', 'drop.memory', 'drop.damaged', 'diskOk']) used.add(`log.${k}`);
  used.add('errors.noUrl');
  for (const lang of ['en-US', 'de']) {
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, `${type}.json`), 'utf8'))[type];
    for (const key of used) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
      assert.equal(typeof value, 'string', `${lang} ${type}.${key}`);
    }
    const help = fs.readFileSync(path.join(dir, 'locales', lang, `${type}.html`), 'utf8');
    assert.ok(help.includes(`data-help-name="${type}"`));
    assert.equal((help.match(/<h3>/g) ?? []).length, 4);
  }
});

test('the example flow deploys without a configuration error', async () => {
  const example = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../examples/rtu-http-out.json'), 'utf8')) as Array<Record<string, unknown>>;
  // Only the tab and this package's nodes: the core inject/function/debug nodes are not loaded by the test helper.
  const keep = example.filter((n) => n.type === 'tab' || String(n.type).startsWith('rtu-'));
  const ids = new Set(keep.map((n) => n.id));
  for (const n of keep) if (Array.isArray(n.wires)) n.wires = (n.wires as string[][]).map((port) => port.filter((id) => ids.has(id)));
  await helper.load([httpOutNode], keep);
  const errors = (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level <= 20).map(([e]) => String(e.msg));
  assert.deepEqual(errors, []);
  assert.ok(helper.getNode('rtu_http_ex_out'));
  assert.ok(helper.getNode('rtu_http_ex_influx'));
});
