/**
 * The Modbus TCP server core and the meter simulator over real loopback sockets:
 * real masters (modbus-serial, mbpoll), exact framing cases, and isolation of
 * misbehaving clients.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import ModbusRTU from 'modbus-serial';
import { decodePoint } from '../../nodes/lib/modbus/codec';
import { ModbusException } from '../../nodes/lib/modbus/pdu';
import { ModbusTcpServer } from '../../nodes/lib/modbus/server-tcp';
import { RunningSimulator, startSimulator } from '../../nodes/lib/simulator/start';
import { THREE_PHASE_POINTS } from '../unit/simulator-fixtures';
import { mbap, mbpoll, RawClient, readHolding, until, words } from './simulator-support';

let sim: RunningSimulator;
const frameErrors: string[] = [];

before(async () => {
  sim = await startSimulator({
    units: [
      { unitId: 1, points: THREE_PHASE_POINTS, seed: 1 },
      { unitId: 2, points: THREE_PHASE_POINTS, seed: 2 },
      5,
    ],
    deadUnitIds: [9],
    faults: [{ unitId: 2, registerType: 'input', address: 20, exception: 0x04 }],
    maxConnections: 20,
  });
  sim.server.on('frameError', (err: Error) => frameErrors.push(err.message));
});

after(async () => {
  await sim.close();
});

test('modbus-serial reads the simulated meter and decodes plausible values', async () => {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port: sim.port });
  try {
    client.setID(1);
    client.setTimeout(1000);
    const input = await client.readInputRegisters(0, 40);
    const voltage = decodePoint(THREE_PHASE_POINTS[0], input.data, 0) as number;
    assert.ok(voltage > 220 && voltage < 240, `voltage_l1_n ${voltage}`);
    const holding = await client.readHoldingRegisters(7, 5);
    assert.equal(decodePoint(THREE_PHASE_POINTS.find((p) => p.name === 'serial_number')!, holding.data, 1), 'SIM00001');
    await client.writeRegister(7, 200);
    assert.deepEqual((await client.readHoldingRegisters(7, 1)).data, [200]);
    const coil = await client.writeCoil(0, true);
    assert.equal(coil.state, true);
    assert.deepEqual((await client.readCoils(0, 1)).data.slice(0, 1), [true]);
    await assert.rejects(client.readInputRegisters(50, 2), (e: { modbusCode?: number }) => e.modbusCode === 2);
    await assert.rejects(client.writeRegister(0, 1), (e: { modbusCode?: number }) => e.modbusCode === 2);
    client.setID(2);
    await assert.rejects(client.readInputRegisters(20, 2), (e: { modbusCode?: number }) => e.modbusCode === 4);
  } finally {
    await new Promise<void>((r) => client.close(() => r()));
  }
});

test('a bare unit id serves the registry\'s simulated energy meter', async () => {
  const c = await RawClient.connect(sim.port);
  try {
    const f = await c.request(readHolding(1, 5, 414, 2, 4));
    const kwh = ((f.pdu[2] << 24) + (f.pdu[3] << 16) + (f.pdu[4] << 8) + f.pdu[5]) * 0.01;
    assert.ok(kwh > 1000, `active_energy_import_total ${kwh} kWh`);
    assert.equal(sim.simulator.meter(5)?.model, 'rtu/simulated-energy-meter');
  } finally {
    c.close();
  }
});

test('mbpoll reads the simulator as an independent master', async () => {
  const r = await mbpoll(['-m', 'tcp', '-a', '1', '-r', '1', '-c', '2', '-t', '3:float', '-B', '-1', '-p', String(sim.port), '127.0.0.1']);
  assert.equal(r.code, 0, r.output);
  const v = Number(r.values.get(1));
  assert.ok(v > 220 && v < 240, `mbpoll read voltage ${v}: ${r.output}`);
  const bad = await mbpoll(['-m', 'tcp', '-a', '1', '-r', '51', '-c', '2', '-t', '3', '-1', '-p', String(sim.port), '127.0.0.1']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.output, /Illegal data address/i);
});

test('a request split into single bytes is answered once complete', async () => {
  const c = await RawClient.connect(sim.port);
  try {
    const req = readHolding(0x1234, 1, 7, 1);
    for (const byte of req) {
      c.send(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 2));
    }
    const [f] = await c.waitFrames(1);
    assert.equal(f.tid, 0x1234);
    assert.equal(f.pdu[0], 3);
    assert.equal(f.pdu[1], 2);
  } finally {
    c.close();
  }
});

test('pipelined requests in one write are answered in request order, in one batch', async () => {
  const c = await RawClient.connect(sim.port);
  try {
    const reqs = [];
    for (let t = 0; t < 8; t++) reqs.push(readHolding(100 + t, 1, t % 2 ? 0 : 7, 1 + t, t % 2 ? 3 : 3));
    // One with an exception in the middle keeps its place.
    reqs[3] = readHolding(103, 1, 60, 2, 4);
    const chunks: number[] = [];
    c.socket.on('data', (d) => chunks.push(d.length));
    c.send(Buffer.concat(reqs));
    const frames = await c.waitFrames(8);
    assert.deepEqual(frames.map((f) => f.tid), [100, 101, 102, 103, 104, 105, 106, 107]);
    assert.deepEqual([...frames[3].pdu], [0x84, 0x02]);
    assert.equal(chunks.length, 1, 'the 8 answers arrive in one TCP segment');
  } finally {
    c.close();
  }
});

test('a frame split across writes followed by merged frames is parsed correctly', async () => {
  const c = await RawClient.connect(sim.port);
  try {
    const all = Buffer.concat([readHolding(1, 1, 7, 1), readHolding(2, 1, 7, 2), readHolding(3, 1, 7, 3)]);
    c.send(all.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 10));
    c.send(all.subarray(5, 20));
    await new Promise((r) => setTimeout(r, 10));
    c.send(all.subarray(20));
    const frames = await c.waitFrames(3);
    assert.deepEqual(frames.map((f) => words(f.pdu).length), [1, 2, 3]);
  } finally {
    c.close();
  }
});

test('malformed PDUs inside valid frames are answered with exceptions; the connection stays', async () => {
  const c = await RawClient.connect(sim.port);
  try {
    assert.deepEqual([...(await c.request(mbap(1, 1, [0x2b, 0x0e, 0x01, 0x00]))).pdu], [0xab, 0x01], 'unknown function → 01');
    assert.deepEqual([...(await c.request(mbap(2, 1, [3, 0, 0, 0, 126]))).pdu], [0x83, 0x03], 'quantity 126 → 03');
    assert.deepEqual([...(await c.request(mbap(3, 1, [3, 0, 0, 0]))).pdu], [0x83, 0x03], 'truncated PDU → 03');
    assert.deepEqual([...(await c.request(mbap(4, 1, [16, 0, 7, 0, 1, 4, 0, 1]))).pdu], [0x90, 0x03], 'byte count mismatch → 03');
    assert.deepEqual([...(await c.request(mbap(5, 1, [3, 0xff, 0xff, 0, 2]))).pdu], [0x83, 0x02], 'past 65535 → 02');
    assert.deepEqual([...(await c.request(mbap(6, 1, [3]))).pdu], [0x83, 0x03], 'function code only');
    assert.deepEqual([...(await c.request(mbap(7, 3, [3, 0, 0, 0, 1]))).pdu], [0x83, 0x0b], 'absent unit → 0B');
    const ok = await c.request(readHolding(8, 1, 7, 1));
    assert.equal(ok.pdu[0], 3);
  } finally {
    c.close();
  }
});

test('wrong protocol id, bad lengths and garbage close that connection only', async () => {
  const bystander = await RawClient.connect(sim.port);
  try {
    const cases: [string, Buffer][] = [
      ['protocol id 1', mbap(1, 1, [3, 0, 0, 0, 1], 1)],
      ['length 300', mbap(1, 1, [3, 0, 0, 0, 1], 0, 300)],
      ['length 1', mbap(1, 1, [3, 0, 0, 0, 1], 0, 1)],
      ['length 0', mbap(1, 1, [], 0, 0)],
      ['garbage', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ];
    for (const [what, bytes] of cases) {
      const before = frameErrors.length;
      const c = await RawClient.connect(sim.port);
      c.send(bytes);
      await c.waitClosed();
      assert.equal(c.frames.length, 0, what);
      await until(() => frameErrors.length > before, 1000, `frame error for ${what}`);
      const f = await bystander.request(readHolding(9, 1, 7, 1));
      assert.equal(f.pdu[0], 3, `bystander still served after ${what}`);
    }
    assert.match(frameErrors.join('\n'), /protocol id 1, expected 0/);
    assert.match(frameErrors.join('\n'), /MBAP length 300 outside 2\.\.254/);
  } finally {
    bystander.close();
  }
});

test('a client that disconnects mid-frame leaves the server serving others', async () => {
  const other = await RawClient.connect(sim.port);
  try {
    for (let k = 0; k < 20; k++) {
      const c = await RawClient.connect(sim.port);
      c.send(readHolding(1, 1, 7, 1).subarray(0, 3 + (k % 9)));
      c.close();
    }
    await until(() => sim.server.stats.clients === 1, 2000, 'half-frame clients to be gone');
    assert.equal((await other.request(readHolding(2, 1, 7, 1))).pdu[0], 3);
  } finally {
    other.close();
  }
});

test('a dead unit never answers, while later pipelined requests are still answered', async () => {
  const c = await RawClient.connect(sim.port);
  try {
    c.send(Buffer.concat([readHolding(1, 9, 7, 1), readHolding(2, 1, 7, 1)]));
    const [f] = await c.waitFrames(1);
    assert.equal(f.tid, 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.frames.length, 1);
  } finally {
    c.close();
  }
});

test('asynchronous answers keep the request order with immediate exceptions behind them', async () => {
  let release: (v: number[]) => void = () => undefined;
  const server = new ModbusTcpServer((_unit, req) => {
    if (req.address === 1) return new Promise<number[]>((r) => (release = r));
    if (req.address === 2) throw new ModbusException(req.fc, 0x02);
    if (req.address === 3) throw new Error('boom');
    return [req.address];
  });
  const handlerErrors: string[] = [];
  server.on('handlerError', (e: Error) => handlerErrors.push(e.message));
  const { port } = await server.listen(0);
  const c = await RawClient.connect(port);
  try {
    c.send(Buffer.concat([readHolding(10, 1, 0, 1), readHolding(11, 1, 1, 1), readHolding(12, 1, 2, 1), readHolding(13, 1, 3, 1), readHolding(14, 1, 4, 1)]));
    await c.waitFrames(1);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(c.frames.length, 1, 'answers behind the pending one wait');
    release([0xbeef]);
    const frames = await c.waitFrames(5);
    assert.deepEqual(frames.map((f) => f.tid), [10, 11, 12, 13, 14]);
    assert.deepEqual(words(frames[1].pdu), [0xbeef]);
    assert.deepEqual([...frames[2].pdu], [0x83, 0x02]);
    assert.deepEqual([...frames[3].pdu], [0x83, 0x04]);
    assert.match(handlerErrors[0], /unit 1 FC3 @3: handler failed: boom/);
  } finally {
    c.close();
    await server.close();
  }
});

test('connections beyond the limit are refused; a freed slot is usable again', async () => {
  const server = new ModbusTcpServer(() => [1], { maxConnections: 2 });
  const { port } = await server.listen(0);
  const clients: RawClient[] = [];
  try {
    clients.push(await RawClient.connect(port), await RawClient.connect(port));
    await until(() => server.stats.clients === 2);
    const third = await RawClient.connect(port);
    await third.waitClosed();
    assert.equal(server.stats.rejected, 1);
    clients[0].close();
    await until(() => server.stats.clients === 1);
    const fourth = await RawClient.connect(port);
    clients.push(fourth);
    assert.deepEqual(words((await fourth.request(readHolding(1, 1, 0, 1))).pdu), [1]);
  } finally {
    for (const c of clients) c.close();
    await server.close();
  }
});

test('a busy port is reported with its address; close releases the port', async () => {
  const a = new ModbusTcpServer(() => [0]);
  const { port } = await a.listen(0);
  const b = new ModbusTcpServer(() => [0]);
  await assert.rejects(b.listen(port), new RegExp(`127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  await a.close();
  const c = new ModbusTcpServer(() => [0]);
  await c.listen(port);
  await c.close();
});
