/**
 * Store-and-forward of rtu-sparkplug across a broker restart and a kill -9 of Node-RED, both
 * during a primary-host outage: Node-RED runs as a child process (5, or 4 with RTU_NODE_RED=4)
 * with the package linked into its user dir; readings arrive over HTTP and are answered once the
 * node has them on disk (a Complete node on rtu-sparkplug); the independent test host checks
 * the Sparkplug rules and that every stored reading arrives, in order, as historical data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { repoRoot, packageJson } from '../support/e2e/install';
import { deployFlows, request, startNodeRed, RunningNodeRed, FlowNode } from '../support/e2e/node-red';
import { TestHost } from '../support/sparkplug/host';
import { TestMosquitto } from '../support/sparkplug/mosquitto';
import { waitFor } from '../support/wait';

const version = process.env.RTU_NODE_RED === '4' ? 4 : 5;
let dir: string;
let settingsFile: string;
let broker: TestMosquitto;
let host: TestHost;
let red: RunningNodeRed | undefined;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-spb-e2e-'));
  const modules = path.join(dir, 'node_modules', ...packageJson.name.split('/').slice(0, -1));
  fs.mkdirSync(modules, { recursive: true });
  fs.symlinkSync(repoRoot, path.join(dir, 'node_modules', ...packageJson.name.split('/')), 'dir');
  settingsFile = path.join(dir, 'settings.js');
  fs.writeFileSync(
    settingsFile,
    `module.exports = { uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: 'rtu-e2e',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false }, telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false }, nodesExcludes: ['node-red-dashboard'] };\n`,
  );
  broker = await TestMosquitto.start(dir);
});

after(async () => {
  await red?.stop();
  await host?.close();
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function flows(): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'sparkplug e2e' },
    { id: 'in', z: 'tab', type: 'http in', url: '/reading', method: 'post', wires: [['shape']] },
    { id: 'shape', z: 'tab', type: 'function', func: 'const r = msg.payload; msg.topic = r.topic; msg.rtu = r.rtu; msg.payload = r.payload; return msg;', outputs: 1, wires: [['spb']] },
    { id: 'spb', z: 'tab', type: 'rtu-sparkplug', name: 'edge', broker: 'broker', groupId: 'plant', edgeNodeId: 'rtu1', primaryHostId: 'scada', healthInterval: 0, wires: [[]] },
    { id: 'kept', z: 'tab', type: 'complete', scope: ['spb'], uncaught: false, wires: [['answer']] },
    { id: 'answer', z: 'tab', type: 'http response', statusCode: '200', wires: [] },
    { id: 'broker', type: 'rtu-mqtt-broker', name: 'test broker', host: '127.0.0.1', port: broker.port, protocolVersion: '4', keepalive: 5 },
  ];
}

async function post(value: number): Promise<void> {
  const body = { topic: 'meter1', payload: { voltage: value }, rtu: { device: 'meter1', protocol: 'modbus', timestamp: 1_800_000_000_000 + value * 1000, quality: 'good', latencyMs: 1, units: { voltage: 'V' }, seq: value, points: { voltage: { dataType: 'float32' } } } };
  const res = await request(`${red!.url}/reading`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

test(`Node-RED ${version}: readings stored during a host outage survive a broker restart and kill -9, and arrive in order as history`, async () => {
  host = new TestHost(broker.port, 'scada', 'plant');
  await host.connect(true);
  red = await startNodeRed(version, dir, settingsFile);
  await deployFlows(red, flows());
  await waitFor(() => host.of('NBIRTH').length === 1, 'NBIRTH', 15_000);
  await post(0);
  await waitFor(() => host.of('DBIRTH', 'meter1').length === 1, 'DBIRTH', 10_000);

  await host.setOnline(false);
  await waitFor(() => host.of('NDEATH').length === 1, 'NDEATH when the host went offline', 10_000);
  for (let v = 1; v <= 10; v++) await post(v);
  await host.close();
  await broker.stop();
  await broker.resume();
  await host.connect(false);
  for (let v = 11; v <= 20; v++) await post(v);

  red.child.proc.kill('SIGKILL');
  process.kill(-red.child.proc.pid!, 'SIGKILL');
  await red.child.exited;
  red = await startNodeRed(version, dir, settingsFile);
  await host.setOnline(true);
  await waitFor(() => host.of('NBIRTH').length === 2, 'NBIRTH after the restart', 15_000);
  await post(21);
  await waitFor(() => host.series('meter1', 'voltage').filter((d) => d.historical).length >= 20, 'the stored readings', 15_000);

  const history = host.series('meter1', 'voltage').filter((d) => d.historical).map((d) => d.value);
  assert.deepEqual(history, Array.from({ length: 20 }, (_, i) => i + 1), 'every reading kept on disk, in order, once');
  const bdSeqs = host.of('NBIRTH').map((m) => Number(m.payload.metrics.find((x) => x.name === 'bdSeq')!.value));
  assert.ok(bdSeqs[1] > bdSeqs[0], `bdSeq of the new session (${bdSeqs[1]}) follows the old ones (${bdSeqs[0]})`);
  assert.equal(host.edges.get('rtu1')!.online, true, 'no stale NDEATH ended the new session');
  assert.deepEqual(host.violations, []);
});
