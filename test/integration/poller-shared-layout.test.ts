/**
 * Devices with the same fields share one frozen resolved device and one plan layout (a fleet of
 * 1000 meters holds one copy), while every reading stays its own: the same keys in point order,
 * its own payload and units objects, and errors still naming each device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import { DeviceConfigError, PollerFields, resolveDevice, resolveDeviceShared } from '../../nodes/lib/modbus/poller-config';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { sharedRegistry } from '../../nodes/lib/registry';
import { startSimulator } from '../../nodes/lib/simulator/start';
import { waitFor } from '../support/wait';

const registry = () => sharedRegistry();
// Three points of the simulated meter, as a typed list (the editor's rows), listed out of address order.
const meterPoints = sharedRegistry().requireModel('rtu/simulated-energy-meter').points;
const picked = [meterPoints[4], meterPoints[0], meterPoints[2]];
const typedList: PollerFields = {
  source: 'points',
  points: picked.map((p) => ({ name: p.name, registerType: p.registerType, address: p.address, dataType: p.dataType, order: p.order, unit: p.unit })),
  maxGap: 20,
};

test('devices with the same fields get one frozen resolved device; other fields, another one', () => {
  const a = resolveDeviceShared({ ...typedList }, registry, 'device "a"');
  const b = resolveDeviceShared(JSON.parse(JSON.stringify(typedList)) as PollerFields, registry, 'device "b"');
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.points) && Object.isFrozen(a.points[0]) && Object.isFrozen(a.plan.requests[0]));
  assert.deepEqual(a, resolveDevice(typedList, registry, 'device "c"'));
  assert.notEqual(resolveDeviceShared({ ...typedList, maxGap: 0 }, registry, 'device "d"'), a);

  const m1 = resolveDeviceShared({ model: 'rtu/simulated-energy-meter', profile: 'basic_power' }, registry, 'device "m1"');
  assert.equal(resolveDeviceShared({ model: 'rtu/simulated-energy-meter', profile: 'basic_power' }, registry, 'device "m2"'), m1);
  assert.notEqual(resolveDeviceShared({ model: 'rtu/simulated-energy-meter', profile: 'basic_power', byteOrder: 'CDAB' }, registry, 'device "m3"'), m1);
});

test('a wrong configuration names each device that has it', () => {
  for (const name of ['x1', 'x2']) {
    assert.throws(
      () => resolveDeviceShared({ ...typedList, maxGap: 999 }, registry, `device "${name}"`),
      (err: unknown) => err instanceof DeviceConfigError && err.problems.some((p) => p.startsWith(`device "${name}": max gap`)),
    );
  }
});

test('devices sharing a layout send readings of their own, keys in point order', async () => {
  const sim = await startSimulator({ units: [1, 2] });
  const line = new ModbusLine({ name: 'shared', transport: { kind: 'tcp', host: '127.0.0.1', port: sim.port }, timeoutMs: 1000, retries: 0 });
  line.start();
  try {
    const resolved = resolveDeviceShared(typedList, registry, 'device "s"');
    const devices = [1, 2].map((unitId) => new DevicePoller({ name: `s${unitId}`, line, unitId, intervalMs: 20, points: resolved.points, plan: resolved.planOptions }));
    assert.equal(devices[0].plan, devices[1].plan);
    const readings: ReadingMessage[] = [];
    for (const d of devices) {
      d.on('reading', (m: ReadingMessage) => readings.push(m));
      d.start();
    }
    await waitFor(() => readings.filter((m) => m.topic === 's1').length >= 2 && readings.some((m) => m.topic === 's2'), 'readings of both devices');
    for (const d of devices) d.stop();
    const [first, second] = readings.filter((m) => m.topic === 's1');
    const other = readings.find((m) => m.topic === 's2') as ReadingMessage;
    assert.deepEqual(Object.keys(first.payload), picked.map((p) => p.name));
    assert.equal(first.rtu.quality, 'good');
    assert.ok(Object.values(first.payload).every((v) => typeof v === 'number'));
    assert.deepEqual(first.rtu.units, Object.fromEntries(picked.map((p) => [p.name, p.unit])));
    const [key] = Object.keys(first.payload);
    // A flow that edits one reading changes no other reading, of this device or another.
    first.payload[key] = -12345;
    first.rtu.units[key] = 'edited';
    assert.notEqual(second.payload[key], -12345);
    assert.equal(second.rtu.units[key], picked[0].unit);
    assert.notEqual(other.payload[key], -12345);
    assert.equal(other.rtu.units[key], picked[0].unit);
    assert.ok(!Object.isFrozen(second.payload) && !Object.isFrozen(second.rtu.units));
  } finally {
    await line.stop();
    await sim.close();
  }
});
