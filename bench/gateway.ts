/**
 * Gateway benchmark: FC3 reads of 100 registers from a cache of 1000 devices,
 * with 1, 16 and 64 concurrent clients (one request in flight each) and with
 * 8 pipelined requests per connection; the same load against modbus-serial's
 * ServerTCP answering from the same cache. The load generator runs in a child
 * process, on the other core.
 *
 *   node --expose-gc dist/bench/gateway.js [--seconds 2] [--only 16x1] [--ours | --vs-floor]
 */
import { fork } from 'child_process';
import net from 'net';
import { performance } from 'perf_hooks';
import { ServerTCP } from 'modbus-serial';
import { RegisterCache } from '../nodes/lib/cache';
import { ModbusGateway } from '../nodes/lib/gateway';
import type { RegisterBlock } from '../nodes/lib/modbus/types';
import { resolveUnits } from '../nodes/lib/simulator/models';
import { SimulatedMeter } from '../nodes/lib/simulator/meter';
import { freePort } from '../test/support/loopback';

const DEVICES = 1000;
/** Unit ids 1..247 each expose one of the cached devices (a TCP unit id is one byte). */
const EXPOSED = 247;
const QUANTITY = 100;

interface LoadSpec {
  port: number;
  clients: number;
  pipeline: number;
  warmupMs: number;
  durationMs: number;
}

interface LoadResult {
  /** CPU time the load generator used (ms), to see which side is the limit. */
  cpuMs: number;
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  outOfOrder: number;
  badAnswers: number;
}

// ---------------------------------------------------------------- load generator (child)

const BUCKET_US = 5;
const BUCKETS = 40_000; // up to 200 ms

function percentile(hist: Uint32Array, total: number, p: number): number {
  const target = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= target) return ((i + 0.5) * BUCKET_US) / 1000;
  }
  return Infinity;
}

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const hist = new Uint32Array(BUCKETS);
  let measured = 0;
  let outOfOrder = 0;
  let badAnswers = 0;
  const start = performance.now();
  const measureFrom = start + spec.warmupMs;
  const stopAt = measureFrom + spec.durationMs;
  const expectedLength = 6 + 1 + 2 + QUANTITY * 2;
  let open = spec.clients;
  const cpu0 = process.cpuUsage();

  return new Promise((resolve) => {
    const finish = (): void => {
      if (--open > 0) return;
      const seconds = spec.durationMs / 1000;
      const cpu = process.cpuUsage(cpu0);
      resolve({ cpuMs: (cpu.user + cpu.system) / 1000, requests: measured, seconds, p50: percentile(hist, measured, 0.5), p99: percentile(hist, measured, 0.99), outOfOrder, badAnswers });
    };
    for (let c = 0; c < spec.clients; c++) {
      const socket = net.connect({ port: spec.port, host: '127.0.0.1' });
      socket.setNoDelay(true);
      const sentAt = new Float64Array(65536);
      let nextTid = 0;
      let expectTid = 0;
      let inFlight = 0;
      let stopping = false;
      let rest: Buffer | null = null;
      const send = (n: number): void => {
        const out = Buffer.allocUnsafe(12 * n);
        const now = performance.now();
        for (let k = 0; k < n; k++) {
          const tid = nextTid;
          nextTid = (nextTid + 1) & 0xffff;
          const o = k * 12;
          out.writeUInt16BE(tid, o);
          out.writeUInt16BE(0, o + 2);
          out.writeUInt16BE(6, o + 4);
          out[o + 6] = ((tid + c * 7) % EXPOSED) + 1;
          out[o + 7] = 3;
          out.writeUInt16BE(0, o + 8);
          out.writeUInt16BE(QUANTITY, o + 10);
          sentAt[tid] = now;
        }
        inFlight += n;
        socket.write(out);
      };
      socket.on('connect', () => send(spec.pipeline));
      socket.on('data', (chunk: Buffer) => {
        let buf = rest ? Buffer.concat([rest, chunk]) : chunk;
        rest = null;
        let p = 0;
        let answered = 0;
        const now = performance.now();
        while (buf.length - p >= 6) {
          const len = buf.readUInt16BE(p + 4);
          if (buf.length - p < 6 + len) break;
          const tid = buf.readUInt16BE(p);
          if (tid !== expectTid) outOfOrder++;
          expectTid = (tid + 1) & 0xffff;
          if (6 + len !== expectedLength || buf[p + 7] !== 3) badAnswers++;
          const sent = sentAt[tid];
          if (sent >= measureFrom && now <= stopAt) {
            const b = Math.min(BUCKETS - 1, Math.floor(((now - sent) * 1000) / BUCKET_US));
            hist[b]++;
            measured++;
          }
          p += 6 + len;
          answered++;
        }
        if (p < buf.length) rest = Buffer.from(buf.subarray(p));
        inFlight -= answered;
        if (now >= stopAt) stopping = true;
        if (!stopping && answered) send(answered);
        if (stopping && inFlight === 0) socket.end();
      });
      socket.on('error', (err) => {
        console.error(`load client ${c}: ${err.message}`);
      });
      socket.on('close', finish);
    }
  });
}

if (process.argv[2] === '--load') {
  process.on('message', (spec: LoadSpec) => {
    runLoad(spec).then((r) => process.send?.(r));
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

// ---------------------------------------------------------------- servers (parent)

function buildCache(): { cache: RegisterCache; bytes: number; ms: number } {
  global.gc?.();
  const before = process.memoryUsage();
  const t0 = performance.now();
  const cache = new RegisterCache({ ttlMs: 3_600_000 });
  const now = Date.now();
  for (let d = 0; d < DEVICES; d++) {
    const [spec] = resolveUnits([{ unitId: (d % 247) + 1, seed: d }]);
    const meter = new SimulatedMeter(spec);
    const raw: RegisterBlock[] = meter.ranges().map((r) => ({ ...r, values: Array.from(meter.read(r.registerType, r.address, r.quantity, now)) }));
    raw.push({ registerType: 'holding', address: 0, values: Array.from({ length: QUANTITY }, (_, k) => (d * 31 + k) & 0xffff) });
    cache.update({
      topic: `meter-${d}`,
      payload: meter.snapshot(now),
      rtu: { device: `meter-${d}`, protocol: 'modbus', model: spec.model, unitId: spec.unitId, timestamp: now, quality: 'good', latencyMs: 10, units: {}, raw, seq: 1 },
    });
  }
  const ms = performance.now() - t0;
  global.gc?.();
  const after = process.memoryUsage();
  return { cache, bytes: after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers, ms };
}

interface Target {
  name: string;
  port: number;
  close(): Promise<void>;
}

async function startOurs(cache: RegisterCache): Promise<Target> {
  const devices = Array.from({ length: EXPOSED }, (_, k) => ({ device: `meter-${k * 4}`, unitId: k + 1 }));
  const gw = new ModbusGateway({ cache, devices, host: '127.0.0.1', port: 0, maxConnections: 200 });
  const { port } = await gw.listen();
  return { name: 'rtu-gateway', port, close: () => gw.close() };
}

async function startModbusSerial(cache: RegisterCache): Promise<Target> {
  const port = await freePort();
  const vector = {
    getMultipleHoldingRegisters: (addr: number, length: number, unitID: number): number[] => {
      const r = cache.read(`meter-${(unitID - 1) * 4}`, 'holding', addr, length);
      if (typeof r === 'string') throw new Error(r);
      return Array.from(r);
    },
  };
  const server = new ServerTCP(vector, { host: '127.0.0.1', port, unitID: 255 });
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  return { name: 'modbus-serial ServerTCP', port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * The floor for any Node.js server on this machine: answers every request with
 * a prebuilt frame, one write per chunk, no parsing and no cache. Shows how much
 * of the time is the kernel's loopback path rather than the gateway.
 */
async function startFloor(): Promise<Target> {
  const answer = Buffer.alloc(6 + 3 + QUANTITY * 2);
  answer.writeUInt16BE(3 + QUANTITY * 2, 4);
  answer[7] = 3;
  answer[8] = QUANTITY * 2;
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      const n = Math.floor(chunk.length / 12);
      const out = Buffer.allocUnsafe(answer.length * n);
      for (let k = 0; k < n; k++) {
        answer.copy(out, k * answer.length);
        out[k * answer.length] = chunk[k * 12];
        out[k * answer.length + 1] = chunk[k * 12 + 1];
      }
      socket.write(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { name: 'floor: canned answers', port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function main(): Promise<void> {
  const secondsArg = process.argv.indexOf('--seconds');
  const durationMs = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) * 1000 : 2000;
  const { cache, bytes, ms } = buildCache();
  const mem = process.memoryUsage();
  console.log(`cache: ${DEVICES} devices built in ${ms.toFixed(0)} ms; register images ${(cache.registerBytes() / 1024).toFixed(0)} KiB; ` +
    `heap+buffers grew ${(bytes / 1024 / 1024).toFixed(1)} MiB (${(bytes / DEVICES / 1024).toFixed(1)} KiB/device); rss ${(mem.rss / 1024 / 1024).toFixed(0)} MiB`);

  const child = fork(__filename, ['--load'], { stdio: 'inherit' });
  const load = (spec: LoadSpec): Promise<LoadResult> =>
    new Promise((resolve) => {
      child.once('message', (r) => resolve(r as LoadResult));
      child.send(spec);
    });

  const only = process.argv.indexOf('--only');
  const scenarios = [
    { clients: 1, pipeline: 1 },
    { clients: 16, pipeline: 1 },
    { clients: 64, pipeline: 1 },
    { clients: 16, pipeline: 8 },
    { clients: 64, pipeline: 8 },
  ].filter((s) => only < 0 || process.argv[only + 1] === `${s.clients}x${s.pipeline}`);
  const servers = process.argv.includes('--ours') ? [startOurs] : process.argv.includes('--vs-floor') ? [startOurs, startFloor] : [startOurs, startModbusSerial, startFloor];
  const results = new Map<string, number>();
  console.log(`\nFC3 x${QUANTITY} registers, ${durationMs / 1000} s per run after 0.5 s warm-up; load generator in pid ${child.pid}`);
  console.log('server                    clients  pipeline      reads/s    p50 ms   p99 ms  order');
  try {
    for (const start of servers) {
      const target = await start(cache);
      try {
        for (const s of scenarios) {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const r = await load({ port: target.port, clients: s.clients, pipeline: s.pipeline, warmupMs: 500, durationMs });
          const wall = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          const serverCpu = ((cpu.user + cpu.system) / 1000 / wall) * 100;
          // CPU per answer is steadier than reads/s when other work shares the machine.
          const cpuPerRead = (cpu.user + cpu.system) / ((r.requests / r.seconds) * (wall / 1000));
          const loadCpu = (r.cpuMs / wall) * 100;
          const rate = r.requests / r.seconds;
          results.set(`${target.name}/${s.clients}/${s.pipeline}`, rate);
          const order = r.outOfOrder === 0 && r.badAnswers === 0 ? 'ok' : `${r.outOfOrder} out of order, ${r.badAnswers} bad`;
          console.log(
            `${target.name.padEnd(25)} ${String(s.clients).padStart(7)} ${String(s.pipeline).padStart(9)} ${rate.toFixed(0).padStart(12)} ${r.p50.toFixed(3).padStart(9)} ${r.p99.toFixed(3).padStart(8)}  ${order}  cpu server ${serverCpu.toFixed(0)}% load ${loadCpu.toFixed(0)}%, server ${cpuPerRead.toFixed(1)} µs/read`,
          );
        }
      } finally {
        await target.close();
      }
    }
  } finally {
    child.kill();
  }
  console.log('');
  for (const s of scenarios) {
    const ours = results.get(`rtu-gateway/${s.clients}/${s.pipeline}`) ?? 0;
    const theirs = results.get(`modbus-serial ServerTCP/${s.clients}/${s.pipeline}`);
    if (theirs === undefined) continue;
    console.log(`speed-up over modbus-serial, ${s.clients} clients x ${s.pipeline}: ${(ours / theirs).toFixed(1)}x`);
  }
}
