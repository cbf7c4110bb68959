import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePoint } from '../../nodes/lib/modbus/codec';
import { ModbusException } from '../../nodes/lib/modbus/pdu';
import { NO_RESPONSE } from '../../nodes/lib/modbus/server-handler';
import type { PointDef } from '../../nodes/lib/modbus/types';
import { meaningOf } from '../../nodes/lib/simulator/meaning';
import { SimulatedMeter } from '../../nodes/lib/simulator/meter';
import { MeterSimulator } from '../../nodes/lib/simulator/simulator';
import { DEFAULT_SIMULATED_MODEL, resolveUnits } from '../../nodes/lib/simulator/models';
import { sharedRegistry } from '../../nodes/lib/registry';
import { planReads } from '../../nodes/lib/modbus/planner';
import { SINGLE_PHASE_POINTS, THREE_PHASE_POINTS } from './simulator-fixtures';

const NOON = new Date(2026, 5, 1, 12, 0, 0).getTime();

function decodeAll(meter: SimulatedMeter, points: PointDef[], now: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of points) {
    if (p.registerType !== 'input') continue;
    const words = meter.read('input', p.address, 2, now);
    out[p.name] = decodePoint(p, words, 0) as number;
  }
  return out;
}

function isModbusException(code: number) {
  return (e: unknown) => e instanceof ModbusException && e.code === code;
}

test('point meanings come from the shared names and fall back on units', () => {
  const m = (name: string, unit?: string) => meaningOf({ name, registerType: 'input', address: 0, dataType: 'float32', unit });
  assert.deepEqual(m('voltage_l2_n', 'V'), { quantity: 'voltage_ln', scope: { kind: 'phase', index: 1 }, factor: 1 });
  assert.equal(m('voltage_l3_l1', 'V').quantity, 'voltage_ll');
  assert.deepEqual(m('voltage_l3_l1', 'V').scope, { kind: 'phase', index: 2 });
  assert.equal(m('current_n', 'A').quantity, 'current_neutral');
  assert.equal(m('active_energy_export_total', 'kWh').quantity, 'active_energy_export');
  assert.equal(m('active_energy_export_total', 'kWh').factor, 1e-3);
  assert.equal(m('reactive_energy_import_total', 'kvarh').quantity, 'reactive_energy_import');
  assert.equal(m('pwr', 'kW').quantity, 'active_power');
  assert.equal(m('pwr', 'kW').factor, 1e-3);
  assert.equal(m('power_factor_total').quantity, 'power_factor');
  assert.equal(m('something_else').quantity, 'constant');
});

test('a three-phase meter gives plausible, mutually consistent values', () => {
  const meter = new SimulatedMeter({ unitId: 1, points: THREE_PHASE_POINTS, seed: 42 });
  for (let k = 0; k < 20; k++) {
    const now = NOON + k * 3_600_000;
    const v = decodeAll(meter, THREE_PHASE_POINTS, now);
    for (const ph of ['l1', 'l2', 'l3']) {
      assert.ok(v[`voltage_${ph}_n`] > 220 && v[`voltage_${ph}_n`] < 240, `voltage_${ph}_n ${v[`voltage_${ph}_n`]}`);
      assert.ok(v[`current_${ph}`] > 0, `current_${ph}`);
      const pf = v[`power_factor_${ph}`];
      assert.ok(pf >= 0.85 && pf <= 0.99, `power_factor_${ph} ${pf}`);
      const p = v[`voltage_${ph}_n`] * v[`current_${ph}`] * pf;
      assert.ok(Math.abs(v[`active_power_${ph}`] - p) / p < 1e-5, `active_power_${ph} = V·I·PF`);
    }
    for (const pair of ['l1_l2', 'l2_l3', 'l3_l1']) {
      assert.ok(v[`voltage_${pair}`] > 385 && v[`voltage_${pair}`] < 415, `voltage_${pair} ${v[`voltage_${pair}`]}`);
    }
    const sum = v.active_power_l1 + v.active_power_l2 + v.active_power_l3;
    assert.ok(Math.abs(v.active_power_total - sum) / sum < 1e-5);
    const s = v.apparent_power_total;
    assert.ok(Math.abs(v.power_factor_total - v.active_power_total / s) < 1e-4);
    assert.ok(Math.abs(s * s - v.active_power_total ** 2 - v.reactive_power_total ** 2) / (s * s) < 1e-4, 'S² = P² + Q²');
    assert.ok(v.frequency > 49.9 && v.frequency < 50.1, `frequency ${v.frequency}`);
    assert.ok(v.current_n >= 0 && v.current_n < Math.max(v.current_l1, v.current_l2, v.current_l3));
    // Scaled and other-unit copies of the same quantities agree with the float registers.
    const kw = decodePoint(THREE_PHASE_POINTS.find((p) => p.name === 'power_kw')!, meter.read('holding', 0, 2, now), 0) as number;
    assert.ok(Math.abs(kw - v.active_power_total / 1000) < 0.002, `power_kw ${kw} vs ${v.active_power_total} W`);
    const v10 = meter.read('holding', 4, 1, now)[0] / 10;
    assert.ok(Math.abs(v10 - v.voltage_l1_n) <= 0.06);
  }
});

test('currents follow a daily load curve: evening peak above the night base', () => {
  const meter = new SimulatedMeter({ unitId: 3, points: THREE_PHASE_POINTS, seed: 7 });
  const at = (h: number) => decodeAll(meter, THREE_PHASE_POINTS, new Date(2026, 5, 2, h, 0, 0).getTime()).current_l1;
  const night = at(3);
  const evening = at(19);
  assert.ok(evening > night * 1.8, `evening ${evening} A vs night ${night} A`);
});

test('energy counters only grow, in step with the power', () => {
  const meter = new SimulatedMeter({ unitId: 2, points: THREE_PHASE_POINTS, seed: 9 });
  const energyPoint = THREE_PHASE_POINTS.find((p) => p.name === 'active_energy_import_total')!;
  const whPoint = THREE_PHASE_POINTS.find((p) => p.name === 'energy_wh')!;
  const kwh = (now: number) => decodePoint(energyPoint, meter.read('input', 72, 2, now), 0) as number;
  const start = kwh(NOON);
  let previous = start;
  let previousWh = decodePoint(whPoint, meter.read('holding', 2, 2, NOON), 0) as number;
  let powerIntegral = 0;
  let t = NOON;
  for (let k = 0; k < 120; k++) {
    const p = decodeAll(meter, THREE_PHASE_POINTS, t).active_power_total;
    t += 30_000;
    powerIntegral += (p * 30) / 3600 / 1000;
    const now = kwh(t);
    const wh = decodePoint(whPoint, meter.read('holding', 2, 2, t), 0) as number;
    assert.ok(now >= previous, `energy went down: ${previous} -> ${now}`);
    assert.ok(wh >= previousWh, `Wh counter went down: ${previousWh} -> ${wh}`);
    previous = now;
    previousWh = wh;
  }
  const grown = previous - start;
  // float32 around 10^4 kWh resolves to ~1 Wh: compare with a small tolerance.
  assert.ok(Math.abs(grown - powerIntegral) / powerIntegral < 0.01, `grew ${grown} kWh, power gives ${powerIntegral} kWh`);
});

test('values refresh at most once per second', () => {
  const meter = new SimulatedMeter({ unitId: 1, points: THREE_PHASE_POINTS, seed: 1 });
  const a = Array.from(meter.read('input', 0, 20, NOON));
  const b = Array.from(meter.read('input', 0, 20, NOON + 999));
  const c = Array.from(meter.read('input', 0, 20, NOON + 1000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('registers outside the model answer 02; small holes read as zeros', () => {
  const meter = new SimulatedMeter({ unitId: 1, points: THREE_PHASE_POINTS, neverRead: [{ registerType: 'input', address: 76, quantity: 2 }] });
  assert.throws(() => meter.read('input', 42, 2, NOON), isModbusException(2));
  assert.throws(() => meter.read('input', 40, 4, NOON), isModbusException(2), 'runs past the end of a segment');
  assert.throws(() => meter.read('input', 76, 2, NOON), isModbusException(2), 'never-read range');
  assert.throws(() => meter.read('holding', 100, 1, NOON), isModbusException(2));
  assert.throws(() => meter.read('discrete', 0, 1, NOON), isModbusException(2), 'a table the model does not have');
  assert.deepEqual(Array.from(meter.read('holding', 5, 2, NOON)), [0, 0]);
  assert.equal(meter.read('input', 0, 42, NOON).length, 42);
  const serial = decodePoint(THREE_PHASE_POINTS.find((p) => p.name === 'serial_number')!, meter.read('holding', 8, 4, NOON), 0);
  assert.equal(serial, 'SIM00001');
});

test('writes reach writable points only', () => {
  const meter = new SimulatedMeter({ unitId: 1, points: THREE_PHASE_POINTS });
  meter.write('holding', 7, [150], 6);
  assert.equal(meter.read('holding', 7, 1, NOON)[0], 150);
  assert.equal(meter.read('holding', 7, 1, NOON + 5000)[0], 150, 'a refresh keeps written values');
  assert.throws(() => meter.write('holding', 4, [1], 6), isModbusException(2));
  assert.throws(() => meter.write('holding', 6, [1, 2], 16), isModbusException(2), 'one register of the write is not writable');
  meter.write('coil', 0, [1], 5);
  assert.equal(meter.read('coil', 0, 1, NOON)[0], 1);
});

test('a single-phase meter has no line-to-line or other-phase load', () => {
  const meter = new SimulatedMeter({ unitId: 4, points: SINGLE_PHASE_POINTS });
  const v = decodeAll(meter, SINGLE_PHASE_POINTS, NOON);
  assert.ok(v.voltage_l1_n > 220 && v.active_power_l1 > 0);
  assert.equal(meter.electrical.phases, 1);
});

test('integer registers saturate instead of wrapping when the load is larger than they hold', () => {
  const points: PointDef[] = [{ name: 'active_power_total', registerType: 'holding', address: 0, dataType: 'int16', unit: 'W' }];
  const meter = new SimulatedMeter({ unitId: 1, points, ratedCurrent: 500 });
  const words = meter.read('holding', 0, 1, new Date(2026, 5, 2, 19, 0, 0).getTime());
  assert.equal(words[0], 0x7fff);
  assert.deepEqual(meter.problems, []);
});

test('the simulator routes by unit id and injects dead units, faults and latency', async () => {
  let now = NOON;
  const sim = new MeterSimulator({
    units: [
      { unitId: 1, points: THREE_PHASE_POINTS },
      { unitId: 2, points: SINGLE_PHASE_POINTS },
    ],
    deadUnitIds: [2],
    faults: [{ unitId: 1, registerType: 'input', address: 10, exception: 4 }],
    now: () => now,
  });
  const read = { fc: 4 as const, address: 0, quantity: 4 };
  assert.equal((sim.handler(1, read) as Uint16Array).length, 4);
  assert.equal(sim.handler(2, read), NO_RESPONSE);
  assert.throws(() => sim.handler(9, read), isModbusException(0x0b));
  assert.throws(() => sim.handler(1, { fc: 4, address: 8, quantity: 4 }), isModbusException(4));
  assert.equal((sim.handler(1, { fc: 4, address: 12, quantity: 4 }) as Uint16Array).length, 4);
  sim.setDead(2, false);
  assert.equal(sim.answers(2), true);
  assert.equal((sim.handler(2, read) as Uint16Array).length, 4);
  sim.setLatency(30);
  const started = Date.now();
  const delayed = sim.handler(1, read);
  assert.ok(delayed instanceof Promise);
  assert.equal(((await delayed) as Uint16Array).length, 4);
  assert.ok(Date.now() - started >= 25);
  now += 1000;
  assert.throws(() => new MeterSimulator({ units: [{ unitId: 1, points: THREE_PHASE_POINTS }, { unitId: 1, points: THREE_PHASE_POINTS }] }), /configured twice/);
});

test('any registry model can be simulated; the simulated energy meter is the default', () => {
  const specs = resolveUnits([1, { unitId: 2, model: 'eastron/sdm630' }, { unitId: 3, model: 'eastron/sdm120' }]);
  assert.equal(specs[0].model, DEFAULT_SIMULATED_MODEL);
  const registry = sharedRegistry();
  for (const spec of specs) {
    const meter = new SimulatedMeter(spec);
    const model = registry.requireModel(spec.model!);
    const values = meter.snapshot(NOON);
    assert.deepEqual(meter.problems, [], `${spec.model} encodes every point`);
    for (const p of model.points) assert.notEqual(values[p.name], null, `${spec.model} ${p.name}`);
    const n = (name: string) => values[name] as number;
    assert.ok(n('voltage_l1_n') > 220 && n('voltage_l1_n') < 240, `${spec.model} voltage_l1_n`);
    assert.ok(n('frequency') > 49.9 && n('frequency') < 50.1);
    assert.ok(n('active_energy_import_total') > 0);
    if ('voltage_l1_l2' in values) assert.ok(n('voltage_l1_l2') > 385 && n('voltage_l1_l2') < 415, `${spec.model} voltage_l1_l2`);
    // Every point of the model reads through the planner-sized requests a poller makes.
    for (const p of model.points) meter.read(p.registerType, p.address, p.dataType === 'float32' || /32/.test(p.dataType) ? 2 : 1, NOON);
  }
  const sim = new SimulatedMeter(specs[0]);
  const v = sim.snapshot(NOON);
  assert.ok((v.voltage_unbalance as number) < 2, `voltage unbalance ${v.voltage_unbalance} %`);
  assert.ok((v.current_unbalance as number) < 30);
  assert.equal(v.active_tariff, 1);
  assert.equal(v.meter_status, 0);
  assert.throws(() => resolveUnits([{ unitId: 4, model: 'acme/none' }]), /simulated unit 4: meter model "acme\/none" is not in the registry; known models: .*rtu\/simulated-energy-meter/);
});

test('the planner\'s requests for every registry model are answered without exceptions', () => {
  const registry = sharedRegistry();
  for (const model of registry.models.values()) {
    const [spec] = resolveUnits([{ unitId: 1, model: model.id }], registry);
    const meter = new SimulatedMeter(spec);
    const plan = planReads(model.points, { maxRegisters: model.maxRegisters, neverRead: model.neverRead });
    for (const r of plan.requests) {
      assert.equal(meter.read(r.registerType, r.address, r.quantity, NOON).length, r.quantity, `${model.id} ${r.registerType} @${r.address} x${r.quantity}`);
    }
  }
});
