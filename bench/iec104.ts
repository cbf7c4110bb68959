/**
 * IEC 104 benchmark. The outstation runs in a child process (the other core),
 * the masters in this one, over loopback.
 *
 *   node --expose-gc dist/bench/iec104.js
 *
 * Scenarios: general interrogation of 10,000 points measured at the master
 * (act-con to act-term; target < 100 ms); spontaneous throughput to one master
 * and to 4 masters with k=12/w=8 and nothing lost (target >= 50,000 points/s to
 * one master); memory per connection; RSS of the outstation over 1,000
 * connection churns (target: flat).
 */
import { fork, ChildProcess } from 'child_process';
import net from 'net';
import { once } from 'events';
import { performance } from 'perf_hooks';
import { Asdu } from '../nodes/lib/iec104/asdu';
import { encodeU } from '../nodes/lib/iec104/apci';
import { Iec104Master } from '../nodes/lib/iec104/master';
import { Iec104Outstation } from '../nodes/lib/iec104/outstation';
import { parsePointTable } from '../nodes/lib/iec104/point-table';

const POINTS = 10000;

type Request = { cmd: 'burst'; rounds: number } | { cmd: 'mem' } | { cmd: 'exit' };

if (process.argv.includes('--server')) {
  void serve();
} else {
  void main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

function table() {
  return parsePointTable(Array.from({ length: POINTS }, (_, i) => ({ device: 'site', point: `p${i}`, ioa: 1000 + i, type: 'M_ME_NC_1' })));
}

async function serve(): Promise<void> {
  const outstation = new Iec104Outstation({ commonAddress: 1, points: table(), eventBufferSize: 20000, maxConnections: 1000 });
  const values: Record<string, number> = {};
  for (let i = 0; i < POINTS; i++) values[`p${i}`] = i;
  outstation.update('site', values, { quality: 'good' });
  const port = await outstation.listen(0, '127.0.0.1');
  process.send?.({ port });
  let round = 0;
  process.on('message', (m: Request) => {
    if (m.cmd === 'mem') {
      global.gc?.();
      const s = outstation.stats();
      process.send?.({ heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss, connections: s.connections.length });
    } else if (m.cmd === 'burst') {
      // Changes every point once per round, keeping the buffers from overflowing:
      // the producer waits while the slowest master's buffer is more than half full.
      let left = m.rounds;
      const step = (): void => {
        const s = outstation.stats();
        if (s.connections.some((c) => c.buffered > 10000)) {
          setTimeout(step, 1);
          return;
        }
        round++;
        const changed: Record<string, number> = {};
        for (let i = 0; i < POINTS; i++) changed[`p${i}`] = round * POINTS + i;
        outstation.update('site', changed, { quality: 'good' });
        if (--left > 0) setImmediate(step);
        else {
          const st = outstation.stats();
          process.send?.({ done: true, dropped: st.connections.reduce((n, c) => n + c.dropped, 0) });
        }
      };
      step();
    } else if (m.cmd === 'exit') {
      void outstation.close().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

function ask<T>(child: ChildProcess, req: Request, accept: (m: Record<string, unknown>) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (!accept(m)) return;
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
    child.send(req);
  });
}

async function started(port: number): Promise<{ master: Iec104Master; objects: () => number }> {
  const master = new Iec104Master({ endpoints: [{ host: '127.0.0.1', port }], commonAddress: 1, interrogateOnStart: false, confirmTimeoutMs: 60000 });
  let objects = 0;
  master.on('asdu', (a: Asdu) => {
    objects += a.objects.length;
  });
  master.start();
  await new Promise<void>((resolve) => {
    const on = (s: string): void => {
      if (s === 'started') {
        master.off('state', on);
        resolve();
      }
    };
    master.on('state', on);
  });
  return { master, objects: () => objects };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (n: number): string => (n / 1048576).toFixed(1);

async function main(): Promise<void> {
  const child = fork(__filename, ['--server'], { execArgv: ['--expose-gc'] });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  console.log(`IEC 104 benchmark: outstation with ${POINTS} points (M_ME_NC_1) in a child process, masters here, loopback, k=12 w=8`);

  // 1. General interrogation.
  const one = await started(port);
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const before = one.objects();
    const t0 = performance.now();
    await one.master.interrogate();
    times.push(performance.now() - t0);
    if (one.objects() - before !== POINTS) throw new Error(`GI delivered ${one.objects() - before} of ${POINTS} points`);
  }
  console.log(`general interrogation, ${POINTS} points: median ${median(times.slice(2)).toFixed(1)} ms, best ${Math.min(...times).toFixed(1)} ms (act-con to act-term at the master; target < 100 ms)`);

  // 2. Spontaneous throughput, one master then four.
  for (const masters of [1, 4]) {
    const list = masters === 1 ? [one] : [one, ...(await Promise.all([started(port), started(port), started(port)]))];
    const rounds = 20;
    const base = list.map((m) => m.objects());
    const t0 = performance.now();
    const doneMsg = ask<{ dropped: number }>(child, { cmd: 'burst', rounds }, (m) => m.done === true);
    const expected = rounds * POINTS;
    while (list.some((m, i) => m.objects() - base[i] < expected)) await new Promise((r) => setTimeout(r, 2));
    const ms = performance.now() - t0;
    const { dropped } = await doneMsg;
    const got = list.map((m, i) => m.objects() - base[i]);
    console.log(
      `spontaneous, ${masters} master${masters > 1 ? 's' : ''}: ${expected} points each in ${ms.toFixed(0)} ms = ${Math.round((expected / ms) * 1000)} points/s per master` +
        `${masters > 1 ? `, ${Math.round(((expected * masters) / ms) * 1000)} points/s in total` : ''}; received ${got.join('/')}, dropped ${dropped} (target >= 50,000/s to one master, no loss)`,
    );
    if (masters === 4) await Promise.all(list.slice(1).map((m) => m.master.stop()));
  }
  await one.master.stop();

  // 3. Memory per connection: 200 started connections.
  const base = await ask<{ heap: number }>(child, { cmd: 'mem' });
  const sockets: net.Socket[] = [];
  for (let i = 0; i < 200; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('data', () => undefined);
    await once(s, 'connect');
    s.write(encodeU('STARTDT_ACT'));
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 300));
  const loaded = await ask<{ heap: number; connections: number }>(child, { cmd: 'mem' });
  console.log(`memory per connection: ${((loaded.heap - base.heap) / 200 / 1024).toFixed(1)} KiB of outstation heap (${loaded.connections} idle started connections)`);
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 300));

  // 4. RSS over 1,000 connection churns: connect, STARTDT, close.
  const rss: number[] = [];
  for (let i = 0; i <= 1000; i++) {
    if (i % 250 === 0) rss.push((await ask<{ rss: number }>(child, { cmd: 'mem' })).rss);
    if (i === 1000) break;
    const s = net.connect(port, '127.0.0.1');
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    await once(s, 'connect');
    s.write(encodeU('STARTDT_ACT'));
    await once(s, 'data');
    s.destroy();
  }
  console.log(`outstation RSS over 1,000 connection churns (every 250): ${rss.map(mb).join(' → ')} MiB`);
  child.send({ cmd: 'exit' });
  await once(child, 'exit');
}
