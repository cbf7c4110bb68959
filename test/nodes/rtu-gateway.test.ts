import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import ModbusRTU from 'modbus-serial';
import cacheNode from '../../nodes/rtu-cache/rtu-cache';
import storeNode from '../../nodes/rtu-cache-store/rtu-cache-store';
import gatewayNode from '../../nodes/rtu-gateway/rtu-gateway';
import simulatorNode from '../../nodes/rtu-simulator/rtu-simulator';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import type { RegisterCache } from '../../nodes/lib/cache';
import type { ModbusGateway, WriteEvent } from '../../nodes/lib/gateway';
import { planReads } from '../../nodes/lib/modbus/planner';
import type { RegisterBlock } from '../../nodes/lib/modbus/types';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { sharedRegistry } from '../../nodes/lib/registry';
import type { RunningSimulator } from '../../nodes/lib/simulator/start';
import { mbpoll } from '../integration/simulator-support';
import { checkLocales, coreNode, exampleFlow, freePort, helper, next, statusUntil, TestNode, until, useNodeRed } from './rtu-simulator-support';

const MODEL = 'rtu/simulated-energy-meter';
let cfgCount = 0;
let cfgId = 'gwcache0';
afterEach(() => {
  cfgId = `gwcache${++cfgCount}`;
});

function flow(gateway: Record<string, unknown> = {}, more: Record<string, unknown>[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'gateway' },
    { id: cfgId, type: 'rtu-cache', name: 'site cache', ttl: 60 },
    { id: 'sim', z: 'tab', type: 'rtu-simulator', host: '127.0.0.1', port: 0, units: [{ unitId: 1, model: '' }, { unitId: 2, model: '' }] },
    { id: 'store', z: 'tab', type: 'rtu-cache-store', cache: cfgId, wires: [[]] },
    {
      id: 'gw', z: 'tab', type: 'rtu-gateway', name: 'scada gateway', cache: cfgId, host: '127.0.0.1', port: 0,
      devices: [{ device: 'meter-1', unitId: 10 }, { device: 'meter-2', unitId: 11 }], wires: [['events']], ...gateway,
    },
    { id: 'events', z: 'tab', type: 'helper', wires: [] },
    ...more,
  ];
}

function cache(): RegisterCache {
  return (helper.getNode(cfgId) as unknown as { cache: RegisterCache }).cache;
}

async function gatewayPort(): Promise<number> {
  const gw = await until(() => (helper.getNode('gw') as unknown as { gateway?: ModbusGateway }).gateway, 3000, 'gateway listening');
  return gw.server.address()!.port;
}

/** Reads a simulated unit with a real master along the planner's requests, as a poller would. */
async function readSimulated(device: string, unitId: number): Promise<ReadingMessage> {
  const sim = await until(() => (helper.getNode('sim') as unknown as { simulator?: RunningSimulator }).simulator, 3000, 'simulator');
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port: sim.port });
  c.setID(unitId);
  c.setTimeout(1000);
  const raw: RegisterBlock[] = [];
  try {
    for (const r of planReads(sharedRegistry().requireModel(MODEL).points).requests) {
      raw.push({ registerType: r.registerType, address: r.address, values: (await c.readInputRegisters(r.address, r.quantity)).data });
    }
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
  return { topic: device, payload: {}, rtu: { device, protocol: 'modbus', model: MODEL, unitId, timestamp: Date.now(), quality: 'good', latencyMs: 2, units: {}, raw, seq: 1 } };
}

async function feed(r: ReadingMessage): Promise<void> {
  (helper.getNode('store') as TestNode).receive(r);
  await until(() => cache().has(r.rtu.device), 2000, `${r.rtu.device} cached`);
}

function cached(device: string, address: number, quantity: number): number[] {
  const r = cache().read(device, 'input', address, quantity);
  assert.ok(r instanceof Uint16Array, `${device} input ${address} x${quantity} cached`);
  return Array.from(r);
}

useNodeRed();

const NODES = [cacheNode, storeNode, gatewayNode, simulatorNode];

test('SCADA masters read through the gateway what a reading of the simulator put in the cache', async () => {
  await helper.load(NODES, flow());
  const serving = statusUntil('gw', (s) => s.fill === 'green');
  const port = await gatewayPort();
  assert.equal((await serving).text, 'rtu-gateway.status.serving');
  await feed(await readSimulated('meter-1', 1));
  await feed(await readSimulated('meter-2', 2));

  const r = await mbpoll(['-m', 'tcp', '-a', '10', '-r', '0', '-c', '12', '-t', '3', '-0', '-1', '-p', String(port), '127.0.0.1']);
  assert.equal(r.code, 0, r.output);
  assert.deepEqual([...Array(12).keys()].map((k) => Number(r.values.get(k))), cached('meter-1', 0, 12));

  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  const writeEvent = next<{ topic: string; payload: WriteEvent }>('events');
  try {
    c.setTimeout(1000);
    c.setID(11);
    assert.deepEqual((await c.readInputRegisters(200, 12)).data, cached('meter-2', 200, 12));
    await assert.rejects(c.readInputRegisters(150, 2), (e: { modbusCode?: number }) => e.modbusCode === 2, 'never polled');
    c.setID(12);
    await assert.rejects(c.readInputRegisters(0, 2), (e: { modbusCode?: number }) => e.modbusCode === 0x0a, 'unit not mapped');
    c.setID(10);
    await assert.rejects(c.writeRegister(0, 1), (e: { modbusCode?: number }) => e.modbusCode === 1, 'writes refused by default');
  } finally {
    await new Promise<void>((res) => c.close(() => res()));
  }
  const event = await writeEvent;
  assert.equal(event.topic, 'write/meter-1');
  assert.equal(event.payload.ok, false);
  assert.equal(event.payload.exception, 1);
});

test('pollers on a line fill the cache the gateway serves: simulator -> line -> poller -> cache -> gateway', async () => {
  const simPort = await freePort();
  await helper.load([...NODES, lineNode, pollerNode], flow({}, [
    { id: 'line', type: 'rtu-modbus-line', name: 'sim line', transport: 'tcp', host: '127.0.0.1', port: simPort, timeout: 500, retries: 0 },
    { id: 'p1', z: 'tab', type: 'rtu-modbus-poller', name: 'meter-1', line: 'line', unitId: 1, interval: 0.2, source: 'model', model: MODEL, profile: 'all', includeRaw: true, cache: cfgId, wires: [[]] },
  ]).map((n) => (n.id === 'sim' ? { ...n, port: simPort } : n)));
  const port = await gatewayPort();
  await until(() => cache().read('meter-1', 'input', 414, 12) instanceof Uint16Array, 5000, 'poller reading in the cache');
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  try {
    c.setID(10);
    c.setTimeout(1000);
    const energy = (await c.readInputRegisters(414, 2)).data;
    const kwh = (energy[0] * 65536 + energy[1]) * 0.01;
    assert.ok(kwh > 1000, `energy through the gateway ${kwh} kWh`);
    const v = await c.readInputRegisters(0, 12);
    assert.equal(v.data.length, 12);
  } finally {
    await new Promise<void>((res) => c.close(() => res()));
  }
});

test('enabled writes reach the device\'s writer only for allowed registers', async () => {
  await helper.load(NODES, flow({ writesEnabled: true, allowWrites: [{ device: 'meter-1', target: 'holding:100-101' }], writeTimeout: 1 }));
  const port = await gatewayPort();
  await feed(await readSimulated('meter-1', 1));
  const carried: unknown[] = [];
  cache().setWriter('meter-1', async (req) => {
    carried.push(req);
  });
  const ok = await mbpoll(['-m', 'tcp', '-a', '10', '-r', '100', '-t', '4', '-0', '-p', String(port), '127.0.0.1', '7', '8']);
  assert.equal(ok.code, 0, ok.output);
  assert.deepEqual(carried, [{ fc: 16, address: 100, values: [7, 8] }]);
  const refused = await mbpoll(['-m', 'tcp', '-a', '10', '-r', '102', '-t', '4', '-0', '-p', String(port), '127.0.0.1', '1']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /Illegal data address/i);
  assert.equal(carried.length, 1);
});

test('a gateway without devices serves nothing yet (0A, yellow); a bad map shows why in red', async () => {
  await helper.load(NODES, flow({ devices: [] }));
  const yellow = await statusUntil('gw', (s) => s.fill === 'yellow' && s.shape === 'dot');
  assert.equal(yellow.text, 'rtu-gateway.status.unmapped');
  const port = await gatewayPort();
  const unmapped = await mbpoll(['-m', 'tcp', '-a', '1', '-r', '1', '-c', '1', '-1', '-p', String(port), '127.0.0.1']);
  assert.notEqual(unmapped.code, 0);
  assert.match(unmapped.output, /Gateway path unavailable/);
  await helper.unload();
  await helper.load(NODES, flow({ devices: [{ device: 'a', unitId: 1 }, { device: 'b', unitId: 1 }] }));
  assert.match((await statusUntil('gw', (s) => s.fill === 'red')).text ?? '', /unit id 1 is already used by "a"/);
});

test('bind address and port from environment variables, read at deploy (one flow, many sites)', async () => {
  const port = await freePort();
  process.env.RTU_TEST_GW_HOST = '127.0.0.1';
  process.env.RTU_TEST_GW_PORT = String(port);
  try {
    await helper.load(NODES, flow({ host: 'RTU_TEST_GW_HOST', hostType: 'env', port: 'RTU_TEST_GW_PORT', portType: 'env' }));
    assert.equal(await gatewayPort(), port);
    const gw = (helper.getNode('gw') as unknown as { gateway: ModbusGateway }).gateway;
    assert.equal(gw.server.address()?.address, '127.0.0.1');
  } finally {
    delete process.env.RTU_TEST_GW_HOST;
    delete process.env.RTU_TEST_GW_PORT;
  }
});

function loggedErrors(): string[] {
  return (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level === 20).map(([e]) => String(e.msg));
}

test('an unset or non-numeric port variable stops the gateway, naming the node, the field and what the variable held', async () => {
  process.env.RTU_TEST_GW_PORT = 'fifteen-o-two';
  try {
    await helper.load(NODES, flow({ port: 'RTU_TEST_GW_PORT', portType: 'env' }));
    await statusUntil('gw', (s) => s.fill === 'red');
    assert.ok(loggedErrors().includes('gateway "scada gateway": port from env RTU_TEST_GW_PORT is "fifteen-o-two" — not a whole number in 0..65535'), loggedErrors().join('\n'));
    await helper.unload();
    await helper.load(NODES, flow({ port: 'RTU_TEST_GW_UNSET', portType: 'env' }));
    await statusUntil('gw', (s) => s.fill === 'red');
  } finally {
    delete process.env.RTU_TEST_GW_PORT;
  }
  assert.ok(loggedErrors().includes('gateway "scada gateway": port from env RTU_TEST_GW_UNSET is "" — not a whole number in 0..65535'), loggedErrors().join('\n'));
  assert.equal((helper.getNode('gw') as unknown as { gateway?: ModbusGateway }).gateway, undefined);
});

test('a flow saved before host and port were typed (no hostType, portType) keeps its plain values', async () => {
  const port = await freePort();
  const nodes = flow({ port: String(port) });
  assert.equal('portType' in nodes[4] || 'hostType' in nodes[4], false);
  await helper.load(NODES, nodes);
  assert.equal(await gatewayPort(), port);
});

test('editor strings exist in en-US and de', () => {
  checkLocales('rtu-gateway');
});

test('the bundled example deploys: simulator, line, pollers, cache and gateway', async () => {
  const simPort = await freePort();
  const flow = exampleFlow('rtu-gateway.json', { rtu_gw_ex_sim: simPort, rtu_gw_ex_line: simPort, rtu_gw_ex_gw: 0 })
    .map((n) => (n.type === 'rtu-modbus-poller' ? { ...n, interval: 0.2 } : n));
  await helper.load([...NODES, lineNode, pollerNode, coreNode('common/21-debug.js')], flow);
  const gw = await until(() => (helper.getNode('rtu_gw_ex_gw') as unknown as { gateway?: ModbusGateway }).gateway, 3000, 'example gateway');
  const exampleCache = (helper.getNode('rtu_gw_ex_cache') as unknown as { cache: RegisterCache }).cache;
  await until(() => exampleCache.has('meter-1') && exampleCache.has('meter-2'), 5000, 'both meters polled');
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port: gw.server.address()!.port });
  try {
    c.setID(11);
    c.setTimeout(1000);
    assert.equal((await c.readInputRegisters(0, 12)).data.length, 12);
  } finally {
    await new Promise<void>((res) => c.close(() => res()));
  }
});
