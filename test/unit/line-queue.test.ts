import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMAND, Job, POLL, RequestQueue } from '../../nodes/lib/modbus/line-queue';

function job(priority: typeof DEMAND | typeof POLL, deadline: number, unitId = 1): Job {
  return {
    unitId,
    request: { fc: 3, address: deadline, quantity: 1 },
    priority,
    deadline,
    seq: -1,
    heapIndex: -1,
    timeoutMs: 100,
    attemptsLeft: 1,
    expiresAt: 0,
    probe: false,
    unitFailures: 0,
    resolve: () => undefined,
    reject: () => undefined,
  };
}

test('on-demand requests go first, then polls by deadline, first come first served among equals', () => {
  const q = new RequestQueue();
  const polls = [job(POLL, 30), job(POLL, 10), job(POLL, 10), job(POLL, 20)];
  const demands = [job(DEMAND, 0), job(DEMAND, 0)];
  for (const j of [...polls, ...demands]) q.push(j);
  assert.equal(q.demandWaiting, 2);
  const order = [q.pop(), q.pop(), q.pop(), q.pop(), q.pop(), q.pop()];
  assert.deepEqual(order, [demands[0], demands[1], polls[1], polls[2], polls[3], polls[0]]);
  assert.equal(q.pop(), undefined);
  assert.equal(q.demandWaiting, 0);
});

test('a retry keeps its place among equals; cancel takes a queued job out once', () => {
  const q = new RequestQueue();
  const a = job(POLL, 10);
  const b = job(POLL, 10);
  q.push(a);
  q.push(b);
  assert.equal(q.pop(), a);
  q.push(a); // retried: still ahead of b
  assert.equal(q.pop(), a);
  const d = job(DEMAND, 0);
  q.push(d);
  assert.equal(q.cancel(d), true);
  assert.equal(q.cancel(d), false, 'not queued any more');
  assert.equal(q.demandWaiting, 0);
  assert.equal(q.length, 1);
});

test('takeWhere removes the picked jobs in queue order and keeps the rest', () => {
  const q = new RequestQueue();
  const jobs = [job(POLL, 3, 1), job(DEMAND, 0, 2), job(POLL, 1, 2), job(POLL, 2, 1)];
  for (const j of jobs) q.push(j);
  const taken = q.takeWhere((j) => j.unitId === 1);
  assert.deepEqual(taken, [jobs[3], jobs[0]]);
  assert.deepEqual([q.pop(), q.pop(), q.pop()], [jobs[1], jobs[2], undefined]);
});
