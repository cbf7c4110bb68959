import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../nodes/lib/modbus/backoff';
import { RateMeter, SampleRing } from '../../nodes/lib/modbus/line-stats';

test('backoff doubles from the initial delay up to the ceiling and resets', () => {
  const b = new Backoff({ initialMs: 1000, maxMs: 60000, jitter: 0 });
  const delays = Array.from({ length: 9 }, () => b.next());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(b.failures, 9);
  b.reset();
  assert.equal(b.failures, 0);
  assert.equal(b.currentMs, 0);
  assert.equal(b.next(), 1000);
});

test('jitter spreads the delay within the configured fraction', () => {
  const low = new Backoff({ initialMs: 1000, maxMs: 60000, jitter: 0.2 }, () => 0);
  const high = new Backoff({ initialMs: 1000, maxMs: 60000, jitter: 0.2 }, () => 0.999999);
  assert.equal(low.next(), 800);
  assert.equal(high.next(), 1200);
  assert.equal(low.next(), 1600);
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const b = new Backoff({ initialMs: 1000, maxMs: 60000 });
    const d = b.next();
    assert.ok(d >= 800 && d <= 1200, `${d} within 20 %`);
    seen.add(d);
  }
  assert.ok(seen.size > 5, 'default jitter actually varies');
});

test('backoff rejects settings that cannot work', () => {
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), /initialMs 0/);
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), /maxMs 10/);
  assert.throws(() => new Backoff({ initialMs: 1, maxMs: 10, factor: 0.5 }), /factor 0.5/);
});

test('rate meter averages over its window; sample ring gives percentiles', () => {
  const rate = new RateMeter(10);
  const t0 = 1_000_000;
  for (let s = 0; s < 20; s++) rate.add(t0 + s * 1000, 50);
  assert.ok(Math.abs(rate.perSecond(t0 + 19_999) - 50) < 6, `${rate.perSecond(t0 + 19_999)}`);
  assert.equal(rate.perSecond(t0 + 60_000), 0, 'old events leave the window');
  const ring = new SampleRing(100);
  assert.equal(ring.percentile(50), undefined);
  for (let i = 1; i <= 300; i++) ring.add(i);
  assert.equal(ring.size, 100);
  assert.equal(ring.percentile(50), 250);
  assert.equal(ring.percentile(95), 295);
});
