/**
 * Publishing figures: durable-queue append rate per fsync policy, MQTT publish throughput at
 * QoS 0 and 1 (aedes in its own thread, and mosquitto on 127.0.0.1:1883 when one listens
 * there), and the drain rate of a 100,000-message backlog at QoS 1 (target >= 5,000 msg/s).
 *
 *   npm run build && node dist/bench/publish.js [--backlog 100000]
 */
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { DurableQueue, FsyncPolicy } from '../nodes/lib/queue/durable-queue';
import { MqttLink } from '../nodes/lib/publish/mqtt-link';
import { MqttPublisher } from '../nodes/lib/publish/mqtt-publisher';
import { HttpPublisher } from '../nodes/lib/publish/http-publisher';
import type { PublishRecord } from '../nodes/lib/publish/record';
import type { QoS } from '../nodes/lib/publish/mqtt-link';

// ---- the broker thread ------------------------------------------------------------------

async function brokerThread(port: number): Promise<void> {
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  let received = 0;
  aedes.on('publish', (_packet, client) => {
    if (client) received++;
  });
  const server = net.createServer(aedes.handle);
  server.listen(port, '127.0.0.1', () => parentPort?.postMessage({ listening: true }));
  parentPort?.on('message', (m: { stop?: boolean }) => {
    if (!m.stop) return;
    server.close();
    aedes.close(() => parentPort?.postMessage({ stopped: true, received }));
  });
}

if (!isMainThread) void brokerThread((workerData as { port: number }).port);

interface BrokerHandle {
  stop(): Promise<number>;
}

async function startBrokerThread(port: number): Promise<BrokerHandle> {
  const worker = new Worker(__filename, { workerData: { port } });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: { listening?: boolean }) => m.listening && resolve());
  });
  return {
    stop: () =>
      new Promise<number>((resolve) => {
        worker.on('message', (m: { stopped?: boolean; received: number }) => {
          if (!m.stopped) return;
          void worker.terminate().then(() => resolve(m.received));
        });
        worker.postMessage({ stop: true });
      }),
  };
}

// ---- helpers ------------------------------------------------------------------------------

function record(device: string, seq: number): PublishRecord {
  return {
    device,
    line: 'line1',
    model: 'em24',
    ts: Date.now(),
    quality: 'good',
    seq,
    values: { voltage_l1: 230.1 + (seq % 7) / 10, voltage_l2: 229.8, voltage_l3: 231.0, current_l1: 12.5, power_total: 4210.5 + seq, energy_import: 123456.7 },
    units: { voltage_l1: 'V', voltage_l2: 'V', voltage_l3: 'V', current_l1: 'A', power_total: 'W', energy_import: 'kWh' },
  };
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setTimeout(500, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

function tmpDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rtu-bench-${name}-`));
}

const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} msg/s`;

// ---- figures ------------------------------------------------------------------------------

/** Mean time of one small append + fdatasync on the disk that holds the temp dir. */
async function syncLatencyMs(): Promise<number> {
  const dir = tmpDir('sync');
  const fd = await fs.promises.open(path.join(dir, 'probe'), 'w');
  const buf = Buffer.alloc(400, 1);
  const rounds = 200;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    await fd.write(buf, 0, buf.length, i * buf.length);
    await fd.datasync();
  }
  const ms = (performance.now() - t0) / rounds;
  await fd.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function queueAppend(policy: FsyncPolicy, n: number, burst: number): Promise<string> {
  const dir = tmpDir('queue');
  const q = await DurableQueue.open<PublishRecord>(dir, { fsync: policy, maxBytes: 1 << 30 });
  const t0 = performance.now();
  for (let i = 1; i <= n; i++) {
    q.push(record(`m${i % 10}`, i));
    // Yield between bursts, as pollers do: each burst becomes its own write (and sync, for 'always').
    if (i % burst === 0) await new Promise((r) => setImmediate(r));
  }
  await q.flush();
  const ms = performance.now() - t0;
  const bytes = q.stats().diskBytes;
  await q.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return `${rate(n, ms)} (${(bytes / n).toFixed(0)} B/record on disk)`;
}

interface MqttRun {
  port: number;
  qos: QoS;
  protocolVersion: 4 | 5;
  n: number;
  topicRoot: string;
}

function mqttPublisher(run: MqttRun, dir: string): { link: MqttLink; pub: MqttPublisher } {
  const link = new MqttLink({
    host: '127.0.0.1', port: run.port, protocolVersion: run.protocolVersion, clientId: `rtu-bench-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    keepaliveS: 30, clean: true, reconnectMinMs: 100, reconnectMaxMs: 300,
  });
  const pub = new MqttPublisher({
    owner: 'bench', queueDir: dir, link, topic: `${run.topicRoot}/{device}/measurements`, split: 'device', qos: run.qos, retain: false,
    testTopicPrefix: '', testTarget: false, isTestMode: () => false, shaping: { intervalMs: 0, aggregate: 'latest', rbe: false },
    maxInFlight: 1000, queue: { maxBytes: 1 << 30 },
  });
  return { link, pub };
}

/** Live publishing: readings pushed as fast as they come, measured until the broker acknowledged all. */
async function mqttThroughput(run: MqttRun): Promise<string> {
  const dir = tmpDir('mqtt');
  const { link, pub } = mqttPublisher(run, dir);
  await pub.start();
  link.start();
  await until(() => link.connected, 5000);
  const t0 = performance.now();
  for (let i = 1; i <= run.n; i++) {
    pub.add(record(`m${i % 20}`, i));
    if (i % 1000 === 0) await new Promise((r) => setImmediate(r));
  }
  const done = await until(() => pub.stats().delivered >= run.n, 120_000);
  const ms = performance.now() - t0;
  await pub.stop();
  await link.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return done ? rate(run.n, ms) : `incomplete: ${pub.stats().delivered}/${run.n} in ${Math.round(ms)} ms`;
}

/** A backlog built while the broker is away (on disk, flushed), then drained when it returns. */
async function backlogDrain(run: MqttRun, startBroker: () => Promise<BrokerHandle | undefined>): Promise<string> {
  const dir = tmpDir('backlog');
  const { link, pub } = mqttPublisher(run, dir);
  await pub.start();
  for (let i = 1; i <= run.n; i++) {
    pub.add(record(`m${i % 20}`, i));
    if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
  }
  await pub.flush();
  const q = pub.stats().queue;
  const broker = await startBroker();
  link.start();
  await until(() => link.connected, 5000);
  const t0 = performance.now();
  const done = await until(() => pub.stats().delivered >= run.n, 180_000);
  const ms = performance.now() - t0;
  await pub.stop();
  await link.stop();
  const received = broker ? await broker.stop() : undefined;
  fs.rmSync(dir, { recursive: true, force: true });
  const size = `${((q?.diskBytes ?? 0) / 1024 / 1024).toFixed(1)} MiB on disk`;
  const seen = received !== undefined ? `, broker saw ${received.toLocaleString('en-US')}` : '';
  return done ? `${rate(run.n, ms)} (${run.n.toLocaleString('en-US')} messages, ${size}${seen})` : `incomplete: ${pub.stats().delivered}/${run.n}`;
}

async function httpDrain(n: number): Promise<string> {
  const http = await import('http');
  let received = 0;
  let open = false;
  // Answers 503 until the backlog is built, then takes every batch.
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!open) return void res.writeHead(503).end();
      received += (JSON.parse(Buffer.concat(chunks).toString()) as unknown[]).length;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const dir = tmpDir('http');
  const pub = new HttpPublisher({
    owner: 'bench', queueDir: dir, url: `http://127.0.0.1:${port}/ingest`, method: 'POST', format: { format: 'document' },
    batchSize: 500, batchWaitMs: 50, gzip: false, timeoutMs: 10_000, retryMinMs: 50, retryMaxMs: 100,
    testTarget: false, isTestMode: () => false, queue: { maxBytes: 1 << 30 },
  });
  await pub.start();
  for (let i = 1; i <= n; i++) {
    pub.add(record(`m${i % 20}`, i));
    if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
  }
  await pub.flush();
  open = true;
  const t0 = performance.now();
  const done = await until(() => pub.stats().delivered >= n, 120_000);
  const ms = performance.now() - t0;
  await pub.stop();
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return done ? `${rate(n, ms)} (batches of 500 JSON documents, receiver got ${received.toLocaleString('en-US')})` : `incomplete: ${pub.stats().delivered}/${n}`;
}

async function main(): Promise<void> {
  const arg = process.argv.indexOf('--backlog');
  const backlog = arg > 0 ? Number(process.argv[arg + 1]) : 100_000;
  const live = 50_000;
  console.log(`publish benchmark: node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);

  console.log(`\ndurable queue (temp dir ${os.tmpdir()}; one 400-byte append + fdatasync takes ${(await syncLatencyMs()).toFixed(2)} ms here):`);
  await queueAppend('never', 20_000, 1000); // warm-up
  console.log('  append + flush of 50,000 readings (~370 B each), pushed in bursts, the event loop free between bursts:');
  for (const policy of ['never', 'interval', 'always'] as const) {
    console.log(`  fsync ${policy.padEnd(8)} bursts of 1000: ${await queueAppend(policy, 50_000, 1000)}`);
  }
  for (const policy of ['interval', 'always'] as const) {
    console.log(`  fsync ${policy.padEnd(8)} bursts of 10:   ${await queueAppend(policy, 20_000, 10)}`);
  }

  const port = await freePort();
  const broker = await startBrokerThread(port);
  console.log('\nMQTT 3.1.1 to aedes (own thread), live publishing of 50,000 readings through the queue:');
  for (const qos of [0, 1] as const) {
    console.log(`  QoS ${qos}: ${await mqttThroughput({ port, qos, protocolVersion: 4, n: live, topicRoot: 'bench' })}`);
  }
  await broker.stop();

  const mosquitto = await listening(1883);
  if (mosquitto) {
    console.log('\nMQTT 5 to mosquitto on 127.0.0.1:1883, live publishing of 50,000 readings:');
    const topicRoot = `rtu-bench-${process.pid}`;
    for (const qos of [0, 1] as const) {
      console.log(`  QoS ${qos}: ${await mqttThroughput({ port: 1883, qos, protocolVersion: 5, n: live, topicRoot })}`);
    }
  } else {
    console.log('\n(mosquitto: nothing listens on 127.0.0.1:1883, skipped)');
  }

  console.log(`\nbacklog drain at QoS 1 (${backlog.toLocaleString('en-US')} readings queued while the broker was away; target >= 5,000 msg/s):`);
  const drainPort = await freePort();
  console.log(`  aedes:     ${await backlogDrain({ port: drainPort, qos: 1, protocolVersion: 4, n: backlog, topicRoot: 'bench' }, () => startBrokerThread(drainPort))}`);
  if (mosquitto) {
    console.log(`  mosquitto: ${await backlogDrain({ port: 1883, qos: 1, protocolVersion: 5, n: backlog, topicRoot: `rtu-bench-${process.pid}` }, async () => undefined)}`);
  }

  console.log(`\nHTTP backlog drain to a loopback receiver: ${await httpDrain(backlog)}`);
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
