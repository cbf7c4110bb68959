import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import { sharedRegistry } from '../../nodes/lib/registry';
import { startSimulator } from '../../nodes/lib/simulator/start';
import { HealthRegistry } from '../../nodes/lib/health/registry';
import { ReadingObserver } from '../../nodes/lib/health/observer';
import { registerPoller } from '../../nodes/lib/health/sources';
import { healthReadings } from '../../nodes/lib/health/readings';
import { toPrometheus } from '../../nodes/lib/health/prometheus';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import { validateRules } from '../../nodes/lib/alert/rules';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { waitFor } from './notify-receivers';

test('health figures from real pollers on a simulator with a dead unit, and the same from their readings', async () => {
  const sim = await startSimulator({ units: [1, 2, 3], deadUnitIds: [3], latencyMs: 5 });
  const line = new ModbusLine({
    name: 'bus1',
    transport: { kind: 'tcp', host: '127.0.0.1', port: sim.port },
    timeoutMs: 120,
    retries: 0,
    unitBackoff: { initialMs: 2000, maxMs: 2000, jitter: 0 },
    reconnectAfterTimeouts: 0,
  });
  line.start();
  const registry = new HealthRegistry();
  const observer = new ReadingObserver();
  const offLine = registry.registerLine('bus1', () => line.stats());
  const points = sharedRegistry().requireModel('rtu/simulated-energy-meter').points.slice(0, 6);
  const pollers = [1, 2, 3].map((unitId) => new DevicePoller({ name: `meter-${unitId}`, line, unitId, intervalMs: 100, points }));
  const readings: ReadingMessage[] = [];
  const offs = pollers.map((p) => {
    p.on('reading', (m: ReadingMessage) => {
      readings.push(m);
      observer.observe(m);
    });
    p.start();
    return registerPoller(registry, p);
  });
  try {
    await waitFor(() => readings.filter((r) => r.rtu.device === 'meter-1').length >= 10 && readings.filter((r) => r.rtu.device === 'meter-3').length >= 3, 8000, 'polls');
    const snap = registry.snapshot(Date.now());
    const [m1, m2, m3] = ['meter-1', 'meter-2', 'meter-3'].map((d) => snap.devices[d]);

    for (const m of [m1, m2]) {
      assert.equal(m.source, 'registered');
      assert.equal(m.status, 'online', JSON.stringify(m));
      assert.equal(m.successRate, 1);
      assert.equal(m.consecutiveFailures, 0);
      assert.equal(m.backoff.active, false);
      assert.ok(m.latencyP50Ms !== null && m.latencyP50Ms >= 5, `p50 ${m.latencyP50Ms} includes the simulator's 5 ms`);
      assert.ok(m.latencyP95Ms !== null && m.latencyP95Ms >= m.latencyP50Ms!);
      assert.ok(m.lastGoodAt !== null && Date.now() - m.lastGoodAt < 1000);
      assert.equal(m.line, 'bus1');
    }
    assert.equal(m3.status, 'offline', JSON.stringify(m3));
    assert.equal(m3.successRate, 0);
    assert.equal(m3.lastGoodAt, null);
    assert.equal(m3.backoff.active, true, 'the line backs off the dead unit');
    assert.match(m3.lastError ?? '', /unit 3|timeout|backing off/i);

    const bus = snap.lines.bus1;
    assert.equal(bus.connected, true);
    assert.ok(bus.requestsPerSec > 5, `${bus.requestsPerSec} requests/s`);
    assert.deepEqual(bus.unitsBackingOff, [3]);

    // The fallback from readings agrees on who is alive.
    const fromReadings = Object.fromEntries(observer.health(Date.now()).map((d) => [d.device, d]));
    assert.equal(fromReadings['meter-1'].status, 'online');
    assert.equal(fromReadings['meter-1'].successRate, 1);
    assert.ok((fromReadings['meter-1'].latencyP50Ms ?? 0) >= 5);
    assert.equal(fromReadings['meter-3'].status, 'offline');
    assert.equal(fromReadings['meter-3'].successRate, 0);

    // Health readings through the alert engine: one offline alert, for the dead unit only.
    const { rules } = validateRules([{ spec: { id: 'down', profile: 'rtu-health-device', point: 'status', type: 'state', value: 'offline', category: 'communication' }, source: 'r' }]);
    const engine = new AlertEngine(rules);
    const alerts = healthReadings(snap).flatMap((r) => engine.evaluate(r));
    assert.deepEqual(alerts.map((a) => a.id), ['device:meter-3/status/down']);

    const prom = toPrometheus(snap);
    assert.match(prom, /rtu_device_up\{device="meter-3",line="bus1"\} 0/);
    assert.match(prom, /rtu_device_up\{device="meter-1",line="bus1"\} 1/);
    assert.match(prom, /rtu_line_units_backing_off\{line="bus1"\} 1/);
  } finally {
    for (const p of pollers) p.stop();
    for (const off of offs) off();
    offLine();
    await line.stop();
    await sim.close();
  }
});
