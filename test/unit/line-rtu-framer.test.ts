import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCrc } from '../../nodes/lib/modbus/crc';
import { encodeException, encodeRequest, encodeResponse, expectedResponseLength, ModbusRequest } from '../../nodes/lib/modbus/pdu';
import { RtuResponseFramer } from '../../nodes/lib/modbus/rtu-framer';

const req: ModbusRequest = { fc: 3, address: 100, quantity: 10 };
const unit = 7;
const answerPdu = encodeResponse(req, Array.from({ length: 10 }, (_, i) => 0x0100 + i));
const answer = withCrc(Buffer.concat([Buffer.from([unit]), answerPdu]));

function framer(): RtuResponseFramer {
  const f = new RtuResponseFramer();
  f.expect({ unitId: unit, fc: 3, frameLength: expectedResponseLength(req) + 3 });
  return f;
}

test('a frame split into single bytes is found on its last byte', () => {
  const f = framer();
  for (let i = 0; i < answer.length - 1; i++) {
    assert.equal(f.push(answer.subarray(i, i + 1)), undefined, `byte ${i}`);
  }
  const pdu = f.push(answer.subarray(answer.length - 1));
  assert.deepEqual(pdu, answerPdu);
  assert.equal(f.garbageBytes, 0);
});

test('garbage before, the echo of our request, and trailing bytes are skipped', () => {
  const echo = withCrc(Buffer.concat([Buffer.from([unit]), encodeRequest(req)]));
  const noise = Buffer.from([0x00, 0xff, unit, 0x55, 0x07]);
  const f = framer();
  assert.equal(f.push(Buffer.concat([noise, echo, answer.subarray(0, 5)])), undefined);
  const pdu = f.push(Buffer.concat([answer.subarray(5), Buffer.from([0xaa, 0xbb])]));
  assert.deepEqual(pdu, answerPdu);
  assert.equal(f.garbageBytes, noise.length + echo.length + 2);
});

test('two frames merged in one chunk: the awaited one is taken', () => {
  const other = withCrc(Buffer.concat([Buffer.from([9]), answerPdu]));
  const f = framer();
  assert.deepEqual(f.push(Buffer.concat([other, answer])), answerPdu);
});

test('an exception answer is 5 bytes', () => {
  const exc = withCrc(Buffer.concat([Buffer.from([unit]), encodeException(3, 2)]));
  const f = framer();
  assert.equal(f.push(exc.subarray(0, 3)), undefined);
  assert.deepEqual(f.push(exc.subarray(3)), Buffer.from([0x83, 0x02]));
});

test('a whole frame with a bad CRC is a CRC error at the silence', () => {
  const bad = Buffer.from(answer);
  bad[5] ^= 0x10;
  const f = framer();
  assert.equal(f.push(bad), undefined);
  assert.equal(f.onSilence(), 'crc');
  assert.deepEqual(f.verdict(), { kind: 'crc', frameLength: answer.length });
});

test('a short frame stays partial at the silence and is reported short at the timeout', () => {
  const f = framer();
  f.push(answer.subarray(0, 9));
  assert.equal(f.onSilence(), 'partial');
  assert.deepEqual(f.verdict(), { kind: 'short', got: 9, need: answer.length });
  // and the rest arriving late still completes it
  assert.deepEqual(f.push(answer.subarray(9)), answerPdu);
});

test('bytes that cannot start the awaited frame are dropped at the silence', () => {
  const f = framer();
  f.push(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  assert.equal(f.onSilence(), 'idle');
  assert.equal(f.buffered, 0);
  assert.equal(f.garbageBytes, 12);
  assert.deepEqual(f.verdict(), { kind: 'nothing' });
  // a lone trailing unit id may be the start of the answer
  f.push(Buffer.from([0x33, unit]));
  assert.equal(f.onSilence(), 'partial');
  assert.deepEqual(f.push(answer.subarray(1)), answerPdu);
});

test('bytes with nobody waiting are counted and ignored; expect() discards stale bytes', () => {
  const f = new RtuResponseFramer();
  assert.equal(f.push(answer), undefined);
  assert.equal(f.garbageBytes, answer.length);
  const g = framer();
  g.push(answer.subarray(0, 4));
  g.expect({ unitId: unit, fc: 3, frameLength: answer.length });
  assert.equal(g.buffered, 0);
  assert.equal(g.garbageBytes, 4);
});

test('a flood of noise keeps the backlog bounded', () => {
  const f = framer();
  for (let i = 0; i < 100; i++) f.push(Buffer.alloc(100, 0x11));
  assert.ok(f.buffered <= 512);
  assert.deepEqual(f.push(answer), answerPdu);
});
