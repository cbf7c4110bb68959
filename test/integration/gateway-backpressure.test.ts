/**
 * Answers are written as views of a shared output slab without a copy. A client
 * that pipelines thousands of reads and does not read its answers leaves writes
 * pending in the socket while other clients keep the slab turning over; when it
 * finally reads, every answer must be intact and in request order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'net';
import { RegisterCache } from '../../nodes/lib/cache';
import { ModbusGateway } from '../../nodes/lib/gateway';

const UNITS = 8;
const QUANTITY = 125;
let cache: RegisterCache;
let gateway: ModbusGateway;
let port: number;

const word = (unit: number, k: number): number => (unit * 977 + k * 13) & 0xffff;

before(async () => {
  cache = new RegisterCache({ ttlMs: 3_600_000 });
  const now = Date.now();
  for (let u = 1; u <= UNITS; u++) {
    const values = Array.from({ length: QUANTITY }, (_, k) => word(u, k));
    cache.update({ topic: `m${u}`, payload: {}, rtu: { device: `m${u}`, protocol: 'modbus', timestamp: now, quality: 'good', latencyMs: 1, units: {}, raw: [{ registerType: 'holding', address: 0, values }], seq: 1 } });
  }
  const devices = Array.from({ length: UNITS }, (_, k) => ({ device: `m${k + 1}`, unitId: k + 1 }));
  gateway = new ModbusGateway({ cache, devices, host: '127.0.0.1', port: 0 });
  port = (await gateway.listen()).port;
});

after(() => gateway.close());

function requests(count: number, firstTid: number): Buffer {
  const b = Buffer.alloc(12 * count);
  for (let k = 0; k < count; k++) {
    const o = 12 * k;
    const tid = (firstTid + k) & 0xffff;
    b.writeUInt16BE(tid, o);
    b.writeUInt16BE(6, o + 4);
    b[o + 6] = (tid % UNITS) + 1;
    b[o + 7] = 3;
    b.writeUInt16BE(0, o + 8);
    b.writeUInt16BE(QUANTITY, o + 10);
  }
  return b;
}

/** Checks each answer: tid in sequence, unit, FC3, byte count and the words of that unit. */
function checkAnswers(data: Buffer, count: number, firstTid: number): void {
  const size = 9 + QUANTITY * 2;
  assert.equal(data.length, count * size, 'every request answered once');
  for (let k = 0; k < count; k++) {
    const o = k * size;
    const tid = (firstTid + k) & 0xffff;
    const unit = (tid % UNITS) + 1;
    assert.equal(data.readUInt16BE(o), tid, `answer ${k}: transaction id`);
    assert.equal(data[o + 6], unit, `answer ${k}: unit`);
    assert.equal(data[o + 7], 3, `answer ${k}: function`);
    assert.equal(data[o + 8], QUANTITY * 2, `answer ${k}: byte count`);
    for (let w = 0; w < QUANTITY; w++) {
      if (data.readUInt16BE(o + 9 + 2 * w) !== word(unit, w)) assert.fail(`answer ${k} (tid ${tid}, unit ${unit}): register ${w} corrupted`);
    }
  }
}

test('answers held back by a client that does not read stay intact while the slab is reused', async () => {
  const COUNT = 40_000; // about 10 MB of answers: more than the socket buffers and the server's 1 MiB queue hold
  const slow = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((r) => slow.once('connect', () => r()));
  slow.pause();
  const received: Buffer[] = [];
  slow.on('data', (c: Buffer) => received.push(c));
  // Sent in small chunks, one per event-loop turn, so the server writes many
  // separate answers that pend, spread over its slabs.
  slow.setNoDelay(true);
  for (let sent = 0; sent < COUNT; sent += 8) {
    slow.write(requests(8, sent));
    await new Promise((r) => setImmediate(r));
  }
  // Wait until the server stopped reading from the slow client: its answers are then pending.
  let seen = -1;
  for (let i = 0; i < 500 && gateway.stats.requests !== seen; i++) {
    seen = gateway.stats.requests;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(gateway.stats.requests < COUNT, `back-pressure should hold the slow client back (${gateway.stats.requests} of ${COUNT} read)`);

  // Meanwhile a busy client makes the server encode a lot of answers through the slab.
  const busy = net.connect({ port, host: '127.0.0.1' });
  const BUSY = 4000;
  const busyData: Buffer[] = [];
  let busyBytes = 0;
  await new Promise<void>((resolve, reject) => {
    busy.on('error', reject);
    busy.on('data', (c: Buffer) => {
      busyData.push(c);
      busyBytes += c.length;
      if (busyBytes >= BUSY * (9 + QUANTITY * 2)) resolve();
    });
    busy.once('connect', () => {
      for (let sent = 0; sent < BUSY; sent += 8) busy.write(requests(8, 30000 + sent));
    });
  });
  checkAnswers(Buffer.concat(busyData), BUSY, 30000);
  busy.destroy();

  slow.resume();
  const size = COUNT * (9 + QUANTITY * 2);
  const deadline = Date.now() + 10_000;
  while (received.reduce((n, c) => n + c.length, 0) < size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  slow.destroy();
  checkAnswers(Buffer.concat(received), COUNT, 0);
});
