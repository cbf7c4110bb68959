import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LastReading } from '../../nodes/lib/last-reading';
import type { ReadingMessage } from '../../nodes/lib/reading';

const points = Object.freeze({ v: Object.freeze({ registerType: 'input', address: 0, dataType: 'float32' }) });

function reading(seq: number, payload: ReadingMessage['payload'], extra: Partial<ReadingMessage['rtu']> = {}): ReadingMessage {
  return {
    topic: 'pm1',
    payload,
    rtu: { device: 'pm1', line: 'bus', protocol: 'modbus', unitId: 3, model: 'M', profile: 'p', timestamp: 1000 + seq, quality: 'good', latencyMs: 7, units: { v: 'V', e: 'kWh' }, seq, points, ...extra },
  };
}

/** Stores a reading and checks get() gives back an equal one. */
function roundTrip(last: LastReading, r: ReadingMessage): void {
  const expected = structuredClone(r);
  last.store(r);
  assert.deepEqual(last.get(), expected);
  assert.equal(last.at, r.rtu.timestamp);
}

test('readings come back equal: good, partial, failed, with raw blocks, strings, booleans, an error and test mode', () => {
  const last = new LastReading();
  assert.equal(last.get(), undefined);
  assert.equal(last.at, undefined);
  roundTrip(last, reading(0, { v: 230.5, e: 1234.25, s: 'SN-1', b: true }, { raw: [{ registerType: 'input', address: 0, values: [17254, 32768] }, { registerType: 'coil', address: 10, values: [1, 0, 1] }] }));
  roundTrip(last, reading(1, { v: null, e: 99, s: 'SN-2', b: false }, { pointQuality: { v: 'bad' }, error: 'device "pm1": block 0 timed out', raw: [{ registerType: 'coil', address: 10, values: [0, 0, 1] }] }));
  roundTrip(last, reading(2, { v: null, e: null, s: null, b: null }, { quality: 'bad', error: 'device "pm1": no answer', test: true, raw: [] }));
  roundTrip(last, reading(3, { v: -0.5, e: 7, s: 7 as unknown as string, b: 1 as unknown as boolean }));
});

test('a reader cannot change what the next reader sees, and the stored message may change after store', () => {
  const last = new LastReading();
  const r = reading(0, { v: 1, e: 2 }, { raw: [{ registerType: 'holding', address: 0, values: [1, 2] }] });
  last.store(r);
  r.payload.v = 99;
  (r.rtu.raw as { values: number[] }[])[0].values[0] = 99;
  const a = last.get() as ReadingMessage;
  a.payload.e = 42;
  a.rtu.units.v = 'kV';
  const b = last.get() as ReadingMessage;
  assert.equal(b.payload.v, 1);
  assert.equal(b.payload.e, 2);
  assert.equal(b.rtu.units.v, 'V');
  assert.deepEqual(b.rtu.raw, [{ registerType: 'holding', address: 0, values: [1, 2] }]);
});

test('a reading of another shape is learnt afresh; one it cannot say exactly is kept as it came', () => {
  const last = new LastReading();
  roundTrip(last, reading(0, { v: 1, e: 2 }));
  roundTrip(last, reading(1, { e: 3, v: 4, w: 5 }, { units: { w: 'W' } }));
  const other = reading(2, { e: 3, v: 4, w: 5 }, { model: 'Other' });
  delete other.rtu.points;
  roundTrip(last, other);
  const odd = reading(3, { v: 1, e: 2 }, { pointQuality: { e: 'stale' } });
  last.store(odd);
  assert.equal(last.get(), odd);
  const interval = reading(4, { v: 1, e: 2 }, { interval: { start: 0, end: 900000, minutes: 15, complete: true, gap: false, reset: false, rollover: false } });
  last.store(interval);
  assert.equal(last.get(), interval);
  roundTrip(last, reading(5, { v: 1, e: null }, { pointQuality: { e: 'bad' } }));
});

test('devices with the same point list share what they have in common, and each gives back its own reading', () => {
  const a = new LastReading();
  const b = new LastReading();
  const c = new LastReading();
  const ra = reading(0, { v: 1, e: 2 });
  const rb = { ...reading(1, { v: 3, e: 4 }), topic: 'pm2' };
  rb.rtu = { ...rb.rtu, device: 'pm2', unitId: 4, units: { v: 'V', e: 'kWh' } };
  const rc = reading(2, { v: 5, e: 6 }, { units: { v: 'kV', e: 'kWh' } });
  roundTrip(a, ra);
  roundTrip(b, rb);
  roundTrip(c, rc);
  ra.rtu.units.v = 'mV';
  const fromA = a.get() as ReadingMessage;
  fromA.rtu.units.e = 'Wh';
  fromA.payload.v = 99;
  assert.deepEqual((b.get() as ReadingMessage).rtu.units, { v: 'V', e: 'kWh' });
  assert.deepEqual((a.get() as ReadingMessage).rtu.units, { v: 'V', e: 'kWh' });
  assert.deepEqual((c.get() as ReadingMessage).rtu.units, { v: 'kV', e: 'kWh' }, 'other units are not shared');
  assert.equal((b.get() as ReadingMessage).payload.v, 3);
  assert.equal((b.get() as ReadingMessage).topic, 'pm2');
  assert.equal((b.get() as ReadingMessage).rtu.unitId, 4);
});
