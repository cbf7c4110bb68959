/**
 * The dashboard with a few hundred devices: 240 simulated meters on one
 * Modbus TCP line, the dashboard tab of the bundled flow, and the health table
 * driven in Chromium: paging, filtering and sorting stay quick and the
 * table keeps updating. Prints the size of one table message.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Browser } from 'playwright-core';
import { artifact, launchBrowser } from '../support/e2e/browser';
import { installedExample } from '../support/e2e/flows';
import { makeUserDir, pack, packageJson, UserDir } from '../support/e2e/install';
import { deployFlows, FlowNode, RunningNodeRed, startNodeRed } from '../support/e2e/node-red';
import { freePort } from '../support/e2e/peers';
import { stopAll } from '../support/e2e/processes';

const DEVICES = 240;
let workDir = '';
let userDir: UserDir;
let red: RunningNodeRed;
let browser: Browser;

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-scale-'));
  userDir = await makeUserDir(await pack(workDir), { dashboard: true });
  red = await startNodeRed(5, userDir.dir, userDir.settingsFile);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await red?.stop();
  await stopAll();
  userDir?.remove();
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** A site of `count` meters on one line, with the dashboard tab of the bundled flow. */
function site(count: number, port: number, dashboardTab: FlowNode[]): FlowNode[] {
  const z = 'scale_tab';
  const units = Array.from({ length: count }, (_, i) => i + 1);
  return [
    { id: z, type: 'tab', label: `${count} meters` },
    { id: 'scale_sim', type: 'rtu-simulator', z, name: 'meters', host: '127.0.0.1', port, units: units.map((unitId) => ({ unitId, model: '' })), deadUnits: '7, 77, 177', latency: 0, x: 100, y: 40, wires: [] },
    { id: 'scale_line', type: 'rtu-modbus-line', name: 'big bus', transport: 'tcp', host: '127.0.0.1', port, timeout: 500, retries: 0, interRequestDelay: 0, maxOutstanding: 4, unitBackoffMax: 60, reconnectMax: 30 },
    ...units.map((unitId, i) => ({
      id: `scale_p${unitId}`,
      type: 'rtu-modbus-poller',
      z,
      name: `pm-${String(unitId).padStart(3, '0')}`,
      line: 'scale_line',
      unitId,
      interval: 2,
      source: 'model',
      model: 'rtu/simulated-energy-meter',
      profile: 'basic_power',
      points: [],
      maxGap: 10,
      includeRaw: false,
      x: 300 + 200 * Math.floor(i / 40),
      y: 40 + 20 * (i % 40),
      wires: [[]],
    })),
    ...dashboardTab,
  ];
}

test(`the health table with ${DEVICES} devices: pages, filters, sorts and keeps updating`, { timeout: 90000 }, async () => {
  const example = installedExample(path.join(userDir.dir, 'node_modules', ...packageJson.name.split('/')), 'rtu-pipeline');
  // The dashboard tab and its ui config nodes; the links to the pipeline's alerts are left dangling.
  const dashboardTab = example.filter((n) => n.z === 'rtu_db_tab' || n.id === 'rtu_db_tab' || /^ui_(tab|group|base)$/.test(n.type));
  await deployFlows(red, site(DEVICES, await freePort(), dashboardTab));
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  let tableBytes = 0;
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const data = typeof f.payload === 'string' ? f.payload : f.payload.toString();
      if (data.includes('"columns"') && data.length > tableBytes) tableBytes = data.length;
    }),
  );
  await page.goto(`${red.url}/ui/`, { waitUntil: 'domcontentloaded', timeout: 20000 });
  await page.waitForFunction(
    (n) => /of (\d+) devices/.exec(document.querySelector('.rtu-shown')?.textContent ?? '')?.[1] === String(n) && document.querySelectorAll('tr.rtu-row').length === 50,
    DEVICES,
    { timeout: 40000 },
  );
  // The three switched-off meters come first (offline sorts before online).
  await page.waitForFunction(() => document.querySelectorAll('tr.rtu-row .rtu-st-offline').length === 3, undefined, { timeout: 30000 });
  assert.deepEqual(await page.$$eval('tr.rtu-row', (rows) => rows.slice(0, 3).map((r) => r.getAttribute('data-device'))), ['pm-007', 'pm-077', 'pm-177']);

  const timed = async (what: string, action: () => Promise<unknown>, until: () => boolean | Promise<boolean>) => {
    const t0 = Date.now();
    await action();
    await page.waitForFunction(until as () => boolean, undefined, { timeout: 5000 });
    const ms = Date.now() - t0;
    console.log(`# ${DEVICES} devices: ${what} in ${ms} ms`);
    return ms;
  };
  await timed('next page', () => page.click('.rtu-bar button:has-text("›")'), () => /page 2 \//.test(document.querySelector('.rtu-dev .rtu-bar')?.textContent ?? ''));
  // pm-120 .. pm-129
  await timed('filter "pm-12"', () => page.fill('input.rtu-filter', 'pm-12'), () => document.querySelectorAll('tr.rtu-row').length === 10);
  assert.ok((await page.$$eval('tr.rtu-row', (rows) => rows.map((r) => r.getAttribute('data-device') ?? ''))).every((d) => d.startsWith('pm-12')));
  await page.fill('input.rtu-filter', '');
  await timed('sort by device, descending', async () => {
    await page.click('th:has-text("device")');
    await page.click('th:has-text("device")');
  }, () => document.querySelector('tr.rtu-row')?.getAttribute('data-device') === 'pm-240');
  // Still live: the values of the first row change with the polls.
  const before = await page.locator('tr.rtu-row td.rtu-c-values').first().innerText();
  await page.waitForFunction((b) => document.querySelector('tr.rtu-row td.rtu-c-values')?.textContent !== b, before, { timeout: 15000 });
  await page.screenshot({ path: artifact(`dashboard-${DEVICES}-devices.png`), fullPage: true });
  console.log(`# ${DEVICES} devices: one table message is ${(tableBytes / 1024).toFixed(0)} kB`);
  assert.ok(tableBytes > 0, 'the table message was seen on the websocket');
  await page.close();
});
