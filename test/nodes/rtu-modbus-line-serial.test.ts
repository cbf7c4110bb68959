/**
 * The line and poller nodes on a real serial path: a socat pty pair, the
 * simulator as an RTU slave on one end, the rtu-modbus-line node on the other.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import { startRtuSimulator } from '../../nodes/lib/simulator/start';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { startPtyPair, PtyPair } from '../support/pty-pair';
import { collect, helper, nextMessage } from '../support/node-red';

let pty: PtyPair;
let sim: Awaited<ReturnType<typeof startRtuSimulator>>;

before(async () => {
  pty = await startPtyPair();
  sim = await startRtuSimulator({ path: pty.devicePath, baudRate: 19200, units: [1, 2], deadUnitIds: [7] });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await sim.close();
  await pty.stop();
});

test('pollers on an RS485 line read by profile; a switched-off unit does not stall the others', async () => {
  const line = { id: 'bus', type: 'rtu-modbus-line', name: 'rs485 bus', transport: 'rtu-serial', serialPath: pty.clientPath,
    baudRate: 19200, parity: 'none', dataBits: 8, stopBits: 1, timeout: 200, retries: 0, interRequestDelay: 0 };
  const poller = (id: string, name: string, unitId: number) => ({ id, z: 'tab', type: 'rtu-modbus-poller', name, line: 'bus', unitId,
    interval: 0.5, source: 'model', model: 'rtu/simulated-energy-meter', profile: 'basic_power', includeRaw: false, wires: [[`${id}-out`]] });
  await helper.load([lineNode, pollerNode], [
    { id: 'tab', type: 'tab' }, line,
    poller('p1', 'meter one', 1), poller('p2', 'meter two', 2), poller('p7', 'meter seven', 7),
    { id: 'p1-out', z: 'tab', type: 'helper' }, { id: 'p2-out', z: 'tab', type: 'helper' }, { id: 'p7-out', z: 'tab', type: 'helper' },
  ]);
  const first = await nextMessage<ReadingMessage>('p1-out', (m) => m.rtu.quality === 'good', 5000);
  const v = first.payload.voltage_l1_n as number;
  assert.ok(v > 200 && v < 260, `voltage over RTU ${v}`);
  const dead = await nextMessage<ReadingMessage>('p7-out', (m) => m.rtu.quality === 'bad', 5000);
  assert.match(dead.rtu.error ?? '', /unit 7/);
  // Unit 2 keeps delivering next to the dead unit (what the dead unit costs it: npm run bench, modbus-dead-unit).
  const two = collect<ReadingMessage>('p2-out');
  await nextMessage<ReadingMessage>('p7-out', (m) => m.rtu.quality === 'bad', 5000);
  for (let waited = 0; two.filter((m) => m.rtu.quality === 'good').length < 4; waited += 50) {
    assert.ok(waited < 15000, 'four more good readings from unit 2');
    await new Promise((r) => setTimeout(r, 50));
  }
});

test('the serial path can come from an environment variable, read at deploy', async () => {
  await helper.unload();
  process.env.RTU_TEST_SERIAL_PATH = pty.clientPath;
  try {
    await helper.load([lineNode, pollerNode], [
      { id: 'tab', type: 'tab' },
      { id: 'bus3', type: 'rtu-modbus-line', name: 'site bus', transport: 'rtu-serial', serialPath: 'RTU_TEST_SERIAL_PATH', serialPathType: 'env',
        baudRate: 19200, parity: 'none', dataBits: 8, stopBits: 1, timeout: 200, retries: 0 },
      { id: 'e1', z: 'tab', type: 'rtu-modbus-poller', name: 'env meter', line: 'bus3', unitId: 1, interval: 0.5, source: 'model',
        model: 'rtu/simulated-energy-meter', profile: 'basic_power', includeRaw: false, wires: [['e1-out']] },
      { id: 'e1-out', z: 'tab', type: 'helper' },
    ]);
    const good = await nextMessage<ReadingMessage>('e1-out', (m) => m.rtu.quality === 'good', 5000);
    assert.equal(good.rtu.line, 'site bus');
  } finally {
    delete process.env.RTU_TEST_SERIAL_PATH;
  }
});

test('a missing serial port and an out-of-range unit id give red statuses and errors naming them; the runtime keeps running', async () => {
  await helper.unload();
  const line = { id: 'bus2', type: 'rtu-modbus-line', name: 'unplugged bus', transport: 'rtu-serial', serialPath: '/dev/ttyRTU-does-not-exist',
    baudRate: 9600, parity: 'even', dataBits: 8, stopBits: 1, timeout: 200, retries: 0, reconnectMax: 1 };
  const poller = (id: string, name: string, unitId: number) => ({ id, z: 'tab', type: 'rtu-modbus-poller', name, line: 'bus2', unitId,
    interval: 0.5, source: 'model', model: 'rtu/simulated-energy-meter', profile: 'basic_power', wires: [[`${id}-out`]] });
  await helper.load([lineNode, pollerNode], [
    { id: 'tab', type: 'tab' }, line, poller('q1', 'meter on unplugged bus', 1), poller('q2', 'meter with bad unit', 300),
    { id: 'q1-out', z: 'tab', type: 'helper' }, { id: 'q2-out', z: 'tab', type: 'helper' },
  ]);
  const errorsOf = (id: string) =>
    ((helper.getNode(id) as unknown as { error: { getCalls(): Array<{ args: unknown[] }> } }).error.getCalls() ?? []).map((c) => String(c.args[0]));
  assert.match(errorsOf('q2').join('\n'), /unit id 300 .*1\.\.247/);
  const bad = await nextMessage<ReadingMessage>('q1-out', (m) => m.rtu.quality === 'bad', 5000);
  assert.match(bad.rtu.error ?? '', /ttyRTU-does-not-exist/);
  // The line logs the missing port as an error naming itself and the path, once, although it keeps retrying.
  const lineErrors = () => (helper.log().args as Array<[{ level: number; msg: unknown }]>)
    .filter(([e]) => e.level === 20 && /line "unplugged bus" \(RTU \/dev\/ttyRTU-does-not-exist 9600 even\): cannot connect: /.test(String(e.msg)));
  const attempts = () => (helper.getNode('bus2') as unknown as { debug: { getCalls(): unknown[] } }).debug.getCalls().length;
  for (let waited = 0; attempts() < 2; waited += 50) {
    assert.ok(waited < 10000, 'the line retried the missing port twice within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(lineErrors().length, 1, 'logged once, not at every retry');
});
