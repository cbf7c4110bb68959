import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMAND, Job } from '../../nodes/lib/modbus/line-queue';
import { classify, LineUnits } from '../../nodes/lib/modbus/line-units';
import { FrameError, ModbusException } from '../../nodes/lib/modbus/pdu';
import { BackoffError, CrcError, LinkError, ModbusTimeoutError } from '../../nodes/lib/modbus/transport-errors';

function job(unitId: number, probe = false): Job {
  return {
    unitId,
    request: { fc: 3, address: 0, quantity: 1 },
    priority: DEMAND,
    deadline: 0,
    seq: -1,
    heapIndex: -1,
    timeoutMs: 100,
    attemptsLeft: 3,
    expiresAt: 0,
    probe,
    unitFailures: 0,
    resolve: () => undefined,
    reject: () => undefined,
  };
}

test('failures are classified by class', () => {
  assert.equal(classify(new ModbusTimeoutError('t')), 'timeout');
  assert.equal(classify(new LinkError('l')), 'link');
  assert.equal(classify(new CrcError('c')), 'crc');
  assert.equal(classify(new FrameError('f')), 'frame');
  assert.equal(classify(new Error('x')), 'other');
  assert.ok(new ModbusException(3, 2) instanceof Error);
  assert.equal(classify(new ModbusException(3, 2)), 'exception');
});

test('a unit backing off is refused, probed with one attempt when its time comes, and asked at once by an explicit read', () => {
  const units = new LineUnits('l', { initialMs: 1000, maxMs: 1000, jitter: 0 }, Math.random, 3);
  const fresh = job(1);
  units.queued(fresh);
  assert.equal(units.beforeSend(fresh, 0), undefined);
  assert.equal(fresh.attemptsLeft, 3, 'a healthy unit gets every attempt');
  units.silent(1, 0);
  assert.ok(units.refuseNew(1, false, 500) instanceof BackoffError);
  assert.equal(units.refuseNew(1, true, 500), undefined, 'explicit reads are not refused');
  const explicit = job(1, true);
  units.queued(explicit);
  assert.equal(units.beforeSend(explicit, 500), undefined);
  assert.equal(explicit.attemptsLeft, 1);
  const second = job(1, true);
  units.queued(second);
  units.silent(1, 600); // the first block of the same read timed out
  assert.ok(units.beforeSend(second, 700) instanceof BackoffError, 'not sent to a unit that just failed again');
  const probe = job(1);
  units.queued(probe);
  assert.equal(units.beforeSend(probe, 1700), undefined, 'the backoff is over');
  assert.equal(probe.attemptsLeft, 1, 'probed with one attempt');
  assert.equal(units.answered(1), true, 'an answer ends the backoff');
  const after = job(1);
  units.queued(after);
  units.beforeSend(after, 1800);
  assert.equal(after.attemptsLeft, 3);
});
