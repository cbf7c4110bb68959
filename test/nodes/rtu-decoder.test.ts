import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import decoderNode from '../../nodes/rtu-decoder/rtu-decoder';
import { encodePoint } from '../../nodes/lib/modbus/codec';
import { planReads } from '../../nodes/lib/modbus/planner';
import { sharedRegistry } from '../../nodes/lib/registry';
import type { PointDef, RegisterBlock } from '../../nodes/lib/modbus/types';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { caughtErrors, coreNode, helper, helperNodes, nextMessage, NodeStatusLike, statusWhere, useNodeRed } from '../support/node-red';

// The core Catch node of the same runtime, to see errors the way a flow does.
const catchNode = coreNode('common/25-catch.js');

interface Msg extends Record<string, unknown> {
  payload: Record<string, unknown>;
  rtu: ReadingMessage['rtu'];
}

interface TestNode {
  receive(msg: unknown): void;
  on(event: string, cb: (arg: unknown) => void): void;
}

const rows = [
  { name: 'voltage_l1', registerType: 'holding', address: '0', dataType: 'float32', unit: 'V' },
  { name: 'current_l1', registerType: 'holding', address: '2', dataType: 'uint16', scale: '0.01', unit: 'A' },
  { name: 'energy', registerType: 'holding', address: '10', dataType: 'uint32', scale: '0.1', unit: 'kWh' },
];

function flow(config: Record<string, unknown>) {
  return [
    { id: 'tab', type: 'tab', label: 'decoder' },
    { id: 'dec', z: 'tab', type: 'rtu-decoder', name: 'decoder under test', wires: [['out']], ...config },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ];
}

/** The next message on a helper node. */
const next = (id: string): Promise<Msg> => nextMessage<Msg>(id, () => true, 2000);
const statusUntil = (id: string, check: (s: NodeStatusLike) => boolean): Promise<NodeStatusLike> => statusWhere(id, check, 2000);

useNodeRed();

test('decodes a reading with raw registers, keeping its metadata', async () => {
  await helper.load([decoderNode, catchNode], flow({ source: 'points', points: rows }));
  const output = next('out');
  const status = statusUntil('dec', (s) => s.fill === 'green');
  const raw: RegisterBlock[] = [{ registerType: 'holding', address: 0, values: [0x4366, 0x8000, 1234, 0, 0, 0, 0, 0, 0, 0, 0x0001, 0xe240] }];
  (helper.getNode('dec') as TestNode).receive({
    topic: 'meter_1',
    payload: { already: 1 },
    rtu: { device: 'meter_1', line: 'rs485-a', protocol: 'modbus', unitId: 3, timestamp: 1700000000000, quality: 'good', latencyMs: 42, units: {}, raw, seq: 7 },
  });
  const msg = await output;
  assert.equal(msg.topic, 'meter_1');
  assert.deepEqual(msg.payload, { already: 1, voltage_l1: 230.5, current_l1: 12.34, energy: 12345.6 });
  assert.equal(msg.rtu.line, 'rs485-a');
  assert.equal(msg.rtu.unitId, 3);
  assert.equal(msg.rtu.seq, 7);
  assert.equal(msg.rtu.quality, 'good');
  assert.deepEqual(msg.rtu.units, { voltage_l1: 'V', current_l1: 'A', energy: 'kWh' });
  assert.deepEqual(msg.rtu.raw, raw);
  // The test runtime returns message keys instead of translations.
  assert.equal((await status).text, 'rtu-decoder.status.decoded');
});

test('decodes node-red-contrib-modbus output: only the points in the block, table from fc', async () => {
  await helper.load([decoderNode, catchNode], flow({ source: 'points', points: rows, order: 'CDAB', device: 'pv_meter', keepRaw: true }));
  const output = next('out');
  (helper.getNode('dec') as TestNode).receive({
    topic: 'modbus-read-1',
    payload: [0x8000, 0x4366, 1234],
    responseBuffer: { data: [0x8000, 0x4366, 1234], buffer: Buffer.from([0x80, 0x00, 0x43, 0x66, 0x04, 0xd2]) },
    input: { payload: { unitid: 5, fc: 3, address: 0, quantity: 3 } },
  });
  const msg = await output;
  assert.equal(msg.topic, 'pv_meter');
  // The default order CDAB applies to the float; energy lies outside the block and is left out.
  assert.deepEqual(msg.payload, { voltage_l1: 230.5, current_l1: 12.34 });
  assert.equal(msg.rtu.device, 'pv_meter');
  assert.equal(msg.rtu.protocol, 'modbus');
  assert.equal(msg.rtu.unitId, 5);
  assert.equal(msg.rtu.quality, 'good');
  assert.equal(msg.rtu.seq, 1);
  assert.ok(Math.abs(msg.rtu.timestamp - Date.now()) < 5000);
  assert.deepEqual(msg.rtu.raw, [{ registerType: 'holding', address: 0, values: [0x8000, 0x4366, 1234] }]);
});

test('decodes by meter model and profile from the registry', async () => {
  const model = 'rtu/simulated-energy-meter';
  const points: PointDef[] = sharedRegistry().profilePoints(model, 'basic_power');
  const values: Record<string, number> = {};
  points.forEach((p, i) => (values[p.name] = p.dataType === 'float32' ? 100 + i * 0.5 : i));
  // Build the blocks a poller would read, by the planner, from a register image.
  const image = new Map<number, number>();
  for (const p of points) encodePoint(p, values[p.name]).forEach((w, i) => image.set(p.address + i, w));
  const raw: RegisterBlock[] = planReads(points).requests.map((r) => ({
    registerType: r.registerType,
    address: r.address,
    values: Array.from({ length: r.quantity }, (_, i) => image.get(r.address + i) ?? 0),
  }));
  await helper.load([decoderNode, catchNode], flow({ source: 'profile', model, profile: 'basic_power' }));
  const output = next('out');
  (helper.getNode('dec') as TestNode).receive({
    topic: 'sim',
    payload: {},
    rtu: { device: 'sim', protocol: 'modbus', timestamp: Date.now(), quality: 'good', latencyMs: 5, units: {}, raw, seq: 1 },
  });
  const msg = await output;
  assert.deepEqual(msg.payload, values);
  assert.equal(msg.rtu.model, model);
  assert.equal(msg.rtu.profile, 'basic_power');
  assert.equal(msg.rtu.units.voltage_l1_n, 'V');
});

test('missing registers give null values, bad point quality and a yellow status', async () => {
  await helper.load([decoderNode, catchNode], flow({ source: 'points', points: rows }));
  const output = next('out');
  const status = statusUntil('dec', (s) => s.fill === 'yellow');
  (helper.getNode('dec') as TestNode).receive({
    topic: 'meter_1',
    payload: {},
    rtu: { device: 'meter_1', protocol: 'modbus', timestamp: 1, quality: 'good', latencyMs: 1, units: {}, seq: 1, raw: [{ registerType: 'holding', address: 0, values: [0x4366, 0x8000, 1] }] },
  });
  const msg = await output;
  assert.equal(msg.payload.energy, null);
  assert.equal(msg.payload.voltage_l1, 230.5);
  assert.deepEqual(msg.rtu.pointQuality, { energy: 'bad' });
  assert.equal(msg.rtu.error, '1 point not decoded (energy: holding 10..11 was not read)');
  assert.equal((await status).text, 'rtu-decoder.status.partial');
});

test('unusable input fails through done(err) so a Catch node sees it, with a red status', async () => {
  await helper.load([decoderNode, catchNode], flow({ source: 'points', points: rows }));
  const caught = next('caught');
  const status = statusUntil('dec', (s) => s.fill === 'red');
  (helper.getNode('dec') as TestNode).receive({ payload: 'not registers' });
  const msg = await caught;
  const error = msg.error as { message: string; source: { id: string } };
  assert.match(error.message, /msg.payload holds no register values/);
  assert.equal(error.source.id, 'dec');
  assert.match((await status).text ?? '', /no register values/);
});

test('a broken point list is reported at deploy and on every message', async () => {
  const broken = [...rows, { name: 'bad', registerType: 'holding', address: '70000', dataType: 'uint16' }];
  await helper.load([decoderNode, catchNode], flow({ source: 'points', points: broken }));
  const dec = helper.getNode('dec') as TestNode;
  // The deploy-time error went to the runtime log.
  const logged = (helper.log().args as Array<[{ msg?: unknown }]>).map((a) => String(a[0]?.msg));
  assert.ok(logged.some((e) => /decoder "decoder under test": point "bad": address 70000/.test(e)), logged.join('\n'));
  const caught = next('caught');
  dec.receive({ payload: [1, 2, 3], input: { payload: { fc: 3, address: 0 } } });
  const msg = await caught;
  assert.match((msg.error as { message: string }).message, /point "bad": address 70000 is outside 0..65535/);
});

test('an unknown model is a configuration error naming the model', async () => {
  await helper.load([decoderNode, catchNode], flow({ source: 'profile', model: 'acme/nothing', profile: 'all' }));
  const caught = next('caught');
  (helper.getNode('dec') as TestNode).receive({ payload: [1], input: { payload: { fc: 3, address: 0 } } });
  const msg = await caught;
  assert.match((msg.error as { message: string }).message, /meter model "acme\/nothing" is not in the registry/);
});

test('the editor endpoint imports CSV and checks point rows', async () => {
  await helper.load([decoderNode, catchNode], flow({ source: 'points', points: rows }));
  const csv = 'name,address,data_type,scale,unit\nvoltage,30001,float32,,V\npower,40001,int16,10,W\n';
  const imported = await helper.request().post('/rtu-decoder/points').send({ csv }).expect(200);
  assert.deepEqual(imported.body.errors, []);
  assert.deepEqual(imported.body.points, [
    { name: 'voltage', registerType: 'input', address: 0, dataType: 'float32', unit: 'V' },
    { name: 'power', registerType: 'holding', address: 0, dataType: 'int16', scale: 10, unit: 'W' },
  ]);
  const checked = await helper.request().post('/rtu-decoder/points').send({ points: [{ name: 'x', registerType: 'holding', address: '1', dataType: 'float99' }] }).expect(200);
  assert.match(checked.body.errors[0], /point "x": data type "float99" is not one of/);
  await helper.request().post('/rtu-decoder/points').send({ nothing: true }).expect(400);
});

test('every message key used by the editor and the runtime exists in en-US and de', () => {
  const dir = path.resolve(__dirname, '../../../nodes/rtu-decoder');
  const used = new Set<string>();
  const html = fs.readFileSync(path.join(dir, 'rtu-decoder.html'), 'utf8');
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?rtu-decoder\.([\w.]+)"/g)) used.add(m[1]);
  for (const m of html.matchAll(/node\._\('rtu-decoder\.([\w.]+)'/g)) used.add(m[1]);
  const runtimeSource = fs.readFileSync(path.join(dir, 'rtu-decoder.ts'), 'utf8');
  for (const m of runtimeSource.matchAll(/RED\._\('rtu-decoder\.([\w.]+)'/g)) used.add(m[1]);
  assert.ok(used.size > 30, `only ${used.size} keys found`);
  for (const lang of ['en-US', 'de']) {
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-decoder.json'), 'utf8'))['rtu-decoder'];
    for (const key of used) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
      assert.equal(typeof value, 'string', `${lang} lacks rtu-decoder.${key}`);
    }
    const help = fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-decoder.html'), 'utf8');
    assert.match(help, /data-help-name="rtu-decoder"/);
    assert.equal((help.match(/<h3>/g) ?? []).length, 4, `${lang} help has Inputs, Outputs, Details, References`);
  }
});

test('the editor definition loads and its validators and label behave', () => {
  const html = fs.readFileSync(path.resolve(__dirname, '../../../nodes/rtu-decoder/rtu-decoder.html'), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(script, 'editor script found');
  type Def = {
    category: string;
    defaults: Record<string, { value: unknown; validate?: (this: Record<string, unknown>, v: unknown) => boolean }>;
    label: (this: Record<string, unknown>) => string;
  };
  const registered: Record<string, Def> = {};
  const sandbox = { RED: { nodes: { registerType: (name: string, def: Def) => (registered[name] = def) } }, $: () => ({}) };
  vm.runInNewContext(script, sandbox);
  const def = registered['rtu-decoder'];
  assert.equal(def.category, 'RTU');
  const points = def.defaults.points.validate as (this: Record<string, unknown>, v: unknown) => boolean;
  assert.equal(points.call({ source: 'points' }, []), false);
  assert.equal(points.call({ source: 'points' }, [{ name: 'x' }]), true);
  assert.equal(points.call({ source: 'profile' }, []), true);
  const address = def.defaults.address.validate as (v: unknown) => boolean;
  assert.equal(address.call({}, ''), true);
  assert.equal(address.call({}, '100'), true);
  assert.equal(address.call({}, '70000'), false);
  assert.equal(address.call({}, '-1'), false);
  assert.equal(def.label.call({ name: 'mine' }), 'mine');
  assert.equal(def.label.call({ source: 'profile', model: 'eastron/sdm630', profile: 'basic' }), 'sdm630 basic');
  assert.equal(def.label.call({ source: 'points', points: [{}, {}] }), 'decoder (2)');
  for (const key of Object.keys(def.defaults)) assert.ok(['name', 'source', 'model', 'profile', 'points', 'order', 'registerType', 'address', 'device', 'keepRaw'].includes(key), key);
});
