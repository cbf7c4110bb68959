import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { validateRules } from '../../nodes/lib/alert/rules';
import { buildRuleSet } from '../../nodes/lib/alert/ruleset';
import { specsFromYaml } from '../../nodes/lib/alert/yaml';
import { compilePattern } from '../../nodes/lib/alert/glob';

const src = (spec: unknown, i = 1) => ({ spec, source: `dialog rule ${i}` });

test('a valid rule gets defaults, a derived id and seconds turned into ms', () => {
  const { rules, problems } = validateRules([src({ device: 'meter-*', point: 'voltage_l1', type: 'high', limit: '253', deadband: 2, onDelay: 5 })]);
  assert.deepEqual(problems, []);
  assert.equal(rules.length, 1);
  const r = rules[0];
  assert.equal(r.id, 'high@meter-*:voltage_l1');
  assert.equal(r.limit, 253);
  assert.equal(r.onDelayMs, 5000);
  assert.equal(r.severity, 'major');
  assert.equal(r.category, 'power');
  const offline = validateRules([src({ device: 'pv-1', type: 'offline', timeout: 30 })]).rules[0];
  assert.equal(offline.point, '_device');
  assert.equal(offline.category, 'communication');
  assert.equal(offline.timeoutMs, 30000);
});

test('a bad rule is left out with an error naming field and value; the others keep working', () => {
  const { rules, problems } = validateRules([
    src({ point: 'p', type: 'high', limit: 'lots' }, 1),
    src({ point: 'p', type: 'hihg', limit: 3 }, 2),
    src({ type: 'low', limit: 3 }, 3),
    src({ point: 'f', type: 'low', limit: 49.5, severity: 'urgent' }, 4),
    src('not a rule', 5),
    src({ point: 'ok', type: 'low', limit: 1 }, 6),
  ]);
  assert.deepEqual(rules.map((r) => r.point), ['ok']);
  assert.equal(problems.length, 5);
  assert.ok(problems.every((p) => p.level === 'error'));
  assert.match(problems[0].message, /dialog rule 1: "limit" must be a number for a high rule, got "lots"/);
  assert.equal(problems[0].field, 'limit');
  assert.match(problems[1].message, /"type" must be one of high, highHigh.*got "hihg"/);
  assert.match(problems[2].message, /"point" is required for a low rule/);
  assert.match(problems[3].message, /"severity" must be one of critical.*got "urgent"/);
  assert.match(problems[4].message, /dialog rule 5: a rule must be an object/);
});

test('contradictory limits: a band with low above high, and low/high rules that cross, are disabled', () => {
  const band = validateRules([src({ point: 'v', type: 'band', low: 260, high: 200 })]);
  assert.equal(band.rules.length, 0);
  assert.match(band.problems[0].message, /contradictory limits: low 260 is not below high 200/);

  const pair = validateRules([
    src({ id: 'lo', device: 'm1', point: 'v', type: 'low', limit: 250 }, 1),
    src({ id: 'hi', device: 'm1', point: 'v', type: 'high', limit: 240 }, 2),
    src({ id: 'other', device: 'm1', point: 'f', type: 'high', limit: 50.5 }, 3),
  ]);
  assert.deepEqual(pair.rules.map((r) => r.id), ['other']);
  assert.equal(pair.problems.length, 1);
  assert.match(pair.problems[0].message, /contradictory limits on m1\/v: low limit 250 of "lo" is not below high limit 240 of "hi"; both rules "lo" and "hi" are disabled/);

  const hh = validateRules([
    src({ point: 'v', type: 'high', limit: 253 }, 1),
    src({ point: 'v', type: 'highHigh', limit: 250 }, 2),
  ]);
  assert.equal(hh.rules.length, 0);
  assert.match(hh.problems[0].message, /highHigh limit 250 is below high limit 253/);

  const wide = validateRules([src({ point: 'v', type: 'band', low: 10, high: 20, deadband: 5 })]);
  assert.match(wide.problems[0].message, /deadband 5 is too wide/);
});

test('unknown fields and duplicate ids are warnings; the rule still runs', () => {
  const { rules, problems } = validateRules([
    src({ id: 'a', point: 'v', type: 'high', limit: 1, limt: 2 }, 1),
    src({ id: 'a', point: 'w', type: 'high', limit: 1 }, 2),
  ]);
  assert.deepEqual(rules.map((r) => r.id), ['a', 'a#2']);
  assert.equal(problems.length, 2);
  assert.ok(problems.every((p) => p.level === 'warning'));
  assert.match(problems[0].message, /unknown field "limt"/);
  assert.match(problems[1].message, /rule id "a" is used twice/);
});

test('disabled rules are skipped silently', () => {
  const { rules, problems } = validateRules([src({ point: 'v', type: 'high', limit: 1, enabled: false })]);
  assert.equal(rules.length, 0);
  assert.equal(problems.length, 0);
});

test('YAML rules: list or rules mapping, with line numbers in sources and errors', () => {
  const text = ['# site rules', 'rules:', '  - point: voltage_l1', '    type: high', '    limit: 253', '', '  - point: frequency', '    type: band', '    low: 49.8', '    high: 50.2', ''].join('\n');
  const y = specsFromYaml(text, 'site.yaml');
  assert.deepEqual(y.problems, []);
  assert.deepEqual(y.specs.map((s) => s.source), ['site.yaml rule 1 (line 3)', 'site.yaml rule 2 (line 7)']);
  const set = validateRules(y.specs);
  assert.equal(set.rules.length, 2);
  assert.equal(set.rules[1].high, 50.2);

  const bad = specsFromYaml('rules:\n  - point: v\n    type: [high\n', 'broken.yaml');
  assert.equal(bad.specs.length, 0);
  assert.match(bad.problems[0].message, /invalid YAML in broken.yaml at line \d+, column \d+/);

  const wrongShape = specsFromYaml('point: v\ntype: high\n', 'flat.yaml');
  assert.match(wrongShape.problems[0].message, /flat.yaml must hold a list of rules, or a "rules:" list; found a mapping with keys point, type/);
});

test('a rule set from dialog, YAML text and a file keeps working when one source is broken', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-alert-'));
  try {
    const file = path.join(dir, 'rules.yaml');
    fs.writeFileSync(file, '- point: temp\n  type: high\n  limit: 80\n  category: environmental\n');
    const set = buildRuleSet({
      rules: [{ point: 'v', type: 'high', limit: 253 }],
      yaml: 'rules: [ {point: f, type: low',
      file,
    });
    assert.deepEqual(set.rules.map((r) => r.point), ['v', 'temp']);
    assert.equal(set.rules[1].category, 'environmental');
    assert.equal(set.problems.length, 1);
    assert.match(set.problems[0].message, /invalid YAML in YAML rules/);
    const missing = buildRuleSet({ file: path.join(dir, 'nope.yaml') });
    assert.match(missing.problems[0].message, /cannot read rules file .*nope.yaml: ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('name patterns: * and ? match, everything else is literal', () => {
  const m = compilePattern('meter-?.l*');
  assert.ok(m('meter-1.l1'));
  assert.ok(m('meter-2.l'));
  assert.ok(!m('meter-10.l1'));
  assert.ok(!m('meter-1xl1'));
  assert.ok(compilePattern(undefined)('anything'));
  assert.ok(compilePattern('a+b')('a+b'));
  assert.ok(!compilePattern('a+b')('aab'));
});
