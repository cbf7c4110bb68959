import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CodecError,
  decodePoint,
  decodeRaw,
  encodePoint,
  encodePointOver,
  encodeRaw,
  registerCount,
  RawValue,
} from '../../nodes/lib/modbus/codec';
import { BYTE_ORDERS, ByteOrder, DataType, PointDef } from '../../nodes/lib/modbus/types';

interface Vector {
  type: DataType;
  value: RawValue;
  length?: number;
  words: Record<ByteOrder, number[]>;
}

// Hand-computed: the big-endian bytes of each value, then laid out per order.
const vectors: Vector[] = [
  // 230.5 = 0x43668000
  { type: 'float32', value: 230.5, words: { ABCD: [0x4366, 0x8000], CDAB: [0x8000, 0x4366], BADC: [0x6643, 0x0080], DCBA: [0x0080, 0x6643] } },
  // -1.5 = 0xBFC00000
  { type: 'float32', value: -1.5, words: { ABCD: [0xbfc0, 0x0000], CDAB: [0x0000, 0xbfc0], BADC: [0xc0bf, 0x0000], DCBA: [0x0000, 0xc0bf] } },
  // -123456789 = 0xF8A432EB
  { type: 'int32', value: -123456789, words: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] } },
  { type: 'int32', value: -2147483648, words: { ABCD: [0x8000, 0x0000], CDAB: [0x0000, 0x8000], BADC: [0x0080, 0x0000], DCBA: [0x0000, 0x0080] } },
  { type: 'int32', value: 2147483647, words: { ABCD: [0x7fff, 0xffff], CDAB: [0xffff, 0x7fff], BADC: [0xff7f, 0xffff], DCBA: [0xffff, 0xff7f] } },
  // 0x12345678
  { type: 'uint32', value: 305419896, words: { ABCD: [0x1234, 0x5678], CDAB: [0x5678, 0x1234], BADC: [0x3412, 0x7856], DCBA: [0x7856, 0x3412] } },
  { type: 'uint32', value: 4294967295, words: { ABCD: [0xffff, 0xffff], CDAB: [0xffff, 0xffff], BADC: [0xffff, 0xffff], DCBA: [0xffff, 0xffff] } },
  // 16-bit values honour the byte swap only
  { type: 'int16', value: -2, words: { ABCD: [0xfffe], CDAB: [0xfffe], BADC: [0xfeff], DCBA: [0xfeff] } },
  { type: 'int16', value: -32768, words: { ABCD: [0x8000], CDAB: [0x8000], BADC: [0x0080], DCBA: [0x0080] } },
  { type: 'int16', value: 32767, words: { ABCD: [0x7fff], CDAB: [0x7fff], BADC: [0xff7f], DCBA: [0xff7f] } },
  { type: 'uint16', value: 4660, words: { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] } },
  { type: 'uint16', value: 65535, words: { ABCD: [0xffff], CDAB: [0xffff], BADC: [0xffff], DCBA: [0xffff] } },
  { type: 'bitfield', value: 0x8001, words: { ABCD: [0x8001], CDAB: [0x8001], BADC: [0x0180], DCBA: [0x0180] } },
  { type: 'bcd16', value: 1234, words: { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] } },
  { type: 'bcd32', value: 12345678, words: { ABCD: [0x1234, 0x5678], CDAB: [0x5678, 0x1234], BADC: [0x3412, 0x7856], DCBA: [0x7856, 0x3412] } },
  // 0x0012345678ABCDEF (distinct bytes, still an exact double)
  {
    type: 'int64',
    value: 5124095577148911,
    words: {
      ABCD: [0x0012, 0x3456, 0x78ab, 0xcdef],
      CDAB: [0xcdef, 0x78ab, 0x3456, 0x0012],
      BADC: [0x1200, 0x5634, 0xab78, 0xefcd],
      DCBA: [0xefcd, 0xab78, 0x5634, 0x1200],
    },
  },
  {
    type: 'int64',
    value: -2,
    words: {
      ABCD: [0xffff, 0xffff, 0xffff, 0xfffe],
      CDAB: [0xfffe, 0xffff, 0xffff, 0xffff],
      BADC: [0xffff, 0xffff, 0xffff, 0xfeff],
      DCBA: [0xfeff, 0xffff, 0xffff, 0xffff],
    },
  },
  {
    type: 'int64',
    value: -(2 ** 63),
    words: {
      ABCD: [0x8000, 0, 0, 0],
      CDAB: [0, 0, 0, 0x8000],
      BADC: [0x0080, 0, 0, 0],
      DCBA: [0, 0, 0, 0x0080],
    },
  },
  // 2^53 = 0x0020000000000000
  {
    type: 'uint64',
    value: 9007199254740992,
    words: { ABCD: [0x0020, 0, 0, 0], CDAB: [0, 0, 0, 0x0020], BADC: [0x2000, 0, 0, 0], DCBA: [0, 0, 0, 0x2000] },
  },
  // 230.5 = 0x406CD00000000000
  {
    type: 'float64',
    value: 230.5,
    words: { ABCD: [0x406c, 0xd000, 0, 0], CDAB: [0, 0, 0xd000, 0x406c], BADC: [0x6c40, 0x00d0, 0, 0], DCBA: [0, 0, 0x00d0, 0x6c40] },
  },
  // Strings run in register order; the byte swap exchanges the two characters of each register.
  {
    type: 'string',
    value: 'ABC',
    length: 3,
    words: { ABCD: [0x4142, 0x4300, 0x0000], CDAB: [0x4142, 0x4300, 0x0000], BADC: [0x4241, 0x0043, 0x0000], DCBA: [0x4241, 0x0043, 0x0000] },
  },
];

test('every type in every order decodes the hand-computed vectors and encodes back to them', () => {
  for (const v of vectors) {
    for (const order of BYTE_ORDERS) {
      const words = v.words[order];
      const label = `${v.type} ${String(v.value)} ${order}`;
      assert.equal(decodeRaw(v.type, order, words, 0, v.length), v.value, label);
      assert.deepEqual(encodeRaw(v.type, order, v.value, v.length), words, label);
      // The same value found in the middle of a block.
      assert.equal(decodeRaw(v.type, order, [0xdead, ...words, 0xbeef], 1, v.length), v.value, `${label} at offset 1`);
    }
  }
});

test('bool: a whole register is true when non-zero; coils and discrete inputs are 0/1', () => {
  assert.equal(decodeRaw('bool', 'ABCD', [0], 0), false);
  assert.equal(decodeRaw('bool', 'ABCD', [0x0100], 0), true);
  const coil: PointDef = { name: 'breaker_closed', registerType: 'coil', address: 5, dataType: 'bool' };
  assert.equal(decodePoint(coil, [0, 1, 0], 1), true);
  assert.equal(decodePoint(coil, [0, 1, 0], 2), false);
  assert.deepEqual(encodePoint(coil, true), [1]);
  assert.deepEqual(encodePoint(coil, 0), [0]);
  assert.throws(() => encodePoint(coil, 'yes'), /point "breaker_closed": value "yes" is not a bool/);
});

test('bool with a bit picks one bit of a register; bitfield extracts bits, both per order', () => {
  const alarm: PointDef = { name: 'alarm', registerType: 'holding', address: 0, dataType: 'bool', bit: 15 };
  assert.equal(decodePoint(alarm, [0x8000], 0), true);
  assert.equal(decodePoint(alarm, [0x7fff], 0), false);
  assert.equal(decodePoint({ ...alarm, order: 'BADC' }, [0x0080], 0), true);
  const mode: PointDef = { name: 'mode', registerType: 'input', address: 0, dataType: 'bitfield', bit: 4, bits: 4 };
  assert.equal(decodePoint(mode, [0b1011_0000], 0), 11);
  assert.equal(decodePoint({ ...mode, order: 'DCBA' }, [0b1011_0000 << 8], 0), 11);
  const wide: PointDef = { name: 'flags_hi', registerType: 'input', address: 0, dataType: 'bitfield', length: 2, bit: 28, bits: 4 };
  assert.equal(decodePoint(wide, [0xf000, 0x0000], 0), 15);
  assert.equal(decodePoint({ ...wide, bit: undefined, bits: undefined }, [0xf000, 0x0001], 0), 0xf0000001);
});

test('encodePointOver keeps the other bits of the register', () => {
  const alarm: PointDef = { name: 'alarm', registerType: 'holding', address: 0, dataType: 'bool', bit: 3 };
  assert.deepEqual(encodePoint(alarm, true), [0x0008]);
  assert.deepEqual(encodePointOver(alarm, true, [0x1001]), [0x1009]);
  assert.deepEqual(encodePointOver(alarm, false, [0xffff]), [0xfff7]);
  const mode: PointDef = { name: 'mode', registerType: 'holding', address: 0, dataType: 'bitfield', bit: 4, bits: 4 };
  assert.deepEqual(encodePointOver(mode, 5, [0xffff]), [0xff5f]);
  assert.throws(() => encodePoint(mode, 16), /point "mode": value 16 does not fit in 4 bit/);
  const wide: PointDef = { name: 'w', registerType: 'holding', address: 0, dataType: 'bitfield', length: 2, bit: 28, bits: 4 };
  assert.deepEqual(encodePointOver(wide, 0xa, [0xffff, 0xffff]), [0xafff, 0xffff]);
});

test('scale then offset, without binary noise; encodePoint is the exact inverse', () => {
  const voltage: PointDef = { name: 'voltage_l1', registerType: 'holding', address: 0, dataType: 'uint16', scale: 0.1, unit: 'V' };
  assert.equal(decodePoint(voltage, [2301], 0), 230.1);
  assert.deepEqual(encodePoint(voltage, 230.1), [2301]);
  const temp: PointDef = { name: 'temp', registerType: 'input', address: 0, dataType: 'int16', scale: 0.1, offset: -40 };
  assert.equal(decodePoint(temp, [650], 0), 25);
  assert.deepEqual(encodePoint(temp, 25), [650]);
  assert.equal(decodePoint(temp, [0xfffe], 0), -40.2);
  const energy: PointDef = { name: 'energy', registerType: 'holding', address: 0, dataType: 'uint32', order: 'CDAB', scale: 10 };
  assert.equal(decodePoint(energy, [0x5678, 0x1234], 0), 3054198960);
  assert.deepEqual(encodePoint(energy, 3054198960), [0x5678, 0x1234]);
  const pf: PointDef = { name: 'pf', registerType: 'holding', address: 0, dataType: 'int16', scale: 0.001 };
  assert.equal(decodePoint(pf, [0xfc7c], 0), -0.9);
  assert.deepEqual(encodePoint(pf, -0.9), [0xfc7c]);
});

test('random round trips through encodePoint and decodePoint for every type and order', () => {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const gen: Record<string, () => number | string> = {
    int16: () => Math.floor(rand() * 65536) - 32768,
    uint16: () => Math.floor(rand() * 65536),
    int32: () => Math.floor(rand() * 2 ** 32) - 2 ** 31,
    uint32: () => Math.floor(rand() * 2 ** 32),
    int64: () => Math.floor(rand() * 2 ** 53) * (rand() < 0.5 ? -1 : 1),
    uint64: () => Math.floor(rand() * 2 ** 53),
    float32: () => Math.fround((rand() - 0.5) * 1e6),
    float64: () => (rand() - 0.5) * 1e12,
    bcd16: () => Math.floor(rand() * 10000),
    bcd32: () => Math.floor(rand() * 100000000),
    string: () => Array.from({ length: Math.floor(rand() * 9) }, () => String.fromCharCode(0x21 + Math.floor(rand() * 94))).join(''),
  };
  for (const [type, next] of Object.entries(gen)) {
    for (const order of BYTE_ORDERS) {
      const point: PointDef = { name: 'p', registerType: 'holding', address: 0, dataType: type as DataType, order, length: type === 'string' ? 4 : undefined };
      for (let i = 0; i < 200; i++) {
        const value = next();
        const words = encodePoint(point, value);
        assert.equal(words.length, registerCount(point));
        for (const w of words) assert.ok(Number.isInteger(w) && w >= 0 && w <= 0xffff, `${type} ${order} word ${w}`);
        const decoded = decodePoint(point, words, 0);
        // float32 comes back as its shortest decimal, which is the same float32.
        if (type === 'float32') assert.equal(Math.fround(decoded as number), value, `${type} ${order} ${value}`);
        else assert.equal(decoded, value, `${type} ${order} ${value}`);
        assert.deepEqual(encodePoint(point, decoded), words, `${type} ${order} ${value} re-encoded`);
      }
    }
  }
});

test('float32 values read as their shortest decimal, and the bits survive', () => {
  const p: PointDef = { name: 'voltage', registerType: 'input', address: 0, dataType: 'float32' };
  for (const v of [231.2, 229.8, 49.98, 0.1, -0.96875, 1e-7, 3.4e38, 123456.7, 16777217]) {
    const words = encodePoint(p, v);
    const read = decodePoint(p, words, 0) as number;
    assert.equal(Math.fround(read), Math.fround(v));
    assert.deepEqual(encodePoint(p, read), words);
  }
  assert.equal(decodePoint(p, encodePoint(p, 231.2), 0), 231.2);
  assert.equal(decodePoint(p, encodePoint(p, 49.98), 0), 49.98);
  assert.equal(decodePoint(p, encodePoint(p, 0.1), 0), 0.1);
  assert.equal(decodePoint(p, encodePoint(p, 16777217), 0), 16777216);
  assert.equal(decodePoint({ ...p, scale: 0.001 }, encodePoint(p, 231200), 0), 231.2);
  // decodeRaw stays the exact float32.
  assert.equal(decodeRaw('float32', 'ABCD', encodePoint(p, 231.2), 0), Math.fround(231.2));
});

test('NaN and infinities pass through float32 and float64', () => {
  assert.ok(Number.isNaN(decodeRaw('float32', 'ABCD', [0x7fc0, 0], 0)));
  assert.equal(decodeRaw('float32', 'ABCD', [0x7f80, 0], 0), Infinity);
  assert.equal(decodeRaw('float32', 'CDAB', [0, 0xff80], 0), -Infinity);
  assert.ok(Number.isNaN(decodeRaw('float64', 'ABCD', [0x7ff8, 0, 0, 0], 0)));
  assert.equal(decodeRaw('float64', 'DCBA', [0, 0, 0, 0xf07f], 0), Infinity);
  assert.deepEqual(encodeRaw('float32', 'ABCD', Infinity), [0x7f80, 0]);
  const p: PointDef = { name: 'f', registerType: 'holding', address: 0, dataType: 'float32', order: 'DCBA' };
  assert.ok(Number.isNaN(decodePoint(p, encodePoint(p, NaN), 0) as number));
  assert.throws(() => encodeRaw('float32', 'ABCD', 1e39), /1e\+39 is outside the float32 range/);
});

test('invalid BCD nibbles are a clear error naming the point and the word', () => {
  assert.throws(() => decodeRaw('bcd16', 'ABCD', [0x12a4], 0), (err: Error) => err instanceof CodecError && /invalid BCD digit 0xA in 0x12A4/.test(err.message));
  const meter: PointDef = { name: 'energy_bcd', registerType: 'holding', address: 0, dataType: 'bcd32' };
  assert.throws(() => decodePoint(meter, [0x0000, 0x00f0], 0), /point "energy_bcd": invalid BCD digit 0xF in 0x000000F0/);
  assert.throws(() => encodeRaw('bcd16', 'ABCD', 10000), /value 10000 is outside the bcd16 range 0..9999/);
});

test('range errors on encode name the point, the value and the type', () => {
  const p = (dataType: DataType): PointDef => ({ name: 'setpoint', registerType: 'holding', address: 0, dataType });
  assert.throws(() => encodePoint(p('int16'), 32768), /point "setpoint": value 32768 is outside the int16 range -32768..32767/);
  assert.throws(() => encodePoint(p('int16'), -32769), /value -32769 is outside the int16 range/);
  assert.throws(() => encodePoint(p('uint16'), -1), /point "setpoint": value -1 is outside the uint16 range 0..65535/);
  assert.throws(() => encodePoint(p('uint32'), 2 ** 32), /value 4294967296 is outside the uint32 range/);
  assert.throws(() => encodePoint(p('int32'), 2 ** 31), /outside the int32 range/);
  assert.throws(() => encodePoint(p('uint64'), 2 ** 64), /outside the uint64 range/);
  assert.throws(() => encodePoint(p('int64'), 2 ** 63), /outside the int64 range/);
  assert.throws(() => encodePoint(p('int16'), NaN), /point "setpoint": value NaN is not a finite number for int16/);
  assert.throws(() => encodePoint(p('uint16'), 'x'), /point "setpoint": value "x" is not a number for uint16/);
  assert.throws(() => encodePoint(p('uint16'), null), /point "setpoint": cannot encode an empty value/);
  const name: PointDef = { name: 'serial', registerType: 'holding', address: 0, dataType: 'string', length: 2 };
  assert.throws(() => encodePoint(name, 'ABCDE'), /point "serial": string of 5 characters does not fit in 2 register/);
  assert.throws(() => encodePoint(name, 'Ä'), /non-ASCII/);
  // 32767.4 rounds into range; scale makes the limit apply to the raw value.
  assert.deepEqual(encodePoint(p('int16'), 32767.4), [0x7fff]);
  assert.throws(() => encodePoint({ ...p('int16'), scale: 0.1 }, 3276.8), /value 32768 is outside the int16 range/);
});

test('strings trim trailing NULs and spaces', () => {
  assert.equal(decodeRaw('string', 'ABCD', [0x4142, 0x2020, 0x0000], 0, 3), 'AB');
  assert.equal(decodeRaw('string', 'ABCD', [0x2041, 0x2042], 0, 2), ' A B');
  assert.equal(decodeRaw('string', 'ABCD', [0, 0], 0, 2), '');
});

test('short blocks, unknown types and missing string lengths are errors, never garbage', () => {
  assert.throws(() => decodeRaw('float32', 'ABCD', [0x4366], 0), /float32 needs 2 register\(s\) at offset 0, only 1 available/);
  const p: PointDef = { name: 'power', registerType: 'holding', address: 0, dataType: 'float64' };
  assert.throws(() => decodePoint(p, [1, 2, 3, 4], 1), /point "power": float64 needs 4 register/);
  assert.throws(() => decodeRaw('float16' as DataType, 'ABCD', [0], 0), /unknown data type "float16"/);
  assert.throws(() => registerCount({ name: 'serial', registerType: 'holding', address: 0, dataType: 'string' }), /point "serial": string needs a length/);
  assert.equal(registerCount({ name: 'c', registerType: 'coil', address: 0, dataType: 'bool' }), 1);
  assert.equal(registerCount({ name: 'e', registerType: 'holding', address: 0, dataType: 'uint64' }), 4);
  assert.equal(registerCount({ name: 's', registerType: 'holding', address: 0, dataType: 'string', length: 8 }), 8);
});
