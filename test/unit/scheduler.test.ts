import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdfScheduler } from '../../nodes/lib/modbus/scheduler';

interface Dev {
  id: string;
  intervalMs: number;
  serviceMs: number;
}

interface Run {
  id: string;
  start: number;
  end: number;
}

/** Runs the scheduler on a virtual clock, one poll at a time (an RTU line). */
function simulate(devices: Dev[], durationMs: number, serviceMs?: (dev: Dev, n: number) => number): Run[] {
  const sched = new EdfScheduler<Dev>();
  for (const d of devices) sched.add(d, d.intervalMs, 0);
  const runs: Run[] = [];
  let now = 0;
  while (now < durationMs) {
    const entry = sched.take(now);
    if (!entry) {
      const next = sched.nextRelease();
      assert.ok(next !== undefined && next > now, 'an idle scheduler names a future release');
      now = next;
      continue;
    }
    const start = now;
    now += serviceMs ? serviceMs(entry.item, runs.length) : entry.item.serviceMs;
    runs.push({ id: entry.item.id, start, end: now });
    sched.complete(entry, now);
  }
  return runs;
}

function countBy(runs: Run[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  return counts;
}

function maxGap(runs: Run[], id: string): number {
  const starts = runs.filter((r) => r.id === id).map((r) => r.start);
  let gap = 0;
  for (let i = 1; i < starts.length; i++) gap = Math.max(gap, starts[i] - starts[i - 1]);
  return gap;
}

test('under capacity every device keeps its own rate and phase', () => {
  const devices: Dev[] = [
    ...Array.from({ length: 10 }, (_, i) => ({ id: `fast${i}`, intervalMs: 100, serviceMs: 2 })),
    ...Array.from({ length: 20 }, (_, i) => ({ id: `slow${i}`, intervalMs: 1000, serviceMs: 5 })),
  ];
  // load: 10*2/100 + 20*5/1000 = 0.3
  const runs = simulate(devices, 10_000);
  const counts = countBy(runs);
  for (const d of devices) {
    const expected = 10_000 / d.intervalMs;
    const got = counts.get(d.id) ?? 0;
    assert.ok(Math.abs(got - expected) <= 1, `${d.id}: ${got} polls, expected about ${expected}`);
    assert.ok(maxGap(runs, d.id) <= d.intervalMs + 150, `${d.id}: gap ${maxGap(runs, d.id)} ms`);
  }
});

test('overload: fast devices share fairly and a slow device is never starved', () => {
  const devices: Dev[] = [
    ...Array.from({ length: 100 }, (_, i) => ({ id: `fast${i}`, intervalMs: 10, serviceMs: 1 })),
    { id: 'slow', intervalMs: 2000, serviceMs: 1 },
  ];
  // demand: 100 x 100 polls/s at 1 ms each = 10x the line's capacity
  const runs = simulate(devices, 20_000);
  const counts = countBy(runs);
  const fast = devices.filter((d) => d.id.startsWith('fast')).map((d) => counts.get(d.id) ?? 0);
  const min = Math.min(...fast);
  const max = Math.max(...fast);
  assert.ok(min > 150, `every fast device ran (least ${min})`);
  assert.ok(max - min <= 2, `fast devices share equally (min ${min}, max ${max})`);
  const slow = counts.get('slow') ?? 0;
  assert.ok(slow >= 9, `slow device ran ${slow} times in 20 s at a 2 s interval`);
  assert.ok(maxGap(runs, 'slow') <= 2000 + 150, `slow device gap ${maxGap(runs, 'slow')} ms`);
});

test('interval 0 (as fast as possible) is a round robin', () => {
  const devices: Dev[] = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, intervalMs: 0, serviceMs: 1 }));
  const runs = simulate(devices, 5_000);
  const order = runs.slice(0, 150).map((r) => r.id);
  for (let i = 50; i < order.length; i++) assert.equal(order[i], order[i - 50], 'same order every round');
  const counts = [...countBy(runs).values()];
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1);
});

test('a late device is polled once when it can, not in a burst of missed cycles', () => {
  const devices: Dev[] = [
    { id: 'fast', intervalMs: 100, serviceMs: 1 },
    { id: 'stall', intervalMs: 1000, serviceMs: 1 },
  ];
  // The stalling device's first poll takes 3 s (a long timeout chain): 'fast' misses 30 cycles.
  const runs = simulate(devices, 6_000, (dev, n) => (dev.id === 'stall' && n < 2 ? 3000 : dev.serviceMs));
  const fastAfterStall = runs.filter((r) => r.id === 'fast' && r.start >= 3000);
  assert.ok(fastAfterStall.length > 10);
  for (let i = 1; i < fastAfterStall.length; i++) {
    const gap = fastAfterStall[i].start - fastAfterStall[i - 1].start;
    assert.ok(gap >= 99, `fast polls stay an interval apart after the stall (gap ${gap} ms at ${fastAfterStall[i].start})`);
  }
  const fastCount = fastAfterStall.filter((r) => r.start < 4000).length;
  assert.ok(fastCount <= 11, `no catch-up burst: ${fastCount} polls in the second after the stall`);
});

test('defer holds a device back and remove drops it, also while running', () => {
  const sched = new EdfScheduler<string>();
  const a = sched.add('a', 100, 0);
  const b = sched.add('b', 100, 0);
  sched.defer(a, 5000);
  assert.equal(sched.take(0)?.item, 'b');
  assert.equal(sched.take(0), undefined);
  assert.equal(sched.nextRelease(), 5000);
  assert.equal(sched.take(5000)?.item, 'a');
  sched.remove(a);
  sched.complete(a, 5001);
  assert.equal(sched.size, 1);
  sched.complete(b, 10, 7000);
  assert.equal(b.release, 7000, 'notBefore (unit backoff) wins over the phase');
  assert.equal(sched.take(6999), undefined);
  assert.equal(sched.take(7000)?.item, 'b');
  assert.throws(() => sched.add('c', -1, 0), /interval -1 ms/);
});

/** Polls of one device: no two start less than half an interval apart. */
function assertNoBurst(starts: number[], interval: number, label: string): void {
  for (let i = 1; i < starts.length; i++) {
    const gap = starts[i] - starts[i - 1];
    assert.ok(gap >= interval / 2, `${label}: polls at ${starts[i - 1]} and ${starts[i]} ms (${gap} ms apart)`);
  }
}

const STALLS = [1, 50, 99, 100, 101, 149, 150, 151, 199, 200, 201, 250, 299, 300, 301, 1000, 1001, 1050];

test('a poll that runs long, for any length, is not followed by a burst of missed cycles', () => {
  const interval = 100;
  for (const stall of STALLS) {
    const runs = simulate([{ id: 'd', intervalMs: interval, serviceMs: 1 }], 3000, (_dev, n) => (n === 0 ? stall : 1));
    const starts = runs.map((r) => r.start);
    assertNoBurst(starts, interval, `poll of ${stall} ms`);
    // cycles whose deadline passed during the stall are dropped: at most one poll per cycle from there
    const after = starts.filter((t) => t >= stall).length;
    assert.ok(after <= Math.ceil((3000 - stall) / interval) + 1, `poll of ${stall} ms: ${after} polls after it`);
    assert.ok(starts[1] - stall < interval, `poll of ${stall} ms: the next starts within an interval of its end (${starts[1]})`);
  }
});

test('a poll started late behind another device, for any lateness, is not followed by a burst', () => {
  const interval = 100;
  for (const stall of STALLS) {
    // 'blocker' goes first (same deadline, added first) and holds the line for `stall` ms once
    const runs = simulate(
      [
        { id: 'blocker', intervalMs: interval, serviceMs: 1 },
        { id: 'd', intervalMs: interval, serviceMs: 1 },
      ],
      3000,
      (dev, n) => (n === 0 ? stall : 1),
    );
    const starts = runs.filter((r) => r.id === 'd').map((r) => r.start);
    assert.equal(starts[0], stall);
    assertNoBurst(starts, interval, `late by ${stall} ms`);
    assertNoBurst(runs.filter((r) => r.id === 'blocker').map((r) => r.start), interval, `blocker of ${stall} ms`);
    assert.ok(starts.length <= Math.ceil((3000 - stall) / interval) + 1, `late by ${stall} ms: no cycle replayed (${starts.length} polls)`);
    assert.ok(starts.length >= Math.floor((3000 - stall) / interval) - 1, `late by ${stall} ms: every later cycle polled (${starts.length})`);
  }
});
