import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterCache } from '../../nodes/lib/cache';
import { answerFor } from '../../nodes/lib/gateway';
import { ModbusException } from '../../nodes/lib/modbus/pdu';
import { BackoffError, LinkError, ModbusTimeoutError, RequestCancelledError } from '../../nodes/lib/modbus/transport-errors';

test('0B only for a write that never left the gateway; a sent write without confirmation is 04', () => {
  assert.equal(answerFor(new LinkError('not connected'), false), 0x0b);
  assert.equal(answerFor(new BackoffError('backing off', 0), false), 0x0b);
  assert.equal(answerFor(new RequestCancelledError('cancelled'), false), 0x0b);
  assert.equal(answerFor(new LinkError('connection closed'), true), 0x04, 'lost in flight: it may have been executed');
  assert.equal(answerFor(new ModbusTimeoutError('no answer'), true), 0x04);
  assert.equal(answerFor(new ModbusException(6, 0x03), true), 0x03);
});

test('a confirmed write updates the registers in the image, and only those', () => {
  const cache = new RegisterCache({ ttlMs: 1000 });
  cache.update({ topic: 'm', payload: {}, rtu: { device: 'm', protocol: 'modbus', timestamp: 0, quality: 'good', latencyMs: 1, units: {}, seq: 1, raw: [{ registerType: 'holding', address: 10, values: [1, 2] }] } });
  cache.applyWrite('m', 'holding', 9, [7, 8, 9, 10], 500);
  assert.deepEqual(Array.from(cache.read('m', 'holding', 10, 2, 1200) as Uint16Array), [8, 9], 'written and fresh again');
  assert.equal(cache.read('m', 'holding', 9, 1, 600), 'unknown', 'a register never polled stays unknown');
  assert.equal(cache.read('m', 'holding', 12, 1, 600), 'unknown');
  cache.applyWrite('other', 'coil', 0, [1]);
  assert.equal(cache.has('other'), false);
});
