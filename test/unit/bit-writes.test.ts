import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskWrites } from '../../nodes/lib/modbus/bit-writes';
import { decodeResponse, encodeRequest, requestLengthFromHead, requestProblem } from '../../nodes/lib/modbus/pdu';
import { RegisterLocks } from '../../nodes/lib/modbus/register-locks';
import type { PointDef } from '../../nodes/lib/modbus/types';

/** What a device does with FC22. */
const apply = (current: number, m: { andMask: number; orMask: number }) => (current & m.andMask) | (m.orMask & ~m.andMask & 0xffff);

test('FC22 masks change exactly the bits of the point, in every byte order', () => {
  const bit3: PointDef = { name: 'b3', registerType: 'holding', address: 4, dataType: 'bool', bit: 3 };
  assert.deepEqual(maskWrites(bit3, true, 1), [{ fc: 22, address: 4, andMask: 0xfff7, orMask: 0x0008 }]);
  assert.deepEqual(maskWrites(bit3, false, 1), [{ fc: 22, address: 4, andMask: 0xfff7, orMask: 0 }]);
  const swapped: PointDef = { ...bit3, bit: 1, order: 'BADC' };
  const [m] = maskWrites(swapped, true, 1);
  assert.equal(apply(0, m), 0x0200, 'bit 1 of the value sits in the high byte of the word when bytes are swapped');
  const field: PointDef = { name: 'f', registerType: 'holding', address: 0, dataType: 'bitfield', bit: 14, bits: 4, length: 2, order: 'ABCD' };
  const masks = maskWrites(field, 0b1011, 2);
  const words = [0xffff, 0x0000];
  for (const mk of masks) words[mk.address] = apply(words[mk.address], mk);
  // a field across the word boundary: bits 14..17 of the 32-bit value, high word first
  assert.deepEqual(words, [0xffff & ~0b11 | 0b10, 0b11 << 14]);
});

test('FC22 on the wire: request, echo check, server framing', () => {
  const req = { fc: 22 as const, address: 0x10, andMask: 0xf2f2, orMask: 0x0025 };
  assert.deepEqual([...encodeRequest(req)], [22, 0x00, 0x10, 0xf2, 0xf2, 0x00, 0x25]);
  assert.deepEqual(decodeResponse(req, encodeRequest(req)), []);
  assert.throws(() => decodeResponse(req, Buffer.from([22, 0, 0x10, 0xf2, 0xf2, 0, 0x24])), /FC22 echo masks/);
  assert.equal(requestLengthFromHead(encodeRequest(req)), 7);
  assert.match(requestProblem({ ...req, orMask: 0x10000 }) ?? '', /mask 65536 outside 0\.\.65535/);
});

test('register locks run overlapping work in arrival order and other registers freely', async () => {
  const locks = new RegisterLocks();
  const order: string[] = [];
  let releaseA!: () => void;
  const a = locks.run(0, 2, () => new Promise<void>((r) => (releaseA = r)).then(() => void order.push('a')));
  const b = locks.run(1, 1, async () => void order.push('b'));
  const c = locks.run(5, 1, async () => void order.push('c'));
  await c;
  assert.deepEqual(order, ['c'], 'register 5 does not wait for 0..1');
  releaseA();
  await Promise.all([a, b]);
  assert.deepEqual(order, ['c', 'a', 'b']);
  assert.equal(locks.held, 0);
  await assert.rejects(locks.run(0, 1, async () => Promise.reject(new Error('device said no'))), /device said no/);
  assert.equal(locks.held, 0, 'a failure releases its registers');
});
