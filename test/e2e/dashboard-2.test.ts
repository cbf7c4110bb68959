/**
 * The RTU page on FlowFuse Dashboard 2, as an integrator runs it: the package
 * installed from its tarball beside @flowfuse/node-red-dashboard, the bundled
 * rtu-pipeline-dashboard-2 example deployed, and two browsers in Debian's
 * Chromium: a desktop at 1280×720 and a phone at 412 px, each with its own
 * selection. Screenshots go to test-artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Browser, Page } from 'playwright-core';
import { artifact, launchBrowser } from '../support/e2e/browser';
import { installedExample, retarget } from '../support/e2e/flows';
import { makeUserDir, pack, packageJson, UserDir } from '../support/e2e/install';
import { deployFlows, flowsState, RunningNodeRed, startNodeRed } from '../support/e2e/node-red';
import { freePort, startBroker, startReceiver } from '../support/e2e/peers';
import { stopAll } from '../support/e2e/processes';

let workDir = '';
let userDir: UserDir;
let red: RunningNodeRed;
let browser: Browser;
let desktop: Page;
let phone: Page;
const cleanups: Array<() => unknown> = [];
const pageErrors: string[] = [];

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-dash2-'));
  userDir = await makeUserDir(await pack(workDir), { dashboard: false, dashboard2: true });
  const broker = await startBroker();
  cleanups.push(() => broker.stop());
  const receiver = await startReceiver();
  cleanups.push(() => receiver.stop());
  red = await startNodeRed(4, userDir.dir, userDir.settingsFile);
  const packageDir = path.join(userDir.dir, 'node_modules', ...packageJson.name.split('/'));
  const targets = { simulatorPort: await freePort(), gatewayPort: await freePort(), mqttPort: broker.port, httpUrl: receiver.url };
  await deployFlows(red, retarget(installedExample(packageDir, 'rtu-pipeline-dashboard-2'), targets));
  assert.equal(await flowsState(red), 'start');
  browser = await launchBrowser();
  desktop = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  phone = await (await browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true, hasTouch: true })).newPage();
  for (const page of [desktop, phone]) {
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${red.url}/dashboard/rtu`, { waitUntil: 'domcontentloaded', timeout: 30000 });
  }
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await red?.stop();
  for (const c of cleanups.reverse()) await c();
  await stopAll();
  userDir?.remove();
  fs.rmSync(workDir, { recursive: true, force: true });
});

const row = (device: string) => `tr.rtu2-row[data-device="${device}"]`;

test('every device is listed with live values, and the test-mode state is at the top of the page', async () => {
  for (const page of [desktop, phone]) {
    await page.waitForFunction(() => document.querySelectorAll('tr.rtu2-row').length === 4, undefined, { timeout: 30000 });
    await page.waitForFunction(() => /\d+(\.\d+)? k?W/.test(document.querySelector('tr.rtu2-row[data-device="meter-1"] td.rtu2-c-values')?.textContent ?? ''), undefined, { timeout: 30000 });
    const strip = await page.locator('.rtu2-strip-mode').boundingBox();
    assert.ok(strip && strip.y < 150, `the test-mode strip is at the top (y ${strip?.y})`);
    assert.equal(await page.locator('.rtu2-strip-mode').innerText(), 'TEST MODE', 'a fresh install starts in test mode');
  }
  // The filter matches the status column.
  await desktop.fill('.rtu2-filter', 'offline');
  await desktop.waitForFunction(() => Array.from(document.querySelectorAll('tr.rtu2-row')).map((r) => r.getAttribute('data-device')).join() === 'meter-4');
  await desktop.fill('.rtu2-filter', '');
  await desktop.screenshot({ path: artifact('dashboard-2-desktop.png') });
});

test('the tables fit: no horizontal overflow at 1280×720 nor on a 412 px phone', async () => {
  for (const [name, page] of [['desktop', desktop], ['phone', phone]] as const) {
    const sizes = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: window.innerWidth,
      table: document.querySelector('.rtu2-devices')!.scrollWidth,
      box: document.querySelector('.rtu2-table-wrap')!.clientWidth,
    }));
    assert.ok(sizes.page <= sizes.window, `${name}: page ${sizes.page} px wide in a ${sizes.window} px window`);
    assert.ok(sizes.table <= sizes.box, `${name}: device table ${sizes.table} px in a ${sizes.box} px group`);
  }
});

test('two viewers select different devices, each sees its own detail and trend', async () => {
  await desktop.click(row('meter-1'));
  await phone.click(row('meter-4'));
  await desktop.waitForFunction(() => document.querySelector('.rtu2-detail-device')?.textContent === 'meter-1', undefined, { timeout: 10000 });
  await phone.waitForFunction(() => document.querySelector('.rtu2-detail-device')?.textContent === 'meter-4', undefined, { timeout: 10000 });
  assert.match(await phone.locator('.rtu2-why').innerText(), /meter-4|answer|fail/i, 'the offline device says why');
  // Several refreshes later each still sees its own choice.
  await desktop.click('tr[data-point="active_power_total"] button.rtu2-trend');
  await desktop.waitForFunction(() => /^[3-9] values|^\d\d+ values/.test(document.querySelector('.rtu2-trend-range')?.textContent ?? ''), undefined, { timeout: 20000 });
  assert.equal(await desktop.locator('.rtu2-detail-device').innerText(), 'meter-1');
  assert.equal(await phone.locator('.rtu2-detail-device').innerText(), 'meter-4');
  assert.equal(await phone.locator('.rtu2-chart').count(), 0, 'the phone did not get the desktop\'s trend');
  // A third browser opens on no selection at all, not on another viewer's.
  const fresh = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  await fresh.goto(`${red.url}/dashboard/rtu`, { waitUntil: 'domcontentloaded' });
  await fresh.waitForFunction(() => document.querySelectorAll('tr.rtu2-row').length === 4, undefined, { timeout: 30000 });
  assert.equal(await fresh.locator('.rtu2-detail').count(), 0);
  await fresh.close();
  await desktop.screenshot({ path: artifact('dashboard-2-desktop-detail.png') });
  await phone.screenshot({ path: artifact('dashboard-2-phone.png'), fullPage: true });
});

test('read now on the offline device answers in that viewer with the reason', async () => {
  await phone.click('.rtu2-read');
  await phone.waitForFunction(() => /read now failed/.test(document.querySelector('.rtu2-action')?.textContent ?? ''), undefined, { timeout: 20000 });
  assert.equal(await desktop.locator('.rtu2-action').count(), 0, 'the other viewer did not get the answer');
  for (const [name, page] of [['desktop', desktop], ['phone', phone]] as const) {
    assert.equal(await page.locator('.rtu2-dev').getAttribute('data-foreign-details'), '0', `${name} received no detail of another viewer's device`);
  }
});

test('the offline device\'s alert can be acknowledged', async () => {
  const alert = 'tr[data-alert^="meter-4/"]';
  await desktop.waitForSelector(`${alert} button.rtu2-ack`, { timeout: 60000 });
  await desktop.click(`${alert} button.rtu2-ack`);
  await desktop.waitForFunction((sel) => /acknowledged by/.test(document.querySelector(sel)?.textContent ?? ''), alert, { timeout: 15000 });
  await phone.waitForFunction((sel) => /acknowledged by/.test(document.querySelector(sel)?.textContent ?? ''), alert, { timeout: 15000 });
});

test('verify configuration, and the test-mode switch for everyone', async () => {
  await desktop.click('.rtu2-tm-verify');
  await desktop.waitForFunction(() => /3\/4 devices reachable/.test(document.querySelector('.rtu2-tm-summary')?.textContent ?? ''), undefined, { timeout: 60000 });
  await desktop.click('.rtu2-tm-toggle');
  for (const page of [desktop, phone]) await page.waitForFunction(() => document.querySelector('.rtu2-strip-mode')?.textContent?.trim() === 'PRODUCTION', undefined, { timeout: 15000 });
  await phone.click('.rtu2-tm-toggle');
  for (const page of [desktop, phone]) await page.waitForFunction(() => document.querySelector('.rtu2-strip-mode')?.textContent?.trim() === 'TEST MODE', undefined, { timeout: 15000 });
  await desktop.screenshot({ path: artifact('dashboard-2-verify.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
