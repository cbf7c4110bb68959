import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import cacheNode from '../../nodes/rtu-cache/rtu-cache';
import storeNode from '../../nodes/rtu-cache-store/rtu-cache-store';
import type { RegisterCache } from '../../nodes/lib/cache';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { caughtErrors, checkLocales, coreNode, exampleFlow, helper, helperNodes, next, statusUntil, TestNode, until, useNodeRed } from './rtu-simulator-support';

const catchNode = coreNode('common/25-catch.js');

function reading(device: string, values: Record<string, number>, raw = [{ registerType: 'input' as const, address: 0, values: [1, 2, 3, 4] }]): ReadingMessage {
  return {
    topic: device,
    payload: values,
    rtu: { device, line: 'line-a', protocol: 'modbus', model: 'rtu/simulated-energy-meter', unitId: 4, timestamp: Date.now(), quality: 'good', latencyMs: 3, units: { voltage_l1_n: 'V' }, raw, seq: 1 },
  };
}

// The cache config node keeps its contents by id over redeploys (and helper.unload); a fresh id per test keeps tests apart.
let cfgId = 'cfg';
let cfgCount = 0;
afterEach(() => {
  cfgId = `cfg${++cfgCount}`;
});

function flow(ttl: number | string = 60, extra: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'cache' },
    { id: cfgId, type: 'rtu-cache', name: 'site cache', ttl },
    { id: 'store', z: 'tab', type: 'rtu-cache-store', name: 'store under test', cache: cfgId, wires: [['out']], ...extra },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ];
}

function store(): TestNode {
  return helper.getNode('store') as TestNode;
}

/** Sends a reading and waits for it to be passed on, so later answers are not mistaken for it. */
async function feed(r: ReadingMessage): Promise<void> {
  const passed = next('out');
  store().receive(r);
  await passed;
}

function engine(): RegisterCache {
  return (helper.getNode(cfgId) as unknown as { cache: RegisterCache }).cache;
}

useNodeRed();

test('readings are stored in the shared cache and passed on unchanged', async () => {
  await helper.load([cacheNode, storeNode, catchNode], flow());
  const out = next<ReadingMessage>('out');
  const status = statusUntil('store', (s) => s.fill === 'green');
  const r = reading('meter-1', { voltage_l1_n: 231.5 });
  store().receive(r);
  const passed = await out;
  assert.equal(passed.topic, 'meter-1');
  assert.deepEqual(passed.payload, { voltage_l1_n: 231.5 });
  assert.deepEqual(passed.rtu.raw, r.rtu.raw);
  assert.deepEqual(Array.from(engine().read('meter-1', 'input', 0, 4) as Uint16Array), [1, 2, 3, 4]);
  assert.equal((await status).text, 'rtu-cache-store.status.devices');
});

test('questions get one device, all devices, or raw registers', async () => {
  await helper.load([cacheNode, storeNode, catchNode], flow());
  await feed(reading('meter-1', { voltage_l1_n: 231.5 }));
  await feed(reading('meter-2', { voltage_l1_n: 229.0 }, [{ registerType: 'input', address: 10, values: [7, 8] }]));

  let out = next<Record<string, unknown>>('out');
  store().receive({ device: 'meter-1' });
  let msg = await out;
  assert.equal(msg.topic, 'meter-1');
  assert.deepEqual(msg.payload, { voltage_l1_n: 231.5 });
  const meta = msg.rtu as { quality: string; unitId: number; units: Record<string, string>; stale: boolean; line: string };
  assert.equal(meta.quality, 'good');
  assert.equal(meta.stale, false);
  assert.equal(meta.unitId, 4);
  assert.equal(meta.line, 'line-a');
  assert.deepEqual(meta.units, { voltage_l1_n: 'V' });

  out = next('out');
  store().receive({ topic: '*' });
  msg = await out;
  assert.deepEqual(msg.payload, { 'meter-1': { voltage_l1_n: 231.5 }, 'meter-2': { voltage_l1_n: 229 } });
  assert.equal((msg.devices as unknown[]).length, 2);

  out = next('out');
  store().receive({ payload: 'meter-2', registers: { registerType: 'input', address: 10, quantity: 2 } });
  assert.deepEqual((await out).payload, [7, 8]);

  const caught = next<{ error: { message: string } }>('caught');
  store().receive({ device: 'meter-9' });
  assert.match((await caught).error.message, /cache store "store under test": device "meter-9" is not in the cache \(known: meter-1, meter-2\)/);
  const caught2 = next<{ error: { message: string } }>('caught');
  store().receive({ device: 'meter-2', registers: { registerType: 'input', address: 9, quantity: 2 } });
  assert.match((await caught2).error.message, /meter-2: input 9\.\.10 were never read/);
});

test('data older than the TTL is reported stale', async () => {
  await helper.load([cacheNode, storeNode, catchNode], flow(0.15));
  const old = reading('meter-1', { voltage_l1_n: 231.5 });
  old.rtu.timestamp = Date.now() - 1000;
  await feed(old);
  const out = next<Record<string, unknown>>('out');
  store().receive({ device: 'meter-1' });
  const msg = await out;
  assert.equal((msg.rtu as { quality: string }).quality, 'stale');
  const caught = next<{ error: { message: string } }>('caught');
  store().receive({ device: 'meter-1', registers: { registerType: 'input', address: 0, quantity: 1 } });
  assert.match((await caught).error.message, /older than the TTL of 0\.15 s/);
});

test('a store without a cache, and a bad TTL, fail with clear errors', async () => {
  await helper.load([cacheNode, storeNode, catchNode], flow(60, { cache: '' }));
  let caught = next<{ error: { message: string } }>('caught');
  store().receive(reading('m', {}));
  assert.match((await caught).error.message, /cache store "store under test": rtu-cache-store.errors.noCache/);
  await helper.unload();
  await helper.load([cacheNode, storeNode, catchNode], flow('soon'));
  caught = next<{ error: { message: string } }>('caught');
  store().receive(reading('m', {}));
  assert.match((await caught).error.message, /cache "site cache": TTL "soon" is not a number of seconds/);
});

test('the cache keeps its contents over a redeploy of the flow', async () => {
  await helper.load([cacheNode, storeNode, catchNode], flow());
  await feed(reading('meter-1', { voltage_l1_n: 231.5 }));
  const before = engine();
  // A full redeploy with the same config node: the new node takes over the contents.
  await helper.setFlows(flow(30), 'full');
  assert.equal(engine(), before);
  assert.equal(engine().ttlMs, 30_000);
  assert.deepEqual(engine().devices(), ['meter-1']);
  // Deleting the config node drops them.
  await helper.setFlows(flow(30).filter((n) => n.id !== cfgId && n.id !== 'store'), 'full');
  assert.deepEqual(before.devices(), []);
});

test('editor strings exist in en-US and de', () => {
  checkLocales('rtu-cache');
  checkLocales('rtu-cache-store');
});

test('the bundled example stores a recorded reading and answers its questions', async () => {
  const flow = exampleFlow('rtu-cache-store.json');
  await helper.load([cacheNode, storeNode, catchNode, coreNode('common/20-inject.js'), coreNode('function/15-change.js'), coreNode('common/21-debug.js')], flow);
  const store = helper.getNode('rtu_cache_ex_store') as TestNode;
  const answers: Record<string, unknown>[] = [];
  store.on('call:send', (call) => answers.push((call as { args: [Record<string, unknown>] }).args[0]));
  const inject = (id: string) => (helper.getNode(id) as unknown as { receive(m: unknown): void }).receive({});
  inject('rtu_cache_ex_reading');
  const cache = (helper.getNode('rtu_cache_ex_cache') as unknown as { cache: RegisterCache }).cache;
  await until(() => cache.has('meter-1'), 2000, 'example reading stored');
  assert.deepEqual(Array.from(cache.read('meter-1', 'input', 0, 4) as Uint16Array), [17254, 13107, 17253, 52429]);
  assert.equal(cache.device('meter-1')!.quality, 'good', 'the change node stamps the reading with the current time');
  inject('rtu_cache_ex_regs');
  await until(() => answers.find((m) => Array.isArray(m.payload)), 2000, 'register answer');
});
