import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollIntervalMs } from '../../nodes/lib/modbus/poll-interval';

test('the interval is seconds; a blank one is refused, not taken as flat out', () => {
  assert.equal(pollIntervalMs({ interval: 1 }, 'device "m"'), 1000);
  assert.equal(pollIntervalMs({ interval: '0.25' }, 'device "m"'), 250);
  assert.equal(pollIntervalMs({ interval: ' 2 ' }, 'device "m"'), 2000);
  assert.equal(pollIntervalMs({ interval: 0.0001 }, 'device "m"'), 1, 'never rounded down to flat out');
  for (const blank of [undefined, null, '', '  ']) {
    assert.throws(() => pollIntervalMs({ interval: blank }, 'device "m"'), /^Error: device "m": no poll interval: enter it in seconds \(e\.g\. 1\), or tick "as fast as possible"$/);
  }
  assert.throws(() => pollIntervalMs({ interval: 0 }, 'device "m"'), /device "m": poll interval "0" s is not a number of seconds > 0 \(to poll without pause, tick "as fast as possible"\)/);
  assert.throws(() => pollIntervalMs({ interval: '-1' }, 'device "m"'), /poll interval "-1" s/);
  assert.throws(() => pollIntervalMs({ interval: 'fast' }, 'device "m"'), /poll interval "fast" s/);
});

test('flat-out polling is an explicit choice that ignores the interval', () => {
  assert.equal(pollIntervalMs({ flatOut: true }, 'd'), 0);
  assert.equal(pollIntervalMs({ flatOut: 'true', interval: '' }, 'd'), 0);
  assert.equal(pollIntervalMs({ flatOut: false, interval: 5 }, 'd'), 5000);
  assert.throws(() => pollIntervalMs({ flatOut: false, interval: '' }, 'd'), /no poll interval/);
});
