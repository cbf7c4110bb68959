import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { AlertEngine } from '../../nodes/lib/alert/engine';
import { validateRules } from '../../nodes/lib/alert/rules';
import { ActiveAlertStore } from '../../nodes/lib/alert/store';

const T0 = Date.UTC(2025, 0, 1, 12);

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-alert-store-'));
}

const rules = validateRules([{ spec: { id: 'p-high', point: 'power', type: 'high', limit: 100 }, source: 'rule 1' }]).rules;
const reading = (device: string, power: number, ts: number) => ({ payload: { power }, rtu: { device, timestamp: ts, quality: 'good' as const } });

test('active alerts survive a restart through the store, storm writes are coalesced', async () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'energy-rtu', 'alerts-n1.json');
    const store = new ActiveAlertStore(file, 20);
    let writes = 0;
    const engine = new AlertEngine(rules, {
      onChange: () => {
        writes++;
        store.schedule(() => engine.active());
      },
    });
    for (let i = 0; i < 500; i++) engine.evaluate(reading(`m${i}`, 150, T0));
    assert.equal(writes, 500);
    assert.ok(!fs.existsSync(file), 'not written synchronously per alert');
    await waitFor(() => fs.existsSync(file));
    const loaded = new ActiveAlertStore(file).load();
    assert.equal(loaded.error, undefined);
    assert.equal(loaded.alerts.length, 500);

    const restarted = new AlertEngine(rules);
    assert.deepEqual(restarted.restore(loaded.alerts, T0 + 1000), []);
    assert.deepEqual(restarted.evaluate(reading('m7', 160, T0 + 2000)), [], 'no second raise after restart');
    assert.equal(restarted.evaluate(reading('m7', 10, T0 + 3000))[0].state, 'cleared');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['alerts-n1.json'], 'no temporary files left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing file is an empty start; a corrupt one is moved aside and reported', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'alerts.json');
    assert.deepEqual(new ActiveAlertStore(file).load(), { alerts: [] });
    fs.writeFileSync(file, '{"version":1,"alerts":[{"id":');
    const res = new ActiveAlertStore(file).load();
    assert.deepEqual(res.alerts, []);
    assert.match(res.error ?? '', /active alerts file .*alerts.json is not valid .*moved to .*alerts.json.corrupt-\d+/);
    assert.ok(!fs.existsSync(file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a write failure is kept as lastError instead of throwing', () => {
  const dir = tmpDir();
  try {
    fs.writeFileSync(path.join(dir, 'blocker'), 'a file where a folder should be');
    const store = new ActiveAlertStore(path.join(dir, 'blocker', 'alerts.json'));
    store.schedule(() => []);
    store.flush();
    assert.match(store.lastError?.message ?? '', /cannot save active alerts to .*blocker.*alerts.json/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 right after an alert is saved: the file is whole and holds it', async () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'alerts.json');
    const engineModule = require.resolve('../../nodes/lib/alert/engine');
    const storeModule = require.resolve('../../nodes/lib/alert/store');
    const rulesModule = require.resolve('../../nodes/lib/alert/rules');
    // The child raises alerts in a loop and saves continuously until killed.
    const script = `
      const { AlertEngine } = require(${JSON.stringify(engineModule)});
      const { ActiveAlertStore } = require(${JSON.stringify(storeModule)});
      const { validateRules } = require(${JSON.stringify(rulesModule)});
      const rules = validateRules([{ spec: { id: 'p-high', point: 'power', type: 'high', limit: 100 }, source: 'r' }]).rules;
      const store = new ActiveAlertStore(${JSON.stringify(file)}, 1);
      const engine = new AlertEngine(rules, { onChange: () => store.schedule(() => engine.active()) });
      let i = 0;
      setInterval(() => { for (let k = 0; k < 50; k++) engine.evaluate({ payload: { power: 150 }, rtu: { device: 'm' + i++, timestamp: Date.now(), quality: 'good' } }); }, 2);
      setTimeout(() => process.exit(3), 10000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    try {
      await waitFor(() => {
        try {
          return JSON.parse(fs.readFileSync(file, 'utf8')).alerts.length >= 2000;
        } catch {
          return false;
        }
      }, 8000);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const { alerts, error } = new ActiveAlertStore(file).load();
    assert.equal(error, undefined);
    assert.ok(alerts.length >= 2000);
    assert.ok(alerts.every((a) => a.state === 'raised' && a.rule === 'p-high'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
