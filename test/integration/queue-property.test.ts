/**
 * Property test of the durable queue: seeded random interleavings of push, take, ack, nack,
 * flush, close + reopen, and a kill (a child process working on the same directory, SIGKILLed
 * at a random point). Checked throughout: nothing whose acknowledgement was stored comes back,
 * nothing unknown comes out, and at the end everything stored and not acknowledged is
 * delivered (no drops are counted here, the bound being far away).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DurableQueue, QueueEntry } from '../../nodes/lib/queue/durable-queue';
import { waitFor } from '../support/wait';

interface Item {
  n: number;
}

/** mulberry32: small, seeded, good enough to pick operations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const queueModule = path.resolve(__dirname, '../../nodes/lib/queue/durable-queue.js');
const OPTIONS = { segmentBytes: 4096, maxBytes: 256 << 20, checkpointDelayMs: 2, cacheBytes: 2048 };

// Every fact is written with writeSync before it can be lost to the kill: 'pushing' before the
// pushes, 'flushed' once they are stored, 'ack' before an ack, 'durable' once its checkpoint is written.
const childScript = `
const fs = require('fs');
const { DurableQueue } = require(process.argv[1]);
const [dir, log, start] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const fd = fs.openSync(log, 'a');
const note = (line) => fs.writeSync(fd, line + '\\n');
(async () => {
  const q = await DurableQueue.open(dir, ${JSON.stringify(OPTIONS)});
  const owed = new Map();
  q.on('checkpoint', (through) => { for (const [seq, n] of owed) if (seq <= through) { note('durable ' + n); owed.delete(seq); } });
  note('open');
  let n = start;
  for (;;) {
    note('pushing ' + (n + 19));
    for (let k = 0; k < 20; k++) q.push({ n: n++ });
    await q.flush();
    note('flushed ' + (n - 1));
    const batch = await q.take(15);
    for (const e of batch) note('took ' + e.item.n);
    const ack = batch.filter((_, i) => i % 2 === 0);
    for (const e of ack) { note('ack ' + e.item.n); owed.set(e.seq, e.item.n); }
    q.ack(ack);
    q.nack(batch.filter((_, i) => i % 2 === 1));
    await new Promise((r) => setTimeout(r, 2));
  }
})();
`;

/**
 * What the queue promises, item by item (items are numbered in push order, so n order is seq
 * order). An acknowledgement is stored as a position: it counts once everything pushed before
 * the item is acknowledged too (at a checkpoint or a clean close).
 */
class Model {
  /** Stored and not acknowledged: must be delivered in the end. */
  readonly owed = new Set<number>();
  /** Acknowledged with the acknowledgement stored: must never come back. */
  readonly acked = new Set<number>();
  /** Acknowledged, not yet stored: may come back (then it is owed again). */
  readonly maybeAcked = new Set<number>();
  /** Pushed before a kill without a completed flush, or acked by an instance that was killed: may or may not be in the queue. */
  readonly maybeStored = new Set<number>();
  nextN = 1;

  seen(n: number, where: string): void {
    assert.ok(!this.acked.has(n), `${where}: item ${n} came back after its acknowledgement was stored`);
    assert.ok(this.owed.has(n) || this.maybeAcked.has(n) || this.maybeStored.has(n), `${where}: item ${n} was never pushed`);
    this.maybeAcked.delete(n);
    this.maybeStored.delete(n);
    this.owed.add(n);
  }

  ack(n: number): void {
    if (this.owed.delete(n)) this.maybeAcked.add(n);
  }

  /** A clean close stores the acknowledged position: every ack below the oldest item still owed. */
  closedCleanly(): void {
    let low = Infinity;
    for (const n of this.owed) low = Math.min(low, n);
    for (const n of this.maybeStored) low = Math.min(low, n);
    for (const n of [...this.maybeAcked]) {
      if (n < low) {
        this.maybeAcked.delete(n);
        this.acked.add(n);
      }
    }
  }

  /** After a kill, acknowledgements that were not seen stored may or may not have been. */
  killed(): void {
    for (const n of this.maybeAcked) this.maybeStored.add(n);
    this.maybeAcked.clear();
  }
}

async function killedChild(dir: string, model: Model, rand: () => number): Promise<void> {
  const log = path.join(dir, '..', `child-${model.nextN}.log`);
  fs.writeFileSync(log, '');
  const start = model.nextN;
  const child = spawn(process.execPath, ['-e', childScript, queueModule, dir, log, String(start)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = 5 + Math.floor(rand() * 120);
  await waitFor(() => fs.readFileSync(log, 'utf8').split('\n').length > lines, `the child to log ${lines} facts`, 15_000);
  child.kill('SIGKILL');
  await exited;
  let pushing = start - 1;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    const [what, arg] = line.split(' ');
    const n = Number(arg);
    if (what === 'pushing') {
      for (let k = pushing + 1; k <= n; k++) model.maybeStored.add(k);
      pushing = n;
    } else if (what === 'flushed') {
      for (const k of [...model.maybeStored]) {
        if (k >= start && k <= n) {
          model.maybeStored.delete(k);
          model.owed.add(k);
        }
      }
    } else if (what === 'took') {
      try {
        model.seen(n, 'killed child');
      } catch (err) {
        const text = fs.readFileSync(log, 'utf8').split('\n');
        throw new Error(`${(err as Error).message}; child log: ${text.filter((l) => l.endsWith(` ${n}`) || /^(open|flushed|pushing)/.test(l)).join(' | ')}`);
      }
    }
    else if (what === 'ack') model.ack(n);
    else if (what === 'durable') {
      model.maybeAcked.delete(n);
      model.owed.delete(n);
      model.acked.add(n);
    }
  }
  model.nextN = pushing + 1;
  model.killed();
  if (!process.env.KEEP_LOG) fs.rmSync(log);
}

async function run(seed: number): Promise<void> {
  const rand = prng(seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-queue-prop-'));
  const dir = path.join(root, 'q');
  const model = new Model();
  let q = await DurableQueue.open<Item>(dir, OPTIONS);
  let inflight: QueueEntry<Item>[] = [];
  const pick = (list: QueueEntry<Item>[]): QueueEntry<Item>[] => list.filter(() => rand() < 0.5);
  try {
    for (let step = 0; step < 60; step++) {
      const r = rand();
      const where = `seed ${seed} step ${step}`;
      if (r < 0.3) {
        const k = 1 + Math.floor(rand() * 400);
        for (let i = 0; i < k; i++) {
          q.push({ n: model.nextN });
          model.owed.add(model.nextN++);
        }
      } else if (r < 0.5) {
        const got = await q.take(1 + Math.floor(rand() * 30));
        for (const e of got) model.seen(e.item.n, where);
        inflight.push(...got);
      } else if (r < 0.65) {
        const ack = pick(inflight);
        q.ack(ack);
        inflight = inflight.filter((e) => !ack.includes(e));
        for (const e of ack) model.ack(e.item.n);
      } else if (r < 0.75) {
        const nack = pick(inflight);
        q.nack(nack);
        inflight = inflight.filter((e) => !nack.includes(e));
      } else if (r < 0.8) {
        await q.flush();
      } else if (r < 0.92) {
        await q.close();
        model.closedCleanly();
        inflight = [];
        q = await DurableQueue.open<Item>(dir, OPTIONS);
      } else {
        await q.close();
        model.closedCleanly();
        inflight = [];
        await killedChild(dir, model, rand);
        q = await DurableQueue.open<Item>(dir, OPTIONS);
      }
    }
    q.nack(inflight);
    const delivered = new Set<number>();
    for (;;) {
      const got = await q.take(100);
      if (!got.length) break;
      for (const e of got) {
        model.seen(e.item.n, `seed ${seed} final drain`);
        delivered.add(e.item.n);
      }
      q.ack(got);
    }
    assert.equal(q.drops, 0, `seed ${seed}: no drops expected`);
    const lost = [...model.owed].filter((n) => !delivered.has(n));
    assert.deepEqual(lost, [], `seed ${seed}: stored, unacknowledged items never delivered`);
    await q.close();
  } finally {
    await q.close().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

for (const seed of (process.env.SEEDS ?? "1,2,3,4,5,6,7,8").split(",").map(Number)) {
  test(`queue property, seed ${seed}: nothing acknowledged comes back, nothing stored is lost`, async () => {
    await run(seed);
  });
}
