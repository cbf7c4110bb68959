/**
 * A dead unit on a shared line: what one meter that never answers costs the
 * healthy meters beside it, over Modbus TCP and over Modbus RTU at 9600 baud
 * (a socat pty pair), against the package's meter simulator with one unit
 * switched off. The line runs with its defaults (timeout 1 s, one retry,
 * unit backoff 1 s doubling to 60 s); every device polls at 1 s.
 *
 * Printed per transport: the healthy units' worst gap between two polls (and
 * in intervals), their late cycles (a gap over 1.5 intervals: a cycle missed;
 * the most any one healthy unit had),
 * the dead unit's readings and worst gap (it reports from its backoff, without
 * the bus), and how many requests went to it.
 *
 *   node dist/bench/modbus-dead-unit.js [--seconds 40]
 */
import { spawn } from 'child_process';
import { DevicePoller } from '../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../nodes/lib/modbus/line';
import type { TransportConfig } from '../nodes/lib/modbus/transport-types';
import type { ReadingMessage } from '../nodes/lib/reading';
import { sharedRegistry } from '../nodes/lib/registry';
import { startRtuSimulator, startSimulator } from '../nodes/lib/simulator/start';

const INTERVAL_MS = 1000;
const HEALTHY = [1, 2, 4];
const DEAD = 3;

interface Figures {
  transport: string;
  seconds: number;
  healthyReadings: number;
  healthyBad: number;
  firstBadError?: string;
  worstGapMs: number;
  lateCycles: number;
  /** The same from the moment the dead unit is backing off (its first request took every attempt). */
  worstGapKnownMs: number;
  lateCyclesKnown: number;
  deadReadings: number;
  deadWorstGapMs: number;
  deadRequests: number;
  disconnects: number;
}

async function run(label: string, transport: TransportConfig, durationMs: number): Promise<Figures> {
  const points = sharedRegistry().profilePoints('rtu/simulated-energy-meter', 'basic_power');
  const line = new ModbusLine({ name: label, transport });
  const units = [...HEALTHY, DEAD];
  const devices = units.map((unitId) => new DevicePoller({ name: `meter-${unitId}`, line, unitId, intervalMs: INTERVAL_MS, points }));
  const starts = new Map<number, number[]>(units.map((u) => [u, []]));
  let healthyBad = 0;
  let firstBadError: string | undefined;
  let measuring = true;
  let knownAt = Infinity;
  line.once('unit-backoff', () => (knownAt = Date.now()));
  for (const d of devices) {
    d.on('reading', (m: ReadingMessage) => {
      if (!measuring) return;
      starts.get(d.unitId)?.push(m.rtu.timestamp - m.rtu.latencyMs);
      if (d.unitId !== DEAD && m.rtu.quality !== 'good') {
        healthyBad++;
        firstBadError ??= m.rtu.error;
      }
    });
  }
  line.start();
  for (const d of devices) d.start();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  for (const d of devices) d.stop();
  const stats = line.stats();
  await line.stop();

  const gaps = (list: number[]) => list.slice(1).map((t, i) => t - list[i]);
  const healthyGaps = HEALTHY.flatMap((u) => gaps(starts.get(u) ?? []));
  const lateOf = (list: number[]) => gaps(list).filter((g) => g > 1.5 * INTERVAL_MS).length;
  // polls after the dead unit's first failure (which took every attempt)
  const known = (u: number) => (starts.get(u) ?? []).filter((t) => t >= knownAt);
  const deadTimes = starts.get(DEAD) ?? [];
  return {
    transport: label,
    seconds: durationMs / 1000,
    healthyReadings: HEALTHY.reduce((n, u) => n + (starts.get(u)?.length ?? 0), 0),
    healthyBad,
    firstBadError,
    worstGapMs: Math.max(0, ...healthyGaps),
    lateCycles: Math.max(...HEALTHY.map((u) => lateOf(starts.get(u) ?? []))),
    worstGapKnownMs: Math.max(0, ...HEALTHY.flatMap((u) => gaps(known(u)))),
    lateCyclesKnown: Math.max(...HEALTHY.map((u) => lateOf(known(u)))),
    deadReadings: deadTimes.length,
    deadWorstGapMs: Math.max(0, ...gaps(deadTimes)),
    deadRequests: stats.counters.timeouts,
    disconnects: stats.counters.disconnects,
  };
}

async function ptyPair(): Promise<{ client: string; device: string; stop(): void }> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`socat did not start: ${text}`)), 5000);
    child.once('error', (err) => reject(new Error(`cannot start socat: ${err.message}`)));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      text += t;
      const ptys = [...text.matchAll(/PTY is (\S+)/g)].map((m) => m[1]);
      if (ptys.length === 2 && text.includes('starting data transfer loop')) {
        clearTimeout(timer);
        child.stderr?.removeAllListeners('data').resume();
        resolve({ client: ptys[0], device: ptys[1], stop: () => child.kill('SIGTERM') });
      }
    });
  });
}

function print(f: Figures): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `${f.transport.padEnd(12)} healthy units: ${f.healthyReadings} readings (${f.healthyBad} bad), worst gap ${s(f.worstGapMs)} ` +
      `(${(f.worstGapMs / INTERVAL_MS).toFixed(2)} x interval), at most ${f.lateCycles} late cycles per unit; ` +
      `once the dead unit backs off: worst gap ${s(f.worstGapKnownMs)}, at most ${f.lateCyclesKnown} late cycles per unit; ` +
      `dead unit: ${f.deadReadings} bad readings, worst gap ${s(f.deadWorstGapMs)}, ${f.deadRequests} requests on the bus; ` +
      `${f.disconnects} disconnects`,
  );
  if (f.firstBadError) console.log(`${''.padEnd(12)} first bad reading of a healthy unit: ${f.firstBadError}`);
}

async function main(): Promise<void> {
  const secondsArg = process.argv.indexOf('--seconds');
  const durationMs = (secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 40) * 1000;
  console.log(
    `dead unit on a shared line: units ${HEALTHY.join(', ')} answer, unit ${DEAD} never does; every device at ${INTERVAL_MS} ms; ` +
      `line defaults (timeout 1 s, 1 retry, unit backoff 1 s..60 s); ${durationMs / 1000} s per transport`,
  );
  const sim = await startSimulator({ units: units(), deadUnitIds: [DEAD] });
  try {
    print(await run('tcp', { kind: 'tcp', host: '127.0.0.1', port: sim.port }, durationMs));
  } finally {
    await sim.close();
  }
  const pair = await ptyPair();
  const rtu = await startRtuSimulator({ path: pair.device, baudRate: 9600, units: units(), deadUnitIds: [DEAD] });
  try {
    print(await run('rtu 9600', { kind: 'rtu', path: pair.client, baudRate: 9600 }, durationMs));
  } finally {
    await rtu.close();
    pair.stop();
  }
}

function units(): number[] {
  return [...HEALTHY, DEAD];
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
