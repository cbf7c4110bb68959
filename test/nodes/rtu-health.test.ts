import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'dgram';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { AddressInfo } from 'net';
import vm from 'vm';
import healthNode from '../../nodes/rtu-health/rtu-health';
import alertNode from '../../nodes/rtu-alert/rtu-alert';
import { health } from '../../nodes/lib/health/registry';
import { writeNtpTime } from '../../nodes/lib/health/sntp';
import type { HealthSnapshot } from '../../nodes/lib/health/types';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { collect, helper, nextMessage, startServer, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';

interface TestNode {
  receive(msg: unknown): void;
}

let userDir = '';
let httpNode: unknown;

type Reply = { text: string; headers: Record<string, string> };
const request = require('supertest') as (app: unknown) => { get(path: string): { expect(status: number): Promise<Reply> } };

/** The health node, registered through a wrapper that hands the test the runtime's HTTP node app. */
function healthWithApp(RED: Parameters<typeof healthNode>[0]): void {
  httpNode = RED.httpNode;
  healthNode(RED);
}

before(async () => {
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-health-node-'));
  helper.settings({ userDir });
  await startServer();
});
afterEach(async () => {
  await helper.unload();
});
after(async () => {
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

function flow(config: Record<string, unknown> = {}, extra: Record<string, unknown>[] = []) {
  return [
    { id: 'tab', type: 'tab', label: 'health' },
    { id: 'hl', z: 'tab', type: 'rtu-health', name: 'rtu health', interval: 60, systemName: 'rtu-7', wires: [['snap'], ['readings']], ...config },
    { id: 'snap', z: 'tab', type: 'helper', wires: [] },
    { id: 'readings', z: 'tab', type: 'helper', wires: [] },
    ...extra,
  ];
}

const reading = (device: string, quality: string, at: number) => ({ topic: device, payload: { p: 1 }, rtu: { device, timestamp: at, quality, latencyMs: 12, line: 'bus2', protocol: 'modbus' } });

test('device health from readings, system figures, and health readings on the second output', async () => {
  await helper.load([healthWithApp], flow());
  const node = helper.getNode('hl') as TestNode;
  // The first automatic snapshot (200 ms after start) may or may not see readings; wait for it to pass.
  await nextMessage('snap');
  const t0 = Date.now() - 10_000;
  for (let i = 0; i < 10; i++) {
    node.receive(reading('pv-1', 'good', t0 + i * 1000));
    node.receive(reading('pv-2', i < 4 ? 'good' : 'bad', t0 + i * 1000));
  }
  const snapshot = nextMessage<{ topic: string; payload: HealthSnapshot }>('snap');
  const readings = collect<{ topic: string; payload: Record<string, unknown>; rtu: { profile: string } }>('readings');
  node.receive({ payload: 'now' });
  const s = (await snapshot).payload;
  assert.equal(s.devices['pv-1'].status, 'online');
  assert.equal(s.devices['pv-1'].successRate, 1);
  assert.equal(s.devices['pv-1'].latencyP50Ms, 12);
  assert.equal(s.devices['pv-1'].line, 'bus2');
  assert.equal(s.devices['pv-2'].status, 'offline');
  assert.equal(s.devices['pv-2'].consecutiveFailures, 6);
  assert.equal(s.devices['pv-2'].successRate, 0.4);
  assert.ok(s.system && s.system.rssBytes > 0 && 'freeBytes' in s.system.disk);
  assert.equal((s.system?.disk as { path: string }).path, userDir, 'free space of the user dir by default');
  await waitFor(() => readings.some((r) => r.topic === 'rtu-7' && r.payload.devices_offline === 1), 'health readings of this snapshot');
  const system = readings.find((r) => r.topic === 'rtu-7' && r.payload.devices_offline === 1);
  assert.equal(system?.rtu.profile, 'rtu-health-system');
  assert.equal(system?.payload.devices_offline, 1);
  assert.equal(readings.find((r) => r.topic === 'device:pv-2')?.payload.status, 'offline');
});

test('registered sources appear; a failing one turns the status red and is named', async () => {
  const off = health.registerLine('bus9', () => ({ connected: false, state: 'reconnecting', queueDepth: 4, requestsPerSec: 0, lastError: 'connect ECONNREFUSED 127.0.0.1:502' }));
  const offBroken = health.registerDevice('ghost', () => {
    throw new Error('poller gone');
  });
  try {
    await helper.load([healthWithApp], flow());
    const s = (await nextMessage<{ payload: HealthSnapshot }>('snap')).payload;
    assert.equal(s.lines.bus9.connected, false);
    assert.equal(s.lines.bus9.lastError, 'connect ECONNREFUSED 127.0.0.1:502');
    assert.deepEqual(s.errors, ['device ghost: statistics unavailable: poller gone']);
  } finally {
    off();
    offBroken();
  }
});

test('the Prometheus endpoint serves the current figures and leaves with the node', async () => {
  await helper.load([healthWithApp], flow({ prometheus: true, prometheusPath: 'rtu/metrics' }));
  const node = helper.getNode('hl') as TestNode;
  node.receive(reading('meter-a', 'good', Date.now()));
  await nextMessage('snap');
  const res = await request(httpNode).get('/rtu/metrics').expect(200);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  assert.match(res.text, /^rtu_device_up\{device="meter-a",line="bus2"\} 1$/m);
  assert.match(res.text, /^rtu_process_resident_memory_bytes \d+$/m);
  await helper.unload();
  await helper.load([healthWithApp], flow({ prometheus: false }));
  await request(httpNode).get('/rtu/metrics').expect(404);
});

test('clock offset from an SNTP server on 127.0.0.1, and health readings raising an alert downstream', async () => {
  const server = dgram.createSocket('udp4');
  server.on('message', (msg, peer) => {
    const r = Buffer.alloc(48);
    r[0] = (4 << 3) | 4;
    r[1] = 1;
    msg.copy(r, 24, 40, 48);
    writeNtpTime(r, 32, Date.now() + 2500);
    writeNtpTime(r, 40, Date.now() + 2500);
    server.send(r, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    await helper.load(
      [healthWithApp, alertNode],
      flow({ ntpServer: `127.0.0.1:${port}`, wires: [['snap'], ['readings', 'al']] }, [
        { id: 'al', z: 'tab', type: 'rtu-alert', persist: false, rules: [{ id: 'clock', device: 'rtu-7', point: 'clock_offset_ms', type: 'band', low: -1000, high: 1000, category: 'system' }], wires: [['alerts']] },
        { id: 'alerts', z: 'tab', type: 'helper', wires: [] },
      ]),
    );
    const alert = nextMessage<{ topic: string; payload: AlertPayload }>('alerts');
    const s = (await nextMessage<{ payload: HealthSnapshot }>('snap')).payload;
    assert.ok(s.system?.clock && Math.abs((s.system.clock.offsetMs ?? 0) - 2500) < 30, JSON.stringify(s.system?.clock));
    const a = await alert;
    assert.equal(a.topic, 'alert/rtu-7/clock_offset_ms');
    assert.equal(a.payload.category, 'system');
    assert.equal(a.payload.unit, 'ms');
  } finally {
    server.close();
  }
});

test('locale keys exist in en-US and de and help has four sections', () => {
  const dir = path.resolve(__dirname, '../../../nodes/rtu-health');
  const html = fs.readFileSync(path.join(dir, 'rtu-health.html'), 'utf8');
  const used = new Set<string>();
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?rtu-health\.([\w.]+)"/g)) used.add(m[1]);
  for (const m of html.matchAll(/'rtu-health\.((?:label|hint|status)\.\w+)'/g)) used.add(m[1]);
  const runtimeSource = fs.readFileSync(path.join(dir, 'rtu-health.ts'), 'utf8');
  for (const m of runtimeSource.matchAll(/RED\._\('rtu-health\.([\w.]+)'/g)) used.add(m[1]);
  assert.ok(used.size > 15);
  for (const lang of ['en-US', 'de']) {
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-health.json'), 'utf8'))['rtu-health'];
    for (const key of used) {
      const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], catalog);
      assert.equal(typeof value, 'string', `${lang}: rtu-health.${key} missing`);
    }
    assert.equal((fs.readFileSync(path.join(dir, 'locales', lang, 'rtu-health.html'), 'utf8').match(/<h3>/g) ?? []).length, 4);
  }
  let registered: { defaults: Record<string, unknown>; outputs: number } | undefined;
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  vm.runInNewContext(script, { RED: { nodes: { registerType: (_t: string, def: typeof registered) => (registered = def) }, validators: { number: () => () => true } } });
  assert.equal(registered?.outputs, 2);
});
