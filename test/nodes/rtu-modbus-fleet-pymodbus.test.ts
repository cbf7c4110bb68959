/**
 * The device table against an independent peer: pymodbus (Debian python3-pymodbus)
 * serving units 1..3 as Modbus RTU at 9600 baud on a socat pty pair; unit 4 on the
 * bus never answers. A model from the user dir's registry reads pymodbus's holding
 * registers 0 and 1 (1000 * unit + address). Each device of the table reads its own
 * unit; a silent unit added at runtime reads bad while the others stay good; a
 * write through the table reaches pymodbus's datastore.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import fleetNode from '../../nodes/rtu-modbus-fleet/rtu-modbus-fleet';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { PyDevice, startPyDevice } from '../support/pymodbus-peer';
import { PtyPair, startPtyPair } from '../support/pty-pair';
import { collect, helper, startServer, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';

const MODEL = `manufacturer: Test
model: Counter
description: Two holding registers that the pymodbus peer fills with 1000 * unit + address.
protocols: [modbus-rtu]
addressing: protocol
source: { title: pymodbus-device.py in this repository, document: test/support/pymodbus-device.py }
points:
  - { name: counter_a, registerType: holding, address: 0, dataType: uint16 }
  - { name: counter_b, registerType: holding, address: 1, dataType: uint16, writable: true }
profiles:
  basic:
    description: Both registers
    points: [counter_a, counter_b]
`;

let pair: PtyPair;
let device: PyDevice;
let userDir: string;

before(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-fleet-py-'));
  fs.mkdirSync(path.join(userDir, 'meter-registry', 'test'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'meter-registry', 'test', 'counter.yaml'), MODEL);
  pair = await startPtyPair();
  device = await startPyDevice({ serial: pair.devicePath, units: [1, 2, 3] });
  helper.settings({ userDir });
  await startServer();
});

after(async () => {
  await helper.unload();
  await stopServer();
  await device?.stop();
  await pair?.stop();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const row = (name: string, unitId: number) => ({ name, line: 'rs485', unitId, model: 'test/counter', profile: 'basic', interval: 0.5, enabled: true });

test('pymodbus over RTU with several unit ids: each table row reads its unit; a silent unit added at runtime; a write reaches pymodbus', { timeout: 60_000 }, async () => {
  await helper.load(
    [lineNode, fleetNode],
    [
      { id: 'tab', type: 'tab', label: 'fleet' },
      { id: 'bus', type: 'rtu-modbus-line', name: 'rs485', transport: 'rtu-serial', serialPath: pair.clientPath, baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1, timeout: 300, retries: 0 },
      { id: 'fleet', z: 'tab', type: 'rtu-modbus-fleet', name: 'meters', devices: [row('m1', 1), row('m2', 2), row('m3', 3)], includeRaw: false, bitWrites: 'read-modify-write', cache: '', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper', wires: [] },
    ],
  );
  const readings = collect<ReadingMessage>('out');
  const goodOf = (name: string) => readings.filter((m) => m.topic === name && m.rtu.quality === 'good');
  await waitFor(() => ['m1', 'm2', 'm3'].every((n) => goodOf(n).length >= 2), 'two good readings from each unit', 20_000);
  for (const [name, unit] of [['m1', 1], ['m2', 2], ['m3', 3]] as const) {
    const m = goodOf(name)[0];
    assert.equal(m.rtu.unitId, unit);
    assert.deepEqual(m.payload, { counter_a: unit * 1000, counter_b: unit * 1000 + 1 });
  }

  const node = helper.getNode('fleet') as unknown as { receive(m: unknown): void };
  node.receive({ topic: 'device/add', payload: row('silent', 4) });
  await waitFor(() => readings.some((m) => m.topic === 'silent' && m.rtu.quality === 'bad'), 'the silent unit reads bad', 20_000);
  const mark = readings.length;
  await waitFor(() => ['m1', 'm2', 'm3'].every((n) => readings.slice(mark).some((m) => m.topic === n && m.rtu.quality === 'good')), 'the others read good after', 20_000);

  node.receive({ topic: 'device/read', payload: 'm2', write: { counter_b: 4242 } });
  await waitFor(() => device.writes.some((w) => w.address === 1 && w.values[0] === 4242), 'pymodbus executed the write', 20_000);
  await waitFor(() => readings.some((m) => m.topic === 'm2' && m.payload.counter_b === 4242), 'm2 reads the written value', 20_000);
  const m1 = readings.filter((m) => m.topic === 'm1' && m.rtu.quality === 'good').at(-1)!;
  assert.equal(m1.payload.counter_b, 1001, 'the write went to unit 2 only');
});
