/** RTU slave framing on an in-process byte stream: the cases a serial line produces, byte by byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'stream';
import { crcMatches, withCrc } from '../../nodes/lib/modbus/crc';
import { ModbusRequest } from '../../nodes/lib/modbus/pdu';
import { ModbusRtuServer } from '../../nodes/lib/modbus/server-rtu';

/** The slave's end of a serial line: what the master writes arrives on `toSlave`, answers come out on `answers`. */
function line(): { slave: Duplex; toSlave: PassThrough; answers: Buffer[] } {
  const toSlave = new PassThrough();
  const answers: Buffer[] = [];
  const slave = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      answers.push(Buffer.from(chunk));
      cb();
    },
  });
  toSlave.on('data', (d: Buffer) => slave.push(d));
  return { slave, toSlave, answers };
}

async function until(check: () => boolean, ms = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const frame = (bytes: number[]) => withCrc(Buffer.from(bytes));

test('a request arriving byte by byte is answered once, with a valid CRC', async () => {
  const { slave, toSlave, answers } = line();
  const seen: ModbusRequest[] = [];
  const server = new ModbusRtuServer(slave, (_u, req) => {
    seen.push(req);
    return [0x1234, 0x5678];
  }, { answers: (u) => u === 5 });
  for (const b of frame([5, 3, 0, 10, 0, 2])) toSlave.write(Buffer.from([b]));
  await until(() => answers.length === 1);
  assert.deepEqual([...answers[0].subarray(0, 7)], [5, 3, 4, 0x12, 0x34, 0x56, 0x78]);
  assert.ok(crcMatches(answers[0]));
  assert.deepEqual(seen, [{ fc: 3, address: 10, quantity: 2 }]);
  server.detach();
});

test('writes, exceptions, other units and broken frames', async () => {
  const { slave, toSlave, answers } = line();
  const writes: ModbusRequest[] = [];
  const server = new ModbusRtuServer(slave, (_u, req) => {
    if (req.fc > 4) writes.push(req);
    return req.fc <= 4 ? [1] : undefined;
  }, { answers: (u) => u === 5, frameGapMs: 10 });
  toSlave.write(frame([5, 16, 0, 1, 0, 2, 4, 0, 7, 0, 8]));
  await until(() => answers.length === 1);
  assert.deepEqual([...answers[0].subarray(0, 6)], [5, 16, 0, 1, 0, 2]);
  assert.deepEqual(writes, [{ fc: 16, address: 1, values: [7, 8] }]);
  toSlave.write(frame([5, 3, 0, 0, 0, 200]));
  await until(() => answers.length === 2);
  assert.deepEqual([...answers[1].subarray(0, 3)], [5, 0x83, 0x03], 'quantity 200 → 03');
  toSlave.write(frame([6, 3, 0, 0, 0, 1]));
  const bad = frame([5, 3, 0, 0, 0, 1]);
  bad[3] ^= 0x40;
  toSlave.write(bad);
  toSlave.write(frame([0, 3, 0, 0, 0, 1]));
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(answers.length, 2, 'other unit, damaged frame and a broadcast read get no answer');
  assert.equal(server.stats.ignored, 1);
  assert.ok(server.stats.droppedBytes >= 8);
  toSlave.write(frame([5, 3, 0, 0, 0, 1]));
  await until(() => answers.length === 3);
  server.detach();
});

test('an asynchronous answer holds the next request until it is sent', async () => {
  const { slave, toSlave, answers } = line();
  let release: (v: number[]) => void = () => undefined;
  const server = new ModbusRtuServer(slave, (_u, req) => (req.address === 0 ? new Promise<number[]>((r) => (release = r)) : [9]), { answers: () => true });
  toSlave.write(Buffer.concat([frame([1, 3, 0, 0, 0, 1]), frame([1, 3, 0, 1, 0, 1])]));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(answers.length, 0);
  release([4]);
  await until(() => answers.length === 2);
  assert.deepEqual([answers[0][4], answers[1][4]], [4, 9]);
  server.detach();
});
