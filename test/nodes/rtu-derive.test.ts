import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import deriveNode from '../../nodes/rtu-derive/rtu-derive';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import simulatorNode from '../../nodes/rtu-simulator/rtu-simulator';
import alertNode from '../../nodes/rtu-alert/rtu-alert';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { caughtErrors, checkLocales, coreNode, exampleFlow, freePort, helper, helperNodes, statusUntil, TestNode, useNodeRed } from './rtu-simulator-support';
import { nextMessage } from '../support/node-red';

const catchNode = coreNode('common/25-catch.js');
const switchNode = coreNode('function/10-switch.js');
const debugNode = coreNode('common/21-debug.js');

let userDir = '';
useNodeRed('rtu-derive-');

function stateFile(id: string): string {
  userDir = (helper as unknown as { _settings: { userDir: string } })._settings.userDir;
  return path.join(userDir, 'energy-rtu', `derive-${id}.json`);
}

function reading(device: string, payload: Record<string, number | null>, timestamp: number): ReadingMessage {
  return { topic: device, payload, rtu: { device, protocol: 'modbus', timestamp, quality: 'good', latencyMs: 1, units: { energy: 'kWh', voltage: 'V', current: 'A' }, seq: 1 } };
}

test('help and catalogues exist in both languages with the same keys', () => {
  checkLocales('rtu-derive');
});

test('the example flow runs on the real simulator: derived points on each reading, a site total across meters', async () => {
  const simPort = await freePort();
  const flow = exampleFlow('rtu-derive.json', { rtu_derive_ex_sim: simPort, rtu_derive_ex_line: simPort });
  for (const n of flow) if (n.type === 'rtu-modbus-poller') n.interval = 1;
  const derive = flow.find((n) => n.id === 'rtu_derive_ex_derive') as unknown as { wires: string[][] };
  derive.wires[0].push('out');
  flow.push(...(helperNodes('rtu_derive_ex_tab', 'out') as unknown as typeof flow));
  await helper.load([simulatorNode, lineNode, pollerNode, deriveNode, alertNode, switchNode, debugNode], flow);
  const meter = await nextMessage<ReadingMessage>('out', (m) => m.topic === 'meter-1' && m.rtu.quality === 'good' && m.rtu.seq >= 2, 10_000);
  const p = meter.payload as Record<string, number>;
  assert.ok(Math.abs(p.current_avg - (p.current_l1 + p.current_l2 + p.current_l3) / 3) < 1e-9);
  assert.ok(Math.abs(p.apparent_power_calc - Math.hypot(p.active_power_total, p.reactive_power_total)) < 1e-6);
  assert.equal(meter.rtu.points?.current_avg?.derived, true);
  assert.equal(meter.rtu.points?.voltage_l1_n?.registerType, 'input', 'measured points keep their register info');
  assert.equal(meter.rtu.units.current_avg, 'A');
  assert.equal(typeof p.active_energy_import_total_1min_demand_predicted, 'number');
  // The site total once both meters have been read: it equals the meters' own latest values.
  const latest: Record<string, number> = {};
  const site = await nextMessage<ReadingMessage>('out', (m) => {
    if (m.topic === 'meter-1' || m.topic === 'meter-2') latest[m.topic] = (m.payload as Record<string, number>).active_power_total;
    return m.topic === 'site' && m.rtu.quality === 'good' && Object.keys(latest).length === 2;
  }, 10_000);
  assert.ok(Math.abs((site.payload.power_total as number) - (latest['meter-1'] + latest['meter-2']) / 1000) < 1e-6);
  assert.equal(site.rtu.protocol, 'derived');
  assert.equal(site.rtu.units.power_total, 'kW');
  await statusUntil('rtu_derive_ex_derive', (s) => s.fill === 'green', 5000);
});

test('a bad row is logged with node, row, field and position, shown in status, and the good rows still run', async () => {
  await helper.load([deriveNode, catchNode], [
    { id: 'tab', type: 'tab' },
    { id: 'derive', z: 'tab', type: 'rtu-derive', name: 'bad rows', points: [{ name: 'ok', expression: 'a * 2' }, { name: 'bad', expression: 'a + (b' }], intervals: [], wires: [['out']] },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ]);
  await statusUntil('derive', (s) => s.fill === 'red' && s.shape === 'ring');
  const logged = (helper.log().args as Array<[{ msg?: unknown }]>).map((a) => String(a[0]?.msg));
  assert.ok(logged.includes('derive "bad rows": point row 2, expression: expected ")" but found the end of the expression at position 7 in "a + (b"'), logged.join('\n'));
  const out = nextMessage<ReadingMessage>('out');
  (helper.getNode('derive') as TestNode).receive(reading('m', { a: 4 }, Date.now()));
  assert.equal((await out).payload.ok, 8);
  // Not a reading: an error for a Catch node that says what was expected.
  const caught = nextMessage<{ error: { message: string } }>('caught');
  (helper.getNode('derive') as TestNode).receive({ topic: 'x', payload: 1 });
  assert.match((await caught).error.message, /not a reading \(needs msg.payload and msg.rtu.device\); topic "x"/);
});

test('interval state is saved at stop and a restart inside the interval resumes it', async () => {
  const before = process.env.TZ;
  process.env.TZ = 'UTC';
  const MIN = 60_000;
  const t0 = Date.parse('2026-05-01T10:00:00Z');
  const flow = [
    { id: 'tab', type: 'tab' },
    { id: 'keep', z: 'tab', type: 'rtu-derive', name: '', points: [], intervals: [{ device: 'meter-1', point: 'energy', minutes: 15 }], persist: true, wires: [['out']] },
    ...helperNodes('tab', 'out'),
  ];
  try {
    await helper.load([deriveNode], flow);
    const node = helper.getNode('keep') as TestNode & { close(removed: boolean): Promise<void> };
    for (let i = 0; i <= 7; i++) node.receive(reading('meter-1', { energy: 100 + i }, t0 + i * MIN));
    await nextMessage('out', (m: ReadingMessage) => m.rtu.timestamp === t0 + 7 * MIN);
    await node.close(false);
    const saved = fs.readFileSync(stateFile('keep'), 'utf8');
    assert.match(saved, /"lastV":107/);
    await helper.unload();
    fs.mkdirSync(path.dirname(stateFile('keep')), { recursive: true });
    fs.writeFileSync(stateFile('keep'), saved);
    await helper.load([deriveNode], flow);
    const again = helper.getNode('keep') as TestNode;
    for (let i = 8; i < 15; i++) again.receive(reading('meter-1', { energy: 100 + i }, t0 + i * MIN));
    const interval = nextMessage<ReadingMessage>('out', (m) => m.topic === 'meter-1/15min');
    again.receive(reading('meter-1', { energy: 115 }, t0 + 15 * MIN));
    const r = await interval;
    assert.equal(r.payload.energy_15min, 15);
    assert.equal(r.rtu.interval?.complete, true, 'no gap and nothing lost across the restart');
    assert.equal(r.payload.energy_15min_demand, 60);
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

test('an rtu-alert high rule on the predicted demand raises before the interval ends above the limit', async () => {
  const before = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    await helper.load([deriveNode, alertNode], [
      { id: 'tab', type: 'tab' },
      { id: 'derive', z: 'tab', type: 'rtu-derive', points: [], intervals: [{ device: 'meter-1', point: 'energy', minutes: 15 }], persist: false, wires: [['alert']] },
      { id: 'alert', z: 'tab', type: 'rtu-alert', rules: [{ id: 'demand', device: 'meter-1', point: 'energy_15min_demand_predicted', type: 'high', limit: 100 }], persist: false, wires: [['alerts']] },
      ...helperNodes('tab', 'alerts'),
    ]);
    const t0 = Date.parse('2026-05-01T10:00:00Z');
    const raised = nextMessage<{ payload: { state: string; point: string; value: number; unit: string } }>('alerts', (m) => m.payload.state === 'raised');
    const node = helper.getNode('derive') as TestNode;
    // 0.5 kWh per minute = 30 kW: no alert; then 3 kWh per minute = 180 kW predicts well above 100 kW.
    for (let i = 0; i <= 3; i++) node.receive(reading('meter-1', { energy: 100 + i * 0.5 }, t0 + i * 60_000));
    for (let i = 4; i <= 5; i++) node.receive(reading('meter-1', { energy: 101.5 + (i - 3) * 3 }, t0 + i * 60_000));
    const alert = (await raised).payload;
    assert.equal(alert.point, 'energy_15min_demand_predicted');
    assert.equal(alert.unit, 'kW');
    // At minute 5: 7.5 kWh so far + 180 kW for the 10 minutes left = 37.5 kWh in 15 min = 150 kW.
    assert.equal(alert.value, 150);
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});
