/**
 * Derived points throughput: a 10-term expression evaluated per reading, the
 * whole engine path (readings extended with derived points, an interval tracker
 * per meter), and a site total over 1000 meters. Target: at least 1 million
 * derived values/s on one core for a 10-term expression.
 * Run: npm run build && node dist/bench/derive.js
 */
import { performance } from 'perf_hooks';
import { compileExpression } from '../nodes/lib/derive/expression-compile';
import { DeriveEngine } from '../nodes/lib/derive/engine';
import { GOOD, PointTable } from '../nodes/lib/derive/point-table';
import type { ReadingMessage } from '../nodes/lib/reading';

const TEN_TERMS = 'p1 + p2 + p3 - q1 * 0.5 + q2 / 2 + sqrt(s1 * s1) + abs(s2) + max(v1, v2) + i1 * v3 / 1000';
const NAMES = ['p1', 'p2', 'p3', 'q1', 'q2', 's1', 's2', 'v1', 'v2', 'v3', 'i1'];

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function measure(label: string, unit: string, run: (n: number) => number, seconds = 2): void {
  run(1000); // warm up
  let n = 1000;
  let done = 0;
  let work = 0;
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    work += run(n);
    done += n;
    n = Math.min(n * 2, 1 << 20);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - cpu0;
  console.log(`${label}: ${Math.round(work / cpu).toLocaleString('en-US')} ${unit} per CPU-second (${Math.round(work / wall).toLocaleString('en-US')}/s wall at ${(cpu / wall).toFixed(2)} cores; ${done.toLocaleString('en-US')} runs)`);
}

// 1. The evaluator alone: one compiled 10-term expression, inputs changing every run.
{
  const table = new PointTable();
  const expr = compileExpression(TEN_TERMS, { table, device: 'meter-1' });
  const slots = NAMES.map((n) => table.slot('meter-1', n));
  let sink = 0;
  measure('10-term expression', 'derived values', (n) => {
    for (let i = 0; i < n; i++) {
      table.values[slots[i % slots.length]] = i;
      sink += expr.value() ?? 0;
      sink += expr.quality();
    }
    return n;
  });
  if (sink === 42) console.log('');
}

// 2. The engine path: 1000 meters, 4 derived points each (one of 10 terms) and one 15-minute tracker.
{
  const engine = new DeriveEngine({
    points: [
      { device: 'meter-*', name: 'ten_terms', expression: TEN_TERMS },
      { device: 'meter-*', name: 'apparent', expression: 'sqrt(p1^2 + q1^2)' },
      { device: 'meter-*', name: 'pf', expression: 'p1 / apparent' },
      { device: 'meter-*', name: 'i_avg', expression: 'avg(i1, v1, v2)' },
      { device: 'site', site: true, name: 'p_total', expression: 'sum(`meter-*`.p1)' },
    ],
    intervals: [{ device: 'meter-*', point: 'energy', minutes: 15 }],
  });
  const units = Object.freeze({ energy: 'kWh' }) as Record<string, string>;
  const readings: ReadingMessage[] = [];
  for (let d = 0; d < 1000; d++) {
    const payload: Record<string, number> = { energy: 1000 + d };
    NAMES.forEach((n, i) => (payload[n] = d + i + 1));
    readings.push({ topic: `meter-${d}`, payload, rtu: { device: `meter-${d}`, protocol: 'modbus', timestamp: 0, quality: 'good', latencyMs: 1, units, seq: 0 } });
  }
  let t = Date.now();
  measure('engine, 1000 meters x 4 derived points + interval energy', 'derived values', (n) => {
    for (let i = 0; i < n; i++) {
      const r = readings[i % 1000];
      if (i % 1000 === 0) t += 1000;
      r.rtu.timestamp = t;
      (r.payload as Record<string, number>).energy += 0.01;
      engine.onReading(r);
    }
    return n * 4;
  });
  measure('site total over 1000 meters', 'site readings', (n) => {
    for (let i = 0; i < n; i++) engine.tick(t);
    return n;
  }, 1);
}

// 3. Deploy-time cost: parsing and compiling an expression.
{
  const table = new PointTable();
  measure('parse + compile a 10-term expression', 'expressions', (n) => {
    for (let i = 0; i < n; i++) compileExpression(TEN_TERMS, { table, device: `m${i & 1023}` });
    return n;
  }, 1);
  table.set(0, 1, GOOD, 0);
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
