import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineDevices } from '../../nodes/lib/modbus/line-devices';
import type { PolledDevice } from '../../nodes/lib/modbus/line-types';

const device = (intervalMs: number): PolledDevice => ({ unitId: 1, intervalMs, poll: async () => undefined }) as unknown as PolledDevice;

test('a line wakes on a 25 ms grid for devices at 1 s, and at the release itself for short intervals', () => {
  const slow = new LineDevices();
  slow.add(device(1000));
  const first = slow.take(Date.now() + 5) as NonNullable<ReturnType<LineDevices['take']>>;
  const released = first.release;
  slow.complete(first, released, 0);
  assert.equal(first.release, released + 1000);
  const wake = slow.nextWake() as number;
  assert.equal(wake % 25, 0);
  assert.ok(wake >= first.release && wake < first.release + 25, `release ${first.release}, wake ${wake}`);

  const fast = new LineDevices();
  fast.add(device(40));
  const entry = fast.take(Date.now() + 5) as NonNullable<ReturnType<LineDevices['take']>>;
  const fastReleased = entry.release;
  fast.complete(entry, fastReleased, 0);
  assert.equal(fast.nextWake(), fastReleased + 40);
  assert.equal(new LineDevices().nextWake(), undefined);
});
