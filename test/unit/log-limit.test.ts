import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogBudget, RepeatGate } from '../../nodes/lib/log-limit';
import { DeviceStateLog } from '../../nodes/lib/health/device-state-log';

test('a repeated message passes once per period and then says how often it was held back', () => {
  const gate = new RepeatGate(60_000);
  assert.deepEqual(gate.pass('no such port', 0), { pass: true, held: 0 });
  assert.equal(gate.pass('no such port', 1_000).pass, false);
  assert.equal(gate.pass('no such port', 2_000).pass, false);
  assert.deepEqual(gate.pass('no such port', 61_000), { pass: true, held: 2 });
  assert.deepEqual(gate.pass('permission denied', 62_000), { pass: true, held: 0 }, 'a different message passes at once');
  gate.reset();
  assert.equal(gate.pass('permission denied', 63_000).pass, true, 'after a success the next failure is logged at once');
});

test('a shared log budget lets a burst through, then one line per refill, and counts what it left out', () => {
  const budget = new LogBudget(3, 1000, 0);
  assert.deepEqual([budget.take(0), budget.take(0), budget.take(0)].map((b) => b.ok), [true, true, true]);
  assert.equal(budget.take(10).ok, false);
  assert.equal(budget.take(20).ok, false);
  assert.deepEqual(budget.take(1000), { ok: true, dropped: 2 });
  assert.equal(budget.take(1500).ok, false);
  assert.deepEqual(budget.take(5000), { ok: true, dropped: 1 });
  assert.deepEqual([budget.take(5000), budget.take(5000), budget.take(5000)].map((b) => b.ok), [true, true, false], 'refill stops at the capacity');
});

test('a device logs online → failing with the reason, failing → offline, and recovered after N s; steady states log nothing', () => {
  const log = new DeviceStateLog('device "m1"', 3);
  const bad = (at: number, backingOff = false) => log.observe({ at, answered: false, error: 'timeout after 300 ms', backingOff });
  assert.equal(log.observe({ at: 0, answered: true, backingOff: false }), undefined, 'first good reading: nothing to say');
  assert.equal(log.observe({ at: 1000, answered: true, backingOff: false }), undefined);
  assert.deepEqual(bad(2000), { state: 'failing', level: 'warn', text: 'device "m1": failing: timeout after 300 ms' });
  assert.equal(bad(3000), undefined);
  assert.deepEqual(bad(4000), { state: 'offline', level: 'warn', text: 'device "m1": offline after 3 failed polls in 2 s: timeout after 300 ms' });
  assert.equal(bad(5000), undefined, 'offline stays quiet');
  assert.equal(bad(6000, true), undefined);
  assert.deepEqual(log.observe({ at: 44_000, answered: true, backingOff: false }), { state: 'online', level: 'info', text: 'device "m1": recovered after 42 s (5 failed polls)' });
  assert.equal(log.current, 'online');
});

test('a unit the line puts in backoff is offline at its next failure; one failed poll then an answer is a short recovery', () => {
  const log = new DeviceStateLog('device "m2"', 10);
  assert.equal(log.observe({ at: 0, answered: false, error: 'no answer', backingOff: false })?.state, 'failing');
  assert.equal(log.observe({ at: 1000, answered: false, error: 'no answer', backingOff: true })?.state, 'offline');
  const other = new DeviceStateLog('device "m3"');
  other.observe({ at: 0, answered: false, error: 'CRC error', backingOff: false });
  assert.equal(other.observe({ at: 1000, answered: true, backingOff: false })?.text, 'device "m3": recovered after 1 s (1 failed poll)');
  assert.equal(other.observe({ at: 2000, answered: false, backingOff: false })?.text, 'device "m3": failing: no values', 'no reason given: says so');
});
