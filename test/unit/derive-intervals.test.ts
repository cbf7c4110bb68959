import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayKey, intervalEnd, intervalStart } from '../../nodes/lib/derive/clock';
import { Demand } from '../../nodes/lib/derive/demand';
import { IntervalEnergy } from '../../nodes/lib/derive/interval-energy';

const MIN = 60_000;

function withTz<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

test('intervals are aligned to the local wall clock, also with a half-hour offset', () => {
  withTz('Asia/Kolkata', () => {
    const t = Date.parse('2026-06-01T10:20:00Z'); // 15:50 local
    assert.equal(new Date(intervalStart(t, 60)).toISOString(), '2026-06-01T09:30:00.000Z'); // 15:00 local
    assert.equal(new Date(intervalStart(t, 15)).toISOString(), '2026-06-01T10:15:00.000Z'); // 15:45 local
    assert.equal(new Date(intervalEnd(t, 60)).toISOString(), '2026-06-01T10:30:00.000Z');
  });
  withTz('UTC', () => {
    const t = Date.parse('2026-06-01T10:15:00Z');
    assert.equal(intervalStart(t, 15), t, 'a reading exactly on the boundary opens the new interval');
    assert.equal(intervalStart(t - 1, 15), t - 15 * MIN);
  });
});

test('across DST changes intervals stay whole and days are 23 or 25 hours', () => {
  withTz('Europe/Berlin', () => {
    // Spring forward: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z).
    const before = Date.parse('2026-03-29T00:50:00Z'); // 01:50 CET
    assert.equal(new Date(intervalStart(before, 15)).toISOString(), '2026-03-29T00:45:00.000Z');
    assert.equal(new Date(intervalEnd(before, 15)).toISOString(), '2026-03-29T01:00:00.000Z'); // 03:00 CEST
    const after = Date.parse('2026-03-29T01:05:00Z'); // 03:05 CEST
    assert.equal(new Date(intervalStart(after, 60)).toISOString(), '2026-03-29T01:00:00.000Z');
    // Fall back: 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z); 02:xx happens twice, as two separate hours.
    const first = Date.parse('2026-10-25T00:30:00Z'); // 02:30 CEST
    const second = Date.parse('2026-10-25T01:30:00Z'); // 02:30 CET
    assert.equal(new Date(intervalStart(first, 60)).toISOString(), '2026-10-25T00:00:00.000Z');
    assert.equal(new Date(intervalStart(second, 60)).toISOString(), '2026-10-25T01:00:00.000Z');
    assert.equal(dayKey(Date.parse('2026-10-24T22:30:00Z')), '2026-10-25', 'local day, not UTC');
    // 15-minute interval energy over the spring-forward night: 4 intervals per real hour, none of 0 or 2 hours.
    const e = new IntervalEnergy({ minutes: 60 });
    const out = [];
    for (let t = Date.parse('2026-03-28T23:00:00Z'), v = 0; t <= Date.parse('2026-03-29T03:00:00Z'); t += 5 * MIN, v += 1) out.push(...e.add(t, v));
    assert.deepEqual(out.map((r) => [new Date(r.start).toISOString(), r.energy]), [
      ['2026-03-28T23:00:00.000Z', 12],
      ['2026-03-29T00:00:00.000Z', 12],
      ['2026-03-29T01:00:00.000Z', 12],
      ['2026-03-29T02:00:00.000Z', 12],
    ]);
  });
});

test('interval energy interpolates the counter at boundaries; the first interval is partial', () => {
  withTz('UTC', () => {
    const t0 = Date.parse('2026-01-01T00:07:00Z');
    const e = new IntervalEnergy({ minutes: 15 });
    assert.deepEqual(e.add(t0, 1000), []);
    // 10 kWh per 10 min, readings at :07, :17, :27 -> boundary :15 at 1000 + 8, boundary :30 at 1023.
    const first = e.add(t0 + 10 * MIN, 1010);
    assert.equal(first.length, 1);
    assert.equal(first[0].start, Date.parse('2026-01-01T00:00:00Z'));
    assert.ok(Math.abs((first[0].energy as number) - 8) < 1e-9);
    assert.equal(first[0].complete, false, 'started at 00:07: the counter at 00:00 is unknown');
    assert.deepEqual(e.add(t0 + 20 * MIN, 1020), []);
    const second = e.add(t0 + 30 * MIN, 1030);
    assert.ok(Math.abs((second[0].energy as number) - 15) < 1e-9);
    assert.equal(second[0].complete, true);
  });
});

test('rollover counts the wrapped energy; a reset is flagged and never a negative spike', () => {
  withTz('UTC', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const wrap = new IntervalEnergy({ minutes: 15, rollover: 100000 });
    wrap.add(t0, 99990);
    wrap.add(t0 + 5 * MIN, 99998);
    const [r] = wrap.add(t0 + 15 * MIN, 5);
    assert.equal(r.energy, 15);
    assert.equal(r.rollover, true);
    assert.equal(r.reset, false);

    const reset = new IntervalEnergy({ minutes: 15 });
    reset.add(t0, 5000);
    reset.add(t0 + 5 * MIN, 5004);
    reset.add(t0 + 10 * MIN, 2); // meter replaced
    const [x] = reset.add(t0 + 15 * MIN, 5);
    assert.equal(x.energy, 4 + 0 + 3);
    assert.equal(x.reset, true);
    assert.ok((x.energy as number) >= 0);
  });
});

test('gaps are marked, not invented: empty intervals have no value and the energy across the gap is reported apart', () => {
  withTz('UTC', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const e = new IntervalEnergy({ minutes: 15, maxGapMs: 5 * MIN });
    e.add(t0, 100);
    e.add(t0 + 4 * MIN, 104);
    // Silent from 00:04 to 00:52.
    const out = e.add(t0 + 52 * MIN, 200);
    assert.deepEqual(out.map((r) => [r.start - t0, r.energy, r.complete, r.gap]), [
      [0, 4, false, true],
      [15 * MIN, null, false, true],
      [30 * MIN, null, false, true],
    ]);
    assert.deepEqual(e.add(t0 + 56 * MIN, 204), []);
    const [after] = e.add(t0 + 60 * MIN, 208);
    assert.equal(after.start - t0, 45 * MIN);
    assert.equal(after.energy, 8);
    assert.equal(after.gapEnergy, 96);
    assert.equal(after.complete, false);
  });
});

test('a silent device has its open interval closed after maxGap, then one empty interval each', () => {
  withTz('UTC', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const e = new IntervalEnergy({ minutes: 15, maxGapMs: 12 * MIN });
    e.add(t0, 0);
    e.add(t0 + 10 * MIN, 10);
    assert.deepEqual(e.expire(t0 + 26 * MIN), []);
    const [closed] = e.expire(t0 + 27 * MIN);
    assert.deepEqual([closed.energy, closed.complete, closed.gap], [10, false, true]);
    assert.deepEqual(e.expire(t0 + 41 * MIN), []);
    const [empty] = e.expire(t0 + 42 * MIN);
    assert.deepEqual([empty.start - t0, empty.energy], [15 * MIN, null]);
    // The device comes back inside the 00:30 interval: no interval is reported twice.
    assert.deepEqual(e.add(t0 + 44 * MIN, 50), []);
    const [next] = e.add(t0 + 46 * MIN, 52);
    assert.deepEqual([next.start - t0, next.energy, next.gapEnergy, next.complete], [30 * MIN, 1, 40, false]);
  });
});

test('late and repeated readings are ignored and counted; a restart inside an interval resumes it', () => {
  withTz('UTC', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const e = new IntervalEnergy({ minutes: 15 });
    e.add(t0, 0);
    e.add(t0 + 5 * MIN, 5);
    assert.deepEqual(e.add(t0 + 3 * MIN, 3), []);
    assert.deepEqual(e.add(t0 + 5 * MIN, 5), []);
    assert.equal(e.late, 2);
    const saved = JSON.parse(JSON.stringify(e.snapshot()));
    const again = new IntervalEnergy({ minutes: 15 });
    again.restore(saved);
    const [r] = again.add(t0 + 15 * MIN, 15);
    assert.deepEqual([r.energy, r.complete], [15, true]);
  });
});

test('demand: fixed and sliding windows, daily and monthly maximum with its time, prediction', () => {
  withTz('UTC', () => {
    const t0 = Date.parse('2026-01-31T23:00:00Z');
    const interval = (i: number, energy: number | null, complete = true) => ({ start: t0 + i * 15 * MIN, end: t0 + (i + 1) * 15 * MIN, energy, complete, gap: false, reset: false, rollover: false });
    const fixed = new Demand(15);
    assert.equal(fixed.onInterval(interval(0, 25)).demand, 100);
    const d = fixed.onInterval(interval(1, 50));
    assert.equal(d.demand, 200);
    assert.deepEqual(d.maxDay, { key: '2026-01-31', value: 200, at: t0 + 15 * MIN });
    // A new day (and month) starts its own maximum.
    const feb = fixed.onInterval(interval(4, 10));
    assert.deepEqual([feb.maxDay?.key, feb.maxDay?.value, feb.maxMonth?.key, feb.maxMonth?.value], ['2026-02-01', 40, '2026-02', 40]);
    // Prediction: 10 kWh so far, 5 minutes left at 60 kW -> 15 kWh in 15 minutes = 60 kW.
    assert.equal(fixed.predict(10, t0 + 90 * MIN, t0 + 85 * MIN, 60), 60);

    const sliding = new Demand(5, 3);
    assert.equal(sliding.onInterval(interval(0, 5)).demand, null, 'no full window yet');
    sliding.onInterval(interval(1, 5));
    const full = sliding.onInterval(interval(2, 10));
    assert.equal(full.demand, 80);
    assert.equal(sliding.onInterval(interval(3, null)).demand, null, 'a missing interval leaves no value');
  });
});
