import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterTable } from '../../nodes/lib/cache/register-table';

const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);

// A register table remembers each segment's oldest read time so that reads of a
// fresh segment skip checking every register; these cases make sure that memory
// never answers a stale register as fresh.

test('a late write with an older time makes a segment read as fresh before stale again', () => {
  const t = new RegisterTable();
  t.write(0, range(0, 10), 5000);
  assert.deepEqual(Array.from(t.read(0, 10, 5500, 1000) as Uint16Array), range(0, 10));
  t.write(2, [7, 7], 1000); // in place, with an older timestamp (a delayed reading)
  assert.equal(t.read(0, 10, 5500, 1000), 'stale');
  assert.equal(t.read(2, 1, 5500, 1000), 'stale');
  assert.deepEqual(Array.from(t.read(4, 6, 5500, 1000) as Uint16Array), range(4, 6), 'the other registers are still fresh');
});

test('a fresh segment ages into stale without any write', () => {
  const t = new RegisterTable();
  t.write(100, range(0, 50), 1000);
  assert.notEqual(t.read(100, 50, 1500, 1000), 'stale');
  assert.equal(t.read(100, 50, 2001, 1000), 'stale');
  assert.notEqual(t.read(100, 50, 2000, 1000), 'stale', 'exactly the TTL old is still fresh');
});

test('a merge that brings in older registers is checked, not assumed fresh', () => {
  const t = new RegisterTable();
  t.write(0, range(0, 10), 9000);
  assert.notEqual(t.read(0, 10, 9500, 1000), 'stale');
  t.write(10, range(10, 10), 1000); // adjacent: merged into one segment
  assert.equal(t.segments.length, 1);
  assert.deepEqual(Array.from(t.read(0, 10, 9500, 1000) as Uint16Array), range(0, 10));
  assert.equal(t.read(5, 10, 9500, 1000), 'stale');
  assert.equal(t.oldest(), 1000);
});
