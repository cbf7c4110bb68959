import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterCache } from '../../nodes/lib/cache';
import { ModbusGateway, parseAllowEntry } from '../../nodes/lib/gateway';
import { IedTimeoutError } from '../../nodes/lib/iec61850/errors';
import { ModbusException } from '../../nodes/lib/modbus/pdu';
import { BackoffError, LinkError, ModbusTimeoutError } from '../../nodes/lib/modbus/transport-errors';

test('the Modbus and the IEC 61850 timeout are different classes with different names', () => {
  const modbus = new ModbusTimeoutError('no answer within 100 ms');
  const ied = new IedTimeoutError('ied1', 'read', 100);
  assert.notEqual(modbus.name, ied.name);
  assert.ok(!(ied instanceof ModbusTimeoutError));
  assert.ok(!(modbus instanceof IedTimeoutError));
});

/** A gateway whose one device's writes fail with the error given. */
async function answerTo(failure: Error): Promise<number> {
  const cache = new RegisterCache();
  cache.update({ topic: 'm', payload: {}, rtu: { device: 'm', protocol: 'modbus', timestamp: Date.now(), quality: 'good', latencyMs: 1, units: {}, seq: 1, raw: [{ registerType: 'holding', address: 0, values: [0] }] } });
  cache.setWriter('m', () => Promise.reject(failure));
  const gw = new ModbusGateway({ cache, devices: [{ device: 'm', unitId: 1 }], writesEnabled: true, allowWrites: [parseAllowEntry({ device: 'm', target: 'holding:0' })] });
  try {
    await gw.handler(1, { fc: 6, address: 0, value: 1 });
  } catch (err) {
    assert.ok(err instanceof ModbusException, String(err));
    return err.code;
  }
  throw new Error('the write was answered as done');
}

test('the gateway classifies a failed write by the error class, not by a name string', async () => {
  // An error that only calls itself a timeout (an IEC 61850 one, a DOMException from AbortSignal.timeout, a library's)
  // says nothing about the Modbus device: it is a failure (04), not "the device did not answer" (0B).
  assert.equal(await answerTo(Object.assign(new Error('somewhere else'), { name: 'TimeoutError' })), 0x04);
  assert.equal(await answerTo(Object.assign(new Error('spoofed'), { name: 'LinkError' })), 0x04);
  assert.equal(await answerTo(new IedTimeoutError('ied1', 'read', 100)), 0x04);
  assert.equal(await answerTo(new BackoffError('unit 1 is backing off', Date.now() + 1000)), 0x0b);
  assert.equal(await answerTo(new LinkError('not connected')), 0x0b);
  assert.equal(await answerTo(new ModbusException(6, 0x02)), 0x02);
});
