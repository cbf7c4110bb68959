/**
 * From `npm pack` to readings on the dashboard, as an integrator does it:
 * the tarball installed into a fresh user dir the way the palette manager
 * installs it, Node-RED 4 (command line) and 5 (embedded) on 127.0.0.1 and an
 * ephemeral port, the bundled "RTU pipeline" example deployed through the
 * admin API, and then, from outside: readings at the MQTT broker, the HTTP
 * receiver and the Modbus TCP gateway, and the dashboard driven in headless
 * Chromium (health table, live values, an offline device and why, a trend,
 * acknowledging an alert, test mode on -> verify -> results -> off), and the
 * test-mode state after a restart. Screenshots go to test-artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import ModbusRTU from 'modbus-serial';
import type { Browser, Page } from 'playwright-core';
import { artifact, launchBrowser } from '../support/e2e/browser';
import { installedExample, retarget, Targets } from '../support/e2e/flows';
import { makeUserDir, pack, packageJson, UserDir } from '../support/e2e/install';
import { deployFlows, flowsState, NodeRedVersion, RunningNodeRed, startNodeRed } from '../support/e2e/node-red';
import { Broker, freePort, Receiver, startBroker, startReceiver } from '../support/e2e/peers';
import { stopAll } from '../support/e2e/processes';
import { waitFor } from '../support/wait';

const TEST_TIMEOUT_MS = 120000;
let packStartedAt = 0;
let packMs = 0;
let tarball = '';
let workDir = '';
let browser: Browser;
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-'));
  packStartedAt = Date.now();
  tarball = await pack(workDir);
  packMs = Date.now() - packStartedAt;
  browser = await launchBrowser();
});

after(async () => {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      // keep cleaning up
    }
  }
  await browser?.close().catch(() => undefined);
  await stopAll();
  fs.rmSync(workDir, { recursive: true, force: true });
});

interface Site {
  red: RunningNodeRed;
  userDir: UserDir;
  broker: Broker;
  receiver: Receiver;
  targets: Targets;
  page: Page;
}

async function bringUp(version: NodeRedVersion, startedAt: number): Promise<Site & { dashboardMs: number }> {
  const userDir = await makeUserDir(tarball, { dashboard: true });
  cleanups.push(() => userDir.remove());
  const broker = await startBroker();
  cleanups.push(() => broker.stop());
  const receiver = await startReceiver();
  cleanups.push(() => receiver.stop());
  const targets: Targets = { simulatorPort: await freePort(), gatewayPort: await freePort(), mqttPort: broker.port, httpUrl: receiver.url };
  const red = await startNodeRed(version, userDir.dir, userDir.settingsFile);
  cleanups.push(() => red.stop());
  const packageDir = path.join(userDir.dir, 'node_modules', ...packageJson.name.split('/'));
  await deployFlows(red, retarget(installedExample(packageDir, 'rtu-pipeline'), targets));
  assert.equal(await flowsState(red), 'start');

  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  cleanups.push(() => page.close());
  await page.goto(`${red.url}/ui/`, { waitUntil: 'domcontentloaded', timeout: 20000 });
  // The first readings on the dashboard: every device listed, live values for a meter.
  await page.waitForFunction(
    () => {
      const rows = document.querySelectorAll('tr.rtu-row');
      const m1 = document.querySelector('tr.rtu-row[data-device="meter-1"] td.rtu-c-values');
      return rows.length === 4 && !!m1 && /\d+(\.\d+)? k?W/.test(m1.textContent ?? '');
    },
    undefined,
    { timeout: 30000 },
  );
  return { red, userDir, broker, receiver, targets, page, dashboardMs: Date.now() - startedAt };
}

const text = (page: Page, selector: string) => page.locator(selector).first().innerText({ timeout: 10000 });

async function checkPeers(site: Site, mode: 'test' | 'production'): Promise<void> {
  const prefix = mode === 'test' ? 'test/' : '';
  const topic = `${prefix}site/meter-1/measurements`;
  await waitFor(() => site.broker.messages.some((m) => m.topic === topic), `MQTT ${topic}`, 15000, 100);
  const mqtt = JSON.parse(site.broker.messages.filter((m) => m.topic === topic).pop()!.payload) as Record<string, unknown>;
  assert.match(JSON.stringify(mqtt), /voltage_l1_n/, `MQTT payload ${JSON.stringify(mqtt).slice(0, 300)}`);

  const pathWanted = mode === 'test' ? '/rtu/test' : '/rtu/readings';
  await waitFor(() => site.receiver.posts.some((p) => p.path === pathWanted && p.body.includes('"meter-1"')), `HTTP POST ${pathWanted}`, 20000, 100);
  const body = JSON.parse(site.receiver.posts.filter((p) => p.path === pathWanted).pop()!.body) as unknown;
  assert.ok(Array.isArray(body) && body.length > 0, 'the HTTP publisher posts batches of readings');
}

async function checkGateway(site: Site): Promise<void> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port: site.targets.gatewayPort });
  try {
    client.setTimeout(2000);
    client.setID(11); // meter-1 behind the gateway
    let voltage = 0;
    const until = Date.now() + 10000;
    while (Date.now() < until) {
      try {
        const res = await client.readInputRegisters(0, 2);
        voltage = Buffer.from(res.buffer).readFloatBE(0);
        if (voltage > 0) break;
      } catch {
        // the cache may not hold the block yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(voltage > 200 && voltage < 260, `voltage_l1_n of meter-1 through the gateway: ${voltage}`);
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

async function checkDashboard(site: Site, label: string): Promise<void> {
  const { page } = site;
  // Live values: the values column of meter-1 changes without a reload.
  const first = await text(page, 'tr.rtu-row[data-device="meter-1"] td.rtu-c-values');
  await page.waitForFunction(
    (before) => document.querySelector('tr.rtu-row[data-device="meter-1"] td.rtu-c-values')?.textContent !== before,
    first,
    { timeout: 15000 },
  );
  assert.equal(await text(page, 'tr.rtu-row[data-device="meter-4"] .rtu-st'), 'offline');
  // Filtering and sorting work on the table.
  await page.fill('input.rtu-filter', 'meter-2');
  await page.waitForFunction(() => document.querySelectorAll('tr.rtu-row').length === 1, undefined, { timeout: 5000 });
  await page.fill('input.rtu-filter', '');
  await page.waitForFunction(() => document.querySelectorAll('tr.rtu-row').length === 4, undefined, { timeout: 5000 });

  // A dashboard action on the offline device says why it fails.
  await page.click('tr.rtu-row[data-device="meter-4"]');
  await page.waitForSelector('.rtu-detail .rtu-why', { timeout: 10000 });
  assert.match(await text(page, '.rtu-detail .rtu-why'), /^offline: /);
  await page.click('button.rtu-read');
  await page.waitForSelector('.rtu-detail .rtu-action.rtu-err', { timeout: 20000 });
  assert.match(await text(page, '.rtu-detail .rtu-action'), /read now failed: .+/);

  // Trend a point of meter-1.
  await page.click('tr.rtu-row[data-device="meter-1"]');
  await page.waitForSelector('.rtu-point-values tr[data-point="frequency"] button.rtu-trend', { timeout: 10000 });
  await page.click('.rtu-point-values tr[data-point="frequency"] button.rtu-trend');
  await page.waitForFunction(
    () => document.querySelector('.rtu-point-values tr[data-point="frequency"] button.rtu-trend')?.textContent?.trim() === 'trending',
    undefined,
    { timeout: 10000 },
  );

  // The offline alert of meter-4, acknowledged from the dashboard.
  await page.waitForSelector('tr[data-alert^="meter-4/"] button.rtu-ack', { timeout: 30000 });
  await page.click('tr[data-alert^="meter-4/"] button.rtu-ack');
  await page.waitForFunction(() => /acknowledged by dashboard/.test(document.querySelector('tr[data-alert^="meter-4/"]')?.textContent ?? ''), undefined, {
    timeout: 10000,
  });
  await page.screenshot({ path: artifact(`dashboard-${label}.png`), fullPage: true });
}

async function checkTestMode(site: Site, label: string): Promise<void> {
  const { page } = site;
  // A fresh install of the bundled flow starts in test mode.
  await page.waitForFunction(() => document.querySelector('.rtu-tm-state')?.textContent?.trim() === 'TEST MODE', undefined, { timeout: 10000 });
  await checkPeers(site, 'test');
  await page.click('button.rtu-tm-verify');
  await page.waitForFunction(() => document.querySelectorAll('tr.rtu-tm-device').length === 4, undefined, { timeout: 30000 });
  assert.match(await text(page, '.rtu-tm-summary'), /3\/4 devices reachable/);
  assert.equal(await text(page, 'tr.rtu-tm-device[data-device="meter-4"] td:nth-child(2)'), 'no');
  assert.equal(await text(page, 'tr.rtu-tm-device[data-device="meter-1"] td:nth-child(2)'), 'yes');
  assert.match(await text(page, 'tr.rtu-tm-device[data-device="meter-1"] td:nth-child(4)'), /requests? touching \d+ registers/);
  await page.click('tr.rtu-tm-device[data-device="meter-1"]');
  await page.waitForSelector('.rtu-values tr[data-point="voltage_l1_n"]', { timeout: 5000 });
  assert.match(await text(page, '.rtu-values tr[data-point="voltage_l1_n"]'), /\d+(\.\d+)? V/);
  await page.screenshot({ path: artifact(`test-mode-${label}.png`), fullPage: true });

  await page.click('button.rtu-tm-toggle');
  await page.waitForFunction(() => document.querySelector('.rtu-tm-state')?.textContent?.trim() === 'PRODUCTION', undefined, { timeout: 10000 });
  await checkPeers(site, 'production');
}

for (const version of [4, 5] as NodeRedVersion[]) {
  test(`Node-RED ${version}: npm pack -> palette install -> RTU pipeline -> MQTT, HTTP, gateway and the dashboard`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const startedAt = version === 4 ? packStartedAt : Date.now();
    const site = await bringUp(version, startedAt);
    const what = version === 4 ? `from npm pack (${(packMs / 1000).toFixed(1)} s)` : 'from npm install (tarball already packed)';
    console.log(`# Node-RED ${version}: ${what} to readings on the dashboard: ${(site.dashboardMs / 1000).toFixed(1)} s`);
    await checkDashboard(site, `nr${version}`);
    await checkGateway(site);
    await checkTestMode(site, `nr${version}`);

    if (version === 4) {
      // The switch survives a restart; the flow's "first start in test mode" does not override it.
      await site.red.stop();
      const again = await startNodeRed(version, site.userDir.dir, site.userDir.settingsFile);
      cleanups.push(() => again.stop());
      await site.page.goto(`${again.url}/ui/`, { waitUntil: 'domcontentloaded', timeout: 20000 });
      await site.page.waitForFunction(() => document.querySelectorAll('tr.rtu-row').length === 4, undefined, { timeout: 30000 });
      await site.page.waitForFunction(() => document.querySelector('.rtu-tm-state')?.textContent?.trim() === 'PRODUCTION', undefined, { timeout: 10000 });
      assert.equal(JSON.parse(fs.readFileSync(path.join(site.userDir.dir, 'rtu-test-mode.json'), 'utf8')).enabled, false);
      // The alert acknowledged before the restart is still listed as acknowledged (kept by rtu-alert, listed to the feed).
      await site.page.waitForFunction(() => /acknowledged by dashboard/.test(document.querySelector('tr[data-alert^="meter-4/"]')?.textContent ?? ''), undefined, {
        timeout: 15000,
      });
      await again.stop();
    }
    assert.doesNotMatch(site.red.log(), /Waiting for missing types/);
    // The dashboard feed and the test-mode node take everything the flow sends them.
    assert.doesNotMatch(site.red.log(), /\[error\] \[(rtu-dashboard|rtu-test-mode|ui_template|ui_chart)[:\]]/);
  });
}
