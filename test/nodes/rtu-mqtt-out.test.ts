/** rtu-mqtt-broker and rtu-mqtt-out in the real Node-RED runtime (5, or 4 with RTU_NODE_RED=4), against aedes. */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import brokerNode from '../../nodes/rtu-mqtt-broker/rtu-mqtt-broker';
import mqttOutNode from '../../nodes/rtu-mqtt-out/rtu-mqtt-out';
import { testMode } from '../../nodes/lib/test-mode';
import { listQueues } from '../../nodes/lib/queue/registry';
import { reading, startBroker, TestBroker, waitFor } from '../integration/mqtt-fixture';
import { caughtErrors, collect, coreNode, helper, helperNodes, startServer, statuses, stopServer } from '../support/node-red';
import { expandedEditorHtml } from '../support/editor-html';

const catchNode = coreNode('common/25-catch.js');

interface TestNode {
  receive(msg: unknown): void;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-mqtt-node-'));
let broker: TestBroker;

function flow(out: Record<string, unknown> = {}, brokerConfig: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'mqtt' },
    { id: 'brk', type: 'rtu-mqtt-broker', host: '127.0.0.1', port: broker.port, protocolVersion: '4', keepalive: 30, cleanSession: true, statusTopic: 'site/rtu/status', onlinePayload: 'online', offlinePayload: 'offline', statusQos: '1', statusRetain: true, ...brokerConfig },
    {
      id: 'out', z: 'tab', type: 'rtu-mqtt-out', name: 'to broker', broker: 'brk', topic: 'site/{device}/measurements', split: 'device', qos: '1',
      retain: false, interval: 0, aggregate: 'latest', testTopicPrefix: 'test/', queueDir: path.join(userDir, 'queues'), queueSizeMb: 8, fsync: 'interval',
      wires: [['events'], ['preview']], ...out,
    },
    ...helperNodes('tab', 'events', 'preview'),
    ...caughtErrors('tab'),
  ];
}

before(async () => {
  helper.settings({ userDir });
  await startServer();
  broker = await startBroker({ credentials: { username: 'rtu', password: 'pw' } });
});
afterEach(async () => {
  await helper.unload();
  testMode.set(false, 'test');
  fs.rmSync(path.join(userDir, 'queues'), { recursive: true, force: true });
  broker.received.length = 0;
});
after(async () => {
  await broker.stop();
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const creds = { brk: { user: 'rtu', password: 'pw' } };

test('readings are published with the broker credentials; status goes green; close message on unload', async () => {
  await helper.load([brokerNode, mqttOutNode, catchNode], flow(), creds);
  const seen = statuses('out');
  const out = helper.getNode('out') as TestNode;
  for (let seq = 1; seq <= 3; seq++) out.receive(reading('meter1', seq, { power_total: seq * 100 }));
  await waitFor(() => broker.json('site/meter1').length === 3, 'three messages');
  const bodies = broker.json<{ seq: number; id: string; values: Record<string, number> }>('site/meter1');
  assert.deepEqual(bodies.map((b) => b.seq), [1, 2, 3]);
  assert.match(bodies[0].id, /^[0-9a-f]{8}-1$/);
  // The test helper's RED._ returns message keys; the catalogue test below checks the texts.
  await waitFor(() => seen.some((s) => s.fill === 'green' && s.shape === 'dot' && s.text === 'rtu-mqtt-out.status.connected'), 'a green status');
  assert.equal(broker.received.find((m) => m.topic === 'site/rtu/status')?.payload.toString(), 'online');
  await helper.unload();
  assert.deepEqual(broker.received.filter((m) => m.topic === 'site/rtu/status').map((m) => m.payload.toString()), ['online', 'offline']);
  assert.ok(fs.existsSync(path.join(userDir, 'queues', 'out', 'main', 'queue-id')), 'the queue lives in <queue folder>/<node id>');
});

test('input that is not a reading reaches a Catch node with a clear error', async () => {
  await helper.load([brokerNode, mqttOutNode, catchNode], flow(), creds);
  const caught = collect('caught');
  (helper.getNode('out') as TestNode).receive({ topic: 'meter1', payload: 42 });
  await waitFor(() => caught.length === 1, 'the caught error');
  const err = caught[0].error as { message: string };
  assert.match(err.message, /input is not a reading \(msg\.rtu is missing\).*\(msg\.topic "meter1"\)/);
});

test('test mode: published under the test prefix, flagged, previewed on output 2; status blue', async () => {
  await helper.load([brokerNode, mqttOutNode, catchNode], flow(), creds);
  const seen = statuses('out');
  const previews = collect('preview');
  const events = collect('events');
  testMode.set(true, 'node test');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { power_total: 5 }));
  await waitFor(() => broker.json('test/site/meter1').length === 1, 'the test message');
  assert.equal(broker.json<{ test: boolean }>('test/site/meter1')[0].test, true);
  assert.equal(broker.json('site/meter1').length, 0);
  assert.equal(previews.length, 1);
  assert.equal(previews[0].topic, 'test/site/meter1/measurements');
  assert.equal(previews[0].test, true);
  await waitFor(() => seen.some((s) => s.fill === 'blue'), 'a blue status');
  assert.ok(events.some((e) => e.topic === 'test-mode' && (e.payload as { enabled: boolean }).enabled === true));
  assert.ok(fs.existsSync(path.join(userDir, 'rtu-test-mode.json')), 'the switch lives in the user dir');
});

test('wrong broker password: red status naming the refusal, readings queued, a state event', async () => {
  await helper.load([brokerNode, mqttOutNode, catchNode], flow(), { brk: { user: 'rtu', password: 'wrong' } });
  const seen = statuses('out');
  const events = collect('events');
  const out = helper.getNode('out') as TestNode;
  out.receive(reading('meter1', 1, { power_total: 5 }));
  out.receive(reading('meter1', 2, { power_total: 6 }));
  await waitFor(() => seen.some((s) => s.fill === 'red' && s.shape === 'ring' && s.text === 'rtu-mqtt-out.status.down'), 'the red status');
  const state = events.find((e) => e.topic === 'state' && (e.payload as { state: string }).state === 'down');
  assert.match((state?.payload as { error: string }).error, /refused the connection: bad user name or password/);
  // The queue's figures are where the health node reads them.
  await waitFor(() => listQueues().some((q) => q.owner === 'rtu-mqtt-out to broker' && q.stats.depth === 2), 'two queued readings');
});

test('topic template from an environment variable and test prefix from global context, read at deploy', async () => {
  process.env.RTU_TEST_MQTT_TOPIC = 'north/{device}/m';
  helper.settings({ userDir, functionGlobalContext: { site: { testPrefix: 'staging/' } } });
  try {
    await helper.load([brokerNode, mqttOutNode, catchNode], flow({ topic: 'RTU_TEST_MQTT_TOPIC', topicType: 'env', testTopicPrefix: 'site.testPrefix', testTopicPrefixType: 'global' }), creds);
    const out = helper.getNode('out') as TestNode;
    out.receive(reading('meter1', 1, { power_total: 1 }));
    await waitFor(() => broker.received.some((m) => m.topic === 'north/meter1/m'), 'the reading under the env topic');
    testMode.set(true, 'node test');
    out.receive(reading('meter1', 2, { power_total: 2 }));
    await waitFor(() => broker.received.some((m) => m.topic === 'staging/north/meter1/m'), 'the test reading under the global prefix');
  } finally {
    delete process.env.RTU_TEST_MQTT_TOPIC;
    helper.settings({ userDir });
  }
});

test('an unset topic variable or a context key that is no text stops the node, naming the field and what the lookup returned', async () => {
  await helper.load([brokerNode, mqttOutNode, catchNode], flow({ topic: 'RTU_TEST_MQTT_UNSET', topicType: 'env' }), creds);
  const caught = collect('caught');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught.length === 1, 'the refusal');
  assert.equal((caught[0].error as { message: string }).message.replace(/^Error: /, ''), 'mqtt-out "to broker": topic template from env RTU_TEST_MQTT_UNSET is "" — empty');
  await helper.unload();
  helper.settings({ userDir, functionGlobalContext: { site: { testPrefix: { nested: true } } } });
  try {
    await helper.load([brokerNode, mqttOutNode, catchNode], flow({ testTopicPrefix: 'site.testPrefix', testTopicPrefixType: 'global' }), creds);
  } finally {
    helper.settings({ userDir });
  }
  const caught2 = collect('caught');
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught2.length === 1, 'the refusal');
  assert.equal((caught2[0].error as { message: string }).message.replace(/^Error: /, ''), 'mqtt-out "to broker": test topic prefix from global site.testPrefix is {"nested":true} — not a text');
});

test('a flow saved before the topic was typed (no topicType, testTopicPrefixType) publishes under its plain topic', async () => {
  const nodes = flow();
  assert.equal('topicType' in nodes[2] || 'testTopicPrefixType' in nodes[2], false);
  await helper.load([brokerNode, mqttOutNode, catchNode], nodes, creds);
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { power_total: 1 }));
  await waitFor(() => broker.received.some((m) => m.topic === 'site/meter1/measurements'), 'the reading under the plain topic');
});

test('a bad topic template or TLS key stops the node with a clear status', async () => {
  await helper.load([brokerNode, mqttOutNode, catchNode], flow({ split: 'point', topic: 'site/{device}' }), creds);
  const out = helper.getNode('out') as unknown as { error: (...a: unknown[]) => void } & TestNode;
  const caught = collect('caught');
  out.receive(reading('meter1', 1, { p: 1 }));
  await waitFor(() => caught.length === 1, 'the refusal of input');
  assert.match((caught[0].error as { message: string }).message, /topic template "site\/\{device\}" needs \{point\}/);
  await helper.unload();

  await helper.load([brokerNode, mqttOutNode, catchNode], flow({}, { tls: true, port: broker.port }), { brk: { tlsKey: 'not a key' } });
  const logged = (): string[] => (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level === 20).map(([e]) => String(e.msg));
  await waitFor(() => logged().some((m) => /TLS client key: "not a key" is neither PEM text nor a readable file/.test(m)), 'the logged TLS error');
  const out2 = helper.getNode('out') as unknown as { id: string };
  assert.ok(out2, 'the publisher node still runs: readings queue up until the TLS material is fixed');
});

test('every editor label and status text exists in English and German; help has the four sections', () => {
  const root = path.resolve(__dirname, '../../../nodes');
  for (const type of ['rtu-mqtt-out', 'rtu-mqtt-broker']) {
    const dir = path.join(root, type);
    const html = expandedEditorHtml(type);
    const used = new Set<string>();
    for (const m of html.matchAll(new RegExp(`(?:data-i18n="(?:\\[[a-z]+\\])?|_\\(')${type}\\.([\\w.]+)`, 'g'))) used.add(m[1]);
    if (type === 'rtu-mqtt-out') {
      for (const k of ['connected', 'draining', 'connecting', 'down', 'blocked', 'failed', 'diskError', 'testTarget', 'testDryRun', 'stopped', 'dropped']) used.add(`status.${k}`);
      for (const k of ['connected', 'rejected', 'drop.full', 'drop.memory', 'drop.damaged', 'diskOk']) used.add(`log.${k}`);
    }
    assert.ok(used.size > 10);
    for (const lang of ['en-US', 'de']) {
      const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, `${type}.json`), 'utf8'))[type];
      for (const key of used) {
        const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
        assert.equal(typeof value, 'string', `${lang} ${type}.${key}`);
      }
      const help = fs.readFileSync(path.join(dir, 'locales', lang, `${type}.html`), 'utf8');
      assert.ok(help.includes(`data-help-name="${type}"`));
      assert.equal((help.match(/<h3>/g) ?? []).length, type === 'rtu-mqtt-out' ? 4 : 2);
    }
  }
});

test('the example flow deploys without a configuration error', async () => {
  const example = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../examples/rtu-mqtt-out.json'), 'utf8')) as Array<Record<string, unknown>>;
  // Only the tab and this package's nodes: the core inject/function/debug nodes are not loaded by the test helper.
  const keep = example.filter((n) => n.type === 'tab' || String(n.type).startsWith('rtu-'));
  const ids = new Set(keep.map((n) => n.id));
  for (const n of keep) if (Array.isArray(n.wires)) n.wires = (n.wires as string[][]).map((port) => port.filter((id) => ids.has(id)));
  // Aimed at the test broker: the example's own 127.0.0.1:1883 may be a shared mosquitto (and aedes speaks 3.1.1 only).
  Object.assign(keep.find((n) => n.type === 'rtu-mqtt-broker') as object, { port: broker.port, protocolVersion: '4' });
  await helper.load([brokerNode, mqttOutNode], keep, { rtu_mqtt_ex_broker: { user: 'rtu', password: 'pw' } });
  const errors = (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level <= 20).map(([e]) => String(e.msg));
  assert.deepEqual(errors, []);
  assert.ok(helper.getNode('rtu_mqtt_ex_out'));
  await waitFor(() => broker.received.some((m) => m.topic === 'site/rtu1/status'), 'the example broker node to connect');
});
