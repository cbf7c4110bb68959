import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockFromModbusOutput, decodeBlocks, decodeMessage, withDefaultOrder } from '../../nodes/lib/decoder';
import { encodePoint } from '../../nodes/lib/modbus/codec';
import { planReads } from '../../nodes/lib/modbus/planner';
import { PointDef, RegisterBlock } from '../../nodes/lib/modbus/types';

const meter: PointDef[] = [
  { name: 'voltage_l1', registerType: 'holding', address: 0, dataType: 'float32', unit: 'V' },
  { name: 'current_l1', registerType: 'holding', address: 2, dataType: 'uint16', scale: 0.01, unit: 'A' },
  { name: 'energy', registerType: 'holding', address: 10, dataType: 'uint32', order: 'CDAB', scale: 0.1, unit: 'kWh' },
  { name: 'model', registerType: 'holding', address: 20, dataType: 'string', length: 4 },
  { name: 'frequency', registerType: 'input', address: 5, dataType: 'int16', scale: 0.01, unit: 'Hz' },
  { name: 'breaker', registerType: 'coil', address: 3, dataType: 'bool' },
  { name: 'alarm', registerType: 'holding', address: 3, dataType: 'bool', bit: 2 },
];

/** A register image of the meter, built with the codec's encoder. */
function image(values: Record<string, number | string | boolean>): RegisterBlock[] {
  const tables: Record<string, number[]> = { holding: new Array(30).fill(0), input: new Array(10).fill(0), coil: new Array(8).fill(0) };
  for (const p of meter) {
    const words = encodePoint(p, values[p.name]);
    const table = tables[p.registerType];
    words.forEach((w, i) => (table[p.address + i] = p.bit !== undefined ? table[p.address + i] | w : w));
  }
  return Object.entries(tables).map(([registerType, values]) => ({ registerType, address: 0, values }) as RegisterBlock);
}

test('decodeBlocks turns the blocks of a plan into named values and units', () => {
  const expected = { voltage_l1: 230.5, current_l1: 12.34, energy: 123456.7, model: 'EM24', frequency: 49.98, breaker: true, alarm: true };
  const full = image(expected);
  // Read exactly what the planner asks for, as a poller would.
  const plan = planReads(meter);
  const blocks = plan.requests.map((r) => {
    const source = full.find((b) => b.registerType === r.registerType) as RegisterBlock;
    return { registerType: r.registerType, address: r.address, values: source.values.slice(r.address, r.address + r.quantity) };
  });
  const result = decodeBlocks(meter, blocks);
  assert.deepEqual(result.values, expected);
  assert.deepEqual(result.units, { voltage_l1: 'V', current_l1: 'A', energy: 'kWh', frequency: 'Hz' });
  assert.deepEqual(result.pointQuality, {});
  assert.equal(result.quality, 'good');
});

test('a point whose registers are missing is null with quality bad, never a throw', () => {
  const blocks: RegisterBlock[] = [{ registerType: 'holding', address: 0, values: [0x4366, 0x8000, 1234] }];
  const result = decodeBlocks(meter, blocks);
  assert.equal(result.values.voltage_l1, 230.5);
  assert.equal(result.values.current_l1, 12.34);
  assert.equal(result.values.energy, null);
  assert.equal(result.values.breaker, null);
  assert.equal(result.pointQuality.energy, 'bad');
  assert.equal(result.pointQuality.voltage_l1, undefined);
  assert.equal(result.problems.energy, 'holding 10..11 was not read');
  assert.equal(result.problems.breaker, 'coil 3 was not read');
  assert.equal(result.quality, 'good');
  // Half a float at the end of a block is missing too.
  const half = decodeBlocks([meter[0]], [{ registerType: 'holding', address: 0, values: [0x4366] }]);
  assert.equal(half.values.voltage_l1, null);
  assert.equal(half.quality, 'bad');
});

test('a point spanning two adjacent blocks is stitched together', () => {
  const blocks: RegisterBlock[] = [
    { registerType: 'holding', address: 0, values: [0x4366] },
    { registerType: 'holding', address: 1, values: [0x8000] },
  ];
  assert.equal(decodeBlocks([meter[0]], blocks).values.voltage_l1, 230.5);
});

test('bad BCD, NaN floats, unusable blocks and broken points become bad points with reasons', () => {
  const points: PointDef[] = [
    { name: 'counter', registerType: 'holding', address: 0, dataType: 'bcd16' },
    { name: 'power', registerType: 'holding', address: 1, dataType: 'float32' },
    { name: 'serial', registerType: 'holding', address: 3, dataType: 'string' },
    { name: 'temp', registerType: 'input', address: 0, dataType: 'int16' },
    { name: 'ok', registerType: 'holding', address: 4, dataType: 'uint16' },
  ];
  const result = decodeBlocks(points, [
    { registerType: 'holding', address: 0, values: [0x12f4, 0x7fc0, 0x0000, 0, 7] },
    { registerType: 'input', address: 0, values: [70000] },
  ]);
  assert.deepEqual(result.values, { counter: null, power: null, serial: null, temp: null, ok: 7 });
  assert.deepEqual(result.problems, {
    counter: 'point "counter": invalid BCD digit 0xF in 0x12F4',
    power: 'holding 1 holds NaN (the device has no value)',
    serial: 'point "serial": string needs a length in registers (1 or more), got undefined',
    temp: 'input 0 is in an unusable block: input 0 holds 70000, not a 16-bit register value 0..65535',
  });
  assert.equal(result.quality, 'good');
});

test('node-red-contrib-modbus Read output: payload words, request in msg.input.payload', () => {
  const msg = {
    topic: 'meter',
    payload: [0x4366, 0x8000, 1234],
    responseBuffer: { data: [0x4366, 0x8000, 1234], buffer: Buffer.from([0x43, 0x66, 0x80, 0x00, 0x04, 0xd2]) },
    input: { topic: 'meter', payload: { unitid: 7, fc: 3, address: 100, quantity: 3 } },
  };
  const out = blockFromModbusOutput(msg);
  assert.deepEqual(out, { block: { registerType: 'holding', address: 100, values: [0x4366, 0x8000, 1234] }, unitId: 7 });
  // Config overrides the table, msg wins for the address, config fills in when msg has none.
  assert.equal(blockFromModbusOutput(msg, { registerType: 'input', address: 5 }).block.registerType, 'input');
  assert.equal(blockFromModbusOutput(msg, { address: 5 }).block.address, 100);
  assert.equal(blockFromModbusOutput({ payload: [1, 2] }, { registerType: 'holding', address: 5 }).block.address, 5);
});

test('second output { data, buffer }, a bare Buffer and a JSON-serialised Buffer all work', () => {
  const buffer = Buffer.from([0x43, 0x66, 0x80, 0x00]);
  const cfg = { registerType: 'holding' as const, address: 0 };
  assert.deepEqual(blockFromModbusOutput({ payload: { data: [0x4366, 0x8000], buffer } }, cfg).block.values, [0x4366, 0x8000]);
  assert.deepEqual(blockFromModbusOutput({ payload: { buffer } }, cfg).block.values, [0x4366, 0x8000]);
  assert.deepEqual(blockFromModbusOutput({ payload: buffer }, cfg).block.values, [0x4366, 0x8000]);
  assert.deepEqual(blockFromModbusOutput({ payload: JSON.parse(JSON.stringify(buffer)) }, cfg).block.values, [0x4366, 0x8000]);
  assert.throws(() => blockFromModbusOutput({ payload: Buffer.from([1, 2, 3]) }, cfg), /3 bytes, not whole 16-bit registers/);
});

test('coils: booleans, padding trimmed to the requested quantity, bytes unpacked LSB first', () => {
  const msg = { payload: [true, false, true, false, false, false, false, false], input: { payload: { fc: 1, address: 0, quantity: 3 } } };
  assert.deepEqual(blockFromModbusOutput(msg).block, { registerType: 'coil', address: 0, values: [1, 0, 1] });
  const bytes = blockFromModbusOutput({ payload: Buffer.from([0b00000101]) }, { registerType: 'discrete', address: 8 });
  assert.deepEqual(bytes.block.values, [1, 0, 1, 0, 0, 0, 0, 0]);
  assert.throws(() => blockFromModbusOutput({ payload: ['x'] }, { registerType: 'coil', address: 0 }), /value #0 "x" is not a bit/);
});

test('adapter errors name what is missing', () => {
  assert.throws(() => blockFromModbusOutput({ payload: 'hello' }, { registerType: 'holding', address: 0 }), /msg.payload holds no register values/);
  assert.throws(() => blockFromModbusOutput({ payload: [1] }, { address: 0 }), /register type is unknown/);
  assert.throws(() => blockFromModbusOutput({ payload: [1], fc: 7 }, { address: 0 }), /send msg.fc 1..4 \(got fc 7\)/);
  assert.throws(() => blockFromModbusOutput({ payload: [1] }, { registerType: 'holding' }), /start address is missing/);
  assert.throws(() => blockFromModbusOutput({ payload: [1], address: 70000 }, { registerType: 'holding' }), /start address 70000 is outside 0..65535/);
  assert.throws(() => blockFromModbusOutput({ payload: [1, 70000] }, { registerType: 'holding', address: 0 }), /value #1 70000 is not a 16-bit register value/);
  assert.throws(() => blockFromModbusOutput({ payload: [1, 2] }, { registerType: 'holding', address: 65535 }), /2 values from address 65535 run past 65535/);
});

test('decodeMessage: a reading keeps its metadata; quality and errors combine', () => {
  const points: PointDef[] = [
    { name: 'voltage_l1', registerType: 'holding', address: 0, dataType: 'float32', unit: 'V' },
    { name: 'energy', registerType: 'holding', address: 10, dataType: 'uint32', unit: 'kWh' },
  ];
  const msg = {
    topic: 'meter_1',
    payload: { kept: 1 },
    rtu: {
      device: 'meter_1', protocol: 'modbus', timestamp: 5, quality: 'stale', latencyMs: 9, seq: 3,
      units: { kept: 'x' }, pointQuality: { kept: 'stale' }, error: 'timeout on block 2',
      raw: [{ registerType: 'holding', address: 0, values: [0x4366, 0x8000] }],
    },
  };
  const out = decodeMessage(msg, { points, model: 'acme/m1', profile: 'basic' }, { now: 99, seq: 1, test: false });
  assert.equal(out.topic, 'meter_1');
  assert.deepEqual(out.payload, { kept: 1, voltage_l1: 230.5, energy: null });
  assert.equal(out.rtu.quality, 'stale');
  assert.equal(out.rtu.timestamp, 5);
  assert.equal(out.rtu.seq, 3);
  assert.equal(out.rtu.model, 'acme/m1');
  assert.deepEqual(out.rtu.units, { kept: 'x', voltage_l1: 'V', energy: 'kWh' });
  assert.deepEqual(out.rtu.pointQuality, { kept: 'stale', energy: 'bad' });
  assert.equal(out.rtu.error, 'timeout on block 2; 1 point not decoded (energy: holding 10..11 was not read)');
  // Every point bad makes the reading bad.
  const none = decodeMessage({ ...msg, rtu: { ...msg.rtu, quality: 'good', raw: [] } }, { points }, { now: 99, seq: 1, test: false });
  assert.equal(none.rtu.quality, 'bad');
  assert.throws(
    () => decodeMessage({ ...msg, rtu: { ...msg.rtu, raw: undefined } }, { points }, { now: 1, seq: 1, test: false }),
    /the reading has no raw registers/,
  );
});

test('decodeMessage: other nodes\' output decodes the points in its block only, with the default order', () => {
  const points = withDefaultOrder(
    [
      { name: 'a', registerType: 'input', address: 0, dataType: 'float32' },
      { name: 'b', registerType: 'input', address: 2, dataType: 'float32', order: 'ABCD' },
      { name: 'far', registerType: 'input', address: 100, dataType: 'uint16' },
      { name: 'other_table', registerType: 'holding', address: 0, dataType: 'uint16' },
    ],
    'CDAB',
  );
  assert.equal(points[0].order, 'CDAB');
  assert.equal(points[1].order, 'ABCD');
  const msg = { topic: 'read-node', payload: [0x8000, 0x4366, 0x4366], input: { payload: { fc: 4, address: 0, unitid: 9 } } };
  const out = decodeMessage(msg, { points, keepRaw: true }, { now: 1234, seq: 4, test: true });
  // b straddles the end of the block: it is bad, while far and other_table are simply not in this message.
  assert.deepEqual(out.payload, { a: 230.5, b: null });
  assert.deepEqual(out.rtu.pointQuality, { b: 'bad' });
  assert.equal(out.rtu.device, 'read-node');
  assert.equal(out.rtu.unitId, 9);
  assert.equal(out.rtu.timestamp, 1234);
  assert.equal(out.rtu.seq, 4);
  assert.equal(out.rtu.test, true);
  assert.deepEqual(out.rtu.raw, [{ registerType: 'input', address: 0, values: [0x8000, 0x4366, 0x4366] }]);
  assert.equal(decodeMessage(msg, { points, device: 'pv' }, { now: 1, seq: 1, test: false }).topic, 'pv');
  assert.throws(
    () => decodeMessage({ payload: [1, 2], input: { payload: { fc: 4, address: 50 } } }, { points }, { now: 1, seq: 1, test: false }),
    /no point of the decoder lies in input 50..51: check the register type and start address/,
  );
});
