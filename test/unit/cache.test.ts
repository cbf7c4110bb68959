import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterCache } from '../../nodes/lib/cache';
import { RegisterTable } from '../../nodes/lib/cache/register-table';
import type { RegisterBlock } from '../../nodes/lib/modbus/types';
import type { Quality, ReadingMessage } from '../../nodes/lib/reading';

function reading(device: string, timestamp: number, raw: RegisterBlock[], payload: Record<string, number> = {}, quality: Quality = 'good'): ReadingMessage {
  return {
    topic: device,
    payload,
    rtu: { device, line: 'line-1', protocol: 'modbus', model: 'rtu/simulated-energy-meter', unitId: 3, timestamp, quality, latencyMs: 5, units: { voltage_l1_n: 'V' }, raw, seq: 1 },
  };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);

test('blocks merge into a sparse image; never-read registers are unknown', () => {
  const t = new RegisterTable();
  t.write(10, range(10, 5), 1000);
  t.write(30, range(30, 5), 1000);
  assert.equal(t.segments.length, 2);
  t.write(15, range(15, 3), 1000); // adjacent: joins the first
  assert.equal(t.segments.length, 2);
  assert.deepEqual(Array.from(t.read(10, 8, 1000, 100) as Uint16Array), range(10, 8));
  assert.equal(t.read(10, 9, 1000, 100), 'unknown', 'register 18 never read');
  assert.equal(t.read(5, 6, 1000, 100), 'unknown');
  assert.equal(t.read(20, 2, 1000, 100), 'unknown');
  t.write(16, range(16, 16), 2000); // bridges both
  assert.equal(t.segments.length, 1);
  assert.deepEqual(Array.from(t.read(10, 25, 2000, 5000) as Uint16Array), range(10, 25));
  // Overlap keeps the newest words.
  t.write(12, [900, 901], 2000);
  assert.deepEqual(Array.from(t.read(11, 3, 2000, 5000) as Uint16Array), [11, 900, 901]);
});

test('a register older than the TTL makes the read stale, the rest stays readable', () => {
  const t = new RegisterTable();
  t.write(0, range(0, 10), 1000);
  t.write(5, range(50, 5), 5000);
  assert.equal(t.read(0, 10, 5500, 1000), 'stale');
  assert.deepEqual(Array.from(t.read(5, 5, 5500, 1000) as Uint16Array), range(50, 5));
  assert.equal(t.oldest(), 1000);
});

test('steady-state polls write in place without new segments', () => {
  const t = new RegisterTable();
  t.write(0, range(0, 100), 1);
  const seg = t.segments[0];
  for (let k = 0; k < 10; k++) t.write(0, range(k, 100), 2 + k);
  assert.equal(t.segments[0], seg);
  assert.equal(t.read(0, 100, 11, 100)[0], 9);
});

test('the cache stores readings per device, by register type, with staleness', () => {
  const cache = new RegisterCache({ ttlMs: 10_000 });
  const seen: string[] = [];
  cache.on('update', (d: string) => seen.push(d));
  cache.update(reading('meter-a', 1000, [{ registerType: 'input', address: 0, values: [1, 2, 3, 4] }, { registerType: 'coil', address: 0, values: [1, 0, 1] }], { voltage_l1_n: 230.1 }));
  cache.update(reading('meter-b', 1000, [{ registerType: 'holding', address: 100, values: [7] }]));
  assert.deepEqual(cache.devices(), ['meter-a', 'meter-b']);
  assert.deepEqual(seen, ['meter-a', 'meter-b']);
  assert.deepEqual(Array.from(cache.read('meter-a', 'input', 1, 2, 2000) as Uint16Array), [2, 3]);
  assert.deepEqual(Array.from(cache.read('meter-a', 'coil', 0, 3, 2000) as Uint16Array), [1, 0, 1]);
  assert.equal(cache.read('meter-a', 'holding', 0, 1, 2000), 'unknown');
  assert.equal(cache.read('nobody', 'input', 0, 1, 2000), 'unknown');
  assert.equal(cache.read('meter-a', 'input', 0, 4, 11_001), 'stale');
  const snap = cache.device('meter-a', 5000)!;
  assert.equal(snap.values.voltage_l1_n, 230.1);
  assert.equal(snap.units.voltage_l1_n, 'V');
  assert.equal(snap.quality, 'good');
  assert.equal(snap.ageMs, 4000);
  assert.equal(snap.unitId, 3);
  assert.equal(snap.registers, 7);
  assert.equal(cache.device('meter-a', 12_000)!.quality, 'stale');
  assert.deepEqual(cache.staleDevices(12_000), ['meter-a', 'meter-b']);
  snap.values.voltage_l1_n = 0;
  assert.equal(cache.device('meter-a', 5000)!.values.voltage_l1_n, 230.1, 'snapshots are copies');
});

test('a failed poll keeps the last good values, which then age into stale', () => {
  const cache = new RegisterCache({ ttlMs: 10_000 });
  cache.update(reading('m', 1000, [{ registerType: 'input', address: 0, values: [1, 2] }], { v: 1 }));
  cache.update({ ...reading('m', 6000, [], { v: 99 }, 'bad'), rtu: { ...reading('m', 6000, []).rtu, quality: 'bad', error: 'timeout' } });
  const snap = cache.device('m', 6000)!;
  assert.equal(snap.values.v, 1);
  assert.equal(snap.quality, 'bad');
  assert.equal(snap.error, 'timeout');
  assert.deepEqual(Array.from(cache.read('m', 'input', 0, 2, 6000) as Uint16Array), [1, 2]);
  assert.equal(cache.read('m', 'input', 0, 2, 11_001), 'stale', 'registers age from when they were read, not from the failed poll');
  assert.equal(cache.device('m', 11_001)!.quality, 'stale');
});

test('bad input is refused with the device and block named', () => {
  const cache = new RegisterCache();
  assert.throws(() => cache.update(reading('m', 1, [{ registerType: 'flags' as never, address: 0, values: [1] }])), /reading of m: raw block .*"flags"/);
  assert.throws(() => new RegisterCache({ ttlMs: 0 }), /TTL must be a positive number/);
});

test('writers are registered per device and withdrawn only by their owner', async () => {
  const cache = new RegisterCache();
  const calls: number[] = [];
  const w1 = async () => calls.push(1);
  const w2 = async () => calls.push(2);
  cache.setWriter('m', w1);
  cache.setWriter('m', w2);
  cache.removeWriter('m', w1);
  await cache.writer('m')!({ fc: 6, address: 0, value: 1 });
  assert.deepEqual(calls, [2]);
  cache.removeWriter('m', w2);
  assert.equal(cache.writer('m'), undefined);
});

test('a thousand devices of 130 registers fit in a few megabytes', () => {
  const cache = new RegisterCache();
  const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  for (let d = 0; d < 1000; d++) {
    cache.update(reading(`meter-${d}`, 1000, [
      { registerType: 'input', address: 0, values: range(0, 26) },
      { registerType: 'input', address: 200, values: range(0, 23) },
      { registerType: 'input', address: 400, values: range(0, 26) },
      { registerType: 'holding', address: 0, values: range(0, 55) },
    ], { voltage_l1_n: 230, current_l1: 5 }));
  }
  assert.equal(cache.registerBytes(), 1000 * 130 * 10);
  global.gc?.();
  const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 * 1024 * 1024, `grew ${grown} bytes`);
});
