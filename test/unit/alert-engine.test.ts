import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertEngine, AlertInput } from '../../nodes/lib/alert/engine';
import { validateRules } from '../../nodes/lib/alert/rules';
import type { AlertPayload, RuleProblem } from '../../nodes/lib/alert/types';
import type { PointValue, Quality } from '../../nodes/lib/reading';

const T0 = Date.UTC(2025, 0, 1, 12);

function rules(...specs: object[]) {
  const set = validateRules(specs.map((spec, i) => ({ spec, source: `rule ${i + 1}` })));
  assert.deepEqual(set.problems, []);
  return set.rules;
}

function reading(device: string, payload: Record<string, PointValue>, ts: number, extra: Partial<AlertInput['rtu']> = {}): AlertInput {
  return { payload, rtu: { device, timestamp: ts, quality: 'good' as Quality, units: { voltage_l1: 'V', power: 'kW' }, ...extra } };
}

/** A recorded 1 Hz voltage trace hovering around 253 V with ±1.2 V of noise, then falling back. */
function hoveringVoltage(): number[] {
  const noise = [0.4, -0.9, 1.1, -0.2, 0.8, -1.2, 0.3, 1.0, -0.7, 0.1];
  const trace: number[] = [];
  for (let i = 0; i < 20; i++) trace.push(240 + i * 0.6);
  for (let i = 0; i < 120; i++) trace.push(253 + noise[i % noise.length]);
  for (let i = 0; i < 30; i++) trace.push(252 - i * 0.3);
  return trace;
}

function run(engine: AlertEngine, device: string, point: string, trace: number[], start = T0): AlertPayload[] {
  const events: AlertPayload[] = [];
  trace.forEach((v, i) => {
    events.push(...engine.evaluate(reading(device, { [point]: v }, start + i * 1000)));
    events.push(...engine.tick(start + i * 1000 + 500));
  });
  return events;
}

test('without hysteresis a value hovering at the limit flaps; with a deadband it raises once and clears once', () => {
  const trace = hoveringVoltage();
  const flappy = run(new AlertEngine(rules({ point: 'voltage_l1', type: 'high', limit: 253 })), 'm1', 'voltage_l1', trace);
  assert.ok(flappy.length > 20, `expected flapping without deadband, got ${flappy.length} events`);

  const events = run(new AlertEngine(rules({ point: 'voltage_l1', type: 'high', limit: 253, deadband: 2 })), 'm1', 'voltage_l1', trace);
  assert.deepEqual(events.map((e) => e.state), ['raised', 'cleared']);
  const [raised, cleared] = events;
  assert.equal(raised.id, 'm1/voltage_l1/high@*:voltage_l1');
  assert.equal(raised.value, 253.4);
  assert.equal(raised.limit, 253);
  assert.equal(raised.unit, 'V');
  assert.equal(raised.text, 'm1 voltage_l1 253.4 V above high limit 253 V');
  assert.equal(cleared.id, raised.id);
  assert.ok((cleared.value as number) <= 251);
  assert.equal(cleared.raisedAt, raised.timestamp);
  assert.match(cleared.text, /back to normal/);
});

test('an on-delay ignores short spikes and an off-delay holds the alert through short dips', () => {
  const engine = new AlertEngine(rules({ point: 'power', type: 'high', limit: 100, onDelay: 5, offDelay: 3 }));
  // 3 s spike: nothing; then 10 s above: raise after 5 s; 2 s dip: held; then back to normal for good.
  const trace = [90, 120, 120, 120, 90, 90, ...Array(10).fill(130), 80, 80, 130, 130, ...Array(8).fill(70)];
  const events = run(engine, 'm1', 'power', trace);
  assert.deepEqual(events.map((e) => e.state), ['raised', 'cleared']);
  assert.equal(events[0].timestamp, T0 + 11 * 1000, 'raised 5 s after the value went above (at t=6 s)');
  assert.equal(events[1].timestamp, T0 + 23 * 1000, 'cleared 3 s after the return to normal (at t=20 s)');
});

test('tick promotes a delayed raise even when no new reading arrives', () => {
  const engine = new AlertEngine(rules({ point: 'power', type: 'high', limit: 100, onDelay: 5 }));
  assert.deepEqual(engine.evaluate(reading('m1', { power: 150 }, T0)), []);
  assert.deepEqual(engine.tick(T0 + 4000), []);
  const [a] = engine.tick(T0 + 5000);
  assert.equal(a.state, 'raised');
  assert.equal(a.value, 150);
  assert.equal(a.timestamp, T0 + 5000);
});

test('low, low-low, band, rate and state rules', () => {
  const engine = new AlertEngine(
    rules(
      { id: 'f-band', point: 'frequency', type: 'band', low: 49.8, high: 50.2, deadband: 0.05 },
      { id: 'v-low', point: 'voltage_l1', type: 'low', limit: 207 },
      { id: 'v-lowlow', point: 'voltage_l1', type: 'lowLow', limit: 195 },
      { id: 'p-rate', point: 'power', type: 'rate', limit: 50, per: 60, direction: 'rise' },
      { id: 'trip', point: 'breaker_trip', type: 'state', value: true, severity: 'critical' },
    ),
  );
  const ev = (payload: Record<string, PointValue>, s: number) => engine.evaluate(reading('m1', payload, T0 + s * 1000));
  assert.deepEqual(ev({ frequency: 50, voltage_l1: 230, power: 100, breaker_trip: 0 }, 0), []);
  const low = ev({ frequency: 50.25, voltage_l1: 190, power: 100.5, breaker_trip: 1 }, 1);
  assert.deepEqual(low.map((e) => e.rule).sort(), ['f-band', 'trip', 'v-low', 'v-lowlow']);
  assert.equal(low.find((e) => e.rule === 'f-band')!.limit, 50.2);
  assert.equal(low.find((e) => e.rule === 'trip')!.severity, 'critical');
  assert.equal(low.find((e) => e.rule === 'v-lowlow')!.severity, 'critical');
  // Rise of 2 kW in 1 s = 120 kW/min > 50.
  const rate = ev({ frequency: 50.1, voltage_l1: 200, power: 102.5, breaker_trip: true }, 2);
  assert.deepEqual(rate.map((e) => `${e.rule}:${e.state}`).sort(), ['f-band:cleared', 'p-rate:raised', 'v-lowlow:cleared']);
  const r = rate.find((e) => e.rule === 'p-rate')!;
  assert.equal(r.value, 120);
  assert.equal(r.unit, 'kW/60s');
  const calm = ev({ frequency: 50.1, voltage_l1: 208, power: 102.5, breaker_trip: false }, 3);
  assert.deepEqual(calm.map((e) => `${e.rule}:${e.state}`).sort(), ['p-rate:cleared', 'trip:cleared', 'v-low:cleared']);
});

test('bad and stale values are not judged against limits', () => {
  const engine = new AlertEngine(rules({ point: 'power', type: 'high', limit: 100 }));
  assert.deepEqual(engine.evaluate(reading('m1', { power: 500 }, T0, { quality: 'bad' })), []);
  assert.deepEqual(engine.evaluate(reading('m1', { power: 500 }, T0, { pointQuality: { power: 'stale' } })), []);
  assert.equal(engine.evaluate(reading('m1', { power: 500 }, T0)).length, 1);
});

test('stale: a point with no good value for the timeout raises; the next good value clears', () => {
  const engine = new AlertEngine(rules({ device: 'm1', point: 'energy', type: 'stale', timeout: 30 }), {}, T0);
  assert.deepEqual(engine.tick(T0 + 29_000), []);
  // Named device and point: watched from start-up even before any reading.
  const [raised] = engine.tick(T0 + 31_000);
  assert.equal(raised.state, 'raised');
  assert.equal(raised.value, 31);
  assert.equal(raised.limit, 30);
  assert.equal(raised.unit, 's');
  assert.deepEqual(engine.tick(T0 + 40_000), [], 'raised once');
  assert.deepEqual(engine.evaluate(reading('m1', { energy: 5 }, T0 + 41_000, { pointQuality: { energy: 'bad' } })), []);
  const [cleared] = engine.evaluate(reading('m1', { energy: 5 }, T0 + 42_000));
  assert.equal(cleared.state, 'cleared');
});

test('offline: failed polls raise after the on-delay, silence raises after the timeout, a good poll clears', () => {
  const engine = new AlertEngine(rules({ device: 'pv-*', type: 'offline', onDelay: 10, timeout: 60 }));
  assert.deepEqual(engine.evaluate(reading('pv-1', { power: 1 }, T0)), []);
  assert.deepEqual(engine.evaluate(reading('pv-1', {}, T0 + 5000, { quality: 'bad', error: 'timeout after 1000 ms' })), []);
  const [raised] = engine.evaluate(reading('pv-1', {}, T0 + 15_000, { quality: 'bad', error: 'timeout after 1000 ms' }));
  assert.equal(raised.id, 'pv-1/_device/offline@pv-*:_device');
  assert.equal(raised.value, 'timeout after 1000 ms');
  assert.equal(raised.text, 'pv-1 offline: timeout after 1000 ms');
  const [cleared] = engine.evaluate(reading('pv-1', { power: 2 }, T0 + 20_000));
  assert.equal(cleared.state, 'cleared');
  assert.equal(cleared.text, 'pv-1 back online');
  assert.deepEqual(engine.tick(T0 + 79_000), []);
  // Silence: 60 s timeout, then the 10 s on-delay.
  assert.deepEqual(engine.tick(T0 + 81_000), []);
  const [silent] = engine.tick(T0 + 91_000);
  assert.equal(silent.state, 'raised');
  assert.match(String(silent.value), /no reading for 71 s/);
});

test('acknowledge by id or pattern; cleared after acknowledge removes the alert', () => {
  const engine = new AlertEngine(rules({ point: 'power', type: 'high', limit: 100 }));
  engine.evaluate(reading('m1', { power: 150 }, T0));
  engine.evaluate(reading('m2', { power: 150 }, T0));
  const acks = engine.acknowledge('m1/*', 'operator anna', T0 + 1000);
  assert.equal(acks.length, 1);
  assert.equal(acks[0].state, 'acknowledged');
  assert.equal(acks[0].acknowledgedBy, 'operator anna');
  assert.match(acks[0].text, /^acknowledged by operator anna: m1 power 150 kW above/);
  assert.deepEqual(engine.acknowledge('m1/*', 'again', T0 + 2000), [], 'acknowledged once');
  assert.deepEqual(engine.acknowledge('no-such-alert', 'x'), []);
  assert.deepEqual(engine.active().map((a) => a.state), ['acknowledged', 'raised']);
  const [cleared] = engine.evaluate(reading('m1', { power: 50 }, T0 + 3000));
  assert.equal(cleared.state, 'cleared');
  assert.equal(cleared.acknowledgedBy, 'operator anna');
  assert.equal(engine.activeCount, 1);
});

test('a storm: 1000 devices cross the limit in the same second, each raised exactly once', () => {
  const engine = new AlertEngine(rules({ device: 'inv-*', point: 'power', type: 'high', limit: 100, severity: 'minor' }));
  const raised: AlertPayload[] = [];
  for (let i = 0; i < 1000; i++) raised.push(...engine.evaluate(reading(`inv-${i}`, { power: 90 + (i % 7) * 0.1 }, T0)));
  assert.equal(raised.length, 0);
  for (let i = 0; i < 1000; i++) raised.push(...engine.evaluate(reading(`inv-${i}`, { power: 150 }, T0 + 500)));
  for (let i = 0; i < 1000; i++) raised.push(...engine.evaluate(reading(`inv-${i}`, { power: 151 }, T0 + 900)));
  assert.equal(raised.length, 1000);
  assert.equal(new Set(raised.map((a) => a.id)).size, 1000);
  assert.equal(engine.activeCount, 1000);
});

test('a restart mid-alert keeps the alert active without a second raise; removed rules clear theirs', () => {
  const set = rules({ id: 'p-high', point: 'power', type: 'high', limit: 100 }, { id: 'v-high', point: 'voltage_l1', type: 'high', limit: 253 });
  const before = new AlertEngine(set);
  assert.equal(before.evaluate(reading('m1', { power: 150, voltage_l1: 260 }, T0)).length, 2);
  const persisted = JSON.parse(JSON.stringify(before.active())) as AlertPayload[];

  const after = new AlertEngine(set.filter((r) => r.id === 'p-high'));
  const orphans = after.restore(persisted, T0 + 1000);
  assert.deepEqual(orphans.map((a) => `${a.rule}:${a.state}`), ['v-high:cleared']);
  assert.match(orphans[0].text, /rule "v-high" removed/);
  assert.deepEqual(after.evaluate(reading('m1', { power: 160 }, T0 + 2000)), [], 'still high: no new raise');
  assert.deepEqual(after.reannounce().map((a) => [a.rule, a.state, a.reannounced]), [['p-high', 'raised', true]]);
  const [cleared] = after.evaluate(reading('m1', { power: 20 }, T0 + 3000));
  assert.equal(cleared.state, 'cleared');
  assert.equal(cleared.raisedAt, T0);
});

test('rules meeting data: an unknown point and a wrong value type are reported once, other rules work', () => {
  const problems: RuleProblem[] = [];
  const engine = new AlertEngine(
    rules({ id: 'typo', device: 'm1', point: 'voltag_l1', type: 'high', limit: 253 }, { id: 'txt', point: 'status', type: 'high', limit: 1 }, { id: 'ok', point: 'power', type: 'high', limit: 100 }),
    { onProblem: (p) => problems.push(p) },
  );
  for (let s = 0; s < 3; s++) engine.evaluate(reading('m1', { voltage_l1: 230, status: 'running', power: 120 + s }, T0 + s * 1000));
  assert.equal(problems.length, 2);
  assert.match(problems[0].message, /rule "typo": device "m1" has no point "voltag_l1" \(it sends voltage_l1, status, power\)/);
  assert.match(problems[1].message, /rule "txt" \(high\) needs numbers, but m1\/status carries string "running"/);
  assert.equal(engine.activeCount, 1);
});

test('test readings produce alerts marked test', () => {
  const engine = new AlertEngine(rules({ point: 'power', type: 'high', limit: 100 }));
  const [a] = engine.evaluate(reading('m1', { power: 150 }, T0, { test: true }));
  assert.equal(a.test, true);
});

test('rules matched by profile and model', () => {
  const engine = new AlertEngine(rules({ profile: 'em24*', point: 'power', type: 'high', limit: 100 }));
  assert.equal(engine.evaluate(reading('a', { power: 150 }, T0, { profile: 'em24-ddav' })).length, 1);
  assert.equal(engine.evaluate(reading('b', { power: 150 }, T0, { profile: 'sdm630' })).length, 0);
  // The same device changing profile is recompiled.
  assert.equal(engine.evaluate(reading('b', { power: 150 }, T0 + 1, { profile: 'em24-av5' })).length, 1);
});

test('an alert raised by the on-delay timer carries the unit, and so does its clear', () => {
  const engine = new AlertEngine(rules({ device: 'm1', point: 'voltage_l1', type: 'high', limit: 253, onDelay: 3, offDelay: 2 }));
  const events: AlertPayload[] = [];
  events.push(...engine.evaluate(reading('m1', { voltage_l1: 260 }, T0)));
  events.push(...engine.evaluate(reading('m1', { voltage_l1: 261 }, T0 + 1000)));
  events.push(...engine.tick(T0 + 3500));
  events.push(...engine.evaluate(reading('m1', { voltage_l1: 240 }, T0 + 4000)));
  events.push(...engine.tick(T0 + 6500));
  assert.deepEqual(events.map((e) => e.state), ['raised', 'cleared']);
  const [raised, cleared] = events;
  assert.equal(raised.unit, 'V');
  assert.equal(raised.text, 'm1 voltage_l1 261 V above high limit 253 V');
  assert.equal(cleared.unit, 'V');
  assert.equal(cleared.text, 'm1 voltage_l1 back to normal (240 V)');
});

test("a stale alert's clear gives the point's value in the point's unit, not in seconds", () => {
  const engine = new AlertEngine(rules({ device: 'm1', point: 'voltage_l1', type: 'stale', timeout: 5 }));
  const events: AlertPayload[] = [];
  events.push(...engine.evaluate(reading('m1', { voltage_l1: 231 }, T0)));
  events.push(...engine.tick(T0 + 10_000));
  events.push(...engine.evaluate(reading('m1', { voltage_l1: 230 }, T0 + 11_000)));
  assert.deepEqual(events.map((e) => e.state), ['raised', 'cleared']);
  assert.equal(events[0].unit, 's');
  assert.equal(events[0].text, 'm1 voltage_l1 no good value for 10 s (timeout 5 s)');
  assert.equal(events[1].unit, 'V');
  assert.equal(events[1].text, 'm1 voltage_l1 back to normal (230 V)');
});

test('a point named like an object member is a point: no inherited unit, quality or presence', () => {
  const problems: RuleProblem[] = [];
  const engine = new AlertEngine(rules({ device: 'm1', point: 'constructor', type: 'high', limit: 10 }, { device: 'm1', point: 'valueOf', type: 'high', limit: 10 }), { onProblem: (p) => problems.push(p) });
  const events = engine.evaluate({ payload: { constructor: 12 }, rtu: { device: 'm1', timestamp: T0, quality: 'good', units: {}, pointQuality: {} } });
  assert.equal(events.length, 1);
  assert.equal(events[0].unit, '');
  assert.equal(events[0].text, 'm1 constructor 12 above high limit 10');
  assert.deepEqual(problems.map((p) => p.point), ['valueOf'], 'valueOf is reported missing: the reading has no such point of its own');
});
