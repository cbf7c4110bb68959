/**
 * The Modbus fleet inside Node-RED: what users run. A real Node-RED 4.1 process
 * (started with --expose-gc) in a temporary user dir with this package linked
 * in, a generated flow of N `rtu-modbus-poller` nodes (the simulated meter's 40
 * points as a typed list, max gap 20, editor defaults otherwise) on 10
 * `rtu-modbus-line` nodes, every output wired to one counting function node.
 * The meters are served by the package's simulator in another process.
 *
 * After a warm-up, over a window: readings/s, the Node-RED process's CPU (from
 * /proc), CPU ms per 1000 readings, peak RSS (VmHWM) and RSS at the start and
 * end of the window, the heap used after a forced GC, and the time a deploy
 * and a full redeploy of the flow take through the admin API.
 *
 *   node dist/bench/node-red.js [--seconds 20] [--warmup 10] [--only <scenario name part>] [--source model]
 *
 * --source model: the pollers name the simulated meter's registry model (profile "all", the
 * same 40 points) instead of each carrying the typed list in the flow.
 *
 * For a diagnosis: BENCH_RED_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" passes Node options to
 * Node-RED; BENCH_CPU_PROFILE=/tmp/red.cpuprofile profiles the window only (BENCH_HEAP_PROFILE=/tmp/red.heapprofile:
 * its allocations; with BENCH_HEAP_PROMOTED=1 only those that outlived the young generation);
 * BENCH_HEAP_SNAPSHOT=/tmp/red.heapsnapshot
 * writes a heap snapshot after the window.
 *
 * Targets (issue 14): 1000 devices at 1 s under 20 % of a core and 200 MiB peak
 * RSS; 3000 devices at 1 s under 60 % of a core; 100 devices at 10 ms at least
 * 8,000 readings/s; deploy and full redeploy of 1000 devices under 5 s.
 */
import { ChildProcess, fork, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { PointDef } from '../nodes/lib/modbus/types';
import { sharedRegistry } from '../nodes/lib/registry';
import { DEFAULT_SIMULATED_MODEL } from '../nodes/lib/simulator/models';
import { startSimulator } from '../nodes/lib/simulator/start';

const repoRoot = path.resolve(__dirname, '..', '..');
const packageName = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string }).name;

export interface FlowLayout {
  devices: number;
  /** Simulator TCP ports, one `rtu-modbus-line` each; devices are spread evenly (unit ids from 1). */
  ports: number[];
  intervalSeconds: number;
  /** The device's points as the editor's typed list holds them. */
  points: object[];
  /** 'model': the pollers name the simulated meter's registry model and profile instead of carrying the list. */
  source?: 'points' | 'model';
  maxGap?: number;
}

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  [key: string]: unknown;
}

/** Counts readings into the counter the settings file puts into the global context. */
const COUNTING_FUNCTION = `const c = global.get('benchCounter');
c.readings++;
if (msg.rtu.quality === 'good') c.good++;
return null;`;

/**
 * A registry point as the poller's typed list saves it (the editor's readPointRows): the fields a
 * row has, length only for strings, bit only for bool/bitfield; no description.
 */
export function editorPoint(p: PointDef): Record<string, unknown> {
  const row: Record<string, unknown> = { name: p.name, registerType: p.registerType, address: p.address, dataType: p.dataType };
  if (p.order) row.order = p.order;
  if (p.scale !== undefined) row.scale = p.scale;
  if (p.unit) row.unit = p.unit;
  if (p.dataType === 'string' && p.length !== undefined) row.length = p.length;
  if ((p.dataType === 'bool' || p.dataType === 'bitfield') && p.bit !== undefined) row.bit = p.bit;
  if (p.writable) row.writable = true;
  return row;
}

/** A flow of pollers on lines, every output into one counting function node. */
export function generateFleetFlow(layout: FlowLayout): FlowNode[] {
  const tab = 'bench-tab';
  const counter = 'bench-counter';
  const flow: FlowNode[] = [{ id: tab, type: 'tab', label: `${layout.devices} meters`, disabled: false, info: '' }];
  const perPort = Math.ceil(layout.devices / layout.ports.length);
  if (perPort > 255) throw new Error(`${layout.devices} devices on ${layout.ports.length} ports: more than 255 unit ids per port`);
  layout.ports.forEach((port, p) => {
    flow.push({
      id: `bench-line-${p}`,
      type: 'rtu-modbus-line',
      name: `line ${p}`,
      transport: 'tcp',
      host: '127.0.0.1',
      hostType: 'str',
      port,
      portType: 'num',
      serialPath: '',
      serialPathType: 'str',
      baudRate: 9600,
      parity: 'none',
      dataBits: 8,
      stopBits: 1,
      timeout: 1000,
      retries: 1,
      interRequestDelay: 0,
      maxOutstanding: 1,
      unitBackoffMax: 60,
      reconnectMax: 30,
    });
  });
  for (let i = 0; i < layout.devices; i++) {
    const p = i % layout.ports.length;
    const unit = Math.floor(i / layout.ports.length) + 1;
    flow.push({
      id: `bench-meter-${i}`,
      type: 'rtu-modbus-poller',
      z: tab,
      name: `meter ${p}-${unit}`,
      line: `bench-line-${p}`,
      unitId: unit,
      unitIdType: 'num',
      interval: layout.intervalSeconds,
      flatOut: false,
      source: layout.source ?? 'points',
      model: DEFAULT_SIMULATED_MODEL,
      profile: layout.source === 'model' ? 'all' : 'basic_power',
      points: layout.source === 'model' ? [] : layout.points,
      maxGap: layout.maxGap ?? 20,
      maxRegisters: '',
      neverRead: '',
      byteOrder: '',
      includeRaw: true,
      bitWrites: 'read-modify-write',
      cache: '',
      outputs: 1,
      x: 200,
      y: 40 + (i % 500) * 10,
      wires: [[counter]],
    });
  }
  flow.push({ id: counter, type: 'function', z: tab, name: 'count readings', func: COUNTING_FUNCTION, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 500, y: 40, wires: [] });
  return flow;
}

interface Scenario {
  name: string;
  devices: number;
  ports: number;
  intervalSeconds: number;
}

const SCENARIOS: Scenario[] = [
  { name: '10 devices at 1 s', devices: 10, ports: 10, intervalSeconds: 1 },
  { name: '100 devices at 1 s', devices: 100, ports: 10, intervalSeconds: 1 },
  { name: '1000 devices at 1 s', devices: 1000, ports: 10, intervalSeconds: 1 },
  // 255 unit ids per TCP port at most: 3000 meters need more than 10 ports.
  { name: '3000 devices at 1 s', devices: 3000, ports: 20, intervalSeconds: 1 },
  { name: '100 devices at 10 ms (saturated)', devices: 100, ports: 10, intervalSeconds: 0.01 },
];

// ---------------------------------------------------------------- simulator (child)

async function runSimulator(ports: number, unitsPerPort: number): Promise<void> {
  const units = Array.from({ length: unitsPerPort }, (_, i) => i + 1);
  const started = [];
  for (let i = 0; i < ports; i++) started.push(await startSimulator({ units, maxConnections: 10 }));
  process.send?.({ ports: started.map((s) => s.port) });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- Node-RED (parent)

/** Settings with a counter in the global context and an admin route that collects garbage and reports memory. */
function settingsFile(userDir: string): string {
  const file = path.join(userDir, 'settings.js');
  fs.writeFileSync(
    file,
    `const benchCounter = { readings: 0, good: 0 };
let profiler;
module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'rtu-bench',
  // The generated flows carry 40 points per poller: 1000 pollers are about 7 MB of JSON.
  apiMaxLength: '100mb',
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false },
  nodesExcludes: ['node-red-dashboard'],
  functionGlobalContext: { benchCounter },
  httpAdminMiddleware: function (req, res, next) {
    if (req.path !== '/bench/state') return next();
    if (req.query.gc && global.gc) { global.gc(); global.gc(); }
    if (req.query.snapshot) require('v8').writeHeapSnapshot(String(req.query.snapshot));
    // heap: sample allocations (where the garbage comes from) instead of CPU time.
    const heap = req.query.kind === 'heap';
    if (req.query.profile === 'start') {
      profiler = new (require('inspector').Session)();
      profiler.connect();
      if (heap) profiler.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !process.env.BENCH_HEAP_PROMOTED });
      else profiler.post('Profiler.enable', () => profiler.post('Profiler.start'));
    }
    if (req.query.profile === 'stop' && profiler) {
      const file = String(req.query.file);
      return profiler.post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop', (err, { profile }) => {
        require('fs').writeFileSync(file, JSON.stringify(profile));
        profiler.disconnect();
        res.end('{}');
      });
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ counter: benchCounter, memory: process.memoryUsage() }));
  },
};
`,
  );
  return file;
}

function makeUserDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-bench-red-'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'rtu-bench', version: '0.0.0', private: true, dependencies: { [packageName]: `file:${repoRoot}` } }));
  const where = path.join(dir, 'node_modules', ...packageName.split('/'));
  fs.mkdirSync(path.dirname(where), { recursive: true });
  fs.symlinkSync(repoRoot, where, 'dir');
  return dir;
}

interface RedProcess {
  url: string;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

async function startRed(userDir: string, settings: string, extraArgs: string[]): Promise<RedProcess> {
  const red = path.join(repoRoot, 'node_modules', 'node-red-4', 'red.js');
  const proc = spawn(process.execPath, ['--expose-gc', ...extraArgs, red, '--userDir', userDir, '--settings', settings, '--port', '0'], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Node-RED did not start within 60 s:\n${out}`)), 60000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Server now running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited with ${code}:\n${out}`));
    });
  });
  // Node-RED logs at its default level (info), as users run it; its errors are shown here.
  const errors = (c: Buffer) => {
    for (const line of c.toString().split('\n')) if (/\[error\]/.test(line)) process.stderr.write(`  [node-red] ${line}\n`);
  };
  proc.stdout?.on('data', errors);
  proc.stderr?.on('data', errors);
  // BENCH_RED_LOG=<file>: all of Node-RED's output (with BENCH_RED_NODE_ARGS=--trace-gc, its collections).
  const logFile = process.env.BENCH_RED_LOG;
  if (logFile) {
    proc.stdout?.on('data', (c: Buffer) => fs.appendFileSync(logFile, c));
    proc.stderr?.on('data', (c: Buffer) => fs.appendFileSync(logFile, c));
  }
  return {
    url,
    pid: proc.pid as number,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const kill = setTimeout(() => proc.kill('SIGKILL'), 10000);
        proc.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

async function deploy(url: string, flows: FlowNode[]): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ flows }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /flows answered ${res.status}: ${text}`);
  return performance.now() - t0;
}

interface RedState {
  counter: { readings: number; good: number };
  memory: NodeJS.MemoryUsage;
}

async function state(url: string, gc = false): Promise<RedState> {
  // BENCH_HEAP_SNAPSHOT=<file>: a heap snapshot of Node-RED after the window's forced GC, for finding what the memory is.
  const snapshot = gc && process.env.BENCH_HEAP_SNAPSHOT ? `&snapshot=${encodeURIComponent(process.env.BENCH_HEAP_SNAPSHOT)}` : '';
  const res = await fetch(`${url}/bench/state${gc ? `?gc=1${snapshot}` : ''}`);
  if (!res.ok) throw new Error(`GET /bench/state answered ${res.status}`);
  return (await res.json()) as RedState;
}

/** utime + stime in seconds (USER_HZ 100), and RSS and its peak in MiB, from /proc. */
function procFigures(pid: number): { cpuSeconds: number; systemSeconds: number; rssMiB: number; peakRssMiB: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, systemSeconds: Number(fields[12]) / 100, rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

interface Result {
  deployMs: number;
  redeployMs: number;
  readingsPerSec: number;
  goodShare: number;
  cores: number;
  /** Of cores, the kernel's share (socket reads and writes). */
  systemCores: number;
  cpuMsPer1000: number;
  peakRssMiB: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssMaxInWindowMiB: number;
  heapAfterGcMiB: number;
  simCores: number;
  rssPerMinute: number[];
}

async function runScenario(s: Scenario, seconds: number, warmupSeconds: number, source: 'points' | 'model'): Promise<Result> {
  const unitsPerPort = Math.ceil(s.devices / s.ports);
  const sim = fork(__filename, ['--role', 'sim', '--ports', String(s.ports), '--units', String(unitsPerPort)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: ['--max-semi-space-size=64'],
  });
  const userDir = makeUserDir();
  let red: RedProcess | undefined;
  try {
    const ports = await new Promise<number[]>((resolve, reject) => {
      sim.once('message', (m) => resolve((m as { ports: number[] }).ports));
      sim.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    });
    const model = sharedRegistry().requireModel(DEFAULT_SIMULATED_MODEL);
    const flows = generateFleetFlow({ devices: s.devices, ports, intervalSeconds: s.intervalSeconds, points: model.points.map(editorPoint), source });
    red = await startRed(userDir, settingsFile(userDir), (process.env.BENCH_RED_NODE_ARGS ?? '').split(' ').filter(Boolean));
    const deployMs = await deploy(red.url, flows);
    // Warm-up: every device has answered at least once, then the rest of the warm-up time.
    const warmEnd = Date.now() + warmupSeconds * 1000;
    const firstBy = Date.now() + 60000;
    while ((await state(red.url)).counter.good < s.devices && Date.now() < firstBy) await sleep(200);
    while (Date.now() < warmEnd) await sleep(200);

    // BENCH_CPU_PROFILE=<file>: a CPU profile of Node-RED over the window only (not start-up or deploy).
    // BENCH_HEAP_PROFILE=<file>: a sampled allocation profile over the window instead.
    const profileFile = process.env.BENCH_CPU_PROFILE ?? process.env.BENCH_HEAP_PROFILE;
    const profileKind = process.env.BENCH_CPU_PROFILE ? 'cpu' : 'heap';
    if (profileFile) await fetch(`${red.url}/bench/state?profile=start&kind=${profileKind}`);
    const simCpu0 = procCpu(sim.pid);
    const before = await state(red.url);
    const p0 = procFigures(red.pid);
    const t0 = performance.now();
    let rssMax = p0.rssMiB;
    const end = t0 + seconds * 1000;
    // Highest RSS per minute of the window: growth after warm-up shows here on long runs.
    const rssPerMinute: number[] = [];
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      const rss = procFigures(red.pid).rssMiB;
      rssMax = Math.max(rssMax, rss);
      const minute = Math.floor((performance.now() - t0) / 60000);
      rssPerMinute[minute] = Math.max(rssPerMinute[minute] ?? 0, rss);
    }
    const p1 = procFigures(red.pid);
    const peakBeforeRedeploy = p1.peakRssMiB;
    const after = await state(red.url);
    const elapsed = (performance.now() - t0) / 1000;
    const simCpu1 = procCpu(sim.pid);
    if (profileFile) await fetch(`${red.url}/bench/state?profile=stop&kind=${profileKind}&file=${encodeURIComponent(profileFile)}`);
    const readings = after.counter.readings - before.counter.readings;
    const good = after.counter.good - before.counter.good;
    const cpu = p1.cpuSeconds - p0.cpuSeconds;
    const gcState = await state(red.url, true);
    const redeployMs = await deploy(red.url, flows);
    return {
      deployMs,
      redeployMs,
      readingsPerSec: readings / elapsed,
      goodShare: readings ? good / readings : 0,
      cores: cpu / elapsed,
      systemCores: (p1.systemSeconds - p0.systemSeconds) / elapsed,
      cpuMsPer1000: readings ? (cpu * 1000 * 1000) / readings : NaN,
      peakRssMiB: peakBeforeRedeploy,
      rssStartMiB: p0.rssMiB,
      rssEndMiB: p1.rssMiB,
      rssMaxInWindowMiB: rssMax,
      heapAfterGcMiB: gcState.memory.heapUsed / 1048576,
      simCores: (simCpu1 - simCpu0) / elapsed,
      rssPerMinute,
    };
  } finally {
    await red?.stop();
    sim.kill();
    if (!process.env.BENCH_KEEP_USERDIR) fs.rmSync(userDir, { recursive: true, force: true });
  }
}

function procCpu(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    return procFigures(pid).cpuSeconds;
  } catch {
    return NaN;
  }
}

function report(rows: Array<{ s: Scenario; r: Result }>): void {
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const head = ['fleet', 'readings/s', 'good', 'Node-RED CPU (kernel)', 'CPU ms / 1000 readings', 'peak RSS', 'RSS window start → end (max)', 'heap after GC', 'deploy', 'full redeploy', 'simulator CPU'];
  console.log(`\n| ${head.join(' | ')} |`);
  console.log(`| ${head.map(() => '---').join(' | ')} |`);
  for (const { s, r } of rows) {
    console.log(
      `| ${s.name} (${s.ports} lines) | ${f(r.readingsPerSec)} | ${f(r.goodShare * 100, 1)} % | ${f(r.cores * 100, 1)} % (${f(r.systemCores * 100, 1)} %) | ${f(r.cpuMsPer1000, 0)} | ${f(r.peakRssMiB)} MiB | ${f(r.rssStartMiB)} → ${f(r.rssEndMiB)} (${f(r.rssMaxInWindowMiB)}) MiB | ${f(r.heapAfterGcMiB, 1)} MiB | ${f(r.deployMs / 1000, 2)} s | ${f(r.redeployMs / 1000, 2)} s | ${f(r.simCores * 100, 0)} % |`,
    );
  }
}

async function main(): Promise<void> {
  const seconds = Number(argument('--seconds') ?? 20);
  const warmup = Number(argument('--warmup') ?? 10);
  const only = argument('--only');
  const source = argument('--source') === 'model' ? 'model' : 'points';
  console.log(`Node-RED 4.1 with the package: pollers vs the meter simulator over loopback TCP, ${warmup} s warm-up, ${seconds} s window per fleet`);
  const rows: Array<{ s: Scenario; r: Result }> = [];
  for (const s of SCENARIOS) {
    if (only && !s.name.includes(only)) continue;
    console.log(`\n${s.name} ...`);
    const r = await runScenario(s, seconds, warmup, source);
    rows.push({ s, r });
    report([{ s, r }]);
    if (seconds >= 120) console.log(`\nhighest RSS per minute of the window (MiB): ${r.rssPerMinute.map((m) => m.toFixed(0)).join(', ')}`);
  }
  if (rows.length > 1) report(rows);
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const role = argument('--role');
if (role === 'sim') {
  runSimulator(Number(argument('--ports')), Number(argument('--units'))).catch((err: Error) => {
    console.error(`simulator: ${err.message}`);
    process.exit(1);
  });
} else if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 1;
  });
}
