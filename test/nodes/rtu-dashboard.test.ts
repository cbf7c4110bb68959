/**
 * rtu-dashboard in the real runtime over real pollers on a simulator: the
 * table and overview on its own timer, a read-now on an offline device that
 * says why, the trend chart, alerts and their acknowledgement.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import dashboardNode from '../../nodes/rtu-dashboard/rtu-dashboard';
import { classify } from '../../nodes/rtu-dashboard/input';
import type { DeviceDetail, DevicesView, OverviewView } from '../../nodes/lib/dashboard';
import { RunningSimulator, startSimulator } from '../../nodes/lib/simulator/start';
import { helper, nextMessage, runtimeName } from '../support/node-red';

const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [path.dirname(require.resolve(runtimeName))] }));

let sim: RunningSimulator;
let userDir: string;

before(async () => {
  sim = await startSimulator({ units: [1, 2], deadUnitIds: [5] });
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-dashboard-'));
  helper.settings({ userDir });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await sim.close();
  fs.rmSync(userDir, { recursive: true, force: true });
});
afterEach(async () => {
  await helper.unload();
});

function flow(ackWired = true) {
  const poller = (id: string, name: string, unitId: number) => ({
    id,
    z: 'tab',
    type: 'rtu-modbus-poller',
    name,
    line: 'line',
    unitId,
    interval: 0.2,
    source: 'model',
    model: 'rtu/simulated-energy-meter',
    profile: 'basic_power',
    wires: [[]],
  });
  return [
    { id: 'tab', type: 'tab', label: 'dashboard' },
    { id: 'line', type: 'rtu-modbus-line', name: 'db line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 200, retries: 0 },
    poller('p1', 'db-meter-1', 1),
    poller('p5', 'db-meter-off', 5),
    {
      id: 'dash',
      z: 'tab',
      type: 'rtu-dashboard',
      name: 'feed',
      refresh: 0.5,
      keyPoints: 'voltage_l1_n, frequency',
      trendDevice: 'db-meter-1',
      trendPoint: 'frequency',
      readTimeout: 2,
      wires: [['devices'], ['overview'], ['chart'], ackWired ? ['ack'] : []],
    },
    { id: 'devices', z: 'tab', type: 'helper', wires: [] },
    { id: 'overview', z: 'tab', type: 'helper', wires: [] },
    { id: 'chart', z: 'tab', type: 'helper', wires: [] },
    { id: 'ack', z: 'tab', type: 'helper', wires: [] },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper', wires: [] },
  ];
}

interface ViewMsg<T> {
  topic: string;
  payload: T;
}

const rowOf = (v: DevicesView, device: string) => v.rows.find((r) => r[0] === device);

test('the table and overview arrive on their own, with live values and the offline device', async () => {
  await helper.load([lineNode, pollerNode, dashboardNode, catchNode], flow());
  const view = (
    await nextMessage<ViewMsg<DevicesView>>('devices', (m) => {
      const off = rowOf(m.payload, 'db-meter-off');
      return !!rowOf(m.payload, 'db-meter-1')?.[10] && off?.[2] === 'offline';
    }, 8000)
  ).payload;
  assert.equal(view.columns[10], 'values');
  assert.match(rowOf(view, 'db-meter-1')![10], /^[\d.]+ V · [\d.]+ Hz$/);
  assert.equal(rowOf(view, 'db-meter-1')![1], 'db line');
  const overview = (await nextMessage<ViewMsg<OverviewView>>('overview')).payload;
  assert.ok(overview.lines.some((l) => l.line === 'db line' && l.unitsBackingOff.includes(5)), JSON.stringify(overview.lines));
  assert.ok(overview.system.length >= 5, 'system figures');
  const before = rowOf(view, 'db-meter-1')![10];
  await nextMessage<ViewMsg<DevicesView>>('devices', (m) => rowOf(m.payload, 'db-meter-1')?.[10] !== before, 5000);
});

test('read now on an offline device shows the error and why the device is offline', async () => {
  await helper.load([lineNode, pollerNode, dashboardNode, catchNode], flow());
  await nextMessage<ViewMsg<DevicesView>>('devices', (m) => rowOf(m.payload, 'db-meter-off')?.[2] === 'offline', 8000);
  const answer = nextMessage<ViewMsg<DeviceDetail> & { socketid?: string }>('devices', (m) => m.topic === 'detail' && !!m.payload.action, 5000);
  helper.getNode('dash').receive({ topic: 'read', payload: 'db-meter-off', socketid: 'x' });
  const msg = await answer;
  assert.equal(msg.socketid, 'x', 'the answer goes to the browser that asked');
  const detail = msg.payload;
  assert.equal(detail.device, 'db-meter-off');
  assert.equal(detail.status, 'offline');
  assert.equal(detail.action!.ok, false);
  // The action says what happened; why the device is offline is said once, in detail.why.
  assert.match(detail.action!.text, /^read now failed: .+/);
  assert.doesNotMatch(detail.action!.text, /The device is offline/);
  assert.match(detail.why ?? '', /^offline: /);
  assert.ok(detail.errors.length >= 1);
});

test('the trend resets the chart and plots the chosen point', async () => {
  await helper.load([lineNode, pollerNode, dashboardNode, catchNode], flow());
  // The trend configured in the node starts by itself.
  await nextMessage<{ topic: string; payload: unknown }>('chart', (m) => typeof m.payload === 'number' && m.topic === 'db-meter-1 frequency (Hz)', 5000);
  const reset = nextMessage<{ topic: string; payload: unknown }>('chart', (m) => Array.isArray(m.payload));
  helper.getNode('dash').receive({ topic: 'trend', payload: { device: 'db-meter-1', point: 'voltage_l1_n' } });
  assert.deepEqual((await reset).payload, []);
  const point = await nextMessage<{ topic: string; payload: number; timestamp: number }>('chart', (m) => typeof m.payload === 'number');
  assert.equal(point.topic, 'db-meter-1 voltage_l1_n (V)');
  assert.ok(point.payload > 200 && point.timestamp > 0);
});

test('alerts are listed until cleared; acknowledge goes to the fourth output, or fails clearly when it is not wired', async () => {
  const asked = helper.load([lineNode, pollerNode, dashboardNode, catchNode], flow()).then(() => nextMessage<{ topic: string }>('ack', (m) => m.topic === 'list'));
  // After deploy the feed asks the alert node for the alerts raised before.
  assert.equal((await asked).topic, 'list');
  const alert = {
    id: 'db-meter-1/voltage_l1_n/high',
    state: 'raised',
    severity: 'major',
    category: 'power',
    device: 'db-meter-1',
    point: 'voltage_l1_n',
    value: 261,
    limit: 253,
    unit: 'V',
    rule: 'high',
    kind: 'high',
    timestamp: Date.now(),
    raisedAt: Date.now(),
    text: 'db-meter-1 voltage_l1_n 261 V above 253 V',
  };
  const listed = nextMessage<ViewMsg<OverviewView>>('overview', (m) => m.payload.alerts.length === 1);
  helper.getNode('dash').receive({ topic: 'alert/db-meter-1/voltage_l1_n', payload: alert });
  assert.equal((await listed).payload.alerts[0].text, alert.text);
  const ack = nextMessage<{ topic: string; payload: string; ackBy: string }>('ack', (m) => m.topic === 'ack');
  helper.getNode('dash').receive({ topic: 'ack', payload: alert.id, socketid: 'browser-1' });
  assert.deepEqual(await ack.then((m) => [m.topic, m.payload, m.ackBy]), ['ack', alert.id, 'dashboard']);
  const cleared = nextMessage<ViewMsg<OverviewView>>('overview', (m) => m.payload.alerts.length === 0);
  helper.getNode('dash').receive({ topic: 'alert/db-meter-1/voltage_l1_n', payload: { ...alert, state: 'cleared' } });
  await cleared;
  // The alert node's answer to "list" replaces the whole list.
  const synced = nextMessage<ViewMsg<OverviewView>>('overview', (m) => m.payload.alerts.length === 2);
  helper.getNode('dash').receive({ topic: 'alerts/active', payload: [alert, { ...alert, id: 'db-meter-1/frequency/band', point: 'frequency', state: 'acknowledged' }] });
  assert.deepEqual((await synced).payload.alerts.map((a) => a.state).sort(), ['acknowledged', 'raised']);

  await helper.unload();
  await helper.load([lineNode, pollerNode, dashboardNode, catchNode], flow(false));
  const caught = nextMessage<{ error: { message: string } }>('caught');
  helper.getNode('dash').receive({ topic: 'ack', payload: '*' });
  // The test helper's RED._ returns the key; the en-US catalogue has the text the runtime shows.
  assert.match((await caught).error.message, /dashboard node "feed": rtu-dashboard\.errors\.ackNotWired/);
  const catalogue = JSON.parse(fs.readFileSync(path.join(__dirname, '../../nodes/rtu-dashboard/locales/en-US/rtu-dashboard.json'), 'utf8'));
  assert.match(catalogue['rtu-dashboard'].errors.ackNotWired, /not wired to an rtu-alert node/);
  const problem = await nextMessage<ViewMsg<OverviewView>>('overview', (m) => m.payload.problems.length > 0);
  assert.match(problem.payload.problems[0], /ackNotWired/);
});

test('what the node cannot use is refused with the accepted kinds named', () => {
  assert.deepEqual(classify({ topic: 'select', payload: 'pm1' }), { kind: 'select', device: 'pm1' });
  assert.deepEqual(classify({ topic: 'select', payload: '' }), { kind: 'select', device: undefined });
  assert.deepEqual(classify({ topic: 'trend', payload: { device: 'pm1', point: 'frequency' } }), { kind: 'trend', device: 'pm1', point: 'frequency' });
  assert.match((classify({ topic: 'trend', payload: 'pm1' }) as { error: string }).error, /needs \{ device, point \}/);
  assert.deepEqual(classify({ topic: 'ack', payload: { id: 'a/b/c' }, by: 'op' }), { kind: 'ack', id: 'a/b/c', by: 'op' });
  assert.match((classify({ topic: 'hello', payload: 1 }) as { error: string }).error, /neither a reading, an alert/);
});

test('each browser session keeps its own selection: its detail goes to it alone, and a new session has none', async () => {
  await helper.load([lineNode, pollerNode, dashboardNode, catchNode], flow());
  await nextMessage<ViewMsg<DevicesView>>('devices', (m) => m.topic === 'devices' && !!rowOf(m.payload, 'db-meter-1'), 8000);
  const dash = helper.getNode('dash');
  dash.receive({ topic: 'select', payload: 'db-meter-1', socketid: 'browser-a' });
  dash.receive({ topic: 'select', payload: 'db-meter-off', socketid: 'browser-b' });
  type DetailMsg = ViewMsg<DeviceDetail> & { socketid?: string };
  // The next refresh brings each session its own device, and the table for everyone carries no session's choice.
  const a = nextMessage<DetailMsg>('devices', (m) => m.topic === 'detail' && m.socketid === 'browser-a', 5000);
  const b = nextMessage<DetailMsg>('devices', (m) => m.topic === 'detail' && m.socketid === 'browser-b', 5000);
  const table = nextMessage<ViewMsg<DevicesView>>('devices', (m) => m.topic === 'devices', 5000);
  assert.equal((await a).payload.device, 'db-meter-1');
  assert.equal((await b).payload.device, 'db-meter-off');
  assert.equal((await table).payload.detail, undefined, 'a new browser opens on no selection');
  // A browser that went away (ui_control "lost") gets nothing more.
  dash.receive({ payload: 'lost', socketid: 'browser-a' });
  const seen: string[] = [];
  const until = nextMessage<DetailMsg>('devices', (m) => {
    if (m.topic === 'detail' && m.socketid) seen.push(m.socketid);
    return m.topic === 'detail' && m.socketid === 'browser-b' && seen.filter((s) => s === 'browser-b').length >= 2;
  }, 5000);
  await until;
  assert.ok(!seen.slice(1).includes('browser-a'), `details after "lost": ${seen.join(', ')}`);
});
