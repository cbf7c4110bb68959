/**
 * Importing the bundled flows the ways they go wrong, in Node-RED 4 and 5 with
 * the package installed from its tarball and no node-red-dashboard: the full
 * pipeline (which has a dashboard tab), the pipeline twice, and every example
 * of the package one after the other. Node-RED must say clearly what is
 * missing or in conflict, keep running, and run what can run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { installedExample, retarget, Targets } from '../support/e2e/flows';
import { makeUserDir, pack, packageJson, UserDir } from '../support/e2e/install';
import { deployFlows, FlowNode, installedNodes, NodeRedVersion, request, RunningNodeRed, startNodeRed } from '../support/e2e/node-red';
import { Broker, freePort, startBroker } from '../support/e2e/peers';
import { stopAll } from '../support/e2e/processes';
import { sleep, waitFor } from '../support/wait';

let workDir = '';
let userDir: UserDir;
let broker: Broker;
let packageDir = '';

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-import-'));
  userDir = await makeUserDir(await pack(workDir), { dashboard: false });
  packageDir = path.join(userDir.dir, 'node_modules', ...packageJson.name.split('/'));
  broker = await startBroker();
});

after(async () => {
  await stopAll();
  await broker?.stop();
  userDir?.remove();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function targets(): Promise<Targets> {
  return { simulatorPort: await freePort(), gatewayPort: await freePort(), mqttPort: broker.port, httpUrl: `http://127.0.0.1:${await freePort()}` };
}

/** Every node id, config reference and wire of a flow, renamed: what "import copy" in the editor does. */
function copyOf(flow: FlowNode[], suffix: string): FlowNode[] {
  const ids = new Set(flow.map((n) => n.id));
  const rename = (v: unknown): unknown => (typeof v === 'string' && ids.has(v) ? `${v}${suffix}` : Array.isArray(v) ? v.map(rename) : v);
  return flow.map((n) => Object.fromEntries(Object.entries(n).map(([k, v]) => [k, k === 'type' || k === 'name' ? v : rename(v)])) as FlowNode);
}

async function alive(red: RunningNodeRed): Promise<void> {
  const res = await request(`${red.url}/settings`);
  assert.equal(res.status, 200, 'the runtime keeps answering');
}

for (const version of [4, 5] as NodeRedVersion[]) {
  test(`Node-RED ${version} without node-red-dashboard: the full pipeline waits for the dashboard, the plain one runs, twice is reported`, { timeout: 90000 }, async () => {
    // Each runtime starts from an empty workspace, as after a fresh install.
    fs.rmSync(path.join(userDir.dir, 'flows.json'), { force: true });
    const red = await startNodeRed(version, userDir.dir, userDir.settingsFile);
    try {
      const types = (await installedNodes(red)).flatMap((m) => m.types);
      assert.ok(types.includes('rtu-test-mode') && types.includes('rtu-dashboard'), 'the package is installed');
      assert.ok(!types.includes('ui_template'), 'node-red-dashboard is not');

      // The pipeline with its dashboard tab: Node-RED accepts it and says which types are missing.
      let mark = red.log().length;
      await deployFlows(red, retarget(installedExample(packageDir, 'rtu-pipeline'), await targets()));
      await red.child.waitFor(/Waiting for missing types to be registered:/, 10000, mark);
      await sleep(1000);
      const waiting = red.log().slice(mark);
      for (const t of ['ui_template', 'ui_chart', 'ui_group', 'ui_tab']) assert.match(waiting, new RegExp(` - ${t}\\b`), `${t} is named as missing`);
      assert.doesNotMatch(waiting, /simulated meters on 127\.0\.0\.1/, 'no node starts while types are missing');
      await alive(red);

      // The pipeline without dashboard runs with the package alone.
      mark = red.log().length;
      const t = await targets();
      const plain = retarget(installedExample(packageDir, 'rtu-pipeline-without-dashboard'), t);
      await deployFlows(red, plain);
      await red.child.waitFor(/simulator "simulated meters": 4 simulated meters on 127\.0\.0\.1/, 10000, mark);
      const since = broker.messages.length;
      await waitFor(() => broker.messages.slice(since).some((m) => /site\/meter-1\/measurements$/.test(m.topic)), 'readings at the broker', 15000, 100);

      // Imported twice ("import copy"): the copy cannot open the same ports and says so; the first keeps running.
      mark = red.log().length;
      await deployFlows(red, [...plain, ...copyOf(plain, '_copy')]);
      await waitFor(() => /EADDRINUSE/.test(red.log().slice(mark)), 'the port conflict to be reported', 10000, 50);
      const twice = red.log().slice(mark);
      assert.match(twice, new RegExp(`cannot listen on 127\\.0\\.0\\.1:(${t.simulatorPort}|${t.gatewayPort}): EADDRINUSE`));
      const after = broker.messages.length;
      await waitFor(() => broker.messages.slice(after).some((m) => /site\/meter-1\/measurements$/.test(m.topic)), 'readings after the double import', 15000, 100);
      await alive(red);
      assert.doesNotMatch(red.log(), /Unhandled|uncaughtException|TypeError/);
    } finally {
      await red.stop();
    }
  });
}

test('every example of the package deploys in Node-RED 5 and 4 with the package alone', { timeout: 120000 }, async () => {
  // The two full pipelines need a dashboard package (node-red-dashboard, or Dashboard 2): they have tests of their own.
  const needsDashboard = ['rtu-pipeline.json', 'rtu-pipeline-dashboard-2.json'];
  const files = fs.readdirSync(path.join(packageDir, 'examples')).filter((f) => f.endsWith('.json') && !needsDashboard.includes(f));
  assert.ok(files.length >= 5, `examples found: ${files.join(', ')}`);
  const report: string[] = [];
  for (const version of [5, 4] as NodeRedVersion[]) {
    fs.rmSync(path.join(userDir.dir, 'flows.json'), { force: true });
    const red = await startNodeRed(version, userDir.dir, userDir.settingsFile);
    try {
      for (const file of files) {
        const flow = retarget(installedExample(packageDir, file.replace(/\.json$/, '')), await targets());
        const mark = red.log().length;
        const deployedAt = Date.now();
        await deployFlows(red, flow);
        await red.child.waitFor(/Started flows/, 10000, mark);
        // Errors that nodes report while starting arrive just after.
        await sleep(Math.max(0, 600 - (Date.now() - deployedAt)));
        const log = red.log().slice(mark);
        assert.doesNotMatch(log, /Waiting for missing types/, `${file} needs a type the package does not provide:\n${log}`);
        assert.match(log, /Started flows/, `${file} started`);
        await alive(red);
        const errors = log.split('\n').filter((l) => /\[error\]/.test(l));
        if (errors.length) report.push(`Node-RED ${version} ${file}: ${errors.length} error line(s), first: ${errors[0].replace(/^.*\[error\] /, '')}`);
      }
    } finally {
      await red.stop();
    }
  }
  // Errors that examples log with their placeholders (no credentials, no IED) are listed, not hidden.
  for (const line of report) console.log(`# ${line}`);
});
