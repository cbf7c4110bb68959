import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeriveEngine } from '../../nodes/lib/derive/engine';
import type { ReadingMessage } from '../../nodes/lib/reading';

const MIN = 60_000;

function reading(device: string, payload: Record<string, number | null>, timestamp: number, quality: 'good' | 'stale' | 'bad' = 'good'): ReadingMessage {
  const units: Record<string, string> = Object.freeze({ voltage: 'V', current: 'A', power: 'kW', energy: 'kWh' }) as Record<string, string>;
  const points = Object.freeze({ voltage: Object.freeze({ registerType: 'input', address: 0, dataType: 'float32' }) });
  return { topic: device, payload: { ...payload }, rtu: { device, protocol: 'modbus', timestamp, quality, latencyMs: 1, units, points, seq: 1 } };
}

test('device points extend the reading with value, unit, quality and derived point info, leaving shared objects alone', () => {
  const engine = new DeriveEngine({
    points: [
      { device: 'meter-*', name: 'apparent_power', expression: 'voltage * current / 1000', unit: 'kVA' },
      { device: 'meter-*', name: 'power_factor', expression: 'power / apparent_power' },
    ],
  });
  assert.deepEqual(engine.problems, []);
  const r = reading('meter-1', { voltage: 230, current: 10, power: 2.07 }, 1000);
  const units = r.rtu.units;
  const [out] = engine.onReading(r);
  assert.equal(out, r);
  assert.equal(out.payload.apparent_power, 2.3);
  assert.ok(Math.abs((out.payload.power_factor as number) - 0.9) < 1e-12, 'a later point can use an earlier derived one');
  assert.equal(out.rtu.units.apparent_power, 'kVA');
  assert.equal(units.apparent_power, undefined, 'the poller\'s shared units object is not changed');
  assert.deepEqual(out.rtu.points?.apparent_power, { derived: true, expression: 'voltage * current / 1000' });
  assert.equal(out.rtu.points?.voltage?.registerType, 'input');
  assert.equal(out.rtu.pointQuality, undefined);
  // A device that no row matches passes through untouched.
  const other = reading('inverter', { voltage: 1 }, 1000);
  assert.deepEqual(engine.onReading(other)[0].payload, { voltage: 1 });
});

test('quality propagates: a bad input makes the point bad, a stale one stale', () => {
  const engine = new DeriveEngine({ points: [{ name: 's', expression: 'voltage * current' }] });
  const r = reading('m', { voltage: 230, current: 2 }, 0);
  r.rtu.pointQuality = { current: 'stale' };
  assert.equal(engine.onReading(r)[0].rtu.pointQuality?.s, 'stale');
  const bad = reading('m', { voltage: null, current: null }, 1, 'bad');
  const [out] = engine.onReading(bad);
  assert.equal(out.payload.s, null);
  assert.equal(out.rtu.pointQuality?.s, undefined, 'same as the reading: bad');
});

test('site points sum feeders across devices on each tick, and age into stale', () => {
  const engine = new DeriveEngine({
    points: [{ device: 'site', site: true, name: 'power_total', expression: 'sum(`feeder-*`.power)', unit: 'kW' }],
    staleAfterMs: 10_000,
  });
  engine.onReading(reading('feeder-1', { power: 10 }, 1000));
  engine.onReading(reading('feeder-2', { power: 5 }, 1000));
  let [site] = engine.tick(2000);
  assert.equal(site.topic, 'site');
  assert.equal(site.payload.power_total, 15);
  assert.equal(site.rtu.quality, 'good');
  assert.equal(site.rtu.protocol, 'derived');
  assert.equal(site.rtu.units.power_total, 'kW');
  [site] = engine.tick(20_000);
  assert.equal(site.rtu.quality, 'stale');
  engine.onReading(reading('feeder-3', { power: 1 }, 20_000, 'bad'));
  [site] = engine.tick(20_001);
  assert.deepEqual([site.payload.power_total, site.rtu.quality], [null, 'bad']);
});

test('interval energy and demand come out as a reading of <device>/<minutes>min at each boundary, with a prediction on every reading', () => {
  const before = process.env.TZ;
  process.env.TZ = 'UTC';
  try {
    const engine = new DeriveEngine({ intervals: [{ device: 'meter-1', point: 'energy', minutes: 15 }] });
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    for (let i = 0; i < 15; i++) {
      const out = engine.onReading(reading('meter-1', { energy: 1000 + i * 0.5 }, t0 + i * MIN));
      assert.equal(out.length, 1);
      if (i > 0) assert.ok(Math.abs((out[0].payload.energy_15min_demand_predicted as number) - 30) < 1e-9, `predicted at minute ${i}`);
    }
    const out = engine.onReading(reading('meter-1', { energy: 1007.5 }, t0 + 15 * MIN));
    assert.equal(out.length, 2);
    const interval = out[1];
    assert.equal(interval.topic, 'meter-1/15min');
    assert.equal(interval.payload.energy_15min, 7.5);
    assert.equal(interval.payload.energy_15min_demand, 30);
    assert.equal(interval.payload.energy_15min_demand_max_day, 30);
    assert.equal(interval.rtu.units.energy_15min, 'kWh');
    assert.equal(interval.rtu.units.energy_15min_demand, 'kW');
    assert.equal(interval.rtu.quality, 'good');
    assert.deepEqual(interval.rtu.interval, { start: t0, end: t0 + 15 * MIN, minutes: 15, complete: true, gap: false, reset: false, rollover: false });
    assert.equal(interval.rtu.timestamp, t0 + 15 * MIN);
    assert.equal(interval.rtu.points?.energy_15min?.derived, true);

    // A restart: the snapshot carries the open interval into a new engine.
    engine.onReading(reading('meter-1', { energy: 1008 }, t0 + 16 * MIN));
    const saved = JSON.parse(JSON.stringify(engine.snapshot()));
    const next = new DeriveEngine({ intervals: [{ device: 'meter-1', point: 'energy', minutes: 15 }] });
    next.restore(saved);
    for (let i = 17; i < 30; i++) next.onReading(reading('meter-1', { energy: 1000 + i * 0.5 }, t0 + i * MIN));
    const [, after] = next.onReading(reading('meter-1', { energy: 1015 }, t0 + 30 * MIN));
    assert.deepEqual([after.payload.energy_15min, after.rtu.interval?.complete, after.payload.energy_15min_demand_max_day], [7.5, true, 30]);
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
});

test('bad rows are refused at construction with row, field and position; good rows still run', () => {
  const engine = new DeriveEngine({
    points: [
      { name: 'ok', expression: 'a + 1' },
      { name: 'broken', expression: 'a + * 2' },
      { name: '1bad', expression: 'a' },
      { name: '__proto__', expression: 'a' },
      { site: true, device: 'site', name: 'x', expression: 'power' },
    ],
    intervals: [{ point: 'energy', minutes: 7 }, { point: 'energy', minutes: 15, demand: 'weird' }],
  });
  const text = engine.problems.map((p) => `${p.row}, ${p.field}: ${p.message}`);
  assert.deepEqual(text, [
    'point row 2, expression: expected a number, a point name or "(" but found "*" at position 5 in "a + * 2"',
    'point row 3, name: "1bad" is not a usable point name (letters, digits and _, not starting with a digit)',
    'point row 4, name: "__proto__" is not a usable point name (letters, digits and _, not starting with a digit)',
    'point row 5, expression: "power" needs a device: write device.power at position 1 in "power"',
    'interval row 1, minutes: must be one of 1, 5, 10, 15, 30, 60 (got 7)',
    'interval row 2, demand: must be none, fixed or sliding (got "weird")',
  ]);
  assert.equal(engine.problems[0].position, 4);
  assert.equal(engine.onReading(reading('m', { a: 1 }, 0))[0].payload.ok, 2);
});
