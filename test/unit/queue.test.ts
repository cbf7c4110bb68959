import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DurableQueue, QueueEntry, QueueError, DropEvent } from '../../nodes/lib/queue/durable-queue';
import { listQueues } from '../../nodes/lib/queue/registry';
import { HEADER_BYTES } from '../../nodes/lib/queue/segment';

interface Item {
  n: number;
  device?: string;
  pad?: string;
}

function tmpDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-queue-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function drain(q: DurableQueue<Item>, batch = 100): Promise<QueueEntry<Item>[]> {
  const all: QueueEntry<Item>[] = [];
  for (;;) {
    const got = await q.take(batch);
    if (!got.length) return all;
    all.push(...got);
    q.ack(got);
  }
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function segments(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.startsWith('seg-')).sort().map((n) => path.join(dir, n));
}

test('items come out in push order with stable ids; ack removes them', async (t) => {
  const dir = tmpDir(t);
  const q = await DurableQueue.open<Item>(dir, { owner: 'unit' });
  const ids = [1, 2, 3, 4, 5].map((n) => q.push({ n }));
  assert.equal(new Set(ids).size, 5);
  assert.match(ids[0], /^[0-9a-f]{8}-1$/);
  assert.equal(q.depth, 5);
  const first = await q.take(2);
  assert.deepEqual(first.map((e) => e.item.n), [1, 2]);
  assert.deepEqual(first.map((e) => e.id), ids.slice(0, 2));
  assert.equal(q.available, 3);
  q.ack(first);
  assert.equal(q.depth, 3);
  const rest = await q.take(10);
  assert.deepEqual(rest.map((e) => e.item.n), [3, 4, 5]);
  q.ack(rest.map((e) => e.id));
  q.ack(rest); // repeated acks are ignored
  assert.equal(q.depth, 0);
  assert.equal(q.oldestAgeMs(), 0);
  assert.ok(listQueues().some((r) => r.owner === 'unit' && r.dir === path.resolve(dir)));
  await q.close();
  assert.ok(!listQueues().some((r) => r.owner === 'unit'));
  assert.throws(() => q.push({ n: 6 }), QueueError);
});

test('a nacked batch comes back first, in order, with the same ids', async (t) => {
  const q = await DurableQueue.open<Item>(tmpDir(t));
  for (let n = 1; n <= 10; n++) q.push({ n });
  const a = await q.take(4);
  const b = await q.take(4);
  q.nack(b);
  q.nack(a);
  const again = await q.take(10);
  assert.deepEqual(again.map((e) => e.item.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(again.slice(0, 4).map((e) => e.id), a.map((e) => e.id));
  q.ack(again);
  assert.equal(q.depth, 0);
  await q.close();
});

test('undelivered items survive close and reopen with their ids; delivered ones do not return', async (t) => {
  const dir = tmpDir(t);
  const q1 = await DurableQueue.open<Item>(dir);
  for (let n = 1; n <= 100; n++) q1.push({ n, device: `m${n % 3}` });
  const delivered = await q1.take(30);
  q1.ack(delivered);
  const inFlight = await q1.take(10); // neither acked nor nacked when the queue closes
  await q1.close();

  const q2 = await DurableQueue.open<Item>(dir);
  assert.equal(q2.id, q1.id);
  assert.equal(q2.depth, 70);
  assert.equal(q2.stats().recovery?.pending, 70);
  const rest = await drain(q2);
  assert.deepEqual(rest.map((e) => e.item.n), Array.from({ length: 70 }, (_, i) => i + 31));
  assert.deepEqual(rest.slice(0, 10).map((e) => e.id), inFlight.map((e) => e.id));
  const newId = q2.push({ n: 101 });
  assert.equal(newId, `${q2.id}-101`, 'seq numbering continues after a restart');
  await q2.close();
});

test('a consumer that falls behind reads the backlog back from disk, in order', async (t) => {
  const dir = tmpDir(t);
  const q = await DurableQueue.open<Item>(dir, { cacheBytes: 4096, segmentBytes: 32 * 1024, maxBytes: 64 * 1024 * 1024 });
  const total = 20_000;
  for (let n = 1; n <= total; n++) {
    q.push({ n, pad: 'x'.repeat(n % 40) });
    if (n % 1000 === 0) await q.flush();
  }
  await q.flush();
  assert.ok(segments(dir).length > 5, 'the backlog spans several segments');
  assert.ok(q.stats().memoryBytes === 0);
  const got = await drain(q, 333);
  assert.equal(got.length, total);
  for (let i = 0; i < total; i++) assert.equal(got[i].item.n, i + 1);
  assert.equal(q.depth, 0);
  await new Promise((r) => setTimeout(r, 150)); // the checkpoint deletes delivered segments
  assert.ok(segments(dir).length <= 2, `delivered segments are deleted (left ${segments(dir).length})`);
  await q.close();
});

test('when the bound is reached the oldest records are dropped, counted and reported', async (t) => {
  const dir = tmpDir(t);
  const q = await DurableQueue.open<Item>(dir, { maxBytes: 64 * 1024, segmentBytes: 8 * 1024, cacheBytes: 1024 });
  const drops: DropEvent[] = [];
  q.on('drop', (e: DropEvent) => drops.push(e));
  const total = 3000;
  for (let n = 1; n <= total; n++) {
    q.push({ n, pad: 'y'.repeat(50) });
    if (n % 100 === 0) await q.flush();
  }
  await q.flush();
  const dropped = drops.reduce((a, d) => a + d.count, 0);
  assert.ok(dropped > 0 && drops.every((d) => d.reason === 'full'));
  assert.equal(q.drops, dropped);
  assert.equal(q.depth, total - dropped);
  const onDisk = segments(dir).reduce((a, f) => a + fs.statSync(f).size, 0);
  assert.ok(onDisk <= 64 * 1024, `disk use ${onDisk} stays within the bound`);
  const got = await drain(q);
  assert.equal(got.length, total - dropped);
  assert.equal(got[0].item.n, dropped + 1, 'the oldest went, the newest stayed');
  assert.equal(got[got.length - 1].item.n, total);
  for (let i = 1; i < got.length; i++) assert.equal(got[i].item.n, got[i - 1].item.n + 1);
  await q.close();
  const again = await DurableQueue.open<Item>(dir);
  assert.equal(again.drops, dropped, 'the drop count is kept across restarts');
  await again.close();
});

test('a torn last record is cut off on open; what came before is delivered and appends continue', async (t) => {
  const dir = tmpDir(t);
  const q1 = await DurableQueue.open<Item>(dir);
  for (let n = 1; n <= 50; n++) q1.push({ n });
  await q1.close();
  const [seg] = segments(dir);
  const good = fs.statSync(seg).size;
  // What a crash in the middle of an append leaves: a length promising more bytes than there are.
  const torn = Buffer.alloc(30, 0xab);
  torn.writeUInt32LE(200, 0);
  fs.appendFileSync(seg, torn);

  const q2 = await DurableQueue.open<Item>(dir);
  assert.equal(q2.stats().recovery?.tornBytes, 30);
  assert.equal(fs.statSync(seg).size, good);
  for (let n = 51; n <= 60; n++) q2.push({ n });
  await q2.close();

  const q3 = await DurableQueue.open<Item>(dir);
  assert.equal(q3.stats().recovery?.tornBytes, 0);
  const got = await drain(q3);
  assert.deepEqual(got.map((e) => e.item.n), Array.from({ length: 60 }, (_, i) => i + 1));
  await q3.close();
});

test('a record with a bad CRC in the last segment is treated as torn', async (t) => {
  const dir = tmpDir(t);
  const q1 = await DurableQueue.open<Item>(dir);
  for (let n = 1; n <= 20; n++) q1.push({ n });
  await q1.close();
  const [seg] = segments(dir);
  const buf = fs.readFileSync(seg);
  buf[buf.length - 3] ^= 0xff; // damage the last record's JSON
  fs.writeFileSync(seg, buf);
  const q2 = await DurableQueue.open<Item>(dir);
  assert.ok((q2.stats().recovery?.tornBytes ?? 0) > 0);
  const got = await drain(q2);
  assert.deepEqual(got.map((e) => e.item.n), Array.from({ length: 19 }, (_, i) => i + 1));
  await q2.close();
});

test('damage inside an older segment costs only its records and is reported', async (t) => {
  const dir = tmpDir(t);
  const q1 = await DurableQueue.open<Item>(dir, { segmentBytes: 4096, maxBytes: 1024 * 1024 });
  for (let n = 1; n <= 300; n++) {
    q1.push({ n, pad: 'z'.repeat(20) });
    if (n % 20 === 0) await q1.flush();
  }
  await q1.close();
  const segs = segments(dir);
  assert.ok(segs.length >= 3);
  const victim = fs.readFileSync(segs[1]);
  victim[HEADER_BYTES + 200] ^= 0x55;
  fs.writeFileSync(segs[1], victim);

  const q2 = await DurableQueue.open<Item>(dir, { segmentBytes: 4096, maxBytes: 1024 * 1024 });
  const report = q2.stats().recovery;
  assert.equal(report?.damaged.length, 1);
  assert.match(report?.damaged[0].problem ?? '', /CRC mismatch|length/);
  const lost = report?.damaged[0].lostRecords ?? 0;
  assert.ok(lost > 0);
  const got = await drain(q2);
  assert.equal(got.length, 300 - lost);
  for (let i = 1; i < got.length; i++) assert.ok(got[i].item.n > got[i - 1].item.n);
  assert.equal(q2.drops, lost);
  await q2.close();
});

test('an unusable directory gives a memory-only queue with a clear error, or a clear failure', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'not-a-dir');
  fs.writeFileSync(file, '');
  const where = path.join(file, 'queue');
  await assert.rejects(DurableQueue.open<Item>(where, { memoryFallback: false, owner: 'mqtt-out 1' }), (err: Error) => {
    assert.ok(err instanceof QueueError);
    assert.match(err.message, /queue mqtt-out 1: cannot use directory .*not-a-dir\/queue: .*(ENOTDIR|EEXIST)/);
    return true;
  });
  const q = await DurableQueue.open<Item>(where, { maxMemoryBytes: 2000 });
  const s = q.stats();
  assert.equal(s.memoryOnly, true);
  assert.match(s.diskError ?? '', /cannot use directory/);
  for (let n = 1; n <= 100; n++) q.push({ n });
  assert.ok(q.drops > 0, 'memory is bounded too');
  const got = await drain(q);
  assert.equal(got[got.length - 1].item.n, 100);
  assert.equal(got.length + q.drops, 100);
  await assert.rejects(q.flush(), QueueError);
  await q.close();
});

test('a full disk (ENOSPC) is reported, keeps the data in memory, and writing resumes', async (t) => {
  const dir = tmpDir(t);
  const q = await DurableQueue.open<Item>(dir);
  const errors: QueueError[] = [];
  let ok = 0;
  q.on('disk-error', (e: QueueError) => errors.push(e));
  q.on('disk-ok', () => ok++);
  // /dev/full answers every write with ENOSPC: the queue's first segment lands on it.
  const first = path.join(dir, 'seg-0000000000000001.log');
  fs.symlinkSync('/dev/full', first);
  for (let n = 1; n <= 20; n++) q.push({ n });
  const flushed = q.flush();
  await assert.rejects(flushed, /disk is full \(ENOSPC\)/);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /cannot write .*seg-0000000000000001\.log: the disk is full \(ENOSPC\)/);
  assert.match(q.stats().diskError ?? '', /ENOSPC/);
  // Delivery goes on from memory meanwhile.
  const some = await q.take(5);
  assert.deepEqual(some.map((e) => e.item.n), [1, 2, 3, 4, 5]);
  q.ack(some);
  fs.rmSync(first, { force: true });
  await until(() => ok === 1, 'the retry to succeed', 5000);
  assert.equal(q.stats().diskError, null);
  await q.flush();
  await q.close();
  const again = await DurableQueue.open<Item>(dir);
  const rest = await drain(again);
  assert.deepEqual(rest.map((e) => e.item.n), Array.from({ length: 15 }, (_, i) => i + 6));
  await again.close();
});

test('items too large or not serialisable are refused with a clear error', async (t) => {
  const q = await DurableQueue.open<Item | undefined>(tmpDir(t), { maxRecordBytes: 100, owner: 'http-out x' });
  assert.throws(() => q.push({ n: 1, pad: 'a'.repeat(200) }), /queue http-out x: item of \d+ bytes exceeds the 100-byte limit/);
  assert.throws(() => q.push(undefined), /not JSON-serialisable/);
  assert.equal(q.depth, 0);
  await q.close();
});

test('oldest age follows the oldest undelivered item', async (t) => {
  const q = await DurableQueue.open<Item>(tmpDir(t));
  q.push({ n: 1 });
  await new Promise((r) => setTimeout(r, 30));
  q.push({ n: 2 });
  const now = Date.now();
  assert.ok(q.oldestAgeMs(now) >= 30);
  const [a] = await q.take(1);
  assert.ok(q.oldestAgeMs(now) >= 30, 'in flight still counts');
  q.ack(a);
  assert.ok(q.oldestAgeMs(now) < 30);
  const waited = q.waitForItems(1000);
  assert.equal(await waited, true);
  const [b] = await q.take(1);
  q.ack(b);
  assert.equal(await q.waitForItems(20), false);
  await q.close();
});

test('close writes a backlog many segments long; nothing is lost and no drop is counted', async (t) => {
  const dir = tmpDir(t);
  const q = await DurableQueue.open<Item>(dir, { segmentBytes: 256 * 1024 });
  const drops: DropEvent[] = [];
  q.on('drop', (e: DropEvent) => drops.push(e));
  const total = 50_000;
  const pad = 'x'.repeat(150);
  for (let n = 1; n <= total; n++) q.push({ n, device: `meter-${n % 17}`, pad });
  assert.ok(q.stats().memoryBytes > 20 * 256 * 1024, 'the unwritten backlog spans many segments');
  await q.close();
  assert.deepEqual(drops, []);
  const again = await DurableQueue.open<Item>(dir, { segmentBytes: 256 * 1024 });
  assert.equal(again.depth, total);
  const got = await drain(again, 1000);
  assert.equal(got.length, total);
  assert.ok(got.every((e, i) => e.item.n === i + 1), 'every record, in order');
  assert.equal(again.drops, 0);
  await again.close();
});

test('what close cannot write because the disk fails is counted and reported as dropped', async (t) => {
  const dir = tmpDir(t);
  const q = await DurableQueue.open<Item>(dir);
  const drops: DropEvent[] = [];
  q.on('drop', (e: DropEvent) => drops.push(e));
  q.on('disk-error', () => undefined);
  fs.symlinkSync('/dev/full', path.join(dir, 'seg-0000000000000001.log'));
  for (let n = 1; n <= 30; n++) q.push({ n });
  const taken = await q.take(10);
  q.ack(taken.slice(0, 4));
  await q.close();
  // 4 delivered; 26 owed (6 in flight, 20 never handed out) were never written.
  assert.deepEqual(drops, [{ count: 26, reason: 'close' }]);
  assert.equal(q.drops, 26);
  assert.equal(q.depth, 0);
});
