import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import type { PointDef } from '../../nodes/lib/modbus/types';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { testMode } from '../../nodes/lib/test-mode';
import { TcpPeer } from '../support/modbus-peer';
import { rejection, sleep, waitFor } from '../support/wait';

const UNIT = 4;

const points: PointDef[] = [
  { name: 'power', registerType: 'holding', address: 0, dataType: 'float32', unit: 'W' },
  { name: 'voltage', registerType: 'holding', address: 10, dataType: 'uint16', scale: 0.1, unit: 'V' },
  { name: 'energy', registerType: 'input', address: 100, dataType: 'int32', order: 'CDAB', unit: 'kWh' },
  { name: 'relay', registerType: 'coil', address: 5, dataType: 'bool', writable: true },
  { name: 'setpoint', registerType: 'holding', address: 20, dataType: 'uint16', writable: true },
  { name: 'alarm_enable', registerType: 'holding', address: 30, dataType: 'bool', bit: 3, writable: true },
  { name: 'limit', registerType: 'holding', address: 40, dataType: 'float32', writable: true },
  { name: 'serial', registerType: 'holding', address: 300, dataType: 'uint16' },
];

async function rig(script?: TcpPeer['script']): Promise<{ peer: TcpPeer; line: ModbusLine; done(): Promise<void> }> {
  const peer = await TcpPeer.start({ framing: 'mbap', script });
  // float32 230.5 = 0x43668000 at holding 0..1; energy 70000 as CDAB at input 100..101
  peer.writes.set(`${UNIT}:reg:0`, 0x4366);
  peer.writes.set(`${UNIT}:reg:1`, 0x8000);
  peer.writes.set(`${UNIT}:reg:10`, 2301);
  peer.writes.set(`${UNIT}:reg:30`, 0b1000_0001);
  peer.writes.set(`${UNIT}:reg:40`, 0xc010); // -2.25
  peer.writes.set(`${UNIT}:reg:41`, 0x0000);
  const line = new ModbusLine({
    name: 'plant',
    transport: { kind: 'tcp', host: '127.0.0.1', port: peer.port },
    timeoutMs: 150,
    retries: 0,
    unitBackoff: { initialMs: 300, maxMs: 300, jitter: 0 },
    reconnectAfterTimeouts: 0,
  });
  line.start();
  return {
    peer,
    line,
    done: async () => {
      await line.stop();
      await peer.stop();
    },
  };
}

function collect(device: DevicePoller): ReadingMessage[] {
  const readings: ReadingMessage[] = [];
  device.on('reading', (m: ReadingMessage) => readings.push(m));
  return readings;
}

test('polls, decodes and emits one reading per poll with its metadata', async () => {
  const r = await rig();
  const device = new DevicePoller({ name: 'pm1', line: r.line, unitId: UNIT, intervalMs: 50, points, model: 'TEST-1', profile: 'basic', includeRaw: true });
  const readings = collect(device);
  try {
    assert.equal(device.plan.requests.length, 4, device.plan.summary);
    device.start();
    await waitFor(() => readings.length >= 3, 'three readings');
    const m = readings[0];
    assert.equal(m.topic, 'pm1');
    assert.deepEqual(m.payload, {
      power: 230.5,
      voltage: 230.1,
      energy: ((UNIT * 1000 + 101) << 16) + UNIT * 1000 + 100,
      relay: true,
      setpoint: UNIT * 1000 + 20,
      alarm_enable: false,
      limit: -2.25,
      serial: UNIT * 1000 + 300,
    });
    assert.equal(m.rtu.quality, 'good');
    assert.equal(m.rtu.device, 'pm1');
    assert.equal(m.rtu.line, 'plant');
    assert.equal(m.rtu.protocol, 'modbus');
    assert.equal(m.rtu.unitId, UNIT);
    assert.equal(m.rtu.model, 'TEST-1');
    assert.equal(m.rtu.profile, 'basic');
    assert.deepEqual(m.rtu.units, { power: 'W', voltage: 'V', energy: 'kWh' });
    assert.equal(m.rtu.error, undefined);
    assert.equal(m.rtu.pointQuality, undefined);
    // Speed is the benchmarks' to measure: here only that the figures are there and sane.
    assert.ok(Number.isFinite(m.rtu.latencyMs) && m.rtu.latencyMs >= 0);
    assert.ok(Number.isFinite(m.rtu.timestamp) && m.rtu.timestamp <= Date.now());
    assert.deepEqual(readings.slice(0, 3).map((x) => x.rtu.seq), [0, 1, 2]);
    assert.deepEqual(
      m.rtu.raw?.map((b) => `${b.registerType}@${b.address}x${b.values.length}`),
      ['coil@5x1', 'holding@0x42', 'holding@300x1', 'input@100x2'],
    );
    const startOf = (x: ReadingMessage) => x.rtu.timestamp - x.rtu.latencyMs;
    assert.ok(startOf(readings[2]) - startOf(readings[1]) >= 25, 'polls start at least half an interval apart');
    const stats = device.stats();
    assert.ok(stats.polls.ok >= 3);
    assert.equal(stats.polls.failed, 0);
    assert.ok((stats.latencyMs.p50 ?? -1) >= 0 && (stats.latencyMs.p95 ?? -1) >= (stats.latencyMs.p50 ?? 0));
    assert.equal(stats.plan.summary, device.plan.summary);
    assert.ok(stats.lastGoodAt);
  } finally {
    device.stop();
    await r.done();
  }
});

test('a failed block marks only its points bad; a silent unit makes the whole reading bad and backs off', async () => {
  let silent = false;
  const r = await rig((req) => {
    if (silent) return 'silent';
    return 'quantity' in req.request && req.request.address === 300 ? { exception: 2 } : undefined;
  });
  const device = new DevicePoller({ name: 'pm2', line: r.line, unitId: UNIT, intervalMs: 30, points });
  const readings = collect(device);
  try {
    device.start();
    await waitFor(() => readings.length >= 1, 'a reading');
    const partial = readings[0];
    assert.equal(partial.rtu.quality, 'good');
    assert.equal(partial.payload.serial, null);
    assert.equal(partial.payload.power, 230.5);
    assert.deepEqual(partial.rtu.pointQuality, { serial: 'bad' });
    assert.match(partial.rtu.error ?? '', /^device "pm2": line "plant" unit 4 FC3 @300 x1: exception 02 \(illegal data address\)/);
    assert.equal(device.stats().polls.partial >= 1, true);

    silent = true;
    await waitFor(() => readings.some((m) => m.rtu.quality === 'bad'), 'a bad reading');
    const bad = readings.find((m) => m.rtu.quality === 'bad') as ReadingMessage;
    assert.ok(Object.values(bad.payload).every((v) => v === null), 'every point null');
    assert.match(bad.rtu.error ?? '', /device "pm2": line "plant" unit 4 FC\d @\d+ x\d+: no answer within 150 ms \(and 3 more errors\)/);
    const seenAtBad = r.peer.requests.length;
    const readingsAtBad = readings.length;
    await waitFor(() => readings.length >= readingsAtBad + 3, 'bad readings while the unit backs off');
    assert.ok(readings.slice(readingsAtBad).every((m) => m.rtu.quality === 'bad'));
    assert.ok(r.peer.requests.length <= seenAtBad + 1, 'at most one probe');
    const stats = device.stats();
    assert.ok(stats.consecutiveFailures >= 1);
    assert.equal(stats.unit.backingOff, true);
    silent = false;
    await waitFor(() => readings[readings.length - 1].rtu.quality === 'good', 'recovery after the backoff', 3000);
    assert.equal(device.stats().consecutiveFailures, 0);
  } finally {
    device.stop();
    await r.done();
  }
});

test('writes pick FC5/FC6/FC16 (or FC15/FC16), read-modify-write bits, and refuse clearly', async () => {
  const r = await rig((req) => ('values' in req.request && req.request.address === 40 && req.request.values[0] === 0x7f80 ? { exception: 3 } : undefined));
  const device = new DevicePoller({ name: 'pm3', line: r.line, unitId: UNIT, intervalMs: 1000, points });
  const multi = new DevicePoller({ name: 'pm3m', line: r.line, unitId: UNIT, intervalMs: 1000, points, writeFunctions: 'multiple' });
  const fcs = (): number[] => r.peer.requests.map((q) => q.request.fc);
  try {
    await waitFor(() => r.line.connected, 'connect');
    assert.deepEqual(await device.write('setpoint', 1234), { device: 'pm3', point: 'setpoint', value: 1234, fc: 6, address: 20, words: [1234] });
    assert.equal((await device.write('relay', false)).fc, 5);
    assert.equal((await device.write('limit', 12.5)).fc, 16);
    assert.equal(r.peer.writes.get(`${UNIT}:reg:20`), 1234);
    assert.equal(r.peer.writes.get(`${UNIT}:bit:5`), 0);
    assert.deepEqual([r.peer.writes.get(`${UNIT}:reg:40`), r.peer.writes.get(`${UNIT}:reg:41`)], [0x4148, 0]);
    // bit 3 of holding 30 is set without touching bits 0 and 7
    const before = r.peer.requests.length;
    await device.write('alarm_enable', true);
    assert.deepEqual(fcs().slice(before), [3, 6]);
    assert.equal(r.peer.writes.get(`${UNIT}:reg:30`), 0b1000_1001);
    assert.equal((await multi.write('setpoint', 7)).fc, 16);
    assert.equal((await multi.write('relay', true)).fc, 15);
    const reading = await device.readNow();
    assert.equal(reading.payload.setpoint, 7);
    assert.equal(reading.payload.relay, true);
    assert.equal(reading.payload.alarm_enable, true);
    assert.equal(reading.payload.limit, 12.5);

    const notWritable = await rejection(device.write('voltage', 230));
    assert.match(notWritable.message, /device "pm3": write 230 to point "voltage": the point is not marked writable/);
    const unknown = await rejection(device.write('nope', 1));
    assert.match(unknown.message, /device "pm3": write 1 to point "nope": no such point \(known: power, voltage/);
    const range = await rejection(device.write('setpoint', 70000));
    assert.match(range.message, /device "pm3": write 70000 to point "setpoint": point "setpoint": value 70000 is outside the uint16 range/);
    const refused = await rejection(device.write('limit', Infinity));
    assert.match(refused.message, /device "pm3": write Infinity to point "limit": line "plant" unit 4 FC16 @40 x2: exception 03 \(illegal data value\)/);
    const many = await rejection(device.writeMany({ setpoint: 1, voltage: 2 }));
    assert.match(many.message, /point "voltage": the point is not marked writable \(points already written: setpoint\)/);
    const stats = device.stats();
    assert.equal(stats.writes.ok, 5);
    assert.equal(stats.writes.failed, 5);
  } finally {
    await r.done();
  }
});

test('on-demand requests go before queued poll requests; test mode marks readings', async () => {
  const r = await rig(() => ({ delayMs: 15, then: 'normal' }));
  try {
    await waitFor(() => r.line.connected, 'connect');
    const polls = Array.from({ length: 5 }, (_, i) => r.line.request(UNIT, { fc: 3, address: 500 + i, quantity: 1 }, { priority: 'poll', deadline: Date.now() }));
    const demand = r.line.request(UNIT, { fc: 3, address: 900, quantity: 1 });
    await Promise.all([...polls, demand]);
    const order = r.peer.requests.map((q) => ('quantity' in q.request ? q.request.address : -1));
    assert.deepEqual(order, [500, 900, 501, 502, 503, 504]);

    const device = new DevicePoller({ name: 'pm4', line: r.line, unitId: UNIT, intervalMs: 1000, points: points.slice(0, 2) });
    testMode.set(true, 'test');
    try {
      assert.equal((await device.readNow()).rtu.test, true);
    } finally {
      testMode.set(false, 'test');
    }
    assert.equal((await device.readNow()).rtu.test, undefined);
  } finally {
    await r.done();
  }
});

test('a fast device on a line that is down reports bad readings without spinning', async () => {
  const peer = await TcpPeer.start({ framing: 'mbap' });
  const port = peer.port;
  await peer.stop();
  const line = new ModbusLine({ name: 'down', transport: { kind: 'tcp', host: '127.0.0.1', port }, reconnect: { initialMs: 100, maxMs: 100 } });
  line.start();
  const device = new DevicePoller({ name: 'fast', line, unitId: 1, intervalMs: 0, points: points.slice(0, 2) });
  const readings = collect(device);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  try {
    device.start();
    await sleep(1600);
    assert.ok(readings.length >= 1 && readings.length <= 3, `${readings.length} bad readings in 1.6 s`);
    assert.ok(readings.every((m) => m.rtu.quality === 'bad'));
    assert.match(readings[readings.length - 1].rtu.error ?? '', /device "fast": line "down" unit 1 FC3 @0 x11: not connected \(cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    assert.ok(ticks > 100, `the event loop kept running (${ticks} ticks)`);
    assert.equal(line.stats().state, 'reconnecting');
  } finally {
    clearInterval(ticker);
    device.stop();
    await line.stop();
  }
});

test('bad device settings are refused with the device named', async () => {
  const line = new ModbusLine({ name: 'idle', transport: { kind: 'rtu', path: '/dev/null-rtu', baudRate: 9600 } });
  assert.throws(() => new DevicePoller({ name: 'x', line, unitId: 0, intervalMs: 1000, points }), /device "x": unit id 0 is not a whole number in 1\.\.247 on line "idle"/);
  assert.throws(() => new DevicePoller({ name: 'x', line, unitId: 1, intervalMs: -5, points }), /device "x": interval -5 ms/);
  assert.throws(() => new DevicePoller({ name: 'x', line, unitId: 1, intervalMs: 1000, points: [] }), /device "x": no points/);
  assert.throws(
    () => new DevicePoller({ name: 'x', line, unitId: 1, intervalMs: 1000, points: [points[0], { ...points[1], name: 'power' }] }),
    /point name "power" is used twice/,
  );
  assert.throws(
    () => new DevicePoller({ name: 'x', line, unitId: 1, intervalMs: 1000, points: [{ name: 's', registerType: 'holding', address: 0, dataType: 'string' }] }),
    /device "x": point "s": string needs a length/,
  );
});

test('a unit that is backing off still reports a bad reading at its interval, without touching the bus', async () => {
  const r = await rig((req) => (req.unitId === 7 ? 'silent' : undefined));
  const dead = new DevicePoller({ name: 'dead', line: r.line, unitId: 7, intervalMs: 100, points: points.slice(0, 3) });
  const live = new DevicePoller({ name: 'live', line: r.line, unitId: UNIT, intervalMs: 100, points: points.slice(0, 3) });
  const deadReadings = collect(dead);
  const liveReadings = collect(live);
  try {
    dead.start();
    live.start();
    await waitFor(() => deadReadings.length >= 1, 'the first (timed-out) reading');
    // the backoff (300 ms) is renewed at every failed probe; readings keep their cadence meanwhile
    await waitFor(() => deadReadings.length >= 12, 'a dozen readings of the dead unit', 4000);
    assert.ok(deadReadings.every((m) => m.rtu.quality === 'bad' && Object.values(m.payload).every((v) => v === null)));
    const refused = deadReadings.filter((m) => /unit 7 is not answering \(\d+ timed-out requests?\); next try in \d+\.\d s/.test(m.rtu.error ?? ''));
    const probes = r.peer.countFor(7);
    assert.ok(refused.length >= deadReadings.length - probes - 1, `${refused.length} of ${deadReadings.length} readings were answered from the backoff, ${probes} requests reached the bus`);
    assert.ok(probes <= Math.ceil(deadReadings.length / 2), `${probes} requests for ${deadReadings.length} readings: most readings left the bus alone`);
    const seqs = deadReadings.map((m) => m.rtu.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i), 'one reading per cycle, in order');
    assert.ok(liveReadings.length > 0 && liveReadings.every((m) => m.rtu.quality === 'good'));
  } finally {
    dead.stop();
    live.stop();
    await r.done();
  }
});

test('reads on demand are coalesced per device and waiting on-demand requests are bounded', async () => {
  const r = await rig(() => ({ delayMs: 40, then: 'normal' }));
  try {
    await waitFor(() => r.line.connected, 'connect');
    const device = new DevicePoller({ name: 'pm5', line: r.line, unitId: UNIT, intervalMs: 60000, points: [...points.slice(0, 3), points[4]] });
    const blocks = device.plan.requests.length;
    // a flood of "read now" messages: one read goes to the device and answers them all
    const readings = await Promise.all(Array.from({ length: 200 }, () => device.readNow()));
    assert.equal(r.peer.requests.length, blocks, `${r.peer.requests.length} requests for 200 reads on demand`);
    assert.ok(readings.every((m) => m.rtu.quality === 'good' && m.payload.power === 230.5));
    readings[1].payload.power = 0;
    assert.equal(readings[2].payload.power, 230.5, 'each caller has its own copy');
    // a read asked for after a write does not get an answer read before it
    const before = device.readNow();
    await device.write('setpoint', 77);
    const after = await device.readNow();
    await before;
    assert.equal(r.peer.requests.length, 2 * blocks + 1 + blocks, 'a fresh read after the write');
    assert.equal(after.payload.power, 230.5);

    // writes on demand: at most maxQueuedDemand wait; the rest are refused at once, clearly
    const bounded = new ModbusLine({ name: 'bounded', transport: { kind: 'tcp', host: '127.0.0.1', port: r.peer.port }, maxQueuedDemand: 5 });
    bounded.start();
    try {
      await waitFor(() => bounded.connected, 'connect');
      const writes = Array.from({ length: 10 }, (_, i) => bounded.request(UNIT, { fc: 6, address: 20, value: i }).then(() => 'ok', (err: Error) => err));
      const outcomes = await Promise.all(writes);
      const refused = outcomes.filter((o): o is Error => o instanceof Error);
      assert.equal(outcomes.filter((o) => o === 'ok').length, 6, 'one in flight and five waiting are carried out');
      assert.equal(refused.length, 4);
      assert.match(refused[0].message, /^line "bounded" unit 4 FC6 @20: refused, 5 on-demand requests are already waiting on the line \(limit 5\)$/);
      assert.equal(refused[0].name, 'QueueFullError');
    } finally {
      await bounded.stop();
    }
  } finally {
    await r.done();
  }
});
