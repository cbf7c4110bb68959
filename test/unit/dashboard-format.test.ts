import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainStatus, formatValue, keyValues } from '../../nodes/lib/dashboard/format';
import type { DeviceHealth } from '../../nodes/lib/health/types';

test('values are shown with their unit, large powers in k, missing ones as a dash', () => {
  assert.equal(formatValue(231.0963, 'V'), '231.1 V');
  assert.equal(formatValue(6140.9985, 'W'), '6141 W');
  assert.equal(formatValue(61409.985, 'W'), '61.41 kW');
  assert.equal(formatValue(0.8958459, ''), '0.896');
  assert.equal(formatValue(49.966637, 'Hz'), '49.97 Hz');
  assert.equal(formatValue(2.3e-41, 'V'), '2.30e-41 V');
  assert.equal(formatValue(null, 'V'), '–');
  assert.equal(formatValue(true), 'on');
  assert.equal(formatValue('PM-1'), 'PM-1');
});

test('the table shows up to three key values, else the first numbers of the reading', () => {
  const units = { voltage_l1_n: 'V', active_power_total: 'W', frequency: 'Hz', x: 'A' };
  assert.equal(keyValues({ frequency: 50, voltage_l1_n: 230.04, active_power_total: 1200, x: 1 }, units, ['active_power_total', 'voltage_l1_n', 'frequency', 'x']), '1.2 kW · 230 V · 50 Hz');
  // One unit per quantity down the column: a small and a large meter both in kW.
  assert.equal(keyValues({ active_power_total: 8117 }, units, ['active_power_total']), '8.117 kW');
  assert.equal(keyValues({ active_power_total: 11300 }, units, ['active_power_total']), '11.3 kW');
  assert.equal(keyValues({ a: 'text', x: 1.5, y: 2 }, units, ['active_power_total']), '1.5 A · 2');
});

const base: DeviceHealth = {
  device: 'pm1',
  status: 'online',
  lastGoodAt: null,
  lastPollAt: null,
  successRate: null,
  polls: 0,
  latencyP50Ms: null,
  latencyP95Ms: null,
  consecutiveFailures: 0,
  backoff: { active: false },
  source: 'registered',
};
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

test('an offline device says how many polls failed, when the line tries again, and the last error', () => {
  const why = explainStatus(
    { ...base, status: 'offline', consecutiveFailures: 7, lastGoodAt: NOW - 95000, backoff: { active: true, retryAt: NOW + 12000 }, lastError: 'unit 3: no answer within 1000 ms' },
    NOW,
  );
  assert.equal(why, 'offline: the last 7 polls failed; the line skips it, next try in 12 s; last good reading 95 s ago (11:58:25 UTC); last error: unit 3: no answer within 1000 ms');
  assert.equal(explainStatus({ ...base, status: 'online' }, NOW), undefined);
  assert.match(explainStatus({ ...base, status: 'stale', lastGoodAt: NOW - 600000 }, NOW, 1000)!, /^stale: no good reading for 10 min \(polled every 1 s\)/);
  assert.equal(explainStatus({ ...base, status: 'unknown' }, NOW), 'no reading yet since the last deploy');
  assert.match(explainStatus(undefined, NOW)!, /not reported/);
});
