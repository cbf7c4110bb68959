import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerCount } from '../../nodes/lib/modbus/codec';
import { planReads, PlanError, PlannedRead } from '../../nodes/lib/modbus/planner';
import { DataType, PointDef, RegisterRange } from '../../nodes/lib/modbus/types';

function holding(name: string, address: number, dataType: DataType, length?: number): PointDef {
  return { name, registerType: 'holding', address, dataType, length };
}

/** Points of `dataType` packed from `address` on; returns the points and the next free address. */
function block(prefix: string, address: number, types: DataType[]): PointDef[] {
  const out: PointDef[] = [];
  let at = address;
  types.forEach((t, i) => {
    const p = holding(`${prefix}_${i}`, at, t);
    out.push(p);
    at += registerCount(p);
  });
  return out;
}

const repeat = <T>(v: T, n: number): T[] => Array.from({ length: n }, () => v);

/** The typical meter of the targets: 40 points, 69 registers, 6 blocks, 3 clusters. */
function typicalMeter(): PointDef[] {
  return [
    ...block('a1', 0, repeat<DataType>('float32', 6)), // 0..11
    ...block('a2', 20, repeat<DataType>('uint16', 12)), // 20..31, hole of 8
    ...block('b1', 100, repeat<DataType>('float32', 5)), // 100..109
    ...block('b2', 114, [...repeat<DataType>('uint16', 3), ...repeat<DataType>('float32', 4)]), // 114..124, hole of 4
    ...block('c1', 300, repeat<DataType>('float32', 6)), // 300..311
    ...block('c2', 318, ['float64', 'float64', 'float32', 'float32']), // 318..329, hole of 6
  ];
}

test('the typical meter profile: 40 points in 6 blocks plan as 3 requests, not 6', () => {
  const points = typicalMeter();
  assert.equal(points.length, 40);
  assert.equal(points.reduce((n, p) => n + registerCount(p), 0), 69);
  const plan = planReads(points);
  assert.deepEqual(
    plan.requests.map((r) => [r.fc, r.address, r.quantity, r.points.length]),
    [
      [3, 0, 32, 18],
      [3, 100, 25, 12],
      [3, 300, 30, 10],
    ],
  );
  assert.equal(plan.summary, '3 requests touching 87 registers');
  // Without hole bridging it is one read per block.
  const strict = planReads(points, { maxGap: 0 });
  assert.equal(strict.requests.length, 6);
  assert.equal(strict.summary, '6 requests touching 69 registers');
  // A meter that takes at most 20 registers per read.
  assert.equal(planReads(points, { maxRegisters: 20 }).requests.length, 6);
});

test('never-read ranges split requests and points inside them are errors naming the point', () => {
  const points = typicalMeter();
  const neverRead: RegisterRange[] = [{ registerType: 'holding', address: 14, quantity: 2 }];
  const plan = planReads(points, { neverRead });
  assert.equal(plan.requests.length, 4);
  for (const r of plan.requests) assert.ok(r.address + r.quantity <= 14 || r.address >= 16);
  // The same range in another table changes nothing.
  assert.equal(planReads(points, { neverRead: [{ registerType: 'input', address: 14, quantity: 2 }] }).requests.length, 3);
  assert.throws(
    () => planReads(points, { neverRead: [{ registerType: 'holding', address: 3, quantity: 1 }] }),
    (err: Error) => err instanceof PlanError && /point "a1_1": holding 2..3 overlaps the never-read range 3..3/.test(err.message),
  );
});

test('points larger than the limit, bad addresses and bad options are errors naming the point', () => {
  const serial = holding('serial_number', 0, 'string', 16);
  assert.throws(() => planReads([serial], { maxRegisters: 10 }), /point "serial_number": 16 registers exceed the limit of 10 per request/);
  assert.throws(() => planReads([holding('x', 65535, 'float32')]), /point "x": address 65535 with 2 registers is outside 0..65535/);
  assert.throws(() => planReads([holding('s', 0, 'string')]), /point "s": string needs a length/);
  assert.throws(() => planReads([], { maxRegisters: 126 }), /maxRegisters 126 is outside 1..125/);
  assert.throws(() => planReads([], { maxBits: 0 }), /maxBits 0 is outside 1..2000/);
  assert.throws(() => planReads([], { maxGap: -1 }), /maxGap -1/);
  // Every problem is reported at once.
  assert.throws(
    () => planReads([holding('a', -1, 'uint16'), holding('b', 70000, 'uint16')]),
    (err: Error) => err instanceof PlanError && err.problems.length === 2,
  );
  assert.equal(planReads([]).summary, '0 requests touching 0 registers');
});

test('tables are planned separately with their own function codes and limits', () => {
  const points: PointDef[] = [
    { name: 'breaker', registerType: 'coil', address: 0, dataType: 'bool' },
    { name: 'trip', registerType: 'coil', address: 1999, dataType: 'bool' },
    { name: 'door', registerType: 'discrete', address: 7, dataType: 'bool' },
    { name: 'freq', registerType: 'input', address: 7, dataType: 'uint16' },
    { name: 'alarm_a', registerType: 'holding', address: 5, dataType: 'bool', bit: 0 },
    { name: 'alarm_b', registerType: 'holding', address: 5, dataType: 'bool', bit: 1 },
  ];
  const plan = planReads(points, { maxGap: 2000 });
  assert.deepEqual(
    plan.requests.map((r: PlannedRead) => [r.registerType, r.fc, r.address, r.quantity, r.points.map((p) => p.name)]),
    [
      ['coil', 1, 0, 2000, ['breaker', 'trip']],
      ['discrete', 2, 7, 1, ['door']],
      ['holding', 3, 5, 1, ['alarm_a', 'alarm_b']],
      ['input', 4, 7, 1, ['freq']],
    ],
  );
  assert.equal(plan.summary, '4 requests touching 2 registers and 2001 bits');
  assert.equal(planReads(points, { maxGap: 2000, maxBits: 1000 }).requests.filter((r) => r.fc === 1).length, 2);
});

// ---- exhaustive comparison -------------------------------------------------

interface Case {
  points: PointDef[];
  maxGap: number;
  maxRegisters: number;
  neverRead: RegisterRange[];
}

const SPACE = 28;

/** Whether reading [start, end) is allowed, judged directly from the rules. */
function validRead(c: Case, start: number, end: number): boolean {
  if (end - start < 1 || end - start > c.maxRegisters) return false;
  const used = new Set<number>();
  for (const p of c.points) for (let a = p.address; a < p.address + registerCount(p); a++) used.add(a);
  const blocked = new Set<number>();
  for (const r of c.neverRead) for (let a = r.address; a < r.address + r.quantity; a++) blocked.add(a);
  let hole = 0;
  for (let a = start; a < end; a++) {
    if (blocked.has(a)) return false;
    hole = used.has(a) ? 0 : hole + 1;
    if (hole > c.maxGap) return false;
  }
  return true;
}

/** Fewest reads covering every point, by trying every possible read over every subset of points. */
function exhaustiveMinimum(c: Case): number {
  const n = c.points.length;
  const masks = new Set<number>();
  for (let start = 0; start < SPACE; start++) {
    for (let end = start + 1; end <= SPACE; end++) {
      if (!validRead(c, start, end)) continue;
      let mask = 0;
      c.points.forEach((p, i) => {
        if (p.address >= start && p.address + registerCount(p) <= end) mask |= 1 << i;
      });
      if (mask) masks.add(mask);
    }
  }
  const full = (1 << n) - 1;
  const best = new Array<number>(full + 1).fill(Infinity);
  best[0] = 0;
  for (let m = 0; m <= full; m++) {
    if (best[m] === Infinity) continue;
    for (const r of masks) best[m | r] = Math.min(best[m | r], best[m] + 1);
  }
  return best[full];
}

function randomCase(rand: () => number): Case {
  const types: DataType[] = ['uint16', 'float32', 'float64', 'bool'];
  const points: PointDef[] = [];
  const n = 1 + Math.floor(rand() * 7);
  const overlapsAllowed = rand() < 0.3;
  const taken = new Set<number>();
  for (let tries = 0; points.length < n && tries < 50; tries++) {
    const dataType = types[Math.floor(rand() * types.length)];
    const p = holding(`p${points.length}`, Math.floor(rand() * (SPACE - 4)), dataType);
    const regs = Array.from({ length: registerCount(p) }, (_, i) => p.address + i);
    if (!overlapsAllowed && regs.some((a) => taken.has(a))) continue;
    regs.forEach((a) => taken.add(a));
    points.push(p);
  }
  const neverRead: RegisterRange[] = [];
  const blocks = Math.floor(rand() * 3);
  for (let i = 0; i < blocks; i++) {
    const address = Math.floor(rand() * SPACE);
    const r = { registerType: 'holding' as const, address, quantity: 1 + Math.floor(rand() * 2) };
    if (!points.some((p) => p.address < r.address + r.quantity && p.address + registerCount(p) > r.address)) neverRead.push(r);
  }
  return { points, maxGap: Math.floor(rand() * 5), maxRegisters: 4 + Math.floor(rand() * 9), neverRead };
}

test('the plan is minimal: it matches an exhaustive search on 1500 random small maps', () => {
  let seed = 20260521;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  let merged = 0;
  for (let trial = 0; trial < 1500; trial++) {
    const c = randomCase(rand);
    const plan = planReads(c.points, c);
    const label = JSON.stringify({ ...c, points: c.points.map((p) => [p.address, registerCount(p)]) });
    // The plan follows the rules and reads every point whole.
    const covered = new Set<string>();
    for (const r of plan.requests) {
      assert.ok(validRead(c, r.address, r.address + r.quantity), `invalid read ${r.address}+${r.quantity} in ${label}`);
      for (const p of r.points) {
        assert.ok(p.address >= r.address && p.address + registerCount(p) <= r.address + r.quantity, `${p.name} split in ${label}`);
        covered.add(p.name);
      }
    }
    assert.equal(covered.size, c.points.length, `points missing in ${label}`);
    assert.equal(plan.requests.length, exhaustiveMinimum(c), `not minimal: ${label}`);
    if (plan.requests.length < new Set(c.points.map((p) => p.address)).size) merged++;
  }
  // The search space is not trivial: most maps do merge points into shared reads.
  assert.ok(merged > 750, `only ${merged} maps merged points`);
});
