/**
 * "Verify configuration" against real devices: simulated meters on a Modbus TCP
 * server on loopback, polled by the real line and device poller, entered in a
 * fleet as the poller node does. One device has a wrong byte order (every
 * float decodes to nonsense), one unit is switched off, one line points at a
 * closed port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'net';
import { Fleet, FleetDevice } from '../../nodes/lib/fleet';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import type { PointDef } from '../../nodes/lib/modbus/types';
import { PlausibilityChecker } from '../../nodes/lib/plausibility';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { sharedRegistry } from '../../nodes/lib/registry';
import { RunningSimulator, startSimulator } from '../../nodes/lib/simulator/start';
import { VerifySession } from '../../nodes/lib/verify';
import { verifyDevices } from '../../nodes/lib/verify/verify';
import { TcpPeer } from '../support/modbus-peer';

const MODEL = 'rtu/simulated-energy-meter';
let sim: RunningSimulator;
let closedPort: number;
const lines: ModbusLine[] = [];
const pollers: DevicePoller[] = [];

function meterPoints(order?: PointDef['order']): PointDef[] {
  const points = sharedRegistry().profilePoints(MODEL, 'basic_power');
  return order ? points.map((p) => (p.dataType === 'float32' ? { ...p, order } : p)) : points;
}

function line(name: string, port: number): ModbusLine {
  const l = new ModbusLine({ name, transport: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 800, retries: 1 });
  l.start();
  lines.push(l);
  return l;
}

/** A fleet entry over a real device poller, as rtu-modbus-poller makes it. */
function enter(fleet: Fleet, name: string, l: ModbusLine, unitId: number, points: PointDef[]): DevicePoller {
  const device = new DevicePoller({ name, line: l, unitId, intervalMs: 60000, points, model: MODEL, profile: 'basic_power' });
  pollers.push(device);
  let last: ReadingMessage | undefined;
  fleet.register({
    name,
    protocol: 'modbus',
    line: l.name,
    model: MODEL,
    profile: 'basic_power',
    unitId,
    intervalMs: device.intervalMs,
    planSummary: device.plan.summary,
    points: points.map((p) => ({ name: p.name, unit: p.unit })),
    readOnce: async () => (last = await device.readNow()),
    lastReading: () => last,
  });
  return device;
}

before(async () => {
  sim = await startSimulator({ units: [1, 2, 3], deadUnitIds: [3] });
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  for (const p of pollers) p.stop();
  await Promise.all(lines.map((l) => l.stop()));
  await sim.close();
});

test('every device is read once: values with units, the plan, reachability and wrong values flagged', async () => {
  const fleet = new Fleet();
  const bus = line('bus1', sim.port);
  enter(fleet, 'meter-ok', bus, 1, meterPoints());
  enter(fleet, 'meter-swapped', bus, 2, meterPoints('CDAB'));
  enter(fleet, 'meter-off', bus, 3, meterPoints());
  enter(fleet, 'meter-nowhere', line('bus2', closedPort), 1, meterPoints());

  const progress: number[] = [];
  const report = await verifyDevices(fleet.list(), { timeoutMs: 3000, testMode: true, onProgress: (p) => progress.push(p.done) });
  assert.deepEqual(progress, [0, 1, 2, 3, 4]);
  assert.equal(report.testMode, true);
  assert.deepEqual(report.devices.map((d) => d.device), ['meter-nowhere', 'meter-off', 'meter-ok', 'meter-swapped']);
  const byName = Object.fromEntries(report.devices.map((d) => [d.device, d]));

  const ok = byName['meter-ok'];
  assert.equal(ok.reachable, true);
  assert.equal(ok.line, 'bus1');
  assert.equal(ok.unitId, 1);
  assert.match(ok.plan ?? '', /^\d+ requests? touching \d+ registers?/);
  assert.equal(ok.flagged, 0, JSON.stringify(ok.values.filter((v) => v.flag)));
  const v1 = ok.values.find((v) => v.point === 'voltage_l1_n')!;
  assert.equal(v1.unit, 'V');
  assert.ok(typeof v1.value === 'number' && v1.value > 200 && v1.value < 260, `voltage ${v1.value}`);
  assert.equal(ok.values.find((v) => v.point === 'frequency')!.unit, 'Hz');

  const swapped = byName['meter-swapped'];
  assert.equal(swapped.reachable, true, 'a wrong word order still answers');
  assert.ok(swapped.flagged >= 3, `flagged ${swapped.flagged}`);
  // Swapped words land on a random exponent: almost every float is absurd, but any single one may be plausible by chance.
  for (const v of swapped.values.filter((x) => x.flag)) assert.match(v.flag!, /outside the plausible range|not a finite number/);

  const off = byName['meter-off'];
  assert.equal(off.reachable, false);
  assert.match(off.error ?? '', /meter-off/);
  assert.match(off.error ?? '', /time|answer/i);
  assert.ok(off.values.every((v) => v.value === null && v.quality === 'bad'));

  const nowhere = byName['meter-nowhere'];
  assert.equal(nowhere.reachable, false);
  assert.match(nowhere.error ?? '', /meter-nowhere/);

  assert.deepEqual(report.summary, { devices: 4, reachable: 2, unreachable: 2, flaggedDevices: 1, flaggedValues: swapped.flagged });
  assert.ok(report.finishedAt >= report.startedAt);
});

test('a device that never settles is reported after the timeout; one that throws is reported with its error', async () => {
  const fleet = new Fleet();
  const base = { protocol: 'modbus' as const, intervalMs: 1000, points: [{ name: 'voltage_l1_n', unit: 'V' }], lastReading: () => undefined };
  const hanging: FleetDevice = { ...base, name: 'hangs', line: 'bus9', unitId: 4, readOnce: () => new Promise<ReadingMessage>(() => undefined) };
  const throwing: FleetDevice = {
    ...base,
    name: 'throws',
    readOnce: () => {
      throw new Error('line "bus9" is not started');
    },
  };
  fleet.register(hanging);
  fleet.register(throwing);
  // The hanging device ends by the verify timeout (its error says so), not by the test's patience.
  const report = await verifyDevices(fleet.list(), { timeoutMs: 200 });
  assert.equal(report.devices[0].error, 'device "hangs", line "bus9", unit 4: no answer within 200 ms');
  assert.equal(report.devices[1].error, 'device "throws": line "bus9" is not started');
  assert.equal(report.summary.unreachable, 2);
});

test('counters that went backwards since the last poll are flagged; site limits apply', async () => {
  const fleet = new Fleet();
  const bus = line('bus3', sim.port);
  const points = sharedRegistry().profilePoints(MODEL, 'energy').filter((p) => p.name === 'active_energy_import_total');
  assert.equal(points.length, 1, 'the energy profile has the import counter');
  const device = enter(fleet, 'meter-counter', bus, 1, points);
  const real = await device.readNow();
  const high = (real.payload.active_energy_import_total as number) + 1000;
  const entry = fleet.get('meter-counter')!;
  // The reading before claims a higher count than the meter has now: as after a meter swap.
  fleet.register({ ...entry, lastReading: () => ({ ...real, payload: { active_energy_import_total: high } }) });
  const report = await verifyDevices(fleet.list(), { timeoutMs: 3000 });
  assert.match(report.devices[0].values[0].flag ?? '', new RegExp(`went down from ${high}`));

  const site = await verifyDevices(fleet.list(), { timeoutMs: 3000, checker: new PlausibilityChecker([{ point: 'active_energy_*', max: 1 }]) });
  assert.match(site.devices[0].values[0].flag ?? '', /site limit ≤ 1 kWh/);
});

test('a verify while one is running joins it; the session keeps the last report', async () => {
  const fleet = new Fleet();
  enter(fleet, 'meter-a', line('bus4', sim.port), 1, meterPoints());
  const session = new VerifySession(fleet);
  const reports: unknown[] = [];
  session.on('report', (r) => reports.push(r));
  const first = session.run({ timeoutMs: 3000 });
  assert.equal(session.busy, true);
  assert.equal(session.panel({ enabled: true, changedAt: 1, changedBy: 't' }).verification.running, true);
  const second = session.run({ timeoutMs: 3000 });
  assert.equal(first, second);
  const report = await first;
  assert.equal(session.busy, false);
  assert.equal(reports.length, 1);
  assert.equal(session.lastReport, report);
  const panel = session.panel({ enabled: true, changedAt: 1, changedBy: 't' });
  assert.deepEqual(panel.verification, { running: false, progress: undefined, report });
});

test('verify and read now probe a unit that is backing off at once; an answer ends its backoff', async () => {
  let wired = false;
  const peer = await TcpPeer.start({ framing: 'mbap', script: () => (wired ? undefined : 'silent') });
  const l = new ModbusLine({
    name: 'commissioning',
    transport: { kind: 'tcp', host: '127.0.0.1', port: peer.port },
    timeoutMs: 200,
    retries: 1,
    unitBackoff: { initialMs: 60000, maxMs: 60000, jitter: 0 },
  });
  l.start();
  lines.push(l);
  const fleet = new Fleet();
  const points: PointDef[] = [
    { name: 'a', registerType: 'holding', address: 0, dataType: 'uint16' },
    { name: 'b', registerType: 'holding', address: 200, dataType: 'uint16' },
  ];
  const device = enter(fleet, 'meter-rewired', l, 5, points);
  try {
    const before = await device.readNow();
    assert.equal(before.rtu.quality, 'bad');
    assert.equal(l.unitHealth(5).backingOff, true, 'the unit backs off for a minute');
    const failed = peer.requests.length;
    assert.equal(failed, 2, 'one request, retried once; the second block was not sent to a unit that just failed');
    // the integrator fixes the wiring and verifies at once
    wired = true;
    const report = await verifyDevices(fleet.list(), { timeoutMs: 5000 });
    const result = report.devices[0];
    assert.equal(result.reachable, true, result.error);
    assert.deepEqual(result.values.map((v) => v.value), [5000, 5200]);
    assert.equal(l.unitHealth(5).backingOff, false, 'the answer ended the backoff');
    assert.equal(peer.requests.length, failed + 2);
    // the background schedule is back to normal too: a plain request goes out
    assert.deepEqual(await l.request(5, { fc: 3, address: 1, quantity: 1 }), [5001]);
    wired = false;
    await device.readNow();
    assert.equal(l.unitHealth(5).backingOff, true);
    const readNow = await device.readNow();
    assert.match(readNow.rtu.error ?? '', /no answer within 200 ms/, 'read now asked the device, it did not refuse from the backoff');
  } finally {
    await peer.stop();
  }
});
