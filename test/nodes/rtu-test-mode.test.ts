/**
 * rtu-test-mode in the real runtime, with real pollers on a simulator: the
 * switch by message, its state file (what a restart reads), verify
 * configuration with a dead unit, and clear errors for bad commands.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import testModeNode from '../../nodes/rtu-test-mode/rtu-test-mode';
import { parseCommand } from '../../nodes/rtu-test-mode/command';
import { testMode, TestModeSwitch } from '../../nodes/lib/test-mode';
import { RunningSimulator, startSimulator } from '../../nodes/lib/simulator/start';
import type { TestModePanel } from '../../nodes/lib/verify';
import { helper, nextMessage, runtimeName, statusWhere } from '../support/node-red';

// The runtime's own Catch node, to see errors the way a flow does.
const catchNode = require(require.resolve('@node-red/nodes/core/common/25-catch.js', { paths: [path.dirname(require.resolve(runtimeName))] }));

let sim: RunningSimulator;
let userDir: string;

interface PanelMsg {
  topic: string;
  payload: TestModePanel;
}

before(async () => {
  sim = await startSimulator({ units: [1, 2], deadUnitIds: [7] });
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-test-mode-'));
  helper.settings({ userDir });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await sim.close();
  testMode.set(false, 'test cleanup');
  fs.rmSync(userDir, { recursive: true, force: true });
});
afterEach(async () => {
  await helper.unload();
});

function flow(extra: Record<string, unknown> = {}) {
  const poller = (id: string, name: string, unitId: number) => ({
    id,
    z: 'tab',
    type: 'rtu-modbus-poller',
    name,
    line: 'line',
    unitId,
    interval: 5,
    source: 'model',
    model: 'rtu/simulated-energy-meter',
    profile: 'basic_power',
    wires: [[]],
  });
  return [
    { id: 'tab', type: 'tab', label: 'test mode' },
    { id: 'line', type: 'rtu-modbus-line', name: 'tm line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 300, retries: 0 },
    poller('p1', 'tm-meter-1', 1),
    poller('p7', 'tm-meter-off', 7),
    { id: 'tm', z: 'tab', type: 'rtu-test-mode', name: 'switch', timeout: 3, concurrency: 4, limits: [], announce: true, wires: [['out']], ...extra },
    { id: 'out', z: 'tab', type: 'helper', wires: [] },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper', wires: [] },
  ];
}

test('after deploy the node announces the state; a message switches test mode and the state file follows', async () => {
  testMode.set(false, 'test setup');
  const announced = helper.load([lineNode, pollerNode, testModeNode, catchNode], flow());
  await announced;
  const first = await nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode');
  assert.equal(first.payload.testMode.enabled, false);
  assert.equal(first.payload.verification.running, false);

  const blue = statusWhere('tm', (s) => s.fill === 'blue');
  const reply = nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode' && m.payload.testMode.enabled);
  helper.getNode('tm').receive({ payload: 'on', by: 'commissioning engineer' });
  const on = await reply;
  assert.equal(on.payload.testMode.changedBy, 'commissioning engineer');
  // The test helper's RED._ returns the message key; the runtime shows the en-US text.
  assert.equal((await blue).text, 'rtu-test-mode.status.test');
  assert.equal(testMode.enabled, true);

  // What a restart reads: a fresh switch bound to the same file in the user dir.
  const file = path.join(userDir, 'rtu-test-mode.json');
  const restarted = new TestModeSwitch();
  restarted.attach(file);
  assert.equal(restarted.enabled, true);
  assert.equal(restarted.snapshot().changedBy, 'commissioning engineer');

  const off = nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode' && !m.payload.testMode.enabled);
  helper.getNode('tm').receive({ payload: false, socketid: 'abc' });
  assert.equal((await off).payload.testMode.changedBy, 'dashboard');
  const again = new TestModeSwitch();
  again.attach(file);
  assert.equal(again.enabled, false);
});

test('the state set before a redeploy is announced after it', async () => {
  testMode.set(true, 'before redeploy');
  await helper.load([lineNode, pollerNode, testModeNode, catchNode], flow());
  const msg = await nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode');
  assert.equal(msg.payload.testMode.enabled, true);
  assert.equal(msg.payload.testMode.changedBy, 'before redeploy');
  testMode.set(false, 'test');
});

test('verify reads every deployed device once: values with units, plan, the dead unit unreachable with why', async () => {
  await helper.load([lineNode, pollerNode, testModeNode, catchNode], flow());
  await nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode');
  const result = nextMessage<PanelMsg>('out', (m) => m.topic === 'verify', 8000);
  const progress = nextMessage<PanelMsg>('out', (m) => m.topic === 'verify-progress');
  helper.getNode('tm').receive({ topic: 'verify' });
  assert.equal((await progress).payload.verification.running, true);
  const report = (await result).payload.verification.report!;
  const mine = report.devices.filter((d) => d.device.startsWith('tm-'));
  assert.deepEqual(mine.map((d) => [d.device, d.reachable]), [['tm-meter-1', true], ['tm-meter-off', false]]);
  const ok = mine[0];
  assert.equal(ok.line, 'tm line');
  assert.match(ok.plan ?? '', /requests? touching/);
  assert.equal(ok.flagged, 0);
  assert.equal(ok.values.find((v) => v.point === 'frequency')!.unit, 'Hz');
  assert.match(mine[1].error ?? '', /tm-meter-off/);
});

test('a fresh install with "first start: test mode" starts in test mode; a saved state wins afterwards', async () => {
  const file = path.join(userDir, 'rtu-test-mode.json');
  testMode.set(false, 'production before');
  fs.rmSync(file);
  await helper.load([lineNode, pollerNode, testModeNode, catchNode], flow({ initial: 'test' }));
  const first = await nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode');
  assert.equal(first.payload.testMode.enabled, true);
  assert.equal(first.payload.testMode.changedBy, 'rtu-test-mode.label.firstStart');
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).enabled, true);
  await helper.unload();
  testMode.set(false, 'operator');
  await helper.load([lineNode, pollerNode, testModeNode, catchNode], flow({ initial: 'test' }));
  const later = await nextMessage<PanelMsg>('out', (m) => m.topic === 'test-mode');
  assert.equal(later.payload.testMode.enabled, false, 'the saved choice is kept');
});

test('a payload that is no command fails the message with what was expected', async () => {
  await helper.load([lineNode, pollerNode, testModeNode, catchNode], flow());
  const caught = nextMessage<{ error: { message: string } }>('caught');
  helper.getNode('tm').receive({ payload: 1700000000000 });
  assert.match((await caught).error.message, /test mode node "switch": msg.payload 1700000000000 is not a test-mode command: send true\/false/);
});

test('commands are read from payload and topic', () => {
  assert.deepEqual(parseCommand({ payload: true }), { kind: 'set', enabled: true });
  assert.deepEqual(parseCommand({ payload: 'Production' }), { kind: 'set', enabled: false });
  assert.deepEqual(parseCommand({ payload: { enabled: true } }), { kind: 'set', enabled: true });
  assert.deepEqual(parseCommand({ topic: 'verify', payload: 123 }), { kind: 'verify' });
  assert.deepEqual(parseCommand({ payload: 'verify' }), { kind: 'verify' });
  assert.deepEqual(parseCommand({ topic: 'status', payload: true }), { kind: 'show' });
  assert.deepEqual(parseCommand({}), { kind: 'show' });
  assert.ok('error' in parseCommand({ payload: [1, 2] }));
});
