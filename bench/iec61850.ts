/**
 * IEC 61850 benchmark: data attributes read per second from one IED over
 * loopback, through the whole stack (TPKT, COTP, Session, Presentation, MMS).
 * The MMS test server (test/support/iec61850) runs in a child process on the
 * other core, with a model of 100 logical nodes.
 *
 *   node dist/bench/iec61850.js [--seconds 2]
 *
 * Scenarios: one attribute per Read with 1 and 5 requests in flight, 32
 * attributes per Read, a data set, and the poller engine producing reading
 * messages for 400 points. Target: at least 2,000 attributes/s.
 */
import { fork } from 'child_process';
import { performance } from 'perf_hooks';
import { IedClient } from '../nodes/lib/iec61850/ied-client';
import { IedLink } from '../nodes/lib/iec61850/ied-link';
import { IedPoller } from '../nodes/lib/iec61850/ied-poller';
import { MmsConnection } from '../nodes/lib/iec61850/mms-connection';
import { resolveIedOptions } from '../nodes/lib/iec61850/options';
import { DataReference, formatReference, parseReference } from '../nodes/lib/iec61850/reference';
import { largeModel } from '../test/support/iec61850/model';
import { MmsTestServer } from '../test/support/iec61850/server';

const LOGICAL_NODES = 100;

if (process.argv.includes('--server')) {
  // Child: serve the model until the parent goes away.
  const model = largeModel(LOGICAL_NODES);
  model.get('bigLD')?.dataSets.set('GGIO1$Measurements', Array.from({ length: 8 }, (_, i) => ({ scope: 'domain' as const, domain: 'bigLD', item: `GGIO${i + 1}$MX$AnIn1$mag$f` })));
  void new MmsTestServer({ model }).start().then((s) => process.send?.({ port: s.port }));
  process.on('disconnect', () => process.exit(0));
} else {
  void main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

interface Figure {
  scenario: string;
  attributesPerSec: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuPct: number;
}

function refs(): DataReference[] {
  const out: DataReference[] = [];
  for (let i = 1; i <= LOGICAL_NODES; i++) {
    out.push(parseReference(`bigLD/GGIO${i}.AnIn1.mag.f [MX]`), parseReference(`bigLD/GGIO${i}.AnIn2.mag.f [MX]`));
    out.push(parseReference(`bigLD/GGIO${i}.AnIn1.q [MX]`), parseReference(`bigLD/GGIO${i}.Ind1.stVal [ST]`));
  }
  return out;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Runs `workers` loops of `op` (each resolving with attributes read) for `ms`; returns the figures. */
async function measure(scenario: string, ms: number, workers: number, op: (i: number) => Promise<number>): Promise<Figure> {
  const latencies: number[] = [];
  let attributes = 0;
  let requests = 0;
  const warmup = performance.now() + 300;
  const stopAt = warmup + ms;
  let cpu0 = process.cpuUsage();
  let started = false;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = w; performance.now() < stopAt; i += workers) {
        const t0 = performance.now();
        const n = await op(i);
        const t1 = performance.now();
        if (t0 >= warmup) {
          if (!started) {
            started = true;
            cpu0 = process.cpuUsage();
          }
          latencies.push(t1 - t0);
          attributes += n;
          requests++;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const seconds = ms / 1000;
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    attributesPerSec: Math.round(attributes / seconds),
    requestsPerSec: Math.round(requests / seconds),
    p50Ms: Number(pct(latencies, 0.5).toFixed(2)),
    p99Ms: Number(pct(latencies, 0.99).toFixed(2)),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / ms) * 100),
  };
}

async function main(): Promise<void> {
  const secondsArg = process.argv.indexOf('--seconds');
  const ms = (secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 2) * 1000;
  const child = fork(__filename, ['--server'], { stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const options = resolveIedOptions({ name: 'bench-ied', host: '127.0.0.1', port, timeoutMs: 5000 });
  const all = refs();
  const figures: Figure[] = [];
  try {
    const client = new IedClient(await MmsConnection.open(options), { maxVariablesPerRead: 32 });
    const n = client.connection.negotiated;
    console.log(`IED association: max PDU ${n.maxPduSize}, ${n.maxOutstanding} outstanding, TPDU ${n.tpduSize}; ${all.length} distinct attributes`);
    figures.push(await measure('1 attribute per Read, 1 in flight', ms, 1, async (i) => (await client.readValue(all[i % all.length]), 1)));
    figures.push(await measure('1 attribute per Read, 5 in flight', ms, 5, async (i) => (await client.readValue(all[i % all.length]), 1)));
    figures.push(
      await measure('32 attributes per Read, 5 in flight', ms, 5, async (i) => {
        const start = (i * 32) % all.length;
        const out = await client.read(all.slice(start, start + 32));
        return out.length;
      }),
    );
    const ds = { ld: 'bigLD', item: 'GGIO1$Measurements' };
    figures.push(await measure('data set of 8 members, 5 in flight', ms, 5, async () => (await client.readDataSet(ds)).length));
    await client.connection.close();

    const link = new IedLink(options, { maxVariablesPerRead: 32 });
    link.register('bench');
    await link.whenConnected(5000);
    const poller = new IedPoller({ device: 'bench', link, intervalMs: 0, points: all.map((r) => ({ reference: formatReference(r) })) });
    figures.push(
      await measure(`poller: ${all.length} points per reading`, ms, 1, async () => {
        const reading = await poller.readNow();
        if (reading.rtu.quality !== 'good') throw new Error(`bench reading not good: ${reading.rtu.error}`);
        return Object.keys(reading.payload).length;
      }),
    );
    await link.deregister('bench');
  } finally {
    child.disconnect();
  }
  console.log('\nscenario                                   attributes/s  requests/s  p50 ms  p99 ms  client CPU');
  for (const f of figures) {
    console.log(
      `${f.scenario.padEnd(42)} ${String(f.attributesPerSec).padStart(12)} ${String(f.requestsPerSec).padStart(11)} ${f.p50Ms.toFixed(2).padStart(7)} ${f.p99Ms.toFixed(2).padStart(7)} ${`${f.cpuPct}%`.padStart(11)}`,
    );
  }
  const worst = Math.min(...figures.map((f) => f.attributesPerSec));
  console.log(`\ntarget >= 2000 attributes/s; slowest scenario ${worst}/s (${worst >= 2000 ? 'met' : 'NOT met'})`);
}
