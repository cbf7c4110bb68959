import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { loadDefaultRegistry, loadRegistry } from '../../nodes/lib/registry';
import { DeriveEngine } from '../../nodes/lib/derive/engine';
import { GOOD_MODEL, tempRegistry } from './registry-fixtures';

function load(derived: string): { errors: string[]; registry: ReturnType<typeof loadRegistry> } {
  const text = GOOD_MODEL.replace('    points: [active_power_total]\n  energy:', `    points: [active_power_total]\n    derived:\n${derived}  energy:`);
  const reg = tempRegistry({ 'acme/pm-1.yaml': text });
  try {
    const registry = loadRegistry([reg.dir]);
    return { errors: registry.errors.map((e) => e.text.replace(reg.dir + path.sep, '').split(path.sep).join('/')), registry };
  } finally {
    reg.remove();
  }
}

test('a profile declares derived points over its own and inherited points; they come with the profiles that extend it', () => {
  const { errors, registry } = load('      - { name: apparent_power_est, expression: "voltage_l1_n * current_l1", unit: VA }\n      - { name: load_ratio, expression: "active_power_total / apparent_power_est" }\n');
  assert.deepEqual(errors, []);
  assert.deepEqual(registry.profileDerived('acme/pm-1', 'full_power').map((d) => d.name), ['apparent_power_est', 'load_ratio']);
  assert.deepEqual(registry.profileDerived('acme/pm-1', 'basic_power'), []);
  assert.deepEqual(registry.profileDerived('acme/pm-1', '__proto__'), []);
});

test('bad derived points are load errors naming file, line, field and position', () => {
  assert.deepEqual(load('      - { name: s, expression: "voltage_l1_n * (current_l1" }\n').errors, [
    'acme/pm-1.yaml:32: profiles.full_power.derived[0].expression: expected ")" but found the end of the expression at position 27 in "voltage_l1_n * (current_l1"',
  ]);
  assert.deepEqual(load('      - { name: s, expression: "voltage_l1_n * frequency" }\n').errors, [
    'acme/pm-1.yaml:32: profiles.full_power.derived[0].expression: unknown point "frequency" at position 16 in "voltage_l1_n * frequency"',
  ]);
  assert.deepEqual(load('      - { name: current_l1, expression: "voltage_l1_n" }\n').errors, [
    'acme/pm-1.yaml:32: profiles.full_power.derived[0].name: "current_l1" is a point the meter provides; a derived point needs a name of its own',
  ]);
});

test('a shipped model with a declared derived point: EM6400NG apparent power and power factor from P and Q', () => {
  const registry = loadDefaultRegistry();
  const derived = registry.profileDerived('schneider/em6400ng', 'full_power');
  assert.deepEqual(derived.map((d) => d.name), ['apparent_power_total', 'power_factor_total']);
  const engine = new DeriveEngine({ profilePoints: (model, profile) => registry.profileDerived(model, profile ?? '') });
  const [out] = engine.onReading({
    topic: 'feeder',
    payload: { active_power_total: 3000, reactive_power_total: 4000 },
    rtu: { device: 'feeder', protocol: 'modbus', model: 'schneider/em6400ng', profile: 'full_power', timestamp: 0, quality: 'good', latencyMs: 1, units: {}, seq: 1 },
  });
  assert.equal(out.payload.apparent_power_total, 5000);
  assert.equal(out.payload.power_factor_total, 0.6);
  assert.equal(out.rtu.units.apparent_power_total, 'VA');
  assert.equal(out.rtu.points?.apparent_power_total?.derived, true);
});
