/**
 * The dashboard models against real pollers on a simulator with a dead unit:
 * the device table, the detail of a device that is offline and why, a "read
 * now" that fails with the reason, the trend of a point, and alerts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DashboardModel } from '../../nodes/lib/dashboard';
import { Fleet } from '../../nodes/lib/fleet';
import { HealthRegistry } from '../../nodes/lib/health/registry';
import { SystemSampler } from '../../nodes/lib/health/system';
import { deviceHealthInput, lineHealthInput } from '../../nodes/lib/modbus/health-input';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { sharedRegistry } from '../../nodes/lib/registry';
import { RunningSimulator, startSimulator } from '../../nodes/lib/simulator/start';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { waitFor } from '../support/wait';

let sim: RunningSimulator;
let line: ModbusLine;
const fleet = new Fleet();
const health = new HealthRegistry();
const pollers: DevicePoller[] = [];
const readings: ReadingMessage[] = [];

before(async () => {
  sim = await startSimulator({ units: [1, 2, 3], deadUnitIds: [3] });
  line = new ModbusLine({
    name: 'bus1',
    transport: { kind: 'tcp', host: '127.0.0.1', port: sim.port },
    timeoutMs: 150,
    retries: 0,
    unitBackoff: { initialMs: 5000, maxMs: 5000, jitter: 0 },
    reconnectAfterTimeouts: 0,
  });
  line.start();
  health.registerLine('bus1', () => lineHealthInput(line.stats()));
  const points = sharedRegistry().profilePoints('rtu/simulated-energy-meter', 'basic_power');
  for (const unitId of [1, 2, 3]) {
    const name = `meter-${unitId}`;
    const device = new DevicePoller({ name, line, unitId, intervalMs: 100, points, model: 'rtu/simulated-energy-meter', profile: 'basic_power' });
    let last: ReadingMessage | undefined;
    device.on('reading', (m: ReadingMessage) => {
      last = m;
      readings.push(m);
    });
    fleet.register({
      name,
      protocol: 'modbus',
      line: 'bus1',
      unitId,
      intervalMs: 100,
      planSummary: device.plan.summary,
      points: points.map((p) => ({ name: p.name, unit: p.unit })),
      readOnce: () => device.readNow(),
      lastReading: () => last,
    });
    health.registerDevice(name, () => deviceHealthInput(device.stats()));
    device.start();
    pollers.push(device);
  }
  await waitFor(() => readings.filter((r) => r.rtu.device === 'meter-1').length >= 5 && readings.some((r) => r.rtu.device === 'meter-3'), 'polls', 8000);
});

after(async () => {
  for (const p of pollers) p.stop();
  await line.stop();
  await sim.close();
});

test('the device table lists every device with status, figures and live values', async () => {
  const model = new DashboardModel({ fleet, health });
  model.refresh(Date.now());
  const view = model.devicesView(Date.now());
  const col = (name: string) => view.columns.indexOf(name);
  assert.deepEqual(view.rows.map((r) => r[col('device')]), ['meter-1', 'meter-2', 'meter-3']);
  assert.deepEqual(view.counts, { online: 2, offline: 1, stale: 0, unknown: 0 });
  const [m1, , m3] = view.rows;
  assert.equal(m1[col('status')], 'online');
  assert.equal(m1[col('line')], 'bus1');
  assert.equal(m1[col('successRate')], 1);
  assert.ok((m1[col('latencyP50Ms')] as number) >= 0);
  assert.match(m1[col('values')] as string, /^[\d.]+ (k?W) · [\d.]+ V · [\d.]+ A$/);
  assert.equal(m3[col('status')], 'offline');
  assert.ok((m3[col('consecutiveFailures')] as number) >= 1);
  assert.ok((m3[col('retryAt')] as number) > Date.now(), 'the dead unit is backing off');
  assert.equal(m3[col('values')], '');
  assert.notEqual(m3[col('lastError')], '');

  // Live: the values column follows the polls.
  const first = m1[col('values')];
  await waitFor(() => {
    model.refresh(Date.now());
    return model.devicesView(Date.now()).rows[0][col('values')] !== first;
  }, 'meter-1 values to change', 5000, 50);
});

test('the detail of an offline device says why, and a "read now" on it fails with the reason', async () => {
  const model = new DashboardModel({ fleet, health, readTimeoutMs: 2000 });
  model.refresh(Date.now());
  model.select('meter-3');
  const detail = model.devicesView(Date.now()).detail!;
  assert.equal(detail.device, 'meter-3');
  assert.equal(detail.status, 'offline');
  assert.match(detail.why ?? '', /^offline: the last (\d+ polls|poll) failed; the line skips it, next try in \d+ s; no good reading since the last deploy; last error: /);
  assert.equal(detail.plan, pollers[2].plan.summary);
  assert.equal(detail.unitId, 3);
  assert.ok(detail.values.every((v) => v.value === null));
  assert.ok(detail.errors.length >= 1, 'the latest errors are listed');

  const result = await model.readNow('meter-3');
  assert.equal(result.ok, false);
  // What happened, once; why the device is offline is detail.why's to say (one explanation, not two with other figures).
  assert.match(result.text, /^read now failed: .+/);
  assert.doesNotMatch(result.text, /The device is offline/);
  assert.deepEqual(model.detail('meter-3', Date.now()).action, result);

  const good = await model.readNow('meter-1');
  assert.equal(good.ok, true);
  assert.match(good.text, /^read now: 9 values in \d+ ms$/);

  const missing = await model.readNow('meter-99');
  assert.match(missing.text, /no device "meter-99" is deployed/);
  assert.equal(model.detail('meter-99', Date.now()).status, 'not deployed');
});

test('the detail of an online device has every point with its unit', () => {
  const model = new DashboardModel({ fleet, health });
  model.refresh(Date.now());
  model.select('meter-1');
  const d = model.devicesView(Date.now()).detail!;
  assert.equal(d.status, 'online');
  assert.equal(d.why, undefined);
  assert.equal(d.values.length, 9);
  const v = d.values.find((x) => x.point === 'voltage_l1_n')!;
  assert.equal(v.unit, 'V');
  assert.equal(v.quality, 'good');
  assert.ok(typeof v.value === 'number' && v.value > 200);
});

test('the trend plots new values of the chosen point only, after a reset', async () => {
  const model = new DashboardModel({ fleet, health });
  const first = model.selectTrend('meter-2', 'frequency');
  assert.deepEqual(first[0], { topic: 'meter-2 frequency', payload: [] });
  assert.equal(first.length, 2, 'the current value is plotted at once');
  assert.equal(first[1].topic, 'meter-2 frequency (Hz)');
  assert.ok((first[1].payload as number) > 45 && (first[1].payload as number) < 65);
  assert.deepEqual(model.trendUpdate(), [], 'nothing new yet');
  const plotted: number[] = [];
  await waitFor(() => {
    for (const m of model.trendUpdate()) plotted.push(m.timestamp!);
    return plotted.length >= 3;
  }, 'three more points', 5000, 20);
  assert.ok(plotted[0] < plotted[1] && plotted[1] < plotted[2], 'timestamps increase');
  assert.equal(model.devicesView(Date.now()).detail, undefined);
  model.select('meter-2');
  assert.equal(model.devicesView(Date.now()).detail?.trendPoint, 'frequency');
});

test('lines, system figures and alerts: raised and acknowledged listed by severity, cleared removed', async () => {
  const model = new DashboardModel({ fleet, health });
  const sampler = new SystemSampler();
  try {
    model.setSystem(await sampler.sample());
  } finally {
    sampler.close();
  }
  model.refresh(Date.now());
  const alert = (id: string, severity: AlertPayload['severity'], state: AlertPayload['state'], raisedAt: number): AlertPayload => ({
    id,
    state,
    severity,
    category: 'power',
    device: id.split('/')[0],
    point: id.split('/')[1],
    value: 260,
    limit: 253,
    unit: 'V',
    rule: id.split('/')[2],
    kind: 'high',
    timestamp: raisedAt,
    raisedAt,
    text: `${id} high`,
  });
  model.addAlert(alert('meter-1/voltage_l1_n/hi', 'warning', 'raised', 1));
  model.addAlert(alert('meter-2/voltage_l1_n/hi', 'critical', 'raised', 2));
  model.addAlert(alert('meter-1/current_l1/hi', 'warning', 'raised', 3));
  model.addAlert({ ...alert('meter-1/voltage_l1_n/hi', 'warning', 'acknowledged', 1), acknowledgedBy: 'dashboard' });
  model.addAlert(alert('meter-1/current_l1/hi', 'warning', 'cleared', 3));
  const o = model.overviewView(Date.now());
  assert.deepEqual(o.alerts.map((a) => [a.id, a.state]), [
    ['meter-2/voltage_l1_n/hi', 'raised'],
    ['meter-1/voltage_l1_n/hi', 'acknowledged'],
  ]);
  assert.equal(o.alerts[1].acknowledgedBy, 'dashboard');
  assert.equal(model.devicesView(Date.now()).rows[0][11], 1, 'meter-1 has one active alert');
  assert.equal(o.lines.length, 1);
  assert.equal(o.lines[0].line, 'bus1');
  assert.equal(o.lines[0].connected, true);
  assert.deepEqual(o.lines[0].unitsBackingOff, [3]);
  assert.ok(o.system.some((r) => r.label === 'CPU (Node-RED)' && /%$/.test(r.value)));
  assert.ok(o.system.some((r) => r.label === 'Disk'));
  assert.equal(model.overviewView(Date.now(), 1).moreAlerts, 1);
});

test('readings of devices outside the fleet appear in the table, with their errors', () => {
  const model = new DashboardModel({ fleet, health });
  const now = Date.now();
  const msg = (seq: number, quality: 'good' | 'bad', error?: string): ReadingMessage => ({
    topic: 'ied-1',
    payload: quality === 'good' ? { frequency: 50.01 } : { frequency: null },
    rtu: { device: 'ied-1', protocol: 'iec61850', timestamp: now - 1000 + seq, quality, latencyMs: 4, units: { frequency: 'Hz' }, seq, error },
  });
  model.addReading(msg(1, 'good'));
  model.addReading(msg(2, 'bad', 'association refused'));
  model.addReading(msg(3, 'good'));
  model.refresh(now);
  const row = model.devicesView(now).rows.find((r) => r[0] === 'ied-1')!;
  assert.equal(row[2], 'online');
  assert.equal(row[10], '50.01 Hz');
  assert.deepEqual(model.detail('ied-1', now).errors.map((e) => e.text), ['association refused']);
});

test('IEC 104 outstations and masters are listed with each connection: peer, state, standby, unacknowledged and queued frames', () => {
  const leave = health.registerIec104('scada outstation', () => ({
    role: 'outstation',
    state: 'serving',
    connections: [
      { remote: '10.0.0.5:40000', state: 'started', active: true, unacked: 2, queued: 1, iSent: 10, iReceived: 1 },
      { remote: '10.0.0.6:40001', state: 'stopped', active: false, unacked: 0, queued: 0, iSent: 0, iReceived: 0 },
    ],
    counts: {},
  }));
  const leaveMaster = health.registerIec104('feeder master', () => ({ role: 'master', state: 'connecting', connections: [], counts: {}, lastError: 'connect ECONNREFUSED' }));
  try {
    const model = new DashboardModel({ fleet, health });
    model.refresh(Date.now());
    const rows = model.overviewView(Date.now()).iec104;
    assert.deepEqual(rows, [
      { node: 'feeder master', role: 'master', remote: '', state: 'connecting', unacked: 0, queued: 0, problem: 'connect ECONNREFUSED' },
      { node: 'scada outstation', role: 'outstation', remote: '10.0.0.5:40000', state: 'started', unacked: 2, queued: 1, problem: '' },
      { node: 'scada outstation', role: 'outstation', remote: '10.0.0.6:40001', state: 'stopped (standby)', unacked: 0, queued: 0, problem: '' },
    ]);
  } finally {
    leave();
    leaveMaster();
  }
});
