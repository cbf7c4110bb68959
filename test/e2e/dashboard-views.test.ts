/**
 * The dashboard as operators use it, in Debian's Chromium, on the bundled
 * pipeline: the test-mode state at the top of the view at 1280×720 and on a
 * 412 px phone, the device table inside its group with no horizontal
 * overflow, the filter matching the status column, one unit per quantity in
 * the values column, one explanation per offline device, and two browsers
 * that each keep their own selection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { artifact, launchBrowser } from '../support/e2e/browser';
import { installedExample, retarget } from '../support/e2e/flows';
import { makeUserDir, pack, packageJson, UserDir } from '../support/e2e/install';
import { deployFlows, RunningNodeRed, startNodeRed } from '../support/e2e/node-red';
import { Broker, freePort, Receiver, startBroker, startReceiver } from '../support/e2e/peers';
import { stopAll } from '../support/e2e/processes';

let workDir = '';
let userDir: UserDir;
let red: RunningNodeRed;
let broker: Broker;
let receiver: Receiver;
let browser: Browser;
const contexts: BrowserContext[] = [];

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-dashboard-'));
  userDir = await makeUserDir(await pack(workDir), { dashboard: true });
  broker = await startBroker();
  receiver = await startReceiver();
  red = await startNodeRed(4, userDir.dir, userDir.settingsFile);
  const packageDir = path.join(userDir.dir, 'node_modules', ...packageJson.name.split('/'));
  const targets = { simulatorPort: await freePort(), gatewayPort: await freePort(), mqttPort: broker.port, httpUrl: receiver.url };
  await deployFlows(red, retarget(installedExample(packageDir, 'rtu-pipeline'), targets));
  browser = await launchBrowser();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await red?.stop();
  await broker?.stop();
  await receiver?.stop();
  await stopAll();
  userDir?.remove();
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** A browser of its own (its own session), on the dashboard, once meter-4 is known offline. */
async function viewer(width: number, height: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${red.url}/ui/`, { waitUntil: 'domcontentloaded', timeout: 20000 });
  await page.waitForFunction(
    () =>
      document.querySelectorAll('tr.rtu-row').length === 4 &&
      document.querySelector('tr.rtu-row[data-device="meter-4"] .rtu-st')?.textContent?.trim() === 'offline' &&
      !!document.querySelector('tr.rtu-row[data-device="meter-1"] td.rtu-c-values')?.textContent?.trim(),
    undefined,
    { timeout: 60000 },
  );
  await page.waitForFunction(() => /TEST MODE|PRODUCTION/.test(document.querySelector('.rtu-strip-state')?.textContent ?? ''), undefined, { timeout: 15000 });
  return page;
}

interface Layout {
  strip: { top: number; bottom: number } | null;
  tableOverflow: number;
  tableRight: number;
  groupRight: number;
  hiddenColumns: number;
  errorCellRight: number | null;
}

async function layout(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const box = (el: Element | null) => (el ? el.getBoundingClientRect() : null);
    const strip = box(document.querySelector('.rtu-strip-state'));
    const table = document.querySelector<HTMLElement>('table.rtu-devices')!;
    const scroller = table.closest<HTMLElement>('.rtu-dev')!;
    const group = table.closest<HTMLElement>('ui-card-panel') ?? scroller;
    const headers = Array.from(table.querySelectorAll<HTMLElement>('th'));
    const error = table.querySelector<HTMLElement>('tr.rtu-row td.rtu-c-error');
    return {
      strip: strip ? { top: strip.top, bottom: strip.bottom } : null,
      tableOverflow: Math.max(scroller.scrollWidth - scroller.clientWidth, table.scrollWidth - table.clientWidth),
      tableRight: table.getBoundingClientRect().right,
      groupRight: group.getBoundingClientRect().right,
      hiddenColumns: headers.filter((h) => h.offsetParent === null).length,
      errorCellRight: error && error.offsetParent ? error.getBoundingClientRect().right : null,
    };
  });
}

for (const [width, height, name] of [
  [1280, 720, 'desktop'],
  [412, 915, 'phone'],
] as Array<[number, number, string]>) {
  test(`${width}×${height}: test-mode state at the top, the device table fits its group`, async () => {
    const page = await viewer(width, height);
    await page.screenshot({ path: artifact(`dashboard-${name}.png`) });
    const l = await layout(page);
    assert.ok(l.strip, 'the test-mode state is shown');
    assert.ok(l.strip!.top >= 0 && l.strip!.bottom <= Math.min(height, 160), `test-mode state at ${JSON.stringify(l.strip)}: not at the top of the view`);
    assert.ok(l.tableOverflow <= 1, `the device table overflows by ${l.tableOverflow} px`);
    assert.ok(l.tableRight <= l.groupRight + 1, `table ends at ${l.tableRight}, its group at ${l.groupRight}`);
    assert.ok(l.groupRight <= width + 1, `the devices group ends at ${l.groupRight}, beyond the ${width} px screen`);
    if (name === 'desktop') {
      assert.equal(l.hiddenColumns, 0, 'every column is shown at desktop size');
      assert.ok(l.errorCellRight !== null && l.errorCellRight <= l.groupRight + 1, `last error column ends at ${l.errorCellRight}, group at ${l.groupRight}`);
    }
  });
}

test('the filter matches the status column; power is in one unit down the values column', async () => {
  const page = await viewer(1280, 720);
  await page.fill('input.rtu-filter', 'offline');
  await page.waitForFunction(() => document.querySelectorAll('tr.rtu-row').length === 1, undefined, { timeout: 5000 });
  assert.equal(await page.locator('tr.rtu-row').first().getAttribute('data-device'), 'meter-4');
  await page.fill('input.rtu-filter', '');
  await page.waitForFunction(() => document.querySelectorAll('tr.rtu-row').length === 4, undefined, { timeout: 5000 });
  const values = await page.$$eval('tr.rtu-row td.rtu-c-values', (tds) => tds.map((td) => td.textContent ?? ''));
  const units = new Set(values.flatMap((v) => [...v.matchAll(/[\d.]+ (k?W)\b/g)].map((m) => m[1])));
  assert.ok(units.size <= 1, `power shown in ${[...units].join(' and ')}: ${values.join(' | ')}`);
});

test('two browsers keep their own selection; the offline device has one explanation', async () => {
  const a = await viewer(1280, 720);
  await a.click('tr.rtu-row[data-device="meter-4"]');
  await a.waitForSelector('.rtu-detail .rtu-why', { timeout: 10000 });
  // A second viewer opens on no selection, not on the first viewer's.
  const b = await viewer(1280, 720);
  assert.equal(await b.locator('.rtu-detail').count(), 0, 'a fresh browser shows no device detail');
  await b.click('tr.rtu-row[data-device="meter-1"]');
  await b.waitForFunction(() => document.querySelector('.rtu-detail h4')?.textContent?.includes('meter-1'), undefined, { timeout: 10000 });
  // After further refreshes, the first viewer still sees meter-4.
  const updated = await a.locator('.rtu-dev .rtu-muted').first().innerText();
  await a.waitForFunction((u) => document.querySelector('.rtu-dev .rtu-muted')?.textContent !== u, updated, { timeout: 15000 });
  assert.match(await a.locator('.rtu-detail h4').innerText(), /meter-4/);
  assert.match(await b.locator('.rtu-detail h4').innerText(), /meter-1/);

  const detail = await a.locator('.rtu-detail').innerText();
  const why = await a.locator('.rtu-detail .rtu-why').innerText();
  assert.match(why, /^offline: /);
  assert.equal((detail.match(/next try in/g) ?? []).length <= 1, true, `"next try" said more than once:\n${detail}`);
  assert.doesNotMatch(detail, /(reading|values) of \d/, `a time of values that never came:\n${detail}`);
  await a.screenshot({ path: artifact('dashboard-selection-a.png'), fullPage: true });
  await b.screenshot({ path: artifact('dashboard-selection-b.png'), fullPage: true });
});

test('each browser trends its own point in the device detail; the other viewer is not moved', async () => {
  const a = await viewer(1280, 720);
  await a.click('tr.rtu-row[data-device="meter-1"]');
  await a.waitForSelector('.rtu-detail tr[data-point="frequency"] button.rtu-trend', { timeout: 10000 });
  await a.click('.rtu-detail tr[data-point="frequency"] button.rtu-trend');
  const b = await viewer(1280, 720);
  assert.equal(await b.locator('.rtu-my-trend').count(), 0, 'a fresh browser has no trend of its own');
  await b.click('tr.rtu-row[data-device="meter-2"]');
  await b.waitForSelector('.rtu-detail tr[data-point="voltage_l1_n"] button.rtu-trend', { timeout: 10000 });
  await b.click('.rtu-detail tr[data-point="voltage_l1_n"] button.rtu-trend');
  // Each trend grows from the readings its own detail receives.
  for (const [page, point] of [[a, 'frequency'], [b, 'voltage_l1_n']] as Array<[Page, string]>) {
    await page.waitForFunction(
      (p) => document.querySelector('.rtu-my-trend b')?.textContent?.startsWith(p) && /^[2-9]\d* values|^\d{2,} values/.test(document.querySelector('.rtu-trend-range')?.textContent ?? ''),
      point,
      { timeout: 30000 },
    );
  }
  assert.match(await a.locator('.rtu-my-trend b').innerText(), /^frequency/);
  assert.match(await b.locator('.rtu-my-trend b').innerText(), /^voltage_l1_n/);
  assert.equal(await a.locator('.rtu-detail tr[data-point="frequency"] button.rtu-trend').innerText(), 'trending');
  assert.equal(await b.locator('.rtu-detail tr[data-point="frequency"] button.rtu-trend').innerText(), 'trend');
  await a.screenshot({ path: artifact('dashboard-trend-a.png'), fullPage: true });
  await b.screenshot({ path: artifact('dashboard-trend-b.png'), fullPage: true });
});

test('the overview lists the bundled IEC 104 outstation and its state', async () => {
  const page = await viewer(1280, 720);
  await page.waitForFunction(() => /outstation/.test(document.querySelector('table.rtu-iec104')?.textContent ?? ''), undefined, { timeout: 20000 });
  const text = await page.locator('table.rtu-iec104').innerText();
  assert.match(text, /SCADA IEC 104.*outstation/i);
});
