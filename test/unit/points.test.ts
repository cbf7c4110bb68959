import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModiconAddress, validatePoints, validateUnitId } from '../../nodes/lib/modbus/points';

test('editor rows with strings become typed points; aliases are accepted', () => {
  const { points, errors } = validatePoints(
    [
      { name: ' voltage_l1 ', registerType: 'holding', address: '0', dataType: 'float32', order: 'cdab', scale: '1', unit: 'V', offset: '' },
      { name: 'energy', register_type: 'Input Register', address: '0x10', data_type: 'uint32', order: 'word swap', scale: '0.01' },
      { name: 'serial', registerType: 'hr', address: 100, dataType: 'string', length: '8', writable: 'false' },
      { name: 'breaker', registerType: 'coil', address: 3 },
      { name: 'alarm', registerType: '4x', address: 10, dataType: 'bool', bit: '15' },
      { name: 'mode', registerType: 'holding', address: 10, dataType: 'bitfield', bit: 4, bits: '3' },
      { name: 'status', registerType: 'holding', address: 10, dataType: 'word' },
    ],
    'meter 1',
  );
  assert.deepEqual(errors, []);
  assert.deepEqual(points, [
    { name: 'voltage_l1', registerType: 'holding', address: 0, dataType: 'float32', order: 'CDAB', scale: 1, unit: 'V' },
    { name: 'energy', registerType: 'input', address: 16, dataType: 'uint32', order: 'CDAB', scale: 0.01 },
    { name: 'serial', registerType: 'holding', address: 100, dataType: 'string', length: 8, writable: false },
    { name: 'breaker', registerType: 'coil', address: 3, dataType: 'bool' },
    { name: 'alarm', registerType: 'holding', address: 10, dataType: 'bool', bit: 15 },
    { name: 'mode', registerType: 'holding', address: 10, dataType: 'bitfield', bit: 4, bits: 3 },
    { name: 'status', registerType: 'holding', address: 10, dataType: 'uint16' },
  ]);
});

test('each problem is one error naming context, point and field', () => {
  const { points, errors } = validatePoints(
    [
      { name: 'voltage_l1', registerType: 'holding', address: 70000, dataType: 'float32' },
      { name: 'v2', registerType: 'holdings', address: 1, dataType: 'float32' },
      { name: 'v3', registerType: 'holding', address: 2, dataType: 'float16' },
      { name: 'v4', registerType: 'holding', address: 65535, dataType: 'float32' },
      { name: 'v5', registerType: 'holding', address: 4, dataType: 'float32', order: 'ACBD' },
      { name: 'v6', registerType: 'holding', address: 6, dataType: 'string' },
      { name: 'v7', registerType: 'holding', address: 8, dataType: 'string', length: 200 },
      { name: 'v8', registerType: 'holding', address: 9, dataType: 'bool', bit: 16 },
      { name: 'v9', registerType: 'holding', address: 9, dataType: 'bitfield', bit: 12, bits: 5 },
      { name: 'v10', registerType: 'holding', address: 11, dataType: 'float32', bit: 1 },
      { name: 'v11', registerType: 'coil', address: 1, dataType: 'uint16' },
      { name: 'v12', registerType: 'holding', address: 'abc', dataType: 'uint16' },
      { name: 'v13', registerType: 'holding', address: 14, dataType: 'uint16', scale: 0 },
      { name: 'v14', registerType: 'holding', address: 15, dataType: 'float32', length: 4 },
      { registerType: 'holding', address: 20, dataType: 'uint16' },
      { name: 'v16', address: 21, dataType: 'uint16' },
      { name: 'v17', registerType: 'holding', address: 22 },
      { name: 'v18', registerType: 'holding', address: 23, dataType: 'uint16', writable: 'maybe' },
      { name: 'v19', registerType: 'holding', address: 1.5, dataType: 'uint16' },
      'not a row',
    ],
    'meter 1',
  );
  const expected = [
    'meter 1: point "voltage_l1": address 70000 is outside 0..65535',
    'meter 1: point "v2": register type "holdings" is not coil, discrete, input or holding',
    'meter 1: point "v3": data type "float16" is not one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, bcd16, bcd32, string, bitfield',
    'meter 1: point "v4": address 65535 + 2 registers runs past 65535',
    'meter 1: point "v5": order "ACBD" is not one of ABCD, CDAB, BADC, DCBA',
    'meter 1: point "v6": a string needs a length in registers',
    'meter 1: point "v7": length 200 is outside 1..125',
    'meter 1: point "v8": bit 16 is outside 0..15',
    'meter 1: point "v9": bits 5 is outside 1..4 (the field starts at bit 12 of 16)',
    'meter 1: point "v10": bit/bits apply only to bool and bitfield points in registers, not to holding float32',
    'meter 1: point "v11": a coil holds one bit: data type must be bool, not uint16',
    'meter 1: point "v12": address "abc" is not a number',
    'meter 1: point "v13": scale must not be 0',
    'meter 1: point "v14": length 4 does not match float32, which takes 2 register(s)',
    'meter 1: point #15: name is missing',
    'meter 1: point "v16": register type is missing (coil, discrete, input or holding)',
    'meter 1: point "v17": data type is missing (one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, bcd16, bcd32, string, bitfield)',
    'meter 1: point "v18": writable "maybe" is not true or false',
    'meter 1: point "v19": address 1.5 is outside 0..65535',
    'meter 1: point #20: expected an object with name, register type, address and data type',
  ];
  assert.deepEqual(errors, expected);
  assert.deepEqual(points, []);
});

test('duplicate names and overlapping points are errors; bit points may share a register', () => {
  const { points, errors } = validatePoints(
    [
      { name: 'power', registerType: 'holding', address: 0, dataType: 'float32' },
      { name: 'power', registerType: 'holding', address: 10, dataType: 'float32' },
      { name: 'current', registerType: 'holding', address: 1, dataType: 'uint16' },
      { name: 'energy', registerType: 'holding', address: 2, dataType: 'uint64' },
      { name: 'flag_a', registerType: 'holding', address: 3, dataType: 'bool', bit: 0 },
      { name: 'flag_b', registerType: 'holding', address: 3, dataType: 'bool', bit: 1 },
      { name: 'freq', registerType: 'input', address: 1, dataType: 'uint16' },
      { name: 'c1', registerType: 'coil', address: 1 },
      { name: 'c2', registerType: 'coil', address: 1 },
    ],
    '',
  );
  assert.deepEqual(errors, [
    'point "power": the name is used twice (points #1 and #2)',
    'point "c2": coil 1 overlaps point "c1" (coil 1..1)',
    'point "current": holding 1 overlaps point "power" (holding 0..1)',
  ]);
  assert.equal(points.length, 8);
});

test('a non-list is an error, not a crash', () => {
  assert.deepEqual(validatePoints('x' as unknown as unknown[], 'meter 2').errors, ['meter 2: the point list is not a list (got string)']);
});

test('Modicon addresses: 5 and 6 digits, every table, clear errors', () => {
  assert.deepEqual(parseModiconAddress('40001'), { registerType: 'holding', address: 0 });
  assert.deepEqual(parseModiconAddress(40001), { registerType: 'holding', address: 0 });
  assert.deepEqual(parseModiconAddress('49999'), { registerType: 'holding', address: 9998 });
  assert.deepEqual(parseModiconAddress('400001'), { registerType: 'holding', address: 0 });
  assert.deepEqual(parseModiconAddress('465536'), { registerType: 'holding', address: 65535 });
  assert.deepEqual(parseModiconAddress('30010'), { registerType: 'input', address: 9 });
  assert.deepEqual(parseModiconAddress('300010'), { registerType: 'input', address: 9 });
  assert.deepEqual(parseModiconAddress('10005'), { registerType: 'discrete', address: 4 });
  assert.deepEqual(parseModiconAddress('00001'), { registerType: 'coil', address: 0 });
  assert.deepEqual(parseModiconAddress(' 000100 '), { registerType: 'coil', address: 99 });
  assert.throws(() => parseModiconAddress('40000'), /"40000" is not a Modicon address: the register number 0 is outside 1..9999/);
  assert.throws(() => parseModiconAddress('465537'), /register number 65537 is outside 1..65536/);
  assert.throws(() => parseModiconAddress('20001'), /the first digit 2 is not 0 \(coil\)/);
  assert.throws(() => parseModiconAddress(1), /"1" is not a Modicon address: expected 5 digits/);
  assert.throws(() => parseModiconAddress('4x001'), /expected 5 digits/);
});

test('unit ids: 1..247 on serial lines, 0..255 over TCP, strings from forms accepted', () => {
  assert.deepEqual(validateUnitId('17'), { unitId: 17 });
  assert.deepEqual(validateUnitId(247), { unitId: 247 });
  assert.deepEqual(validateUnitId(0), { error: 'unit id 0 is not a whole number in 1..247' });
  assert.deepEqual(validateUnitId(248), { error: 'unit id 248 is not a whole number in 1..247' });
  assert.deepEqual(validateUnitId(255, 'tcp'), { unitId: 255 });
  assert.deepEqual(validateUnitId(0, 'tcp'), { unitId: 0 });
  assert.deepEqual(validateUnitId('', 'tcp'), { error: 'unit id "" is not a whole number in 0..255' });
  assert.deepEqual(validateUnitId(1.5), { error: 'unit id 1.5 is not a whole number in 1..247' });
});
