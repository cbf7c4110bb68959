/**
 * Commissioning from the editor, in Debian's Chromium against the packed
 * package: every node's dialog, new and from every shipped flow, in every
 * shipped language, shows no raw translation key, no validation error, no
 * clipped drop-down and no empty box; config nodes go by their palette label;
 * a serial port is picked from the list under the visible port field; two
 * pollers with one device name are flagged; the model list can be searched.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Browser, Page } from 'playwright-core';
import { artifact, launchBrowser } from '../support/e2e/browser';
import { closeDialog, createWithDefaults, dialogProblems, invalidNodes, labelProblems, openDialog, useEditorLanguage } from '../support/e2e/editor-dialogs';
import { makeUserDir, pack, packageJson, repoRoot, UserDir } from '../support/e2e/install';
import { RunningNodeRed, startNodeRed } from '../support/e2e/node-red';
import { stopAll } from '../support/e2e/processes';
import { PtyPair, startPtyPair } from '../support/pty-pair';

const LANGUAGES = ['en-US', 'de'];
/**
 * The one node not valid as dropped: a 104 client needs the connection to its
 * outstation, a config node the editor asks for (as core MQTT nodes ask for a broker).
 */
const NO_DEFAULT = [/^rtu-iec104-client .*: invalid \(connection\)$/];
const NO_DEFAULT_FIELD: Record<string, string> = {
  // A 104 client needs the outstation's connection, which a new flow does not have yet.
  'rtu-iec104-client': 'validation error shown on #node-input-connection',
};

/** Dialogs kept as screenshots in test-artifacts/, for a look at their layout. */
const SCREENSHOT: Record<string, string> = {
  'rtu-modbus-poller': 'poller',
  'rtu-discord': 'discord',
  'rtu-telegram': 'telegram',
  'rtu-http-out': 'http-out',
  'rtu-mqtt-out': 'mqtt-out',
};

let workDir = '';
let userDir: UserDir;
let red: RunningNodeRed;
let browser: Browser;
let pty: PtyPair;
let portLink = '';

const types = Object.keys(packageJson['node-red'].nodes);

before(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-dialogs-'));
  portLink = path.join(workDir, 'ttyRS485-e2e');
  pty = await startPtyPair({ link: portLink });
  userDir = await makeUserDir(await pack(workDir), { dashboard: true, settings: { rtuSerialPorts: [portLink] } });
  red = await startNodeRed(4, userDir.dir, userDir.settingsFile);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await red?.stop();
  await pty?.stop();
  await stopAll();
  userDir?.remove();
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function editor(lang: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await useEditorLanguage(page, lang);
  await page.goto(`${red.url}/`, { waitUntil: 'load', timeout: 30000 });
  await page.waitForSelector('#red-ui-palette-container-RTU .red-ui-palette-node', { timeout: 30000 });
  return page;
}

async function configFirst(page: Page): Promise<string[]> {
  const categories = await page.evaluate((ts) => ts.map((t) => (window as unknown as { RED: any }).RED.nodes.getType(t)?.category as string), types); // eslint-disable-line @typescript-eslint/no-explicit-any
  return [...types.filter((_t, i) => categories[i] === 'config'), ...types.filter((_t, i) => categories[i] !== 'config')];
}

for (const lang of LANGUAGES) {
  test(`${lang}: every node, new, opens valid and shows no raw key, clipped drop-down or empty box`, { timeout: 600_000 }, async () => {
    const page = await editor(lang);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      const problems = await labelProblems(page, types);
      for (const type of await configFirst(page)) {
        const id = await createWithDefaults(page, type);
        const kind = await openDialog(page, id);
        for (const p of await dialogProblems(page)) if (p !== NO_DEFAULT_FIELD[type]) problems.push(`${type} (new): ${p}`);
        if (SCREENSHOT[type]) await page.screenshot({ path: artifact(`editor-dialog-${SCREENSHOT[type]}-${lang}.png`) });
        await closeDialog(page, kind);
      }
      for (const p of await invalidNodes(page)) if (!NO_DEFAULT.some((re) => re.test(p))) problems.push(p);
      assert.deepEqual(problems, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
}

const shipped = [
  path.join(repoRoot, 'flows', 'rtu-pipeline.json'),
  ...fs.readdirSync(path.join(repoRoot, 'examples')).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(repoRoot, 'examples', f)),
];

for (const lang of LANGUAGES) {
  test(`${lang}: every node of every shipped flow opens valid, without raw keys`, { timeout: 600_000 }, async () => {
    const page = await editor(lang);
    const problems: string[] = [];
    try {
      for (const file of shipped) {
        const flow = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ id: string; type: string }>;
        const where = path.relative(repoRoot, file);
        await page.evaluate((f) => {
          const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
          RED.nodes.clear();
          RED.nodes.import(f);
        }, flow);
        for (const p of await invalidNodes(page)) problems.push(`${where}: ${p}`);
        for (const n of flow.filter((x) => x.type.startsWith('rtu-'))) {
          const kind = await openDialog(page, n.id);
          for (const p of await dialogProblems(page)) problems.push(`${where}: ${n.type} ${n.id}: ${p}`);
          await closeDialog(page, kind);
        }
      }
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
}

test('a serial port is picked from the list under the visible port field and saved in the line', async () => {
  const page = await editor('en-US');
  try {
    await page.evaluate(() => (window as unknown as { RED: any }).RED.editor.editConfig('', 'rtu-modbus-line', '_ADD_')); // eslint-disable-line @typescript-eslint/no-explicit-any
    await page.waitForSelector('.red-ui-tray #node-config-dialog-edit-form', { timeout: 10000 });
    await page.selectOption('#node-config-input-transport', 'rtu-serial');
    // The TypedInput hides the original input and shows its own container beside it.
    const field = page.locator('.red-ui-tray #node-config-input-serialPath ~ .red-ui-typedInput-container');
    assert.ok(await field.isVisible(), 'the port field is visible for a serial line');
    assert.equal(await page.locator('#rtu-line-serial-hint').isVisible(), false, 'no empty hint box under the field');
    await page.click('#rtu-line-refresh-ports');
    const option = page.locator('.rtu-line-port-menu li', { hasText: portLink });
    await option.waitFor({ timeout: 10000 });
    await page.screenshot({ path: artifact('editor-line-serial-ports.png') });
    await option.click();
    assert.equal(await page.$eval('#node-config-input-serialPath', (el) => (el as HTMLInputElement).value), portLink);
    // Typing filters the same list in the field itself.
    const typed = '.red-ui-tray #node-config-input-serialPath ~ .red-ui-typedInput-container input.red-ui-typedInput-input';
    await page.fill(typed, '');
    await page.type(typed, 'RS485');
    await page.locator('.red-ui-autoComplete-container li', { hasText: portLink }).waitFor({ timeout: 10000 });
    await page.keyboard.press('Enter');
    assert.deepEqual(await dialogProblems(page), []);
    await page.click('#node-config-dialog-ok');
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10000 });
    const saved = await page.evaluate(() => {
      const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
      const out: Array<Record<string, unknown>> = [];
      RED.nodes.eachConfig((c: Record<string, unknown>) => {
        if (c.type === 'rtu-modbus-line') out.push({ serialPath: c.serialPath, baudRate: c.baudRate, parity: c.parity, interRequestDelay: c.interRequestDelay, valid: c.valid });
      });
      return out;
    });
    assert.deepEqual(saved, [{ serialPath: portLink, baudRate: 9600, parity: 'none', interRequestDelay: '0', valid: true }]);
  } finally {
    await page.close();
  }
});

test('two pollers with one device name are flagged in the editor; the model list is searchable', async () => {
  const page = await editor('en-US');
  try {
    await createWithDefaults(page, 'rtu-modbus-line');
    const first = await createWithDefaults(page, 'rtu-modbus-poller', { name: 'incomer' });
    await createWithDefaults(page, 'rtu-modbus-poller', { name: 'incomer' });
    const invalid = await invalidNodes(page);
    assert.equal(invalid.filter((p) => /rtu-modbus-poller incomer: invalid \(another poller \(node \w+\) already names its device "incomer"/.test(p)).length, 2, invalid.join('\n'));
    const kind = await openDialog(page, first);
    assert.ok(await page.locator('#node-input-name.input-error').isVisible(), 'the name field is marked');
    await page.fill('#rtu-poller-model-search', 'simulated');
    const models = await page.$$eval('#node-input-model option', (os) => os.map((o) => o.textContent ?? ''));
    assert.ok(models.some((m) => /simulated/i.test(m)), `models after search: ${models.join(', ')}`);
    const makers = await page.$$eval('#rtu-poller-manufacturer option', (os) => os.map((o) => o.textContent ?? ''));
    assert.ok(makers.length >= 1);
    await page.fill('#rtu-poller-model-search', 'no such meter anywhere');
    assert.equal(await page.$$eval('#rtu-poller-manufacturer option', (os) => os.length), 0);
    await page.fill('#rtu-poller-model-search', '');
    assert.equal(await page.inputValue('#node-input-model'), 'rtu/simulated-energy-meter', 'clearing the search brings the chosen model back');
    assert.equal(await page.inputValue('#node-input-profile'), 'basic_power');
    await page.fill('#node-input-name', 'incomer-2');
    await page.locator('#node-input-name').blur();
    await page.screenshot({ path: artifact('editor-poller-search.png') });
    await closeDialog(page, kind);
  } finally {
    await page.close();
  }
});
