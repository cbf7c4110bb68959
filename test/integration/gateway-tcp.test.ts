/**
 * The gateway end to end on loopback: the simulator is read by a real master,
 * the reading goes into the cache, and SCADA-side masters (mbpoll and
 * modbus-serial) read the same registers back through the gateway. Writes
 * pass through to the simulator when allowed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import ModbusRTU from 'modbus-serial';
import { RegisterCache } from '../../nodes/lib/cache';
import { ModbusGateway, parseAllowEntry, WriteEvent } from '../../nodes/lib/gateway';
import { planReads } from '../../nodes/lib/modbus/planner';
import { READ_FUNCTION, RegisterBlock } from '../../nodes/lib/modbus/types';
import { sharedRegistry } from '../../nodes/lib/registry';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { RunningSimulator, startSimulator } from '../../nodes/lib/simulator/start';
import { THREE_PHASE_POINTS } from '../unit/simulator-fixtures';
import { mbap, mbpoll, RawClient, readHolding, until, words } from './simulator-support';

let sim: RunningSimulator;
let field: ModbusRTU;
let cache: RegisterCache;
let gateway: ModbusGateway;
let gwPort: number;
let clock = Date.now();
const writes: WriteEvent[] = [];
const SIM_MODEL = 'rtu/simulated-energy-meter';

/** Polls one simulated unit with a real master along the planner's requests and builds the reading. */
async function pollDevice(device: string, unitId: number, points = sharedRegistry().requireModel(SIM_MODEL).points): Promise<ReadingMessage> {
  field.setID(unitId);
  const raw: RegisterBlock[] = [];
  for (const r of planReads(points).requests) {
    let values: number[];
    if (r.fc === 1) values = (await field.readCoils(r.address, r.quantity)).data.slice(0, r.quantity).map(Number);
    else if (r.fc === 3) values = (await field.readHoldingRegisters(r.address, r.quantity)).data;
    else if (r.fc === 4) values = (await field.readInputRegisters(r.address, r.quantity)).data;
    else values = (await field.readDiscreteInputs(r.address, r.quantity)).data.slice(0, r.quantity).map(Number);
    assert.equal(READ_FUNCTION[r.registerType], r.fc);
    raw.push({ registerType: r.registerType, address: r.address, values });
  }
  return { topic: device, payload: {}, rtu: { device, protocol: 'modbus', model: SIM_MODEL, unitId, timestamp: clock, quality: 'good', latencyMs: 1, units: {}, raw, seq: 1 } };
}

before(async () => {
  sim = await startSimulator({ units: [1, 2, { unitId: 3, points: THREE_PHASE_POINTS }] });
  field = new ModbusRTU();
  await field.connectTCP('127.0.0.1', { port: sim.port });
  field.setTimeout(1000);
  cache = new RegisterCache({ ttlMs: 60_000 });
  cache.update(await pollDevice('meter-a', 1));
  cache.update(await pollDevice('meter-b', 2));
  cache.update(await pollDevice('meter-c', 3, THREE_PHASE_POINTS));
  // The poller of meter-c carries gateway writes to the device through the field master.
  cache.setWriter('meter-c', async (req) => {
    field.setID(3);
    if (req.fc === 6) await field.writeRegister(req.address, req.value);
    else if (req.fc === 16) await field.writeRegisters(req.address, req.values);
    else if (req.fc === 5) await field.writeCoil(req.address, req.value);
    else throw new Error(`FC${req.fc} not carried`);
  });
  gateway = new ModbusGateway({
    cache,
    host: '127.0.0.1',
    port: 0,
    devices: [
      { device: 'meter-a', unitId: 10 },
      { device: 'meter-b', unitId: 11 },
      { device: 'meter-c', unitId: 12 },
    ],
    writesEnabled: true,
    allowWrites: [parseAllowEntry({ device: 'meter-c', target: 'ct_ratio' }), parseAllowEntry({ device: 'meter-c', target: 'coil:0' })],
    pointsOf: (device) => (device === 'meter-c' ? THREE_PHASE_POINTS : undefined),
    now: () => clock,
  });
  gateway.on('write', (e: WriteEvent) => writes.push(e));
  gwPort = (await gateway.listen()).port;
});

after(async () => {
  await gateway?.close();
  await new Promise<void>((r) => (field ? field.close(() => r()) : r()));
  await sim?.close();
});

function cached(device: string, type: 'input' | 'holding', address: number, quantity: number): number[] {
  const r = cache.read(device, type, address, quantity, clock);
  assert.ok(r instanceof Uint16Array, `${device} ${type} ${address} cached`);
  return Array.from(r);
}

test('mbpoll reads through the gateway the registers the simulator gave', async () => {
  const r = await mbpoll(['-m', 'tcp', '-a', '10', '-r', '0', '-c', '12', '-t', '3', '-0', '-1', '-p', String(gwPort), '127.0.0.1']);
  assert.equal(r.code, 0, r.output);
  const got = [...Array(12).keys()].map((k) => Number(r.values.get(k)));
  assert.deepEqual(got, cached('meter-a', 'input', 0, 12));
  const v = await mbpoll(['-m', 'tcp', '-a', '10', '-r', '0', '-c', '1', '-t', '3:float', '-B', '-0', '-1', '-p', String(gwPort), '127.0.0.1']);
  const volts = Number(v.values.get(0));
  assert.ok(volts > 220 && volts < 240, `voltage_l1_n through the gateway: ${volts}\n${v.output}`);
  const h = await mbpoll(['-m', 'tcp', '-a', '12', '-r', '0', '-c', '12', '-t', '4', '-0', '-1', '-p', String(gwPort), '127.0.0.1']);
  assert.equal(h.code, 0, h.output);
  assert.deepEqual([...Array(12).keys()].map((k) => Number(h.values.get(k))), cached('meter-c', 'holding', 0, 12));
});

test('modbus-serial reads every cached block of every device through the gateway', async () => {
  const scada = new ModbusRTU();
  await scada.connectTCP('127.0.0.1', { port: gwPort });
  try {
    scada.setTimeout(1000);
    for (const [device, unitId] of [['meter-a', 10], ['meter-b', 11]] as const) {
      scada.setID(unitId);
      for (const r of planReads(sharedRegistry().requireModel(SIM_MODEL).points).requests) {
        const got = (await scada.readInputRegisters(r.address, r.quantity)).data;
        assert.deepEqual(got, cached(device, 'input', r.address, r.quantity), `${device} @${r.address}`);
      }
    }
    scada.setID(12);
    assert.deepEqual((await scada.readCoils(0, 1)).data.slice(0, 1), [false]);
    assert.notDeepEqual(cached('meter-a', 'input', 0, 12), cached('meter-b', 'input', 0, 12), 'two meters, two images');
  } finally {
    await new Promise<void>((r) => scada.close(() => r()));
  }
});

test('never-polled registers answer 02, unmapped units 0A, stale data 0B', async () => {
  const scada = new ModbusRTU();
  await scada.connectTCP('127.0.0.1', { port: gwPort });
  try {
    scada.setTimeout(1000);
    scada.setID(10);
    await assert.rejects(scada.readInputRegisters(26, 2), (e: { modbusCode?: number }) => e.modbusCode === 2, 'hole between clusters');
    await assert.rejects(scada.readHoldingRegisters(0, 2), (e: { modbusCode?: number }) => e.modbusCode === 2, 'table never polled');
    scada.setID(99);
    await assert.rejects(scada.readInputRegisters(0, 2), (e: { modbusCode?: number }) => e.modbusCode === 0x0a);
    const bad = await mbpoll(['-m', 'tcp', '-a', '10', '-r', '30', '-c', '2', '-t', '3', '-0', '-1', '-p', String(gwPort), '127.0.0.1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /Illegal data address/i);
    const saved = clock;
    clock += 60_001;
    try {
      scada.setID(10);
      await assert.rejects(scada.readInputRegisters(0, 2), (e: { modbusCode?: number }) => e.modbusCode === 0x0b);
      // A fresh reading makes the device current again.
      cache.update(await pollDevice('meter-a', 1));
      assert.equal((await scada.readInputRegisters(0, 2)).data.length, 2);
      cache.update(await pollDevice('meter-b', 2));
      cache.update(await pollDevice('meter-c', 3, THREE_PHASE_POINTS));
    } finally {
      clock = saved + 60_001;
    }
  } finally {
    await new Promise<void>((r) => scada.close(() => r()));
  }
});

test('an allowed write from mbpoll reaches the simulated device; others are refused', async () => {
  const ok = await mbpoll(['-m', 'tcp', '-a', '12', '-r', '7', '-t', '4', '-0', '-p', String(gwPort), '127.0.0.1', '1500']);
  assert.equal(ok.code, 0, ok.output);
  assert.equal(sim.simulator.meter(3)!.read('holding', 7, 1, Date.now())[0], 1500, 'the device holds the value');
  const refused = await mbpoll(['-m', 'tcp', '-a', '12', '-r', '8', '-t', '4', '-0', '-p', String(gwPort), '127.0.0.1', '1']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /Illegal data address/i);
  const c = await RawClient.connect(gwPort);
  try {
    const coil = await c.request(mbap(1, 12, [5, 0, 0, 0xff, 0]));
    assert.deepEqual([...coil.pdu], [5, 0, 0, 0xff, 0]);
    assert.equal(sim.simulator.meter(3)!.read('coil', 0, 1, Date.now())[0], 1);
    const toA = await c.request(mbap(2, 10, [6, 0, 0, 0, 1]));
    assert.deepEqual([...toA.pdu], [0x86, 0x02], 'meter-a has no allowed registers');
  } finally {
    c.close();
  }
  assert.deepEqual(writes.filter((w) => w.ok).map((w) => [w.device, w.points]), [['meter-c', ['ct_ratio']], ['meter-c', ['coil@0']]]);
});

test('malformed, truncated and oversized frames close only their own connection', async () => {
  const reader = await RawClient.connect(gwPort);
  try {
    for (const bytes of [mbap(1, 10, [4, 0, 0, 0, 2], 7), mbap(1, 10, [4, 0, 0, 0, 2], 0, 4000), Buffer.from([0, 1, 0, 0, 0])]) {
      const c = await RawClient.connect(gwPort);
      c.send(bytes);
      if (bytes.length > 5) await c.waitClosed();
      c.close();
      assert.deepEqual(words((await reader.request(readHolding(5, 10, 0, 2, 4))).pdu), cached('meter-a', 'input', 0, 2));
    }
    assert.deepEqual([...(await reader.request(mbap(6, 10, [4, 0, 0]))).pdu], [0x84, 0x03], 'truncated PDU in a whole frame');
  } finally {
    reader.close();
  }
});

test('a thousand connect/disconnect cycles while another client keeps reading', async () => {
  const reader = await RawClient.connect(gwPort);
  let reads = 0;
  let failures = 0;
  let running = true;
  const loop = (async () => {
    let tid = 0;
    while (running) {
      const f = await reader.request(readHolding(++tid & 0xffff, 10, 0, 12, 4));
      if (f.pdu[0] === 4 && f.pdu[1] === 24) reads++;
      else failures++;
    }
  })();
  try {
    const net = await import('net');
    for (let k = 0; k < 1000; k++) {
      await new Promise<void>((resolve) => {
        const s = net.connect({ port: gwPort, host: '127.0.0.1' }, () => {
          // Every fourth one leaves half a frame behind.
          if (k % 4 === 0) s.write(readHolding(1, 10, 0, 1, 4).subarray(0, 5));
          s.destroy();
          resolve();
        });
        s.on('error', () => resolve());
      });
    }
  } finally {
    running = false;
    await loop;
    reader.close();
  }
  assert.equal(failures, 0);
  assert.ok(reads > 50, `reader got ${reads} answers during the cycles`);
  await until(() => gateway.stats.clients === 0, 3000, 'all cycled clients gone');
});
