import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16, crcMatches, withCrc } from '../../nodes/lib/modbus/crc';
import {
  decodeRequest,
  decodeResponse,
  encodeException,
  encodeRequest,
  encodeResponse,
  FrameError,
  ModbusException,
  ModbusRequest,
  requestProblem,
} from '../../nodes/lib/modbus/pdu';

test('CRC-16/MODBUS matches the specification example', () => {
  // Read holding registers, unit 1, address 0, 10 registers: 01 03 00 00 00 0A C5 CD
  const body = Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]);
  assert.equal(crc16(body), 0xcdc5);
  const frame = withCrc(body);
  assert.deepEqual([...frame.subarray(6)], [0xc5, 0xcd]);
  assert.ok(crcMatches(frame));
  frame[2] ^= 1;
  assert.ok(!crcMatches(frame));
});

test('every request round-trips through the server decoder and back', () => {
  const requests: ModbusRequest[] = [
    { fc: 1, address: 10, quantity: 19 },
    { fc: 2, address: 0, quantity: 2000 },
    { fc: 3, address: 65410, quantity: 125 },
    { fc: 4, address: 7, quantity: 1 },
    { fc: 5, address: 3, value: true },
    { fc: 6, address: 9, value: 0xbeef },
    { fc: 15, address: 20, values: [1, 0, 1, 1, 0, 0, 0, 0, 1] },
    { fc: 16, address: 100, values: [1, 2, 0xffff] },
  ];
  for (const req of requests) {
    assert.deepEqual(decodeRequest(encodeRequest(req)), req);
    const values = 'quantity' in req ? Array.from({ length: req.quantity }, (_, i) => (req.fc <= 2 ? i % 2 : i * 7)) : undefined;
    const decoded = decodeResponse(req, encodeResponse(req, values));
    assert.deepEqual(decoded, values ?? []);
  }
});

test('exception and malformed responses are told apart', () => {
  const req: ModbusRequest = { fc: 3, address: 0, quantity: 2 };
  assert.throws(() => decodeResponse(req, encodeException(3, 2)), (e: unknown) => e instanceof ModbusException && e.code === 2);
  assert.throws(() => decodeResponse(req, Buffer.from([3, 4, 0, 1])), FrameError);
  assert.throws(() => decodeResponse(req, Buffer.from([4, 4, 0, 1, 0, 2])), FrameError);
  assert.throws(() => decodeResponse(req, Buffer.from([3, 3, 0, 1, 0, 2])), FrameError);
});

test('requests past protocol limits are refused with the right exception', () => {
  assert.match(requestProblem({ fc: 3, address: 65500, quantity: 100 }) ?? '', /past 65535/);
  assert.match(requestProblem({ fc: 3, address: 0, quantity: 126 }) ?? '', /quantity 126/);
  assert.throws(() => decodeRequest(Buffer.from([3, 0, 0, 0, 200])), (e: unknown) => e instanceof ModbusException && e.code === 3);
  assert.throws(() => decodeRequest(Buffer.from([0x2b, 0, 0, 0, 1])), (e: unknown) => e instanceof ModbusException && e.code === 1);
  assert.throws(() => decodeRequest(Buffer.from([3, 0xff, 0xf0, 0, 100])), (e: unknown) => e instanceof ModbusException && e.code === 2);
});
