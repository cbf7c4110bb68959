/**
 * rtu-sparkplug in the real Node-RED runtime (5, or 4 with RTU_NODE_RED=4): a poller on the
 * simulated meter feeds it, a private mosquitto carries the session, and the independent test
 * host (test/support/sparkplug) checks the messages and sends DCMD writes.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import brokerNode from '../../nodes/rtu-mqtt-broker/rtu-mqtt-broker';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import sparkplugNode from '../../nodes/rtu-sparkplug/rtu-sparkplug';
import type { PointDef } from '../../nodes/lib/modbus/types';
import { startSimulator, RunningSimulator } from '../../nodes/lib/simulator/start';
import { caughtErrors, coreNode, helper, nextMessage, startServer, statusWhere, stopServer } from '../support/node-red';
import { testMode } from '../../nodes/lib/test-mode';
import { TestHost } from '../support/sparkplug/host';
import { TestMosquitto } from '../support/sparkplug/mosquitto';
import { DataType } from '../support/sparkplug/wire';
import { waitFor } from '../support/wait';

const POINTS: PointDef[] = [
  { name: 'voltage', registerType: 'input', address: 0, dataType: 'float32', unit: 'V', description: 'phase voltage' },
  { name: 'setpoint', registerType: 'holding', address: 10, dataType: 'uint16', writable: true, unit: 'kW' },
  { name: 'current', registerType: 'input', address: 2, dataType: 'int16', scale: 0.1, unit: 'A' },
];

let dir: string;
let broker: TestMosquitto;
let sim: RunningSimulator;
let host: TestHost;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-spb-node-'));
  broker = await TestMosquitto.start(dir);
  sim = await startSimulator({ units: [{ unitId: 1, points: POINTS }] });
  helper.settings({ userDir: dir });
  await startServer();
});
after(async () => {
  await stopServer();
  await sim.close();
  await broker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await helper.unload();
  await host?.close();
});

function flow(spb: Record<string, unknown>): Record<string, unknown>[] {
  return [
    { id: 'tab', type: 'tab', label: 'sparkplug' },
    { id: 'broker', type: 'rtu-mqtt-broker', name: 'test broker', host: '127.0.0.1', port: broker.port, protocolVersion: '4', keepalive: 5 },
    { id: 'line', type: 'rtu-modbus-line', name: 'sim line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 300, retries: 0 },
    { id: 'poller', z: 'tab', type: 'rtu-modbus-poller', name: 'meter1', line: 'line', unitId: 1, interval: 0.2, source: 'points', points: POINTS, wires: [['spb']] },
    { id: 'spb', z: 'tab', type: 'rtu-sparkplug', name: 'edge', broker: 'broker', wires: [['cmd']], ...spb },
    { id: 'cmd', z: 'tab', type: 'helper', wires: [] },
    ...caughtErrors('tab'),
  ];
}

function errorsOf(id: string): string[] {
  return ((helper.getNode(id) as unknown as { error: { getCalls(): Array<{ args: unknown[] }> } }).error.getCalls() ?? []).map((c) => String(c.args[0]));
}

const nodes = [brokerNode, lineNode, pollerNode, sparkplugNode, coreNode('common/25-catch.js')];

test('a poller becomes a Sparkplug device; ids from env; DCMD writes go through the poller; read-only points are refused', async () => {
  process.env.SPB_TEST_GROUP = 'site7';
  try {
    host = new TestHost(broker.port, 'scada', 'site7');
    await host.connect(true);
    await helper.load(nodes, flow({ groupId: 'SPB_TEST_GROUP', groupIdType: 'env', edgeNodeId: 'rtu1', edgeNodeIdType: 'str', writesEnabled: true, allowWrites: 'meter1/setpoint\nmeter1/voltage' }));
    await waitFor(() => host.of('DBIRTH', 'meter1').length === 1, 'DBIRTH of meter1', 10_000);
    assert.equal(host.of('NBIRTH')[0].topic, 'spBv1.0/site7/NBIRTH/rtu1');
    const metrics = Object.fromEntries(host.of('DBIRTH', 'meter1')[0].payload.metrics.map((m) => [m.name, m]));
    assert.equal(metrics.voltage.datatype, DataType.Float);
    assert.equal(metrics.voltage.properties?.engUnit.value, 'V');
    assert.equal(metrics.setpoint.datatype, DataType.UInt16);
    assert.equal(metrics.current.datatype, DataType.Double, 'a scaled int16 register carries decimals: Double');

    // Listen before sending: the answer can come before the broker's PUBACK reaches the host.
    const written = nextMessage<{ payload: { ok: boolean; writes: Record<string, number> } }>('cmd', () => true, 5000);
    await host.command('rtu1', 'meter1', [{ name: 'setpoint', datatype: DataType.UInt16, value: 77 }]);
    const done = await written;
    assert.deepEqual(done.payload.writes, { setpoint: 77 });
    assert.equal(done.payload.ok, true);
    await waitFor(() => host.series('meter1', 'setpoint').some((d) => d.value === 77), 'the written value back in DDATA', 5000);

    const answer = nextMessage<{ payload: { ok: boolean; error: string } }>('cmd', () => true, 5000);
    await host.command('rtu1', 'meter1', [{ name: 'voltage', datatype: DataType.Float, value: 1 }]);
    const refused = await answer;
    assert.equal(refused.payload.ok, false);
    assert.match(refused.payload.error, /meter1.*read-only/);
    assert.deepEqual(host.violations, []);
  } finally {
    delete process.env.SPB_TEST_GROUP;
  }
});

test('bad ids: an error naming the node and the field, and inputs fail where a Catch node sees them', async () => {
  host = new TestHost(broker.port, 'scada', 'x');
  await host.connect(false);
  await helper.load(nodes, flow({ groupId: 'north/plant', edgeNodeId: 'rtu1' }));
  await waitFor(() => errorsOf('spb').length > 0, 'the configuration error');
  assert.match(errorsOf('spb')[0], /sparkplug "edge": group id "north\/plant" contains "\/"/);
  await nextMessage('caught', (m: Record<string, unknown>) => /group id/.test(String((m.error as { message?: string })?.message)), 5000);
  await helper.unload();

  await helper.load(nodes, flow({ groupId: 'plant', edgeNodeId: 'SPB_NO_SUCH_VAR', edgeNodeIdType: 'env' }));
  await waitFor(() => errorsOf('spb').length > 0, 'the env error');
  assert.match(errorsOf('spb')[0], /edge node id from env SPB_NO_SUCH_VAR/);
});

test('a device name that cannot be a Sparkplug id is refused by name; the other devices go on', async () => {
  host = new TestHost(broker.port, 'scada', 'plant');
  await host.connect(true);
  await helper.load(nodes, flow({ groupId: 'plant', edgeNodeId: 'rtu2' }));
  const spb = helper.getNode('spb') as unknown as { receive(msg: unknown): void };
  await waitFor(() => host.of('DBIRTH', 'meter1').length === 1, 'meter1 born', 10_000);
  const shown = statusWhere('spb', (st) => /device id "a\/b"/.test(st.text ?? ''));
  spb.receive({ topic: 'a/b', payload: { v: 1 }, rtu: { device: 'a/b', protocol: 'modbus', timestamp: Date.now(), quality: 'good', latencyMs: 0, units: {}, seq: 1 } });
  spb.receive({ topic: 'odd', payload: { v: 1, w: 2 }, rtu: { device: 'odd', protocol: 'modbus', timestamp: Date.now(), quality: 'good', latencyMs: 0, units: {}, seq: 1, points: { w: { dataType: 'complex128' } } } });
  const caught = await nextMessage<{ error: { message: string } }>('caught', () => true, 5000);
  assert.match(caught.error.message, /sparkplug "edge": device id "a\/b" contains "\/"/);
  assert.equal((await shown).fill, 'yellow', 'the status says what was refused');
  await waitFor(() => host.of('DBIRTH', 'odd').length === 1, 'odd born without its unmappable point');
  assert.deepEqual(host.of('DBIRTH', 'odd')[0].payload.metrics.map((m) => m.name), ['v']);
  const warnings = (helper.getNode('spb') as unknown as { warn: { getCalls(): Array<{ args: unknown[] }> } }).warn.getCalls().map((c) => String(c.args[0]));
  assert.ok(warnings.some((w) => /device "odd" point "w": data type "complex128" has no Sparkplug B equivalent/.test(w)), warnings.join('\n'));
  assert.deepEqual(host.violations, []);
});

test('the example flow deploys and births its three devices (broker moved to the test mosquitto)', async () => {
  const example = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'examples', 'rtu-sparkplug.json'), 'utf8')) as Array<Record<string, unknown>>;
  for (const n of example) if (n.type === 'rtu-mqtt-broker') n.port = broker.port;
  host = new TestHost(broker.port, 'scada', 'plant');
  await host.connect(true);
  await helper.load([brokerNode, sparkplugNode, coreNode('common/20-inject.js'), coreNode('function/10-function.js'), coreNode('common/21-debug.js')], example);
  await waitFor(() => ['incomer', 'pv1', 'bess1'].every((d) => host.of('DBIRTH', d).length === 1), 'three DBIRTHs', 10_000);
  assert.equal(host.of('NBIRTH')[0].topic, 'spBv1.0/plant/NBIRTH/rtu1');
  assert.deepEqual(host.violations, []);
});

test('test mode: the Test Mode node metric goes out at once, and a DCMD becomes a dry run', async () => {
  host = new TestHost(broker.port, 'scada', 'plant');
  await host.connect(true);
  await helper.load(nodes, flow({ groupId: 'plant', edgeNodeId: 'rtu3', writesEnabled: true, allowWrites: 'meter1/setpoint' }));
  await waitFor(() => host.of('DBIRTH', 'meter1').length === 1, 'DBIRTH of meter1', 10_000);
  const before = host.series('meter1', 'setpoint').at(-1)!.value;
  const alias = host.of('NBIRTH')[0].payload.metrics.find((m) => m.name === 'Node Info/Test Mode')!.alias;
  testMode.set(true, 'test');
  try {
    await waitFor(() => host.of('NDATA').some((m) => m.payload.metrics.some((x) => x.alias === alias && x.value === true)), 'NDATA Test Mode = true');
    const answer = nextMessage<{ payload: { dryRun: boolean; ok: boolean; writes: Record<string, number> } }>('cmd', () => true, 5000);
    await host.command('rtu3', 'meter1', [{ name: 'setpoint', datatype: DataType.UInt16, value: Number(before) + 5 }]);
    const dry = await answer;
    assert.deepEqual([dry.payload.dryRun, dry.payload.ok, dry.payload.writes], [true, true, { setpoint: Number(before) + 5 }]);
    assert.equal(sim.simulator.meter(1)?.snapshot(Date.now()).setpoint, before, 'nothing was written to the device');
  } finally {
    testMode.set(false, 'test');
  }
  assert.deepEqual(host.violations, []);
});
