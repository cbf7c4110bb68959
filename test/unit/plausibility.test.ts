import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseUnit, PlausibilityChecker, validateLimits } from '../../nodes/lib/plausibility';
import { sharedRegistry } from '../../nodes/lib/registry';

const checker = new PlausibilityChecker();
const flag = (point: string, unit: string, value: number | null | string, previous?: number) => checker.check(point, unit, value, previous);

test('unit prefixes are split from the base unit the rules are written in', () => {
  assert.deepEqual(baseUnit('kV'), { base: 'V', factor: 1000 });
  assert.deepEqual(baseUnit('mA'), { base: 'A', factor: 0.001 });
  assert.deepEqual(baseUnit('kvarh'), { base: 'varh', factor: 1000 });
  assert.deepEqual(baseUnit('kVArh'), { base: 'varh', factor: 1000 });
  assert.deepEqual(baseUnit('MWh'), { base: 'Wh', factor: 1e6 });
  assert.deepEqual(baseUnit('VA'), { base: 'VA', factor: 1 });
  assert.deepEqual(baseUnit('°C'), { base: '°C', factor: 1 });
});

test('phase voltages: 80..300 V L-N, 140..520 V L-L, with the unit prefix applied', () => {
  assert.equal(flag('voltage_l1_n', 'V', 231.4), undefined);
  assert.equal(flag('voltage_ln_avg', 'V', 229), undefined);
  assert.match(flag('voltage_l1_n', 'V', 2.3e-41)!.text, /outside the plausible range for a voltage L-N \(80\.\.300 V\)/);
  assert.match(flag('voltage_l2_n', 'V', 400)!.text, /voltage L-N/);
  assert.equal(flag('voltage_l1_l2', 'V', 400), undefined);
  assert.equal(flag('voltage_ll_avg', 'V', 398), undefined);
  assert.match(flag('voltage_l3_l1', 'V', 90)!.text, /voltage L-L \(140\.\.520 V\)/);
  assert.equal(flag('voltage_l1_n', 'kV', 0.231), undefined);
  assert.match(flag('voltage_l1_n', 'kV', 231)!.text, /231 kV is outside .*\(80\.\.300 V\)/);
  // A voltage that names no phase only has to be positive (a DC bus, a neutral-earth voltage).
  assert.equal(flag('voltage_dc', 'V', 780), undefined);
  assert.match(flag('voltage_dc', 'V', -3)!.text, /≥ 0 V/);
});

test('frequency 45..65 Hz, power factor -1..1, currents not negative', () => {
  assert.equal(flag('frequency', 'Hz', 50.01), undefined);
  assert.match(flag('frequency', 'Hz', 5001)!.text, /frequency \(45\.\.65 Hz\)/);
  assert.match(flag('frequency', '', 0)!.text, /frequency/);
  assert.equal(flag('power_factor_l1', '', -0.97), undefined);
  assert.match(flag('power_factor_total', '', 97)!.text, /power factor \(-1\.\.1\)/);
  assert.match(flag('pf', '', -1.5)!.text, /power factor/);
  assert.equal(flag('current_l1', 'A', 12.5), undefined);
  assert.equal(flag('current_n', 'A', 0), undefined);
  assert.match(flag('current_l2', 'A', -0.5)!.text, /current \(≥ 0 A\)/);
  assert.match(flag('current_l2', 'mA', -500)!.text, /current/);
});

test('energy and hour counters: not negative and never decreasing', () => {
  assert.equal(flag('active_energy_import_total', 'kWh', 1234.5, 1234.4), undefined);
  assert.equal(flag('active_energy_import_total', 'kWh', 1234.5, 1234.5), undefined);
  assert.match(flag('active_energy_import_total', 'kWh', 1000, 1234.5)!.text, /went down from 1234\.5 to 1000 kWh/);
  assert.match(flag('reactive_energy_export_total', 'kvarh', -2)!.text, /energy counter/);
  assert.equal(flag('reactive_energy_export_total', 'kvarh', 5), undefined, 'no previous value: only the sign is checked');
  assert.match(flag('operating_hours', 'h', 10, 11)!.text, /hour counter went down/);
});

test('percentages and temperatures; points without a rule pass', () => {
  assert.equal(flag('thd_voltage_l1_n', '%', 2.1), undefined);
  assert.match(flag('thd_voltage_l1_n', '%', 180)!.text, /voltage THD/);
  assert.equal(flag('thd_current_l1', '%', 140), undefined, 'current THD above 100 % happens at light load');
  assert.match(flag('voltage_unbalance', '%', -1)!.text, /unbalance/);
  assert.equal(flag('temperature_internal', '°C', 41.5), undefined);
  assert.match(flag('temperature_internal', '°C', 3276.7)!.text, /temperature \(-40\.\.125 °C\)/);
  assert.equal(flag('meter_status', '', 2), undefined);
  assert.equal(flag('active_power_total', 'W', -4200), undefined, 'power is signed: export');
  assert.equal(flag('meter_name', '', 'PM-1'), undefined);
});

test('missing and non-finite values are flagged', () => {
  assert.match(flag('voltage_l1_n', 'V', null)!.text, /no value/);
  assert.match(checker.check('voltage_l1_n', 'V', undefined)!.text, /no value/);
  assert.match(flag('voltage_l1_n', 'V', NaN)!.text, /NaN is not a finite number/);
  assert.match(flag('energy', 'kWh', Infinity)!.text, /Infinity/);
});

test('site limits override the built-in rules, by name or pattern, in the point\'s own unit', () => {
  const mv = new PlausibilityChecker([
    { point: 'voltage_l?_l?', min: 10000, max: 12500 },
    { point: 'frequency', min: 59, max: 61 },
  ]);
  assert.equal(mv.check('voltage_l1_l2', 'V', 11000), undefined);
  assert.match(mv.check('voltage_l1_l2', 'V', 400)!.text, /outside the site limit 10000\.\.12500 V/);
  assert.match(mv.check('frequency', 'Hz', 50)!.text, /site limit 59\.\.61 Hz/);
  assert.match(mv.check('voltage_l1_n', 'V', 6000)!.text, /voltage L-N/, 'other points keep the built-in rules');
});

test('site limits from the editor are checked with the row and field named', () => {
  const ok = validateLimits([{ point: 'voltage_*', min: '100', max: '' }, { point: 'frequency', max: 61 }], 'node "tm"');
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.limits, [{ point: 'voltage_*', min: 100, max: undefined }, { point: 'frequency', min: undefined, max: 61 }]);
  const bad = validateLimits([{ point: '', min: 1 }, { point: 'a', min: 'x' }, { point: 'b' }, { point: 'c', min: 5, max: 1 }], 'node "tm"');
  assert.deepEqual(bad.errors, [
    'node "tm": limit 1: point name or pattern is empty',
    'node "tm": limit 2 (a): min "x" is not a number',
    'node "tm": limit 2 (a): give a min, a max or both',
    'node "tm": limit 3 (b): give a min, a max or both',
    'node "tm": limit 4 (c): min 5 is above max 1',
  ]);
  assert.deepEqual(validateLimits('nope', 'n').errors, ['n: plausibility limits must be a list, got string']);
  assert.deepEqual(validateLimits(undefined, 'n'), { limits: [], errors: [] });
});

test('every voltage, current, frequency and energy point of the shipped registry has a rule', () => {
  const reg = sharedRegistry();
  const missing: string[] = [];
  for (const model of reg.models.values()) {
    for (const p of model.points) {
      const unit = p.unit ?? '';
      if (!/^(k|M)?(V|A|Hz|Wh|varh|VArh|VAh)$/.test(unit)) continue;
      if (!checker.ruleFor(p.name, unit)) missing.push(`${model.id} ${p.name} [${unit}]`);
    }
  }
  assert.deepEqual(missing, []);
});
