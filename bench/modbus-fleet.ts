/**
 * Modbus fleet benchmark: lines and device pollers against the package's meter
 * simulator (40 points in 3 planned requests per meter) over loopback Modbus TCP.
 *
 * Each scenario runs the pollers in a fresh child process (so CPU time and peak
 * RSS are the client's alone) while the simulator runs in another child (the
 * other core). Printed per scenario: requests per device per cycle, readings/s,
 * values/s, worst per-device staleness (longest gap between two readings of one
 * device, or since its last one), client CPU seconds per 1000 readings and in
 * cores, peak RSS.
 *
 * Flat out, a bare-socket client (modbus-floor.ts) then polls the same fleet:
 * its staleness is the floor this machine's scheduling allows any client. One
 * variant serves the meters from the pollers' own process (one core for both,
 * no cross-process wake-ups).
 *
 *   node dist/bench/modbus-fleet.js [--seconds 10] [--only <scenario name>]
 *
 * Targets: >= 100,000 values/s as fast as possible on one core with worst
 * staleness <= 2x the achieved cycle; 1000 devices x 40 points at 1 s under half
 * a core and under 150 MiB peak RSS.
 */
import { ChildProcess, fork } from 'child_process';
import { readFileSync } from 'fs';
import { constants, monitorEventLoopDelay, performance, PerformanceEntry, PerformanceObserver } from 'perf_hooks';
import { DevicePoller } from '../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../nodes/lib/modbus/line';
import { SampleRing } from '../nodes/lib/modbus/line-stats';
import type { ReadingMessage } from '../nodes/lib/reading';
import { sharedRegistry } from '../nodes/lib/registry';
import { DEFAULT_SIMULATED_MODEL } from '../nodes/lib/simulator/models';
import { startSimulator, RunningSimulator } from '../nodes/lib/simulator/start';
import { planReads } from '../nodes/lib/modbus/planner';
import { FloorResult, FloorSpec, runBareClient } from './modbus-floor';

interface Scenario {
  name: string;
  ports: number;
  unitsPerPort: number;
  intervalMs: number;
  /** Requests in flight per connection (the simulator answers pipelined requests in order). */
  maxOutstanding: number;
  /** Also poll the fleet with a bare-socket client (bench/modbus-floor.ts): this machine's noise floor. */
  floor?: boolean;
  /** Serve the meters from the pollers' own process: no scheduling between two processes on the machine's cores. */
  simulatorInClient?: boolean;
}

interface ClientSpec extends Scenario {
  portNumbers: number[];
  /** The simulator's process id, to measure its CPU over the same window (Linux /proc). */
  simPid?: number;
  warmupMs: number;
  durationMs: number;
}

interface ClientResult {
  devices: number;
  requestsPerDevicePerCycle: number;
  readings: number;
  goodReadings: number;
  values: number;
  seconds: number;
  worstStalenessMs: number;
  achievedCycleMs: number;
  cpuSeconds: number;
  peakRssMiB: number;
  failedRequests: number;
  /** 99th percentile of the gaps between two readings of one device. */
  gapP99Ms: number;
  /** Readings of the least and the most served device in the window (starvation shows here). */
  fewestReadings: number;
  mostReadings: number;
  /** Longest the client's event loop was blocked: tells client stalls from server stalls. */
  loopDelayMaxMs: number;
  /** Longest time without any reading from any device: a stall of the machine, not of one device. */
  longestSilenceMs: number;
  /** Longest time without a reading from any device of one line (the worst line). */
  longestLineSilenceMs: number;
  /** Most readings of other devices on its line between two readings of one device (strict round-robin: units - 1). */
  mostTurnsWaited: number;
  /** Client garbage collections in the window: count, total and longest pause. */
  gcCount: number;
  /** Of those, full (mark-sweep-compact) collections: old-generation garbage shows here. */
  gcMajor: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** Simulator CPU in cores over the window (undefined where /proc is not available). */
  simCores?: number;
}

const SCENARIOS: Scenario[] = [
  { name: '10 devices at 1 s', ports: 1, unitsPerPort: 10, intervalMs: 1000, maxOutstanding: 1 },
  { name: '100 devices (10 ports x 10 units) at 1 s', ports: 10, unitsPerPort: 10, intervalMs: 1000, maxOutstanding: 1 },
  { name: '100 devices as fast as possible', ports: 10, unitsPerPort: 10, intervalMs: 0, maxOutstanding: 1, floor: true },
  { name: '100 devices as fast as possible, simulator in the same process', ports: 10, unitsPerPort: 10, intervalMs: 0, maxOutstanding: 1, simulatorInClient: true },
  { name: '100 devices as fast as possible, 4 pipelined', ports: 10, unitsPerPort: 10, intervalMs: 0, maxOutstanding: 4 },
  { name: '1000 devices (10 ports x 100 units) at 1 s', ports: 10, unitsPerPort: 100, intervalMs: 1000, maxOutstanding: 1 },
];

// ---------------------------------------------------------------- simulator (child)

async function startFleet(ports: number, unitsPerPort: number): Promise<number[]> {
  const units = Array.from({ length: unitsPerPort }, (_, i) => i + 1);
  const sims: RunningSimulator[] = [];
  for (let i = 0; i < ports; i++) sims.push(await startSimulator({ units, maxConnections: 10 }));
  return sims.map((s) => s.port);
}

async function runSimulator(ports: number, unitsPerPort: number): Promise<void> {
  process.send?.({ ports: await startFleet(ports, unitsPerPort) });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- pollers (child)

async function runClient(spec: ClientSpec): Promise<ClientResult> {
  const model = sharedRegistry().requireModel(DEFAULT_SIMULATED_MODEL);
  const portNumbers = spec.simulatorInClient ? await startFleet(spec.ports, spec.unitsPerPort) : spec.portNumbers;
  const lines = portNumbers.map(
    (port, i) =>
      new ModbusLine({
        name: `line${i}`,
        transport: { kind: 'tcp', host: '127.0.0.1', port },
        timeoutMs: 3000,
        retries: 0,
        maxOutstanding: spec.maxOutstanding,
      }),
  );
  for (const line of lines) line.start();
  await until(() => lines.every((l) => l.connected), 5000);

  let measuring = false;
  let readings = 0;
  let good = 0;
  let values = 0;
  const lastAt = new Map<string, number>();
  let worstGap = 0;
  const gaps = new SampleRing(100_000);
  const perDevice = new Map<string, number>();
  let lastAnyAt = Date.now();
  let longestSilence = 0;
  const lineLastAt = new Map<string, number>();
  let longestLineSilence = 0;
  const lineReadings = new Map<string, number>();
  const deviceTurn = new Map<string, number>();
  let mostTurnsWaited = 0;
  const devices: DevicePoller[] = [];
  for (const [i, line] of lines.entries()) {
    for (let u = 1; u <= spec.unitsPerPort; u++) {
      const device = new DevicePoller({
        name: `meter-${i}-${u}`,
        line,
        unitId: u,
        intervalMs: spec.intervalMs,
        points: model.points,
        plan: { neverRead: model.neverRead },
      });
      device.on('reading', (msg: ReadingMessage) => {
        if (!measuring) return;
        const at = Date.now();
        if (at - lastAnyAt > longestSilence) longestSilence = at - lastAnyAt;
        lastAnyAt = at;
        const lineName = line.name;
        const lineLast = lineLastAt.get(lineName);
        if (lineLast !== undefined && at - lineLast > longestLineSilence) longestLineSilence = at - lineLast;
        lineLastAt.set(lineName, at);
        const turn = (lineReadings.get(lineName) ?? 0) + 1;
        lineReadings.set(lineName, turn);
        const previousTurn = deviceTurn.get(msg.topic);
        if (previousTurn !== undefined && turn - previousTurn - 1 > mostTurnsWaited) mostTurnsWaited = turn - previousTurn - 1;
        deviceTurn.set(msg.topic, turn);
        readings++;
        if (msg.rtu.quality !== 'good') return;
        good++;
        for (const k in msg.payload) if (msg.payload[k] !== null) values++;
        const previous = lastAt.get(msg.topic);
        if (previous !== undefined && msg.rtu.timestamp - previous > worstGap) worstGap = msg.rtu.timestamp - previous;
        if (previous !== undefined) gaps.add(msg.rtu.timestamp - previous);
        perDevice.set(msg.topic, (perDevice.get(msg.topic) ?? 0) + 1);
        lastAt.set(msg.topic, msg.rtu.timestamp);
      });
      devices.push(device);
    }
  }
  for (const d of devices) d.start();
  await sleep(spec.warmupMs);

  const failedBefore = lines.reduce((n, l) => n + failures(l), 0);
  const requestsBefore = lines.reduce((n, l) => n + l.stats().counters.requests, 0);
  const startedAt = Date.now();
  for (const d of devices) lastAt.set(d.name, startedAt);
  lastAnyAt = startedAt;
  for (const l of lines) lineLastAt.set(l.name, startedAt);
  const gc = { count: 0, major: 0, totalMs: 0, maxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      gc.totalMs += e.duration;
      if (e.duration > gc.maxMs) gc.maxMs = e.duration;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const sim0 = processCpuSeconds(spec.simPid);
  measuring = true;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(spec.durationMs);
  measuring = false;
  loopDelay.disable();
  const seconds = (performance.now() - t0) / 1000;
  const sim1 = processCpuSeconds(spec.simPid);
  gcObserver.disconnect();
  const cpu = process.cpuUsage(cpu0);
  const endedAt = Date.now();
  for (const at of lastAt.values()) worstGap = Math.max(worstGap, endedAt - at);
  const requests = lines.reduce((n, l) => n + l.stats().counters.requests, 0) - requestsBefore;
  const failedRequests = lines.reduce((n, l) => n + failures(l), 0) - failedBefore;

  for (const d of devices) d.stop();
  await Promise.all(lines.map((l) => l.stop()));
  const counts = devices.map((d) => perDevice.get(d.name) ?? 0);
  const meanPerDevice = readings / devices.length;
  return {
    devices: devices.length,
    requestsPerDevicePerCycle: readings ? requests / readings : devices[0].plan.requests.length,
    readings,
    goodReadings: good,
    values,
    seconds,
    worstStalenessMs: worstGap,
    achievedCycleMs: meanPerDevice ? (seconds * 1000) / meanPerDevice : Infinity,
    gapP99Ms: gaps.percentile(99) ?? Infinity,
    fewestReadings: Math.min(...counts),
    mostReadings: Math.max(...counts),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    failedRequests,
    loopDelayMaxMs: loopDelay.max / 1e6,
    longestSilenceMs: longestSilence,
    longestLineSilenceMs: longestLineSilence,
    mostTurnsWaited,
    gcCount: gc.count,
    gcMajor: gc.major,
    gcTotalMs: gc.totalMs,
    gcMaxMs: gc.maxMs,
    simCores: sim0 !== undefined && sim1 !== undefined ? (sim1 - sim0) / seconds : undefined,
  };
}

/** utime + stime of a process from /proc (seconds), or undefined. */
function processCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) in clock ticks; USER_HZ is 100 on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function failures(line: ModbusLine): number {
  const c = line.stats().counters;
  return c.timeouts + c.exceptions + c.frameErrors + c.crcErrors + c.linkErrors + c.backoffSkips;
}

// ---------------------------------------------------------------- orchestration (parent)

function child(args: string[], execArgv: string[] = []): ChildProcess {
  return fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
}

function firstMessage<T>(proc: ChildProcess, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child gave no answer within ${timeoutMs} ms`)), timeoutMs);
    proc.once('message', (m) => {
      clearTimeout(timer);
      resolve(m as T);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited with ${code}`));
    });
  });
}

interface ScenarioResult {
  client: ClientResult;
  floor?: FloorResult;
}

async function runScenario(s: Scenario, durationMs: number): Promise<ScenarioResult> {
  const clientArgs = (process.env.FLEET_CLIENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (s.simulatorInClient) {
    const spec: ClientSpec = { ...s, portNumbers: [], warmupMs: 2000, durationMs };
    return { client: await runChild<ClientResult>(['--role', 'client', '--spec', JSON.stringify(spec)], clientArgs, durationMs + 30000) };
  }
  // A larger young generation keeps the simulator's garbage collections short; its pauses would
  // show up as staleness of every device at once. The pollers run with Node's defaults.
  const sim = child(['--role', 'sim', '--ports', String(s.ports), '--units', String(s.unitsPerPort)], ['--max-semi-space-size=64', ...(process.env.FLEET_SIM_NODE_ARGS ?? '').split(' ').filter(Boolean)]);
  try {
    const { ports } = await firstMessage<{ ports: number[] }>(sim, 20000);
    const spec: ClientSpec = { ...s, portNumbers: ports, simPid: sim.pid, warmupMs: 2000, durationMs };
    const client = await runChild<ClientResult>(['--role', 'client', '--spec', JSON.stringify(spec)], clientArgs, durationMs + 30000);
    if (!s.floor) return { client };
    const model = sharedRegistry().requireModel(DEFAULT_SIMULATED_MODEL);
    const requests = planReads(model.points, { neverRead: model.neverRead }).requests.map((r) => ({ fc: r.fc, address: r.address, quantity: r.quantity }));
    const floorSpec: FloorSpec = { portNumbers: ports, unitsPerPort: s.unitsPerPort, requests, warmupMs: 2000, durationMs };
    const floor = await runChild<FloorResult>(['--role', 'floor', '--spec', JSON.stringify(floorSpec)], [], durationMs + 30000);
    return { client, floor };
  } finally {
    sim.kill();
  }
}

async function runChild<T>(args: string[], execArgv: string[], timeoutMs: number): Promise<T> {
  const proc = child(args, execArgv);
  try {
    return await firstMessage<T>(proc, timeoutMs);
  } finally {
    proc.kill();
  }
}

function report(s: Scenario, { client: r, floor }: ScenarioResult): void {
  const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const readingsPerSec = r.readings / r.seconds;
  const valuesPerSec = r.values / r.seconds;
  const cores = r.cpuSeconds / r.seconds;
  console.log(`\n${s.name}  (${r.devices} devices, interval ${s.intervalMs} ms, ${s.maxOutstanding} in flight per line)`);
  console.log(`  requests per device per cycle  ${fmt(r.requestsPerDevicePerCycle, 2)}`);
  console.log(`  readings/s                     ${fmt(readingsPerSec)}   (${fmt(r.goodReadings)} good of ${fmt(r.readings)}; ${r.failedRequests} failed requests)`);
  console.log(`  values/s                       ${fmt(valuesPerSec)}`);
  console.log(`  achieved cycle per device      ${fmt(r.achievedCycleMs, 1)} ms`);
  console.log(`  worst per-device staleness     ${fmt(r.worstStalenessMs)} ms   (${fmt(r.worstStalenessMs / r.achievedCycleMs, 2)}x the cycle; p99 gap ${fmt(r.gapP99Ms)} ms)`);
  console.log(`  readings per device            ${fmt(r.fewestReadings)} .. ${fmt(r.mostReadings)}`);
  console.log(`  client CPU                     ${fmt((r.cpuSeconds / Math.max(r.readings, 1)) * 1000, 3)} s per 1000 readings, ${fmt(cores, 2)} cores`);
  console.log(`  client peak RSS                ${fmt(r.peakRssMiB, 1)} MiB`);
  // Readings of paced devices come in bursts, so silence only tells of stalls when polling flat out.
  const silence = s.intervalMs === 0 ? `no reading from any device for ${fmt(r.longestSilenceMs)} ms at worst; ` : '';
  console.log(`  stalls                         ${silence}client event loop blocked ${fmt(r.loopDelayMaxMs, 1)} ms at worst`);
  if (s.intervalMs === 0) console.log(`  worst line silence             ${fmt(r.longestLineSilenceMs)} ms   (no reading from any device of one line)`);
  if (s.intervalMs === 0) console.log(`  most turns waited              ${r.mostTurnsWaited}   (readings of other devices on its line between two of one device; round-robin: ${s.unitsPerPort - 1})`);
  console.log(`  client GC                      ${r.gcCount} pauses (${r.gcMajor} full), ${fmt(r.gcTotalMs, 0)} ms in all, longest ${fmt(r.gcMaxMs, 1)} ms`);
  if (r.simCores !== undefined) console.log(`  simulator CPU                  ${fmt(r.simCores, 2)} cores`);
  if (s.simulatorInClient) console.log(`  (the simulator runs in the pollers' process: client CPU and RSS include serving the fleet)`);
  if (floor) {
    const f = floor;
    console.log(`  noise floor                    worst ${fmt(f.worstStalenessMs)} ms = ${fmt(f.worstStalenessMs / f.achievedCycleMs, 2)}x its ${fmt(f.achievedCycleMs, 1)} ms cycle; p99 gap ${fmt(f.gapP99Ms / f.achievedCycleMs, 2)}x`);
    console.log(`                                 (bare-socket client, same fleet and requests, no package code: ${fmt(f.readings / f.seconds)} readings/s, ${fmt(f.cpuSeconds / f.seconds, 2)} cores)`);
  }
}

async function main(): Promise<void> {
  const seconds = Number(argument('--seconds') ?? 10);
  const only = argument('--only');
  console.log(`Modbus fleet benchmark: pollers vs the meter simulator over loopback TCP, ${seconds} s per scenario after 2 s warm-up`);
  for (const s of SCENARIOS) {
    if (only && !s.name.includes(only)) continue;
    report(s, await runScenario(s, seconds * 1000));
  }
}

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** A child's one answer to the parent, then exit. */
function reportToParent(label: string, result: Promise<object>): void {
  result.then(
    (r) => process.send?.(r, () => process.exit(0)),
    (err: Error) => {
      console.error(`${label}: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
}

const role = argument('--role');
if (role === 'sim') {
  runSimulator(Number(argument('--ports')), Number(argument('--units'))).catch((err: Error) => {
    console.error(`simulator: ${err.message}`);
    process.exit(1);
  });
} else if (role === 'floor') {
  reportToParent('bare client', runBareClient(JSON.parse(argument('--spec') as string) as FloorSpec));
} else if (role === 'client') {
  reportToParent('client', runClient(JSON.parse(argument('--spec') as string) as ClientSpec));
} else if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 1;
  });
}

export { main as runModbusFleetBench };
