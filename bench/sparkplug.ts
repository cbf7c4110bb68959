/**
 * Sparkplug B edge node figures: 1,000 devices × 40 points into a mosquitto the bench starts
 * (private port, loopback). Prints DDATA messages/s and metrics/s sustained by report by
 * exception, CPU per 1,000 metrics, and the time of a full rebirth (NBIRTH + 1,000 DBIRTHs)
 * until a subscriber in another process has received every birth.
 *
 *   npm run build && node dist/bench/sparkplug.js [--devices 1000] [--points 40] [--rounds 30]
 */
import { fork, ChildProcess } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import mqtt from 'mqtt';
import { DurableQueue } from '../nodes/lib/queue/durable-queue';
import type { PointValue, ReadingMessage } from '../nodes/lib/reading';
import { SparkplugEdgeNode, StoredEvent } from '../nodes/lib/sparkplug';
import { TestMosquitto } from '../test/support/sparkplug/mosquitto';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

// ---- the subscriber (a child process, so its work does not count as the edge node's CPU) ----

function subscriber(port: number): void {
  const counts = { DBIRTH: 0, DDATA: 0, NBIRTH: 0, bytes: 0 };
  const client = mqtt.connect({ host: '127.0.0.1', port, clean: true, reconnectPeriod: 0 });
  client.on('connect', () => client.subscribe('spBv1.0/#', { qos: 0 }, () => process.send?.({ ready: true })));
  client.on('message', (topic, payload) => {
    const type = topic.split('/')[2] as keyof typeof counts;
    if (type in counts) counts[type]++;
    counts.bytes += payload.length;
  });
  process.on('message', (m: { ask?: boolean }) => {
    if (m.ask) process.send?.({ counts });
  });
}

if (process.argv[2] === '--subscriber') subscriber(Number(process.argv[3]));
else void main();

function ask(child: ChildProcess): Promise<{ DBIRTH: number; DDATA: number; NBIRTH: number; bytes: number }> {
  return new Promise((resolve) => {
    const on = (m: { counts?: { DBIRTH: number; DDATA: number; NBIRTH: number; bytes: number } }): void => {
      if (!m.counts) return;
      child.off('message', on);
      resolve(m.counts);
    };
    child.on('message', on);
    child.send({ ask: true });
  });
}

async function until(child: ChildProcess, ok: (c: Awaited<ReturnType<typeof ask>>) => boolean, ms: number): Promise<Awaited<ReturnType<typeof ask>>> {
  const end = Date.now() + ms;
  for (;;) {
    const c = await ask(child);
    if (ok(c) || Date.now() > end) return c;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readings(devices: number, points: number): ReadingMessage[] {
  const out: ReadingMessage[] = [];
  const units: Record<string, string> = {};
  const info: Record<string, { dataType: string }> = {};
  for (let p = 0; p < points; p++) {
    units[`p${p}`] = p % 2 ? 'W' : 'V';
    info[`p${p}`] = { dataType: p % 5 === 0 ? 'int32' : 'float32' };
  }
  for (let d = 0; d < devices; d++) {
    const payload: Record<string, PointValue> = {};
    for (let p = 0; p < points; p++) payload[`p${p}`] = p % 5 === 0 ? d + p : (d * points + p) / 10;
    out.push({ topic: `dev${d}`, payload, rtu: { device: `dev${d}`, protocol: 'modbus', timestamp: Date.now(), quality: 'good', latencyMs: 1, units, points: info, seq: 0 } });
  }
  return out;
}

async function main(): Promise<void> {
  const devices = arg('devices', 1000);
  const points = arg('points', 40);
  const rounds = arg('rounds', 30);
  const changed = Math.max(1, Math.round(points / 4));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-bench-spb-'));
  const broker = await TestMosquitto.start(dir);
  const sub = fork(__filename, ['--subscriber', String(broker.port)], { stdio: 'inherit' });
  await new Promise<void>((resolve) => sub.once('message', () => resolve()));
  const queue = await DurableQueue.open<StoredEvent>(path.join(dir, 'queue'));
  const edge = new SparkplugEdgeNode({
    ids: { groupId: 'bench', edgeNodeId: 'rtu1' },
    connection: { host: '127.0.0.1', port: broker.port, protocolVersion: 4, clientId: 'spb-bench', keepaliveS: 30 },
    queue,
  });
  await new Promise<void>((resolve) => {
    edge.on('state', (s: string) => s === 'online' && resolve());
    edge.start();
  });
  const all = readings(devices, points);
  for (const r of all) edge.add(r);
  await until(sub, (c) => c.DBIRTH >= devices, 30_000);
  console.log(`${devices} devices × ${points} points, mosquitto on 127.0.0.1:${broker.port}; each reading moves ${changed} of ${points} points beyond the deadband`);

  // Report by exception, flat out: every round, every device sends a reading in which a quarter of the points moved.
  if (global.gc) global.gc();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const ddata0 = (await ask(sub)).DDATA;
  let metrics = 0;
  let evaluated = 0;
  for (let round = 1; round <= rounds; round++) {
    for (let d = 0; d < all.length; d++) {
      const r = all[d];
      const payload = { ...r.payload };
      for (let k = 0; k < changed; k++) {
        const name = `p${(round * changed + k) % points}`;
        payload[name] = (payload[name] as number) + 1000;
      }
      const next: ReadingMessage = { topic: r.topic, payload, rtu: { ...r.rtu, timestamp: r.rtu.timestamp + round * 1000 } };
      all[d] = next;
      edge.add(next);
      metrics += changed;
      evaluated += points;
      if (d % 100 === 99) await new Promise((res) => setImmediate(res));
    }
  }
  const producedS = Number(process.hrtime.bigint() - t0) / 1e9;
  const sent = rounds * devices;
  const got = await until(sub, (c) => c.DDATA - ddata0 >= sent, 60_000);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`RBE: ${sent} readings → ${got.DDATA - ddata0} DDATA received of ${sent} sent in ${seconds.toFixed(2)} s`);
  console.log(`  end to end (until the subscriber had them): ${Math.round(sent / seconds)} DDATA msgs/s, ${Math.round(metrics / seconds)} changed metrics/s (${Math.round(evaluated / seconds)} point values/s evaluated)`);
  console.log(`  the edge node took them in ${producedS.toFixed(2)} s: ${Math.round(sent / producedS)} DDATA msgs/s, ${Math.round(metrics / producedS)} changed metrics/s handed to the socket`);
  console.log(`  edge process CPU ${(cpuMs / 1000).toFixed(2)} s = ${((cpuMs / 1000 / seconds) * 100).toFixed(0)} % of one core; ${(cpuMs / (metrics / 1000)).toFixed(2)} ms CPU per 1000 metrics sent`);
  console.log(`  on one core, the edge node would carry ${Math.round(metrics / (cpuMs / 1000))} changed metrics/s (target 100,000)`);

  // Full rebirth: NBIRTH + every DBIRTH, until the subscriber has them all.
  const before = await ask(sub);
  const r0 = process.hrtime.bigint();
  const rc0 = process.cpuUsage();
  edge.rebirth();
  const syncMs = Number(process.hrtime.bigint() - r0) / 1e6;
  const after = await until(sub, (c) => c.DBIRTH - before.DBIRTH >= devices && c.NBIRTH > before.NBIRTH, 30_000);
  const rebirthMs = Number(process.hrtime.bigint() - r0) / 1e6;
  const rcpu = process.cpuUsage(rc0);
  console.log(`rebirth of ${devices} devices (${devices * points} metrics): ${(rebirthMs / 1000).toFixed(2)} s until the subscriber had all ${after.DBIRTH - before.DBIRTH} DBIRTHs (encoding and handing to the socket: ${syncMs.toFixed(0)} ms; CPU ${((rcpu.user + rcpu.system) / 1000).toFixed(0)} ms) (target < 2 s)`);

  await edge.stop();
  await queue.close();
  sub.kill();
  await broker.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
