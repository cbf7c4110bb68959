import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { loadRegistry } from '../../nodes/lib/registry';
import { brokenModel, GOOD_MODEL, tempRegistry } from './registry-fixtures';

/** Loads one broken acme/pm-1.yaml beside a good model and returns the error texts. */
function errorsFor(text: string): { texts: string[]; loaded: string[] } {
  const reg = tempRegistry({ 'acme/pm-1.yaml': text, 'acme/pm-2.yaml': GOOD_MODEL });
  try {
    const registry = loadRegistry([reg.dir]);
    const texts = registry.errors.map((e) => e.text.replace(reg.dir + path.sep, '').split(path.sep).join('/'));
    return { texts, loaded: [...registry.models.keys()] };
  } finally {
    reg.remove();
  }
}

const cases: { name: string; text: string; expect: string[] }[] = [
  {
    name: 'YAML syntax error',
    text: brokenModel('  - name: current_l1\n', '  - name: [current_l1\n'),
    expect: [/^acme\/pm-1\.yaml:\d+: YAML syntax: /.source],
  },
  {
    name: 'unknown field',
    text: brokenModel('    unit: A\n', '    unit: A\n    colour: red\n'),
    expect: ['acme/pm-1.yaml:19: points[1].colour: unknown field; known fields are name, registerType, address, dataType, order, length, bit, bits, scale, offset, unit, description, writable'],
  },
  {
    name: 'unknown data type',
    text: brokenModel('    dataType: float32\n    unit: A', '    dataType: flaot32\n    unit: A'),
    expect: ['acme/pm-1.yaml:17: points[1].dataType: "flaot32" is not a known data type; use one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, bcd16, bcd32, string, bitfield'],
  },
  {
    name: 'duplicate point name',
    text: brokenModel('  - name: current_l1\n', '  - name: voltage_l1_n\n').replace('unit: A', 'unit: V'),
    expect: [
      'acme/pm-1.yaml:14: points[1].name: "voltage_l1_n" is already used by points[0]',
      'acme/pm-1.yaml:27: profiles.basic_power.points[1]: point "current_l1" does not exist in this model',
    ],
  },
  {
    name: 'bad profile reference',
    text: brokenModel('points: [voltage_l1_n, current_l1]', 'points: [voltage_l1_n, curent_l1]'),
    expect: ['acme/pm-1.yaml:27: profiles.basic_power.points[1]: point "curent_l1" does not exist in this model'],
  },
  {
    name: 'profile extends an unknown profile',
    text: brokenModel('extends: basic_power', 'extends: basic'),
    expect: ['acme/pm-1.yaml:29: profiles.full_power.extends: profile "basic" does not exist; known profiles: basic_power, full_power, energy'],
  },
  {
    name: 'overlapping points',
    text: brokenModel('    address: 2\n', '    address: 1\n'),
    expect: ['acme/pm-1.yaml:16: points[1].address: current_l1 (holding 1..2) overlaps voltage_l1_n (holding 0..1, points[0])'],
  },
  {
    name: 'address past the end of the table',
    text: brokenModel('    address: 4\n', '    address: 65535\n'),
    expect: ['acme/pm-1.yaml:21: points[2].address: active_power_total at 65535 with 2 registers runs past address 65535'],
  },
  {
    name: 'length that does not fit the data type',
    text: brokenModel('    dataType: int32\n', '    dataType: int32\n    length: 1\n'),
    expect: ['acme/pm-1.yaml:23: points[2].length: int32 occupies 2 registers, not 1'],
  },
  {
    name: 'shared name with the wrong unit',
    text: brokenModel('    scale: 1000\n    unit: W', '    unit: kW'),
    expect: ['acme/pm-1.yaml:23: points[2].unit: active_power_total is a shared name measured in "W", found "kW"; convert with scale or choose another name'],
  },
  {
    name: 'document number of the wrong table',
    text: brokenModel('addressing: protocol', 'addressing: document').replace('    address: 0\n', '    address: 30001\n'),
    expect: [
      'acme/pm-1.yaml:11: points[0].address: 30001 is an input register number but registerType says "holding"',
      'acme/pm-1.yaml:16: points[1].address: 2 is a coil register number but registerType says "holding"',
      'acme/pm-1.yaml:21: points[2].address: 4 is a coil register number but registerType says "holding"',
    ],
  },
  {
    name: 'a serial setting out of range',
    text: brokenModel('protocols: [modbus-tcp]', 'protocols: [modbus-rtu]\nserial:\n  baudRate: 9600\n  parity: mark\n  dataBits: 8\n  stopBits: 1'),
    expect: ['acme/pm-1.yaml:6: serial.parity: "mark" is not a known parity; use one of none, even, odd'],
  },
  {
    name: 'missing register type with protocol addressing',
    text: brokenModel('    registerType: holding\n    address: 0\n', '    address: 0\n'),
    expect: ['acme/pm-1.yaml:10: points[0].address: registerType is required with "protocol" addressing'],
  },
];

for (const c of cases) {
  test(`registry reports ${c.name} with file, line and field; the other file still loads`, () => {
    const { texts, loaded } = errorsFor(c.text);
    assert.equal(texts.length, c.expect.length, `errors: ${JSON.stringify(texts, null, 2)}`);
    c.expect.forEach((want, i) => {
      if (want.startsWith('^')) assert.match(texts[i], new RegExp(want));
      else assert.equal(texts[i], want);
    });
    assert.deepEqual(loaded, ['acme/pm-2']);
  });
}

test('a file outside <manufacturer>/<model>.yaml is reported and skipped', () => {
  const reg = tempRegistry({ 'loose.yaml': GOOD_MODEL, 'Acme/PM 1.yaml': GOOD_MODEL, 'acme/pm-2.yml': GOOD_MODEL });
  try {
    const registry = loadRegistry([reg.dir]);
    assert.deepEqual([...registry.models.keys()], ['acme/pm-2']);
    assert.equal(registry.errors.length, 2);
    for (const e of registry.errors) assert.match(e.message, /expected the file at <manufacturer-slug>\/<model-slug>\.yaml/);
  } finally {
    reg.remove();
  }
});

test('a missing folder is reported, the others still load', () => {
  const reg = tempRegistry({ 'acme/pm-1.yaml': GOOD_MODEL });
  try {
    const registry = loadRegistry([path.join(reg.dir, 'nope'), reg.dir]);
    assert.deepEqual([...registry.models.keys()], ['acme/pm-1']);
    assert.match(registry.errors[0].text, /nope: registry folder does not exist$/);
  } finally {
    reg.remove();
  }
});

test('profile names that are members of every object are unknown profiles, not crashes', () => {
  const reg = tempRegistry({ 'acme/pm-1.yaml': GOOD_MODEL });
  try {
    const registry = loadRegistry([reg.dir]);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      assert.throws(() => registry.profilePoints('acme/pm-1', name), { message: new RegExp(`has no profile "${name}"; known profiles: basic_power, full_power, energy`) });
    }
  } finally {
    reg.remove();
  }
  const { texts } = errorsFor(brokenModel('    extends: basic_power\n', '    extends: constructor\n'));
  assert.equal(texts.length, 1);
  assert.match(texts[0], /profiles\.full_power\.extends: profile "constructor" does not exist; known profiles: basic_power, full_power, energy/);
});
