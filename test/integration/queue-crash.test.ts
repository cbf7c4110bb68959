/**
 * The durable queue under real crashes: a child process pushes and acknowledges as fast as
 * it can and is killed with SIGKILL in the middle of its writes, several times over the same
 * directory. After each kill the directory is reopened and checked against what the child
 * had been told was stored (flush resolved) and acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DurableQueue, QueueEntry, QueueError } from '../../nodes/lib/queue/durable-queue';

interface Item {
  g: number;
  i: number;
  pad: string;
}

const queueModule = path.resolve(__dirname, '../../nodes/lib/queue/durable-queue.js');

// The child: generation g pushes {g, i} in bursts, flushing after each burst, while a consumer
// takes and acks. Every fact the parent checks is written with writeSync before it becomes
// true (ack intent) or right after it became true (flushed, checkpoint), so a kill cannot lose it.
const childScript = `
const fs = require('fs');
const { DurableQueue } = require(process.argv[1]);
const [dir, log, gen] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const fd = fs.openSync(log, 'a');
const note = (line) => fs.writeSync(fd, line + '\\n');
(async () => {
  const q = await DurableQueue.open(dir, { segmentBytes: 4 << 20, maxBytes: 1 << 30, checkpointDelayMs: 2 });
  const keyOf = new Map();
  q.on('checkpoint', (seq) => { const k = keyOf.get(seq); if (k) note('checkpoint ' + k); });
  note('open ' + gen);
  (async () => {
    for (;;) {
      const batch = await q.take(40);
      if (!batch.length) { await q.waitForItems(50); continue; }
      const last = batch[batch.length - 1];
      const key = last.item.g + ' ' + last.item.i;
      note('ack ' + key);
      for (const e of batch) keyOf.set(e.seq, e.item.g + ' ' + e.item.i);
      q.ack(batch);
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  let i = 0;
  for (;;) {
    for (let k = 0; k < 2000; k++) { i++; q.push({ g: gen, i, pad: 'p'.repeat(i % 997) }); }
    await q.flush();
    note('flushed ' + gen + ' ' + i);
  }
})();
`;

type Key = [number, number];

function cmp(a: Key, b: Key): number {
  return a[0] - b[0] || a[1] - b[1];
}

interface ChildLog {
  flushed: Map<number, number>;
  lastAck?: Key;
  lastCheckpoint?: Key;
}

function readLog(file: string): ChildLog {
  const out: ChildLog = { flushed: new Map() };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [what, g, i] = line.split(' ');
    const key: Key = [Number(g), Number(i)];
    if (what === 'flushed') out.flushed.set(key[0], Math.max(out.flushed.get(key[0]) ?? 0, key[1]));
    else if (what === 'ack' && (!out.lastAck || cmp(key, out.lastAck) > 0)) out.lastAck = key;
    else if (what === 'checkpoint' && (!out.lastCheckpoint || cmp(key, out.lastCheckpoint) > 0)) out.lastCheckpoint = key;
  }
  return out;
}

async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function runAndKill(dir: string, log: string, gen: number, runMs: number): Promise<void> {
  const child: ChildProcess = spawn(process.execPath, ['-e', childScript, queueModule, dir, log, String(gen)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  try {
    await waitFor(() => (readLog(log).flushed.get(gen) ?? 0) >= 2000, `generation ${gen} to store its first bursts`);
    await new Promise((r) => setTimeout(r, runMs));
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
}

/** Reads everything still queued without acknowledging it (the directory is left as it was). */
async function peek(dir: string): Promise<{ items: Item[]; tornBytes: number }> {
  const q = await DurableQueue.open<Item>(dir, { segmentBytes: 16 * 1024, maxBytes: 1 << 30 });
  const items: Item[] = [];
  for (let batch = await q.take(1000); batch.length; batch = await q.take(1000)) items.push(...batch.map((e: QueueEntry<Item>) => e.item));
  const tornBytes = q.stats().recovery?.tornBytes ?? 0;
  await q.close();
  return { items, tornBytes };
}

function check(items: Item[], log: ChildLog, upToGen: number): void {
  assert.ok(items.length > 0, 'the backlog is not empty');
  const keys = items.map((it): Key => [it.g, it.i]);
  for (let k = 1; k < keys.length; k++) {
    const [a, b] = [keys[k - 1], keys[k]];
    const next = a[0] === b[0] ? b[1] === a[1] + 1 : b[0] > a[0] && b[1] === 1 && a[1] >= (log.flushed.get(a[0]) ?? 0);
    assert.ok(next, `record ${b.join('/')} follows ${a.join('/')}: nothing lost or reordered in between`);
  }
  for (const it of items) assert.equal(it.pad, 'p'.repeat(it.i % 997), `record ${it.g}/${it.i} is intact`);
  const first = keys[0];
  if (log.lastCheckpoint) assert.ok(cmp(first, log.lastCheckpoint) > 0, 'nothing checkpointed as delivered comes back');
  const firstUnacked: Key = log.lastAck ? [log.lastAck[0], log.lastAck[1] + 1] : [1, 1];
  assert.ok(cmp(first, firstUnacked) <= 0 || (first[0] > firstUnacked[0] && first[1] === 1), 'nothing unacknowledged is missing at the head');
  const last = keys[keys.length - 1];
  assert.equal(last[0], upToGen, 'the newest generation is there');
  assert.ok(last[1] >= (log.flushed.get(upToGen) ?? 0), `every stored record of generation ${upToGen} survived (last ${last[1]}, flushed ${log.flushed.get(upToGen)})`);
}

test('records stored before a SIGKILL survive it, in order, across repeated crashes', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-queue-crash-'));
  const log = path.join(dir, '..', `${path.basename(dir)}.log`);
  t.after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(log, { force: true });
  });
  fs.writeFileSync(log, '');
  let torn = 0;
  for (let gen = 1; gen <= 5; gen++) {
    await runAndKill(dir, log, gen, 80 + gen * 60);
    const { items, tornBytes } = await peek(dir);
    torn += tornBytes;
    check(items, readLog(log), gen);
  }
  t.diagnostic(`torn tails cut off over 5 crashes: ${torn} bytes`);
});

function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-mount-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  fs.rmdirSync(probe);
  return ok;
}

test('a file system that fills up mid-segment: data kept in memory, written when space returns', async (t) => {
  if (!canMountTmpfs()) {
    t.skip('needs a tmpfs mount (root on Linux) to fill a real file system; the /dev/full case runs in test/unit/queue');
    return;
  }
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-full-'));
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]).status, 0);
  t.after(() => {
    spawnSync('umount', [mnt]);
    fs.rmdirSync(mnt);
  });
  const dir = path.join(mnt, 'queue');
  const filler = path.join(mnt, 'filler');
  const q = await DurableQueue.open<Item>(dir, { segmentBytes: 32 * 1024, maxBytes: 4 * 1024 * 1024 });
  const errors: QueueError[] = [];
  q.on('disk-error', (e: QueueError) => errors.push(e));
  // Leave the queue about 40 KiB.
  const free = (): number => {
    const s = fs.statfsSync(mnt);
    return s.bavail * s.bsize;
  };
  fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 40 * 1024)));
  let i = 0;
  while (!errors.length && i < 5000) {
    for (let k = 0; k < 20; k++) q.push({ g: 1, i: ++i, pad: 'f'.repeat(100) });
    await q.flush().catch(() => undefined);
  }
  assert.ok(errors.length > 0, 'the queue saw the disk fill up');
  assert.match(errors[0].message, /the disk is full \(ENOSPC\)/);
  for (let k = 0; k < 100; k++) q.push({ g: 1, i: ++i, pad: 'f'.repeat(100) }); // still accepted, held in memory
  assert.ok(q.stats().memoryBytes > 0);
  fs.rmSync(filler);
  await waitFor(() => q.stats().diskError === null, 'the queue to write again after space was freed', 8000);
  await q.flush();
  await q.close();
  const again = await DurableQueue.open<Item>(dir, { segmentBytes: 32 * 1024, maxBytes: 4 * 1024 * 1024 });
  const got: number[] = [];
  for (let b = await again.take(500); b.length; b = await again.take(500)) {
    got.push(...b.map((e) => e.item.i));
    again.ack(b);
  }
  assert.equal(again.drops, 0);
  assert.deepEqual(got, Array.from({ length: i }, (_, k) => k + 1));
  await again.close();
});
