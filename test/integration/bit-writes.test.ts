/**
 * Bit points of one register written at the same time, against devices this project did not
 * write: modbus-serial's ServerTCP (read-modify-write) and pymodbus (FC22 mask write).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import { ModbusException } from '../../nodes/lib/modbus/pdu';
import type { PointDef } from '../../nodes/lib/modbus/types';
import { startSerialPeer } from '../support/modbus-serial-peer';
import { startPyDevice } from '../support/pymodbus-peer';
import { rejection, waitFor } from '../support/wait';

const REG = 8;
const POINTS: PointDef[] = [
  ...[0, 1, 2, 3, 9].map((bit): PointDef => ({ name: `b${bit}`, registerType: 'holding', address: REG, dataType: 'bool', bit, writable: true })),
  { name: 'mode', registerType: 'holding', address: REG, dataType: 'bitfield', bit: 12, bits: 3, writable: true },
  { name: 'setpoint', registerType: 'holding', address: REG + 1, dataType: 'uint16', writable: true },
];

async function lineTo(port: number): Promise<ModbusLine> {
  const line = new ModbusLine({ name: 'field', transport: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 2000, retries: 0 });
  line.start();
  await new Promise<void>((resolve) => line.once('connect', () => resolve()));
  return line;
}

test('concurrent read-modify-write bit writes to one register all survive (modbus-serial ServerTCP)', async () => {
  const peer = await startSerialPeer();
  peer.holding[REG] = 0;
  const line = await lineTo(peer.port);
  try {
    const device = new DevicePoller({ name: 'relay-box', line, unitId: 1, intervalMs: 1000, points: POINTS });
    const results = await Promise.all([device.write('b0', true), device.write('b1', true), device.write('b2', true), device.write('mode', 5), device.write('b9', true)]);
    assert.equal(peer.holding[REG], 0b0101_0010_0000_0111, `register is ${peer.holding[REG].toString(2)}`);
    assert.deepEqual(results.map((r) => r.fc), [6, 6, 6, 6, 6]);
    // A whole-register write queued between bit writes lands in order, not undone by a stale read.
    await Promise.all([device.write('b0', false), device.carry({ fc: 6, address: REG, value: 0x00f0 }), device.write('b1', true)]);
    assert.equal(peer.holding[REG], 0x00f2);
  } finally {
    await line.stop();
    await peer.close();
  }
});

test('bit writes by FC22 mask write are applied by the device itself (pymodbus)', async () => {
  const py = await startPyDevice({ tcp: true, units: [1] });
  const line = await lineTo(py.port);
  try {
    const device = new DevicePoller({ name: 'relay-box', line, unitId: 1, intervalMs: 1000, points: POINTS, bitWrites: 'mask' });
    // pymodbus starts unit 1's register 8 at 1008 = 0b11_1111_0000
    const results = await Promise.all([device.write('b0', true), device.write('b1', true), device.write('b9', false), device.write('mode', 6)]);
    assert.deepEqual(results.map((r) => r.fc), [22, 22, 22, 22]);
    const [word] = await line.request(1, { fc: 3, address: REG, quantity: 1 });
    assert.equal(word, (1008 | 0b11) & ~(1 << 9) | (6 << 12), `register is ${word.toString(2)}`);
    // The device's log arrives on its own pipe, not with the answers.
    await waitFor(() => py.writes.length >= 4, 'the device to log four writes');
    assert.deepEqual(py.writes.map((w) => w.fc), [22, 22, 22, 22], 'no read-modify-write: every change was a mask write');
    await device.write('setpoint', 77);
    await waitFor(() => py.writes.length >= 5, 'the device to log the setpoint write');
    assert.deepEqual(py.writes.at(-1), { fc: 6, address: REG + 1, values: [77] }, 'whole registers are still written with FC6');
  } finally {
    await line.stop();
    await py.stop();
  }
});

test('a device without FC22 refuses the mask write with a hint (modbus-serial ServerTCP)', async () => {
  const peer = await startSerialPeer();
  const line = await lineTo(peer.port);
  try {
    const device = new DevicePoller({ name: 'relay-box', line, unitId: 1, intervalMs: 1000, points: POINTS, bitWrites: 'mask' });
    const err = await rejection(device.write('b0', true));
    assert.ok(err instanceof ModbusException && err.code === 0x01, err.message);
    assert.match(err.message, /device "relay-box": write true to point "b0": .*FC22.*does not support mask write \(FC22\); write bits by read-modify-write instead/);
  } finally {
    await line.stop();
    await peer.close();
  }
});
