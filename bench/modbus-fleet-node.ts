/**
 * The device-table node inside Node-RED: one rtu-modbus-fleet node polling
 * 1000 simulated meters (10 lines x 100 units, 40 points in 3 requests each) at
 * 1 s. Node-RED runs in a child process of its own (embedded, this package
 * loaded from the repository through the user dir's node_modules), the
 * simulators in another, so CPU and peak RSS are Node-RED's alone.
 *
 * Printed: time for the 1000-row table to start, readings/s, Node-RED's CPU in
 * cores and peak RSS over the window, the worst staleness of any device, and the
 * same while one device is added and one removed through the admin API; then the
 * floor: a bare-socket client sending the same requests at the same pace.
 *
 *   node dist/bench/modbus-fleet-node.js [--devices 1000] [--seconds 20]
 *
 * BENCH_CPU_PROFILE=<file> writes a CPU profile of the polling window.
 *
 * Target (issue 19): under 0.10 cores and under 150 MiB peak RSS.
 */
import { ChildProcess, fork } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import { startSimulator } from '../nodes/lib/simulator/start';
import { sharedRegistry } from '../nodes/lib/registry';
import { DEFAULT_SIMULATED_MODEL } from '../nodes/lib/simulator/models';
import { planReads } from '../nodes/lib/modbus/planner';
import { FloorResult, FloorSpec, runBareClient } from './modbus-floor';

const ROOT = path.resolve(__dirname, '..', '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- simulators (child)

async function runSimulators(lines: number, units: number): Promise<void> {
  const ids = Array.from({ length: units }, (_, i) => i + 1);
  const ports: number[] = [];
  for (let i = 0; i < lines; i++) ports.push((await startSimulator({ units: ids, maxConnections: 10 })).port);
  process.send?.({ ports });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- Node-RED (child)

function api(port: number, method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (t) => (text += t));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

interface DeviceView {
  name: string;
  state: { online?: boolean; lastReadingAt?: number };
}

async function runNodeRed(userDir: string, devices: number, seconds: number): Promise<void> {
  const redPath = require.resolve('node-red', { paths: [ROOT] });
  const RED = require(redPath); // eslint-disable-line @typescript-eslint/no-require-imports
  const express = require(require.resolve('express', { paths: [path.dirname(redPath)] })); // eslint-disable-line @typescript-eslint/no-require-imports
  const app = express();
  const server = http.createServer(app);
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    logging: { console: { level: 'warn' } },
    editorTheme: { projects: { enabled: false }, tours: false },
    telemetry: { enabled: false, updateNotification: false },
    externalModules: { autoInstall: false },
    disableEditor: true,
  });
  app.use('/', RED.httpAdmin);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const loadStarted = Date.now();
  await RED.start();
  const view = async () => (await api(port, 'GET', '/rtu/fleet/fleet/devices')).json as { devices: DeviceView[] } | undefined;
  // Start is watched through the node's own status ("1000 devices, 1000 online"), in process:
  // polling the API for it would add the garbage of a 1000-row answer every few hundred ms.
  const allOnline = `${devices} devices, ${devices} online`;
  let lastStatus = '(none)';
  const online = await new Promise<number>((resolve, reject) => {
    const watch = (e: { id: string; status: { text?: string } }) => {
      if (e.id !== 'fleet') return;
      lastStatus = e.status?.text ?? '';
      if (lastStatus !== allOnline) return;
      RED.events.removeListener('node-status', watch);
      clearTimeout(timer);
      resolve(devices);
    };
    const timer = setTimeout(() => {
      RED.events.removeListener('node-status', watch);
      reject(new Error(`not all ${devices} devices online 60 s after start; the fleet node's last status: "${lastStatus}"`));
    }, 60_000);
    RED.events.on('node-status', watch);
  });
  const allOnlineMs = Date.now() - loadStarted;
  const startPeakMiB = process.resourceUsage().maxRSS / 1024;
  await sleep(5000);

  // CPU over a window in which nothing else happens in the process (no API requests).
  // BENCH_CPU_PROFILE=<file>: a CPU profile of this window only.
  const profileFile = process.env.BENCH_CPU_PROFILE;
  const profiler = profileFile ? new (require('inspector') as typeof import('inspector')).Session() : undefined;
  if (profiler) {
    profiler.connect();
    await new Promise((r) => profiler.post('Profiler.enable', () => profiler.post('Profiler.start', r)));
  }
  const cpu0 = process.cpuUsage();
  const c0 = Date.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  if (profiler && profileFile) {
    await new Promise<void>((resolve) => profiler.post('Profiler.stop', (err, r) => {
      fs.writeFileSync(profileFile, JSON.stringify(r.profile));
      profiler.disconnect();
      resolve();
    }));
  }
  const cores = (cpu.user + cpu.system) / 1e6 / ((Date.now() - c0) / 1000);
  const systemCores = cpu.system / 1e6 / ((Date.now() - c0) / 1000);
  // Peak so far: start, the first polls and polling alone, before the API's large answers below add their own garbage.
  const pollingPeakMiB = process.resourceUsage().maxRSS / 1024;

  // Staleness from the API (which itself costs CPU, so it is measured apart): the age of each device's latest reading.
  const measure = async (during?: () => Promise<void>) => {
    const t0 = Date.now();
    const seen = new Map<string, number>();
    let worst = 0;
    let readings = 0;
    // Staleness from the API: every 500 ms, the age of each device's latest reading.
    const until = t0 + seconds * 1000;
    let acted = false;
    while (Date.now() < until) {
      if (during && !acted && Date.now() > t0 + (seconds * 1000) / 2) {
        acted = true;
        await during();
      }
      const v = await view();
      const now = Date.now();
      for (const d of v?.devices ?? []) {
        const at = d.state.lastReadingAt;
        if (!at) continue;
        if (seen.get(d.name) !== at) readings++;
        seen.set(d.name, at);
        if (d.name !== 'added-1' && now - at > worst) worst = now - at;
      }
      await sleep(500);
    }
    const wall = (Date.now() - t0) / 1000;
    return { worstStalenessMs: worst, approxReadingsPerS: readings / wall };
  };
  const steady = await measure();
  const changed = await measure(async () => {
    const add = await api(port, 'POST', '/rtu/fleet/fleet/devices', { name: 'added-1', line: 'line-1', unitId: Math.min(247, devices / 10 + 1), model: 'rtu/simulated-energy-meter', profile: 'all', interval: 1 });
    const remove = await api(port, 'DELETE', '/rtu/fleet/fleet/devices/meter-2-1');
    if (add.status !== 201 || remove.status !== 200) throw new Error(`runtime change answered ${add.status}/${remove.status}: ${JSON.stringify(add.json ?? remove.json)}`);
  });
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  (global as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  const rssNowMiB = mem.rss / 2 ** 20;
  const heapMiB = mem.heapUsed / 2 ** 20;
  console.log(`  memory after GC: ${JSON.stringify(Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, Math.round(v / 2 ** 20)])))} MiB`);
  process.send?.({ allOnlineMs, startPeakMiB, cores, systemCores, pollingPeakMiB, steady, changed, maxRssMiB, rssNowMiB, heapMiB, online });
  await RED.stop();
  server.close();
  process.exit(0);
}

// ---------------------------------------------------------------- main

/** The child's first message, or a rejection naming it when it exits first. */
function firstMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const devices = arg('devices', 1000);
  const seconds = arg('seconds', 20);
  const lines = 10;
  const units = devices / lines;
  const sim = fork(__filename, ['--sim', String(lines), String(units)], { stdio: 'inherit' });
  const { ports } = await new Promise<{ ports: number[] }>((resolve) => sim.once('message', (m) => resolve(m as { ports: number[] })));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-bench-fleet-'));
  fs.mkdirSync(path.join(userDir, 'node_modules', '@energy-rtu'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', '@energy-rtu', 'node-red-energy-rtu'), 'dir');
  const rows = [];
  for (let l = 1; l <= lines; l++) {
    for (let u = 1; u <= units; u++) rows.push({ name: `meter-${l}-${u}`, line: `line-${l}`, unitId: u, model: 'rtu/simulated-energy-meter', profile: 'all', interval: 1, enabled: true });
  }
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    ...ports.map((port, i) => ({ id: `line${i + 1}`, type: 'rtu-modbus-line', name: `line-${i + 1}`, transport: 'tcp', host: '127.0.0.1', port, timeout: 3000, retries: 0, maxOutstanding: 1 })),
    { id: 'fleet', z: 'tab', type: 'rtu-modbus-fleet', name: 'bench', devices: rows, includeRaw: false, bitWrites: 'read-modify-write', cache: '', wires: [[]] },
  ];
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  const red: ChildProcess = fork(__filename, ['--red', userDir, String(devices), String(seconds)], { stdio: 'inherit', execArgv: ['--expose-gc'] });
  const result = await firstMessage<any>(red, 'Node-RED child').finally(() => fs.rmSync(userDir, { recursive: true, force: true })); // eslint-disable-line @typescript-eslint/no-explicit-any
  // The floor: a bare-socket client (no package code in its path) sends the same requests to the
  // same simulators at the same pace, one in flight per connection: what the traffic itself costs.
  const model = sharedRegistry().requireModel(DEFAULT_SIMULATED_MODEL);
  const requests = planReads(model.points, { neverRead: model.neverRead }).requests.map((r) => ({ fc: r.fc, address: r.address, quantity: r.quantity }));
  const floorSpec: FloorSpec = { portNumbers: ports, unitsPerPort: units, requests, warmupMs: 3000, durationMs: seconds * 1000, cycleMs: 1000 };
  const floorChild = fork(__filename, ['--floor', JSON.stringify(floorSpec)], { stdio: 'inherit' });
  const floor = await firstMessage<FloorResult>(floorChild, 'floor client').finally(() => sim.kill());
  const f = (n: number, d = 2) => n.toFixed(d);
  console.log(`rtu-modbus-fleet in Node-RED, ${devices} devices x 40 points at 1 s on ${lines} lines`);
  console.log(`  all ${result.online} devices read good ${result.allOnlineMs} ms after start (peak RSS by then ${f(result.startPeakMiB, 0)} MiB)`);
  console.log(`  Node-RED CPU over ${seconds} s of polling alone: ${f(result.cores, 3)} cores (${f(result.systemCores, 3)} of it in the kernel)`);
  console.log(`  the same ${requests.length} requests per device per second from a bare-socket client (no package code): ${f(floor.cpuSeconds / floor.seconds, 3)} cores (${f(floor.systemSeconds / floor.seconds, 3)} in the kernel), ${f(floor.readings / floor.seconds, 0)} polls/s`);
  console.log(`  steady: ~${f(result.steady.approxReadingsPerS, 0)} readings/s seen by 0.5 s API samples, worst staleness ${result.steady.worstStalenessMs} ms`);
  console.log(`  one add + one remove through the admin API mid-window: worst staleness of the others ${result.changed.worstStalenessMs} ms`);
  console.log(`  Node-RED peak RSS ${f(result.pollingPeakMiB, 0)} MiB through start and polling, ${f(result.maxRssMiB, 0)} MiB with the API samples; at the end ${f(result.rssNowMiB, 0)} MiB RSS, ${f(result.heapMiB, 0)} MiB heap after GC (target: < 0.10 cores, < 150 MiB)`);
}

if (process.argv[2] === '--floor') {
  void runBareClient(JSON.parse(process.argv[3]) as FloorSpec).then((r) => {
    process.send?.(r);
    process.exit(0);
  });
} else if (process.argv[2] === '--sim') void runSimulators(Number(process.argv[3]), Number(process.argv[4]));
else if (process.argv[2] === '--red') void runNodeRed(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
else if (require.main === module) main().catch((err) => {
  console.error(err);
  process.exit(1);
});
