import { test } from 'node:test';
import assert from 'node:assert/strict';
import ModbusRTU from 'modbus-serial';
import simulatorNode from '../../nodes/rtu-simulator/rtu-simulator';
import { decodePoint } from '../../nodes/lib/modbus/codec';
import { sharedRegistry } from '../../nodes/lib/registry';
import type { RunningSimulator } from '../../nodes/lib/simulator/start';
import { caughtErrors, checkLocales, coreNode, exampleFlow, freePort, helper, next, statusUntil, TestNode, until, useNodeRed } from './rtu-simulator-support';

const catchNode = coreNode('common/25-catch.js');

interface SimNode {
  simulator?: RunningSimulator;
}

function flow(config: Record<string, unknown>) {
  return [
    { id: 'tab', type: 'tab', label: 'simulator' },
    { id: 'sim', z: 'tab', type: 'rtu-simulator', name: 'sim under test', host: '127.0.0.1', port: 0, units: [{ unitId: 1, model: '' }, { unitId: 2, model: 'eastron/sdm630' }], ...config },
    ...caughtErrors('tab'),
  ];
}

async function running(): Promise<RunningSimulator> {
  return until(() => (helper.getNode('sim') as SimNode).simulator, 3000, 'simulator listening');
}

async function withClient<T>(port: number, fn: (c: ModbusRTU) => Promise<T>): Promise<T> {
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setTimeout(300);
  try {
    return await fn(c);
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
}

useNodeRed();

test('serves registry models at their unit ids with plausible values', async () => {
  await helper.load([simulatorNode], flow({}));
  const listening = statusUntil('sim', (s) => s.fill === 'green');
  const sim = await running();
  assert.equal((await listening).text, 'rtu-simulator.status.listening');
  await withClient(sim.port, async (c) => {
    c.setID(1);
    const v = (await c.readInputRegisters(0, 2)).data;
    const volts = decodePoint(sharedRegistry().requireModel('rtu/simulated-energy-meter').points[0], v, 0) as number;
    assert.ok(volts > 220 && volts < 240, `simulated meter voltage ${volts}`);
    c.setID(2);
    const sdm = sharedRegistry().requireModel('eastron/sdm630');
    const f = sdm.points.find((p) => p.name === 'frequency')!;
    const hz = decodePoint(f, (await c.readInputRegisters(f.address, 2)).data, 0) as number;
    assert.ok(hz > 49.9 && hz < 50.1, `SDM630 frequency ${hz}`);
    await assert.rejects(c.readInputRegisters(f.address + 1000, 2), (e: { modbusCode?: number }) => e.modbusCode === 2);
  });
});

test('control messages switch units dead, inject faults and reset', async () => {
  await helper.load([simulatorNode, catchNode], flow({ deadUnits: '2' }));
  const sim = await running();
  const node = helper.getNode('sim') as TestNode;
  await withClient(sim.port, async (c) => {
    c.setID(2);
    await assert.rejects(c.readInputRegisters(0, 2), (e: { message?: string }) => /timed out/i.test(e.message ?? ''), 'configured dead unit');
    node.receive({ payload: { dead: [1] } });
    c.setID(2);
    assert.equal((await c.readInputRegisters(0, 2)).data.length, 2, 'unit 2 revived');
    c.setID(1);
    await assert.rejects(c.readInputRegisters(0, 2), (e: { message?: string }) => /timed out/i.test(e.message ?? ''));
    node.receive({ payload: { dead: [], faults: [{ unitId: 1, registerType: 'input', address: 0, exception: 4 }] } });
    await assert.rejects(c.readInputRegisters(0, 2), (e: { modbusCode?: number }) => e.modbusCode === 4);
    node.receive({ payload: { reset: true } });
    assert.equal((await c.readInputRegisters(0, 2)).data.length, 2, 'faults cleared');
    c.setID(2);
    await assert.rejects(c.readInputRegisters(0, 2), (e: { message?: string }) => /timed out/i.test(e.message ?? ''), 'reset restores dead units');
  });
  const caught = next<{ error: { message: string } }>('caught');
  node.receive({ payload: { latency: 'slow' } });
  assert.match((await caught).error.message, /simulator "sim under test": payload.latency "slow" is not a number of ms/);
});

test('a bad configuration shows a red status and fails inputs with the field named', async () => {
  await helper.load([simulatorNode, catchNode], flow({ units: [{ unitId: 300, model: '' }] }));
  const node = helper.getNode('sim') as TestNode & SimNode;
  assert.equal(node.simulator, undefined);
  const caught = next<{ error: { message: string } }>('caught');
  node.receive({ payload: { reset: true } });
  assert.match((await caught).error.message, /unit 1: unit id 300 is not a whole number in 1\.\.247/);
});

test('an unknown model is reported with the known ones', async () => {
  await helper.load([simulatorNode], flow({ units: [{ unitId: 1, model: 'acme/nothing' }] }));
  const red = await statusUntil('sim', (s) => s.fill === 'red');
  assert.match(red.text ?? '', /simulated unit 1: meter model "acme\/nothing"/);
});

test('a redeploy releases the port and the next deployment gets it', async () => {
  const port = await freePort();
  for (let round = 0; round < 3; round++) {
    await helper.load([simulatorNode], flow({ port }));
    const sim = await running();
    assert.equal(sim.port, port);
    await withClient(port, async (c) => {
      c.setID(1);
      assert.equal((await c.readInputRegisters(0, 2)).data.length, 2);
    });
    await helper.unload();
  }
  await helper.load([simulatorNode], flow({ port }));
  await running();
});

test('editor strings exist in en-US and de', () => {
  checkLocales('rtu-simulator');
});

test('the bundled example deploys and its control messages work', async () => {
  const flow = exampleFlow('rtu-simulator.json', { rtu_sim_ex_sim: 0 });
  await helper.load([simulatorNode, coreNode('common/20-inject.js')], flow);
  const sim = await until(() => (helper.getNode('rtu_sim_ex_sim') as SimNode).simulator, 3000, 'example simulator');
  assert.equal(sim.simulator.meters().length, 3);
  assert.equal(sim.simulator.meter(3)!.model, 'eastron/sdm630');
  (helper.getNode('rtu_sim_ex_dead') as unknown as { receive(m: unknown): void }).receive({});
  await until(() => sim.simulator.deadUnitIds().includes(2), 2000, 'unit 2 dead');
});
