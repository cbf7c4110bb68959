import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { CANONICAL_UNITS, loadDefaultRegistry, loadRegistry, packageRegistryDir, sharedRegistry } from '../../nodes/lib/registry';
import type { MeterRegistry } from '../../nodes/lib/registry';
import type { PointDef } from '../../nodes/lib/modbus/types';
import { brokenModel, GOOD_MODEL, tempRegistry } from './registry-fixtures';

const registry: MeterRegistry = loadDefaultRegistry();

function point(modelId: string, name: string): PointDef {
  const p = registry.requireModel(modelId).points.find((x) => x.name === name);
  assert.ok(p, `${modelId} has no point ${name}`);
  return p;
}

test('every shipped model file loads without errors', () => {
  assert.deepEqual(registry.errors.map((e) => e.text), []);
  const files: string[] = [];
  const dir = packageRegistryDir();
  for (const maker of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!maker.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(dir, maker.name))) if (/\.ya?ml$/.test(f)) files.push(`${maker.name}/${f.replace(/\.ya?ml$/, '')}`);
  }
  assert.deepEqual([...registry.models.keys()].sort(), files.sort());
  assert.ok(registry.models.size >= 3, `only ${registry.models.size} models`);
});

test('every shipped model has basic_power, full_power and energy, and each profile resolves to points', () => {
  for (const model of registry.models.values()) {
    for (const required of ['basic_power', 'full_power']) {
      assert.ok(model.profiles[required], `${model.id} lacks profile ${required}`);
    }
    // A model without an energy profile must say why in its gaps.
    assert.ok(model.profiles.energy || model.gaps.some((g) => /energy/i.test(g)), `${model.id} lacks profile energy and gives no reason`);
    for (const profile of Object.keys(model.profiles)) {
      const points = registry.profilePoints(model.id, profile);
      assert.ok(points.length > 0, `${model.id}/${profile} is empty`);
      assert.equal(new Set(points.map((p) => p.name)).size, points.length, `${model.id}/${profile} repeats a point`);
    }
    const basic = registry.profilePoints(model.id, 'basic_power').map((p) => p.name);
    const full = registry.profilePoints(model.id, 'full_power').map((p) => p.name);
    for (const name of basic) assert.ok(full.includes(name), `${model.id}: full_power lacks ${name} of basic_power`);
    assert.ok(basic.some((n) => n.startsWith('active_power_')), `${model.id}: basic_power has no active power`);
  }
});

test('every shipped model names its source and uses shared names with their units', () => {
  for (const model of registry.models.values()) {
    assert.ok(model.source.title && (model.source.document || model.source.version), model.id);
    for (const p of model.points) {
      const unit = CANONICAL_UNITS.get(p.name);
      if (unit !== undefined) assert.equal(p.unit ?? '', unit, `${model.id} ${p.name}`);
    }
  }
});

test('SDM630: phase 1 voltage is input register 30001, protocol address 0, float32 high word first', () => {
  assert.deepEqual(point('eastron/sdm630', 'voltage_l1_n'), {
    name: 'voltage_l1_n', registerType: 'input', address: 0, dataType: 'float32', length: 2, order: 'ABCD',
    unit: 'V', description: 'Phase 1 line to neutral volts',
  });
  // 30053 total system power, 30071 frequency, 30073 import kWh, 30225 neutral current, 30343 total kWh.
  assert.equal(point('eastron/sdm630', 'active_power_total').address, 52);
  assert.equal(point('eastron/sdm630', 'frequency').address, 70);
  assert.equal(point('eastron/sdm630', 'active_energy_import_total').address, 72);
  assert.equal(point('eastron/sdm630', 'current_n').address, 224);
  assert.equal(point('eastron/sdm630', 'active_energy_total').address, 342);
  const defaults = registry.modelDefaults('eastron/sdm630');
  assert.deepEqual(defaults.serial, { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
  assert.equal(defaults.plan.maxRegisters, 80);
});

test('SDM120: frequency is input 30071 (address 70), import energy 30073, default 2400 baud', () => {
  assert.equal(point('eastron/sdm120', 'frequency').address, 70);
  assert.equal(point('eastron/sdm120', 'active_energy_import_total').address, 72);
  assert.equal(registry.modelDefaults('eastron/sdm120').serial?.baudRate, 2400);
});

test('at least 12 real meter models besides the simulator, each naming its source', () => {
  const real = [...registry.models.values()].filter((m) => m.id !== 'rtu/simulated-energy-meter');
  assert.ok(real.length >= 12, `only ${real.length} real models`);
  for (const id of ['schneider/em6400ng', 'schneider/em6400', 'elmeasure/lg5310']) assert.ok(registry.getModel(id), id);
});

test('EM6400NG: register numbers are one-based (register 3000 is holding 2999), kW scaled to W', () => {
  const i1 = point('schneider/em6400ng', 'current_l1');
  assert.deepEqual([i1.registerType, i1.address, i1.dataType], ['holding', 2999, 'float32']);
  const p = point('schneider/em6400ng', 'active_power_total');
  assert.deepEqual([p.address, p.scale, p.unit], [3059, 1000, 'W']);
  assert.equal(point('schneider/em6400ng', 'frequency').address, 3109);
});

test('EM6400 (EM6436): turbo block 43901.., low word first', () => {
  const w = point('schneider/em6400', 'active_power_total');
  assert.deepEqual([w.registerType, w.address, w.order], ['holding', 3902, 'CDAB']);
  assert.equal(point('schneider/em6400', 'current_l1').address, 3928);
});

test('Elmeasure LG5310: Watts total is 40101 (holding 100), floats low word first, Wh scaled to kWh', () => {
  const w = point('elmeasure/lg5310', 'active_power_total');
  assert.deepEqual([w.registerType, w.address, w.order], ['holding', 100, 'CDAB']);
  assert.equal(point('elmeasure/lg5310', 'frequency').address, 156);
  assert.equal(point('elmeasure/lg5310', 'active_energy_import_total').scale, 0.001);
});

test('EM24: at most 11 registers per request; scaled integers low word first', () => {
  assert.equal(registry.modelDefaults('carlo-gavazzi/em24').plan.maxRegisters, 11);
  const i1 = point('carlo-gavazzi/em24', 'current_l1');
  assert.deepEqual([i1.registerType, i1.address, i1.dataType, i1.scale, i1.order], ['input', 12, 'int32', 0.001, 'CDAB']);
});

test('PAC3200 offsets are wire addresses; ABB energy is a 4-register uint64', () => {
  assert.equal(point('siemens/pac3200', 'frequency').address, 55);
  assert.equal(point('siemens/pac3200', 'active_power_total').address, 65);
  const e = point('abb/b23', 'active_energy_import_total');
  assert.deepEqual([e.address, e.dataType, e.length], [0x5000, 'uint64', 4]);
});

test('Lovato DMG610: one-based table numbers, L1 voltage 0x0002 is input address 1', () => {
  assert.deepEqual([point('lovato/dmg610', 'voltage_l1_n').registerType, point('lovato/dmg610', 'voltage_l1_n').address], ['input', 1]);
  assert.equal(point('lovato/dmg610', 'active_energy_import_total').address, 0x1b1f);
});

/** Contiguous runs of registers covered by points, per register type. */
function blocks(points: PointDef[]): { start: number; end: number }[] {
  const spans = points.map((p) => ({ start: p.address, end: p.address + (p.length ?? 1) - 1 })).sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end + 1) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

test('simulated meter: 40 points in 69 registers, 6 blocks forming 3 clusters', () => {
  const points = registry.profilePoints('rtu/simulated-energy-meter', 'all');
  assert.equal(points.length, 40);
  assert.equal(points.reduce((n, p) => n + (p.length ?? 1), 0), 69);
  assert.ok(points.every((p) => p.registerType === 'input'));
  const b = blocks(points);
  assert.equal(b.length, 6);
  const clusters: { start: number; end: number }[] = [];
  for (const block of b) {
    const last = clusters[clusters.length - 1];
    if (last && block.start - last.end - 1 <= 2) last.end = block.end;
    else clusters.push({ ...block });
  }
  assert.equal(clusters.length, 3);
  for (let i = 1; i < clusters.length; i++) {
    assert.ok(clusters[i].end - clusters[i - 1].start + 1 > 125, 'two clusters must not fit one request');
  }
  for (const c of clusters) assert.ok(c.end - c.start + 1 <= 125);
  const types = new Set(points.map((p) => p.dataType));
  for (const t of ['float32', 'uint32', 'uint16', 'int16']) assert.ok(types.has(t as PointDef['dataType']), t);
});

test('profilePoints and requireModel name the known models and profiles on a bad id', () => {
  assert.throws(() => registry.profilePoints('eastron/sdm999', 'basic_power'), /meter model "eastron\/sdm999" is not in the registry; known models: .*eastron\/sdm630/);
  assert.throws(() => registry.profilePoints('eastron/sdm630', 'basic'), /meter model "eastron\/sdm630" has no profile "basic"; known profiles: basic_power, full_power, energy/);
  assert.equal(registry.getModel('nope/nope'), undefined);
});

test('profilePoints returns fresh objects: a caller changing one does not change the registry', () => {
  const first = registry.profilePoints('eastron/sdm630', 'basic_power');
  first[0].address = 999;
  assert.equal(registry.profilePoints('eastron/sdm630', 'basic_power')[0].address, 0);
});

test('listModels groups by manufacturer with profiles and point counts, sorted', () => {
  const list = registry.listModels();
  const names = list.map((m) => m.manufacturer);
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));
  const eastron = list.find((m) => m.manufacturer === 'Eastron');
  const sdm630 = eastron?.models.find((m) => m.id === 'eastron/sdm630');
  assert.ok(sdm630);
  assert.equal(sdm630.user, false);
  assert.deepEqual(sdm630.profiles.find((p) => p.name === 'basic_power')?.points, 9);
});

test('a user folder adds a model, and a user model with a package id replaces it and is listed as an override', () => {
  const own = tempRegistry({
    'acme/pm-1.yaml': GOOD_MODEL,
    'eastron/sdm120.yaml': brokenModel('model: PM-1', 'model: SDM120 (site copy)'),
  });
  try {
    const reg = loadDefaultRegistry([own.dir]);
    assert.deepEqual(reg.errors, []);
    assert.equal(reg.getModel('acme/pm-1')?.model, 'PM-1');
    assert.deepEqual(reg.profilePoints('acme/pm-1', 'full_power').map((p) => p.name), ['voltage_l1_n', 'current_l1', 'active_power_total']);
    assert.equal(reg.getModel('eastron/sdm120')?.model, 'SDM120 (site copy)');
    assert.equal(reg.overrides.length, 1);
    assert.equal(reg.overrides[0].id, 'eastron/sdm120');
    assert.equal(reg.overrides[0].file, path.join(own.dir, 'eastron', 'sdm120.yaml'));
    assert.match(reg.overrides[0].replaced, /meter-registry[\\/]eastron[\\/]sdm120\.yaml$/);
    const acme = reg.listModels().find((m) => m.manufacturer === 'Acme');
    assert.equal(acme?.models[0].user, true);
  } finally {
    own.remove();
  }
});

test('two files with the same id in one folder: the second is reported and skipped', () => {
  const own = tempRegistry({ 'acme/pm-1.yaml': GOOD_MODEL, 'acme/pm-1.yml': brokenModel('model: PM-1', 'model: other') });
  try {
    const reg = loadRegistry([own.dir]);
    assert.equal(reg.getModel('acme/pm-1')?.model, 'PM-1');
    assert.equal(reg.errors.length, 1);
    assert.match(reg.errors[0].text, /pm-1\.yml:1: model id "acme\/pm-1" is already defined by .*pm-1\.yaml in the same folder; this file is skipped$/);
  } finally {
    own.remove();
  }
});

test('sharedRegistry parses once per folder list and reloads on request', () => {
  const own = tempRegistry({ 'acme/pm-1.yaml': GOOD_MODEL });
  try {
    const a = sharedRegistry([own.dir]);
    assert.equal(sharedRegistry([own.dir]), a);
    fs.writeFileSync(path.join(own.dir, 'acme', 'pm-2.yaml'), GOOD_MODEL);
    assert.equal(a.getModel('acme/pm-2'), undefined);
    const b = sharedRegistry([own.dir], true);
    assert.notEqual(b, a);
    assert.ok(b.getModel('acme/pm-2'));
  } finally {
    own.remove();
  }
});

test('document and one-based addressing convert to protocol addresses; neverRead ranges reach the plan', () => {
  const doc = GOOD_MODEL.replace('addressing: protocol', 'addressing: one-based')
    .replace('    address: 0\n', '    address: 3000\n')
    .replace('    address: 2\n', '    address: 3002\n')
    .replace('    address: 4\n', '    address: 3004\n')
    .replace('points:\n', 'neverRead:\n  - { registerType: holding, address: 3010, quantity: 6, reason: reserved }\npoints:\n');
  const input = GOOD_MODEL.replace('addressing: protocol', 'addressing: document').replace(/ {4}registerType: holding\n/g, '')
    .replace('    address: 0\n', '    address: 400001\n')
    .replace('    address: 2\n', '    address: 30003\n')
    .replace('    address: 4\n', '    address: 40005\n');
  const own = tempRegistry({ 'acme/one.yaml': doc, 'acme/doc.yaml': input });
  try {
    const reg = loadRegistry([own.dir]);
    assert.deepEqual(reg.errors.map((e) => e.text), []);
    assert.deepEqual(reg.getModel('acme/one')?.points.map((p) => p.address), [2999, 3001, 3003]);
    assert.deepEqual(reg.modelDefaults('acme/one').plan.neverRead, [{ registerType: 'holding', address: 3009, quantity: 6 }]);
    assert.deepEqual(reg.getModel('acme/doc')?.points.map((p) => `${p.registerType} ${p.address}`), ['holding 0', 'input 2', 'holding 4']);
  } finally {
    own.remove();
  }
});

test('a point inside a never-read range is an error', () => {
  const text = GOOD_MODEL.replace('points:\n', 'neverRead:\n  - { registerType: holding, address: 4, quantity: 2 }\npoints:\n');
  const own = tempRegistry({ 'acme/pm-1.yaml': text });
  try {
    const reg = loadRegistry([own.dir]);
    assert.equal(reg.errors.length, 1);
    assert.match(reg.errors[0].text, /points\[2\]\.address: active_power_total \(holding 4\.\.5\) lies in a never-read range \(holding 4\+2\)$/);
  } finally {
    own.remove();
  }
});
