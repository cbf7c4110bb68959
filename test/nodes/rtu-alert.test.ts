import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import vm from 'vm';
import alertNode from '../../nodes/rtu-alert/rtu-alert';
import { testMode } from '../../nodes/lib/test-mode';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { caughtErrors, collect, coreNode, helper, helperNodes, nextMessage, startServer, statusWhere, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';

const catchNode = coreNode('common/25-catch.js');

interface AlertMsg {
  topic: string;
  payload: AlertPayload;
}

interface TestNode {
  receive(msg: unknown): void;
}

let userDir = '';

before(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-alert-node-'));
  helper.settings({ userDir });
  await startServer();
});
afterEach(async () => {
  testMode.set(false, 'test');
  await helper.unload();
  // Each test starts without the alerts an earlier one left active.
  fs.rmSync(path.join(userDir, 'energy-rtu'), { recursive: true, force: true });
});
after(async () => {
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const rules = [
  { id: 'v-high', device: 'meter-*', point: 'voltage_l1', type: 'high', limit: '253', deadband: '2', severity: 'major' },
  { id: 'f-band', point: 'frequency', type: 'band', low: 49.8, high: 50.2, deadband: 0.05 },
];

function flow(config: Record<string, unknown>, id = 'alert') {
  return [
    { id: 'tab', type: 'tab', label: 'alerts' },
    { id, z: 'tab', type: 'rtu-alert', name: 'site alerts', rules, wires: [['out']], ...config },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ];
}

function reading(device: string, payload: Record<string, unknown>, at = Date.now()) {
  return { topic: device, payload, rtu: { device, protocol: 'modbus', timestamp: at, quality: 'good', latencyMs: 5, units: { voltage_l1: 'V', frequency: 'Hz' }, seq: 1 } };
}

test('readings in, one raise and one clear out for a value hovering at the limit', async () => {
  await helper.load([alertNode, catchNode], flow({}));
  const node = helper.getNode('alert') as TestNode;
  const out = collect<AlertMsg>('out');
  const t0 = Date.now();
  [250, 253.5, 252.9, 253.8, 252, 253.2, 250.5].forEach((v, i) => node.receive(reading('meter-1', { voltage_l1: v, frequency: 50 }, t0 + i * 1000)));
  await waitFor(() => out.length === 2, 'raise and clear');
  assert.deepEqual(out.map((m) => m.topic), ['alert/meter-1/voltage_l1', 'alert/meter-1/voltage_l1']);
  assert.deepEqual(out.map((m) => m.payload.state), ['raised', 'cleared']);
  const a = out[0].payload;
  assert.equal(a.id, 'meter-1/voltage_l1/v-high');
  assert.equal(a.value, 253.5);
  assert.equal(a.limit, 253);
  assert.equal(a.unit, 'V');
  assert.equal(a.severity, 'major');
  assert.equal(a.category, 'power');
  assert.equal(a.text, 'meter-1 voltage_l1 253.5 V above high limit 253 V');
  // A hand-made reading (topic = device, payload = values) works too.
  node.receive({ topic: 'meter-2', payload: { frequency: 50.4 } });
  const band = await nextMessage<AlertMsg>('out');
  assert.equal(band.payload.id, 'meter-2/frequency/f-band');
});

test('bad rules: clear errors and a red status, the good rules keep working', async () => {
  await helper.load(
    [alertNode, catchNode],
    flow({
      rules: [...rules, { id: 'inverted', point: 'current', type: 'band', low: 20, high: 10 }],
      rulesYaml: 'rules:\n  - point: temp\n    type: high\n    limit: [80\n',
      rulesFile: 'missing-rules.yaml',
    }),
  );
  const logged = (helper.log().args as Array<[{ level?: number; msg?: unknown }]>).map((a) => String(a[0]?.msg));
  assert.ok(logged.some((m) => /alert "site alerts": dialog rule 3: contradictory limits: low 20 is not below high 10/.test(m)), logged.join('\n'));
  assert.ok(logged.some((m) => /invalid YAML in YAML rules at line \d+, column \d+/.test(m)), logged.join('\n'));
  assert.ok(logged.some((m) => /cannot read rules file .*missing-rules.yaml: ENOENT/.test(m)), logged.join('\n'));
  const red = statusWhere('alert', (x) => x.fill === 'red');
  const out = nextMessage<AlertMsg>('out');
  (helper.getNode('alert') as TestNode).receive(reading('meter-1', { voltage_l1: 260 }));
  assert.equal((await out).payload.rule, 'v-high');
  assert.match((await red).text ?? '', /rtu-alert.status.ruleErrors/);
});

test('acknowledge, list and unknown ids by message; Catch sees bad requests', async () => {
  await helper.load([alertNode, catchNode], flow({}));
  const node = helper.getNode('alert') as TestNode;
  const raised = nextMessage<AlertMsg>('out');
  node.receive(reading('meter-7', { voltage_l1: 270 }));
  const a = (await raised).payload;
  const acked = nextMessage<AlertMsg>('out');
  node.receive({ topic: 'ack', payload: a.id, ackBy: 'anna' });
  const ack = (await acked).payload;
  assert.equal(ack.state, 'acknowledged');
  assert.equal(ack.acknowledgedBy, 'anna');
  const listed = nextMessage<{ topic: string; payload: AlertPayload[] }>('out');
  node.receive({ topic: 'list' });
  const list = await listed;
  assert.equal(list.topic, 'alerts/active');
  assert.deepEqual(list.payload.map((x) => [x.id, x.state]), [[a.id, 'acknowledged']]);
  const caught = nextMessage<{ error: { message: string } }>('caught');
  node.receive({ topic: 'ack', payload: 'nope/*' });
  assert.match((await caught).error.message, /alert "site alerts": no raised alert matches nope\/\*/);
  const bad = nextMessage<{ error: { message: string } }>('caught');
  node.receive({ payload: 42 });
  assert.match((await bad).error.message, /expected a reading .*got topic undefined and payload number 42/);
});

test('a redeploy mid-alert keeps it active without a second raise; re-announce on start when asked', async () => {
  await helper.load([alertNode, catchNode], flow({}, 'keep'));
  const out1 = collect<AlertMsg>('out');
  (helper.getNode('keep') as TestNode).receive(reading('meter-3', { voltage_l1: 262 }));
  await waitFor(() => out1.length === 1, 'raised');
  await helper.unload();
  const file = path.join(userDir, 'energy-rtu', 'alerts-keep.json');
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).alerts.length, 1, 'saved on close');

  await helper.load([alertNode, catchNode], flow({}, 'keep'));
  const out2 = collect<AlertMsg>('out');
  const node = helper.getNode('keep') as TestNode;
  node.receive(reading('meter-3', { voltage_l1: 263 }));
  // Another meter over the limit, after it: its raise is the first message out, so meter-3 raised nothing new.
  node.receive(reading('meter-8', { voltage_l1: 263 }));
  await waitFor(() => out2.length >= 1, 'the raise for meter-8');
  assert.deepEqual(out2.map((m) => [m.payload.device, m.payload.state]), [['meter-8', 'raised']], 'still active after the redeploy: no new raise');
  node.receive(reading('meter-8', { voltage_l1: 240 }));
  await waitFor(() => out2.length >= 2, 'the clear for meter-8');
  await helper.unload();

  await helper.load([alertNode, catchNode], flow({ reannounce: true }, 'keep'));
  const again = await nextMessage<AlertMsg>('out');
  assert.equal(again.payload.state, 'raised');
  assert.equal(again.payload.reannounced, true);
  const cleared = nextMessage<AlertMsg>('out');
  (helper.getNode('keep') as TestNode).receive(reading('meter-3', { voltage_l1: 240 }));
  assert.equal((await cleared).payload.state, 'cleared');
});

test('rules replaced by message; test mode marks alerts and turns the status blue', async () => {
  await helper.load([alertNode, catchNode], flow({}));
  const node = helper.getNode('alert') as TestNode;
  node.receive({ topic: 'rules', payload: '- point: power\n  type: high\n  limit: 100\n  id: p-high\n' });
  const out = nextMessage<AlertMsg>('out');
  const blue = statusWhere('alert', (s) => s.fill === 'blue');
  testMode.set(true, 'test');
  await blue;
  node.receive(reading('meter-1', { power: 150, voltage_l1: 300 }));
  const a = (await out).payload;
  assert.equal(a.rule, 'p-high', 'only the new rules apply');
  assert.equal(a.test, true);
});

test('the editor check endpoint reports problems the way the runtime does', async () => {
  await helper.load([alertNode, catchNode], flow({}));
  const res = await helper.request().post('/rtu-alert/check').send({ rules: [{ point: 'v', type: 'high' }], yaml: '- point: f\n  type: low\n  limit: 49\n' }).expect(200);
  assert.deepEqual(res.body.rules, ['low@*:f']);
  assert.match(res.body.problems[0].message, /dialog rule 1: "limit" must be a number for a high rule, got undefined/);
});

test('every message key used by the editor and the runtime exists in en-US and de; help has the four sections', () => {
  const dir = path.resolve(__dirname, '../../../nodes/rtu-alert');
  const used = new Set<string>();
  const html = fs.readFileSync(path.join(dir, 'rtu-alert.html'), 'utf8');
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?rtu-alert\.([\w.]+)"/g)) used.add(m[1]);
  for (const m of html.matchAll(/_\('rtu-alert\.([\w.]*\w)'/g)) used.add(m[1]);
  for (const f of ['limit', 'low', 'high', 'value', 'timeout', 'per', 'deadband', 'onDelay', 'offDelay', 'device', 'point', 'severity', 'category', 'id', 'text']) used.add(`field.${f}`);
  const runtimeSource = fs.readFileSync(path.join(dir, 'rtu-alert.ts'), 'utf8');
  for (const m of runtimeSource.matchAll(/RED\._\('rtu-alert\.([\w.]+)'/g)) used.add(m[1]);
  assert.ok(used.size > 25, `only ${used.size} keys found`);
  for (const lang of ['en-US', 'de']) {
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-alert.json'), 'utf8'))['rtu-alert'];
    for (const key of used) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
      assert.equal(typeof value, 'string', `${lang}: rtu-alert.${key} missing`);
    }
    const help = fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-alert.html'), 'utf8');
    assert.equal((help.match(/<h3>/g) ?? []).length, 4, `${lang} help sections`);
  }
  // The editor script runs and registers the type with the defaults the runtime reads.
  let registered: { defaults: Record<string, unknown> } | undefined;
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  vm.runInNewContext(script, { RED: { nodes: { registerType: (_t: string, def: typeof registered) => (registered = def) }, validators: {} }, $: () => undefined });
  assert.deepEqual(Object.keys(registered?.defaults ?? {}).sort(), ['name', 'persist', 'reannounce', 'rules', 'rulesFile', 'rulesYaml']);
});
