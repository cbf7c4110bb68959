/**
 * A device-table node inside a subflow, in a real Node-RED process (4 from its command line, 5
 * embedded): the node's runtime id is `<instance id>-<template node id>`, the admin API reaches it
 * by that id, and a device added at runtime is kept in the user dir under that id, so it is back
 * and polling after Node-RED restarts. node-red-node-test-helper does not start subflow instances'
 * nodes, hence a process of its own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { repoRoot, packageJson } from '../support/e2e/install';
import { deployFlows, request, startNodeRed, FlowNode, NodeRedVersion, RunningNodeRed } from '../support/e2e/node-red';
import { startSimulator, RunningSimulator } from '../../nodes/lib/simulator/start';
import { sleep } from '../support/wait';

interface DeviceView {
  name: string;
  source?: string;
  state: { online?: boolean; lastReadingAt?: number };
}

let sim: RunningSimulator;
const dirs: string[] = [];
let red: RunningNodeRed | undefined;

before(async () => {
  sim = await startSimulator({ units: [1, 2, 3] });
});

after(async () => {
  await red?.stop();
  await sim?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function userDir(): { dir: string; settingsFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-fleet-subflow-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'node_modules', ...packageJson.name.split('/').slice(0, -1)), { recursive: true });
  fs.symlinkSync(repoRoot, path.join(dir, 'node_modules', ...packageJson.name.split('/')), 'dir');
  const settingsFile = path.join(dir, 'settings.js');
  fs.writeFileSync(
    settingsFile,
    `module.exports = { uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: 'rtu-e2e',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false }, telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false }, nodesExcludes: ['node-red-dashboard'] };\n`,
  );
  return { dir, settingsFile };
}

const row = (name: string, unitId: number) => ({ name, line: 'sim line', unitId, model: 'rtu/simulated-energy-meter', profile: 'basic_power', interval: 1, enabled: true });

function flows(): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'site' },
    { id: 'line', type: 'rtu-modbus-line', name: 'sim line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 1000, retries: 0, maxOutstanding: 1 },
    { id: 'sf', type: 'subflow', name: 'meters', info: '', in: [], out: [{ x: 400, y: 40, wires: [{ id: 'sf-fleet', port: 0 }] }], env: [] },
    { id: 'sf-fleet', z: 'sf', type: 'rtu-modbus-fleet', name: 'site table', devices: [row('meter-a', 1)], includeRaw: false, bitWrites: 'read-modify-write', cache: '', x: 200, y: 40, wires: [[]] },
    { id: 'inst', z: 'tab', type: 'subflow:sf', name: '', x: 200, y: 80, wires: [[]] },
  ];
}

/** The table through the admin API, once `accept` holds (bounded: 20 s). */
async function devicesWhen(red: RunningNodeRed, id: string, accept: (devices: DeviceView[]) => boolean, what: string): Promise<DeviceView[]> {
  let last = '';
  for (const until = Date.now() + 20_000; Date.now() < until; await sleep(200)) {
    const res = await request(`${red.url}/rtu/fleet/${id}/devices`);
    last = `${res.status} ${await res.text()}`;
    if (res.status !== 200) continue;
    const devices = (JSON.parse(last.slice(4)) as { devices: DeviceView[] }).devices;
    if (accept(devices)) return devices;
  }
  throw new Error(`timed out waiting for ${what}; last answer: ${last.slice(0, 400)}`);
}

const polling = (devices: DeviceView[], name: string) => devices.some((d) => d.name === name && d.state.online === true && !!d.state.lastReadingAt);

for (const version of [4, 5] as NodeRedVersion[]) {
  test(`Node-RED ${version}: a device added at runtime to a table in a subflow instance survives a restart`, async () => {
    const { dir, settingsFile } = userDir();
    const id = 'inst-sf-fleet';
    await red?.stop(); // left running by a failed test before this one
    red = await startNodeRed(version, dir, settingsFile);
    await deployFlows(red, flows());
    await devicesWhen(red, id, (d) => polling(d, 'meter-a'), `meter-a polling in the subflow instance (node id ${id})`);

    const added = await request(`${red.url}/rtu/fleet/${id}/devices`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(row('meter-b', 2)) });
    assert.equal(added.status, 201, await added.text());
    await devicesWhen(red, id, (d) => polling(d, 'meter-b'), 'meter-b polling after the add');
    const stored = path.join(dir, 'rtu-fleet', `${id}.json`);
    assert.ok(fs.existsSync(stored), `the runtime change is kept in ${stored}`);

    await red.stop();
    red = await startNodeRed(version, dir, settingsFile);
    const after = await devicesWhen(red, id, (d) => polling(d, 'meter-a') && polling(d, 'meter-b'), 'both meters polling after the restart');
    assert.deepEqual(after.map((d) => d.name).sort(), ['meter-a', 'meter-b']);
    assert.match(red.log(), /Started flows/);
    await red.stop();
    red = undefined;
  });
}
