/**
 * The simulator as RTU slaves on a real pty pair (socat): a real RTU master
 * (modbus-serial) on one end, the simulator on the other; plus raw byte
 * cases a bus slave meets (noise, other slaves' answers, broadcasts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import ModbusRTU from 'modbus-serial';
import { SerialPort } from 'serialport';
import { withCrc } from '../../nodes/lib/modbus/crc';
import { decodePoint } from '../../nodes/lib/modbus/codec';
import { RunningRtuSimulator, startRtuSimulator } from '../../nodes/lib/simulator/start';
import { SINGLE_PHASE_POINTS, THREE_PHASE_POINTS } from '../unit/simulator-fixtures';
import { until } from './simulator-support';

let socat: ChildProcess;
let dir: string;
let slavePath: string;
let masterPath: string;
let sim: RunningRtuSimulator;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-sim-'));
  slavePath = path.join(dir, 'slave');
  masterPath = path.join(dir, 'master');
  socat = spawn('socat', [`pty,raw,echo=0,link=${slavePath}`, `pty,raw,echo=0,link=${masterPath}`], { stdio: 'ignore' });
  await until(() => fs.existsSync(slavePath) && fs.existsSync(masterPath), 3000, 'socat pty pair');
  sim = await startRtuSimulator({
    path: slavePath,
    baudRate: 19200,
    units: [
      { unitId: 1, points: THREE_PHASE_POINTS },
      { unitId: 2, points: SINGLE_PHASE_POINTS },
      { unitId: 3, points: SINGLE_PHASE_POINTS },
    ],
    deadUnitIds: [3],
    frameGapMs: 20,
  });
});

after(async () => {
  await sim?.close();
  socat?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an RTU master reads the simulated meters over a serial line', async () => {
  const client = new ModbusRTU();
  await client.connectRTUBuffered(masterPath, { baudRate: 19200 });
  try {
    client.setTimeout(300);
    client.setID(1);
    const r = await client.readInputRegisters(0, 42);
    const v = decodePoint(THREE_PHASE_POINTS[0], r.data, 0) as number;
    assert.ok(v > 220 && v < 240, `voltage ${v}`);
    client.setID(2);
    const p = await client.readInputRegisters(12, 2);
    assert.ok((decodePoint(SINGLE_PHASE_POINTS[2], p.data, 0) as number) > 0);
    await assert.rejects(client.readInputRegisters(200, 2), (e: { modbusCode?: number }) => e.modbusCode === 2);
    client.setID(1);
    await client.writeRegister(7, 321);
    assert.deepEqual((await client.readHoldingRegisters(7, 1)).data, [321]);
    // Unit 5 is not on the bus and unit 3 is dead: both time out, like missing slaves.
    for (const id of [5, 3]) {
      client.setID(id);
      await assert.rejects(client.readInputRegisters(0, 2), (e: { message?: string }) => /timed out/i.test(e.message ?? ''));
    }
    client.setID(1);
    assert.equal((await client.readInputRegisters(0, 2)).data.length, 2, 'the line recovers after timeouts');
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
  }
});

test('noise, other slaves\' answers and broadcasts are handled as a bus slave would', async () => {
  const port = new SerialPort({ path: masterPath, baudRate: 19200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  let received = Buffer.alloc(0);
  port.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  const send = (b: Buffer) => new Promise<void>((res) => port.write(b, () => port.drain(() => res())));
  const settle = () => new Promise((r) => setTimeout(r, 60));
  try {
    // Line noise, then a valid request: the slave resynchronises and answers.
    await send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    await send(withCrc(Buffer.from([1, 3, 0, 7, 0, 1])));
    await until(() => received.length >= 7, 2000, 'answer after noise');
    assert.deepEqual([...received.subarray(0, 5)], [1, 3, 2, 321 >> 8, 321 & 0xff]);
    received = Buffer.alloc(0);

    // Another slave's answer on the bus (unit 7, FC3, 2 registers) directly followed by a request.
    await send(Buffer.concat([withCrc(Buffer.from([7, 3, 4, 0, 1, 0, 2])), withCrc(Buffer.from([2, 4, 0, 0, 0, 2]))]));
    await until(() => received.length >= 9, 2000, 'answer after a foreign frame');
    assert.deepEqual([...received.subarray(0, 3)], [2, 4, 4]);
    received = Buffer.alloc(0);

    // An unimplemented function (diagnostics, FC8) is answered with exception 01 after the frame gap.
    await send(withCrc(Buffer.from([1, 8, 0, 0, 0xa5, 0x37])));
    await until(() => received.length >= 5, 2000, 'exception 01');
    assert.deepEqual([...received.subarray(0, 3)], [1, 0x88, 0x01]);
    received = Buffer.alloc(0);

    // A request with a broken CRC is dropped without an answer.
    const broken = withCrc(Buffer.from([1, 3, 0, 7, 0, 1]));
    broken[7] ^= 0xff;
    await send(broken);
    await settle();
    assert.equal(received.length, 0);

    // A broadcast write is carried out and never answered.
    await send(withCrc(Buffer.from([0, 6, 0, 7, 0x01, 0x11])));
    await settle();
    assert.equal(received.length, 0);
    assert.equal(sim.simulator.meter(1)!.read('holding', 7, 1, Date.now())[0], 0x0111);
    assert.ok(sim.server.stats.droppedBytes >= 4);
  } finally {
    await new Promise<void>((r) => port.close(() => r()));
  }
});
