import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import { ReadingObserver } from '../../nodes/lib/health/observer';
import { HealthRegistry } from '../../nodes/lib/health/registry';
import { deriveStatus } from '../../nodes/lib/health/status';
import { healthReadings } from '../../nodes/lib/health/readings';
import { toPrometheus } from '../../nodes/lib/health/prometheus';
import { splitHostPort, SystemSampler } from '../../nodes/lib/health/system';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import { validateRules } from '../../nodes/lib/alert/rules';
import { DurableQueue } from '../../nodes/lib/queue/durable-queue';
import type { Quality } from '../../nodes/lib/reading';

const T0 = Date.UTC(2025, 0, 1, 12);

const reading = (device: string, ts: number, quality: Quality, latencyMs = 20, error?: string) => ({
  rtu: { device, timestamp: ts, quality, latencyMs, line: 'bus1', error },
});

test('device status: online, offline after failures or backoff, stale when silent, unknown before anything', () => {
  const base = { lastGoodAt: T0, lastPollAt: T0, consecutiveFailures: 0, backoff: { active: false }, intervalMs: 1000 };
  assert.equal(deriveStatus(base, T0 + 500), 'online');
  assert.equal(deriveStatus({ ...base, consecutiveFailures: 3 }, T0 + 500), 'offline');
  assert.equal(deriveStatus({ ...base, consecutiveFailures: 2 }, T0 + 500), 'online');
  assert.equal(deriveStatus({ ...base, backoff: { active: true } }, T0 + 500), 'offline');
  assert.equal(deriveStatus(base, T0 + 10_001), 'stale', 'silent for longer than max(3 intervals, 10 s)');
  assert.equal(deriveStatus({ ...base, intervalMs: 60_000 }, T0 + 100_000), 'online', 'a slow poller is not stale');
  assert.equal(deriveStatus({ ...base, lastPollAt: T0 + 20_000 }, T0 + 20_500), 'stale', 'polls arrive but no good value');
  assert.equal(deriveStatus({ ...base, lastGoodAt: null, lastPollAt: null }, T0), 'unknown');
  assert.equal(deriveStatus(base, T0 + 2000, { staleAfterMs: 1500 }), 'stale');
});

test('from readings: success rate, latency percentiles, consecutive failures and status per device', () => {
  const obs = new ReadingObserver();
  // meter-1: 100 polls, every 10th fails, latencies 1..90 ms.
  let lat = 0;
  for (let i = 0; i < 100; i++) obs.observe(reading('meter-1', T0 + i * 1000, i % 10 === 9 ? 'bad' : 'good', ++lat));
  // meter-2: answers twice, then four failures in a row.
  for (let i = 0; i < 6; i++) obs.observe(reading('meter-2', T0 + i * 1000, i < 2 ? 'good' : 'bad', 30, i < 2 ? undefined : 'timeout after 1000 ms'));
  const [m1, m2] = obs.health(T0 + 99_500);
  assert.equal(m1.device, 'meter-1');
  assert.equal(m1.status, 'online');
  assert.equal(m1.successRate, 0.9);
  assert.equal(m1.polls, 100);
  assert.equal(m1.line, 'bus1');
  // 90 good samples with latencies 1..100 except every 10th: p50 is the 45th of them.
  const good = Array.from({ length: 100 }, (_, i) => i + 1).filter((_, i) => i % 10 !== 9);
  assert.equal(m1.latencyP50Ms, good[44]);
  assert.equal(m1.latencyP95Ms, good[Math.ceil(0.95 * 90) - 1]);
  assert.equal(m1.lastGoodAt, T0 + 98_000);
  assert.equal(m2.status, 'offline');
  assert.equal(m2.consecutiveFailures, 4);
  assert.equal(m2.successRate, 2 / 6);
  assert.equal(m2.lastError, 'timeout after 1000 ms');
  assert.equal(obs.health(T0 + 200_000)[0].status, 'stale');
});

test('registry: registered sources win over readings, a failing source is named, queues are listed', async () => {
  const reg = new HealthRegistry();
  const obs = new ReadingObserver();
  obs.observe(reading('meter-1', T0, 'bad'));
  obs.observe(reading('meter-9', T0, 'good'));
  const off = reg.registerDevice('meter-1', () => ({ line: 'bus1', lastGoodAt: T0, lastPollAt: T0, polls: 50, failures: 5, latencyP50Ms: 12, latencyP95Ms: 40, consecutiveFailures: 0, backoff: false, intervalMs: 1000 }));
  reg.registerDevice('broken', () => {
    throw new Error('poller closed');
  });
  reg.registerLine('bus1', () => ({ connected: true, state: 'connected', queueDepth: 2, requestsPerSec: 9.876, devices: 2, unitsBackingOff: [{ unitId: 7 }] }));
  const dir = fs.mkdtempSync(`${os.tmpdir()}/rtu-health-q-`);
  const q = await DurableQueue.open<string>(dir, { owner: 'rtu-mqtt-out test' });
  try {
    q.push('a');
    q.push('b');
    const s = reg.snapshot(T0 + 500, obs);
    assert.equal(s.devices['meter-1'].source, 'registered');
    assert.equal(s.devices['meter-1'].successRate, 0.9);
    assert.equal(s.devices['meter-1'].status, 'online');
    assert.equal(s.devices['meter-9'].source, 'readings');
    assert.deepEqual(s.errors, ['device broken: statistics unavailable: poller closed']);
    assert.deepEqual(s.lines.bus1, { line: 'bus1', connected: true, state: 'connected', queueDepth: 2, requestsPerSec: 9.88, devices: 2, unitsBackingOff: [7], lastError: undefined });
    assert.equal(s.queues['rtu-mqtt-out test'].depth, 2);
    off();
    assert.equal(reg.snapshot(T0 + 500, obs).devices['meter-1'].source, 'readings');
  } finally {
    await q.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('health readings feed rtu-alert: a threshold on a health point raises like any other point', () => {
  const obs = new ReadingObserver();
  for (let i = 0; i < 5; i++) obs.observe(reading('meter-2', T0 + i * 1000, 'bad'));
  const snapshot = new HealthRegistry().snapshot(T0 + 5000, obs);
  snapshot.system = fakeSystem({ diskFreePercent: 4.2 });
  const readings = healthReadings(snapshot, 'rtu');
  assert.deepEqual(readings.map((r) => r.topic), ['rtu', 'device:meter-2']);
  assert.equal(readings[0].payload.disk_free_percent, 4.2);
  assert.equal(readings[0].payload.devices_offline, 1);
  assert.equal(readings[1].payload.status, 'offline');
  assert.equal(readings[1].payload.success_rate, 0);
  const { rules, problems } = validateRules([
    { spec: { id: 'disk', device: 'rtu', point: 'disk_free_percent', type: 'low', limit: 10, category: 'system' }, source: 'r1' },
    { spec: { id: 'dev-down', profile: 'rtu-health-device', point: 'online', type: 'state', value: false, category: 'communication' }, source: 'r2' },
  ]);
  assert.deepEqual(problems, []);
  const engine = new AlertEngine(rules);
  const alerts = readings.flatMap((r) => engine.evaluate(r));
  assert.deepEqual(alerts.map((a) => `${a.device}/${a.point}:${a.state}:${a.category}`), ['rtu/disk_free_percent:raised:system', 'device:meter-2/online:raised:communication']);
  assert.equal(alerts[0].unit, '%');
});

test('Prometheus text: valid exposition lines, escaped labels, one TYPE per family', () => {
  const obs = new ReadingObserver();
  obs.observe(reading('pv "roof"\\1', T0, 'good', 15));
  const reg = new HealthRegistry();
  reg.registerLine('bus1', () => ({ connected: false, queueDepth: 0, requestsPerSec: 0 }));
  const snap = reg.snapshot(T0 + 100, obs);
  snap.system = fakeSystem({ diskFreePercent: 50 });
  const text = toPrometheus(snap);
  const types = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const name = line.split(' ')[2];
      assert.ok(!types.has(name), `TYPE twice for ${name}`);
      types.add(name);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.]+(e[+-]?\d+)?|[+-]Inf|NaN)$/, line);
    assert.ok(types.has(line.split(/[{ ]/)[0]), `sample before its TYPE: ${line}`);
  }
  assert.ok(text.includes('rtu_device_up{device="pv \\"roof\\"\\\\1",line="bus1"} 1'));
  assert.ok(text.includes('rtu_line_connected{line="bus1"} 0'));
  assert.ok(text.includes('rtu_device_latency_seconds{device="pv \\"roof\\"\\\\1",line="bus1",quantile="0.5"} 0.015'));
});

test('system figures are real: the event-loop lag sees a blocked loop, the disk has free space', async () => {
  const sampler = new SystemSampler({ diskPath: os.tmpdir() });
  try {
    await sampler.sample();
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    const until = Date.now() + 150;
    while (Date.now() < until) {
      // Block the event loop on purpose.
    }
    await new Promise((r) => setTimeout(r, 30));
    const cpu = process.cpuUsage(cpu0);
    const expected = ((cpu.user + cpu.system) / (Number(process.hrtime.bigint() - wall0) / 1000)) * 100;
    const s = await sampler.sample();
    assert.ok(s.eventLoopLagMs.max >= 100, `max lag ${s.eventLoopLagMs.max} ms`);
    // The machine may be throttled: compare with the process's own count over the same span.
    assert.ok(s.cpuPercent > 5 && Math.abs(s.cpuPercent - expected) < 15, `process CPU ${s.cpuPercent}% while spinning, measured ${expected}%`);
    assert.ok('freeBytes' in s.disk && s.disk.freeBytes > 0 && s.disk.freePercent > 0 && s.disk.freePercent <= 100);
    assert.ok(s.rssBytes > 10e6 && s.memoryUsedPercent > 0 && s.memoryUsedPercent < 100);
    assert.ok(s.processUptimeS >= 0 && s.systemUptimeS > 0);
    assert.equal(s.clock, undefined);
    const missing = await new SystemSampler({ diskPath: '/no/such/dir' }).sample();
    assert.match('error' in missing.disk ? missing.disk.error : '', /cannot read free space of \/no\/such\/dir: ENOENT/);
  } finally {
    sampler.close();
  }
  assert.deepEqual(splitHostPort('pool.ntp.org'), ['pool.ntp.org', 123]);
  assert.deepEqual(splitHostPort('127.0.0.1:1123'), ['127.0.0.1', 1123]);
  assert.deepEqual(splitHostPort('[::1]:1123'), ['::1', 1123]);
});

function fakeSystem(o: { diskFreePercent: number }) {
  return {
    cpuPercent: 3, systemCpuPercent: 10, load1m: 0.2, rssBytes: 80e6, heapUsedBytes: 40e6, memoryTotalBytes: 4e9, memoryFreeBytes: 2e9,
    memoryUsedPercent: 50, disk: { path: '/data', freeBytes: 1e9, totalBytes: 1e9 / (o.diskFreePercent / 100), freePercent: o.diskFreePercent },
    eventLoopLagMs: { mean: 1, p99: 3, max: 8 }, processUptimeS: 100, systemUptimeS: 1000,
  };
}
