/**
 * The Node-RED editor with the package installed from its tarball: every
 * rtu-* node type is in the RTU palette category (config nodes in the config
 * sidebar) with its own icon, and its help panel has the standard sections.
 * Screenshots of the palette, a help panel and the bundled flow go to
 * test-artifacts/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { artifact } from '../support/e2e/browser';
import { EditorSession, openEditorSession } from '../support/e2e/editor-session';
import { installedExample, retarget } from '../support/e2e/flows';
import { packageJson, UserDir } from '../support/e2e/install';
import { deployFlows, request, RunningNodeRed } from '../support/e2e/node-red';
import { freePort } from '../support/e2e/peers';

let session: EditorSession;
let userDir: UserDir;
let red: RunningNodeRed;
let page: Page;

before(async () => {
  session = await openEditorSession({ prefix: 'editor', nodeRed: 4, dashboard: true });
  ({ userDir, red, page } = session);
});

after(() => session?.stop());

interface TypeInfo {
  type: string;
  category: string;
  inputs: number;
  outputs: number;
  icon: string;
  inRtuPalette: boolean;
  paletteIcon: string;
}

const types = Object.keys(packageJson['node-red'].nodes).filter((t) => t.startsWith('rtu-'));

async function typeInfo(type: string): Promise<TypeInfo> {
  return page.evaluate((t) => {
    interface Def {
      category: string;
      inputs?: number;
      outputs?: number;
      icon?: string | (() => string);
    }
    const red = (window as unknown as { RED: { nodes: { getType(t: string): Def | undefined } } }).RED;
    const def = red.nodes.getType(t);
    const el = document.querySelector(`#red-ui-palette-container-RTU .red-ui-palette-node[data-palette-type="${t}"] .red-ui-palette-icon`);
    return {
      type: t,
      category: def?.category ?? '(not registered)',
      inputs: def?.inputs ?? 0,
      outputs: def?.outputs ?? 0,
      icon: typeof def?.icon === 'function' ? 'function' : def?.icon ?? '',
      inRtuPalette: !!el,
      paletteIcon: el ? getComputedStyle(el).backgroundImage : '',
    };
  }, type);
}

/** Opens the node's help in the sidebar and returns the section headings and the text shown. */
async function help(type: string): Promise<{ headings: string[]; text: string }> {
  await page.evaluate((t) => (window as unknown as { RED: { sidebar: { help: { show(t: string): void } } } }).RED.sidebar.help.show(t), type);
  await page.waitForFunction(
    () => Array.from(document.querySelectorAll<HTMLElement>('.red-ui-help')).some((el) => el.offsetParent !== null && el.querySelector('h3')),
    undefined,
    { timeout: 5000 },
  );
  return page.evaluate(() => {
    const el = Array.from(document.querySelectorAll<HTMLElement>('.red-ui-help')).find((e) => e.offsetParent !== null && e.querySelector('h3'))!;
    return { headings: Array.from(el.querySelectorAll('h3')).map((h) => h.textContent?.trim() ?? ''), text: el.innerText };
  });
}

test('every rtu-* node type is in the RTU category, config nodes in the config sidebar', async () => {
  assert.ok(types.length >= 10, `node types in package.json: ${types.join(', ')}`);
  const problems: string[] = [];
  for (const type of types) {
    const info = await typeInfo(type);
    if (info.category === 'config') {
      if (info.inRtuPalette) problems.push(`${type}: a config node shown in the palette`);
      continue;
    }
    if (info.category !== 'RTU') problems.push(`${type}: category ${info.category}, expected RTU`);
    if (!info.inRtuPalette) problems.push(`${type}: not in the RTU palette category`);
    if (!info.icon) problems.push(`${type}: no icon in its definition`);
  }
  await page.evaluate(() => document.querySelector('#red-ui-palette-container-RTU')?.scrollIntoView());
  await page.screenshot({ path: artifact('editor-palette.png') });
  assert.deepEqual(problems, []);
});

// Node-RED serves a module's icons only from an `icons` folder beside each node's .js file
// (@node-red/registry, localfilesystem getModuleNodeFiles); the package keeps them in the
// top-level icons/ and the build does not copy them to dist/nodes/<type>/icons yet.
const ICONS_TODO = fs.existsSync(path.join(__dirname, '..', '..', 'nodes', 'rtu-test-mode', 'icons'))
  ? false
  : 'icons are not beside the built node files (dist/nodes/<type>/icons): scripts/build.js must copy them';

test('every rtu-* node in the palette shows its own icon, served by Node-RED', { todo: ICONS_TODO }, async () => {
  const problems: string[] = [];
  for (const type of types) {
    const info = await typeInfo(type);
    if (info.category === 'config') continue;
    const url = /url\("?([^")]+)"?\)/.exec(info.paletteIcon)?.[1] ?? '';
    if (!url.includes(packageJson.name) && !url.includes(encodeURIComponent(packageJson.name))) {
      problems.push(`${type}: palette shows ${url || 'no icon'} instead of the package's ${info.icon}`);
      continue;
    }
    const res = await request(url);
    const body = await res.text();
    if (res.status !== 200 || !/<svg/.test(body)) problems.push(`${type}: icon ${url} answered ${res.status}`);
  }
  assert.deepEqual(problems, []);
});

test('every rtu-* node has help with Inputs, Outputs (where it has them) and Details', async () => {
  const problems: string[] = [];
  for (const type of types) {
    const info = await typeInfo(type);
    const h = await help(type);
    const want = ['Details'];
    if (info.inputs > 0) want.push('Inputs');
    if (info.outputs > 0) want.push('Outputs');
    for (const section of want) if (!h.headings.includes(section)) problems.push(`${type}: help has no ${section} section (has ${h.headings.join(', ') || 'none'})`);
    if (h.text.trim().length < 80) problems.push(`${type}: help text is too short to help`);
  }
  await help('rtu-test-mode');
  await page.screenshot({ path: artifact('editor-help-rtu-test-mode.png') });
  assert.deepEqual(problems, []);
});

test('the bundled RTU pipeline opens in the editor without unknown nodes', async () => {
  const flow = retarget(installedExample(path.join(userDir.dir, 'node_modules', ...packageJson.name.split('/')), 'rtu-pipeline'), {
    simulatorPort: await freePort(),
    gatewayPort: await freePort(),
    mqttPort: await freePort(),
    httpUrl: `http://127.0.0.1:${await freePort()}`,
  });
  await deployFlows(red, flow);
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('#red-ui-workspace-chart .red-ui-flow-node', { timeout: 30000 });
  const unknown = await page.evaluate(() => {
    const red = (window as unknown as { RED: { nodes: { eachNode(cb: (n: { type: string }) => void): void } } }).RED;
    const out: string[] = [];
    red.nodes.eachNode((n) => {
      if (n.type === 'unknown') out.push(JSON.stringify(n));
    });
    return out;
  });
  assert.deepEqual(unknown, []);
  await page.evaluate(() => (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show('rtu_pl_tab'));
  await page.waitForTimeout(500);
  await page.screenshot({ path: artifact('editor-flow-pipeline.png') });
  await page.evaluate(() => (window as unknown as { RED: { workspaces: { show(id: string): void } } }).RED.workspaces.show('rtu_db_tab'));
  await page.waitForTimeout(500);
  await page.screenshot({ path: artifact('editor-flow-dashboard.png') });
});

// Fields an integrator sets per site; each must be a TypedInput (str/num, env, context).
const TYPED_FIELDS: Record<string, number> = {
  'rtu-gateway': 2,
  'rtu-modbus-line': 3,
  'rtu-modbus-poller': 1,
  'rtu-http-out': 2,
  'rtu-mqtt-out': 2,
  'rtu-telegram': 2,
  'rtu-sparkplug': 3,
};

test('every rtu-* edit dialog opens without a script error; per-site fields are TypedInputs', async () => {
  const errors: string[] = [];
  const onError = (e: Error) => errors.push(e.message);
  page.on('pageerror', onError);
  const problems: string[] = [];
  try {
    for (const type of types) {
      const before = errors.length;
      const isConfig = await page.evaluate((t) => {
        const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
        if (RED.nodes.getType(t).category === 'config') {
          RED.editor.editConfig('', t, '_ADD_');
          return true;
        }
        const id = RED.nodes.id();
        RED.nodes.import([{ id, type: t, z: RED.workspaces.active(), x: 200, y: 200, wires: [] }]);
        RED.editor.edit(RED.nodes.node(id));
        return false;
      }, type);
      const form = isConfig ? '#node-config-dialog-edit-form' : '#dialog-form';
      try {
        await page.waitForSelector(`.red-ui-tray ${form}`, { timeout: 10000 });
      } catch {
        problems.push(`${type}: the edit dialog did not open`);
        continue;
      }
      await page.waitForTimeout(300);
      const typed = await page.$$eval(`.red-ui-tray ${form} .red-ui-typedInput-container`, (els) => els.length);
      if (typed < (TYPED_FIELDS[type] ?? 0)) problems.push(`${type}: ${typed} TypedInputs, expected at least ${TYPED_FIELDS[type]}`);
      if (errors.length > before) problems.push(`${type}: script error in the dialog: ${errors.slice(before).join('; ')}`);
      await page.click(isConfig ? '#node-config-dialog-cancel' : '#node-dialog-cancel');
      await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10000 });
    }
  } finally {
    page.off('pageerror', onError);
  }
  assert.deepEqual(problems, []);
});

test('the IEC 61850 control and poller dialogs open without a script error (screenshots)', async () => {
  const errors: string[] = [];
  const onError = (e: Error) => errors.push(e.message);
  page.on('pageerror', onError);
  try {
    for (const type of ['rtu-iec61850-control', 'rtu-iec61850-poller']) {
      await page.evaluate((t) => {
        const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
        const id = RED.nodes.id();
        RED.nodes.import([{ id, type: t, z: RED.workspaces.active(), x: 200, y: 200, wires: [], object: 'ied1Inverter/GGIO2.SPCSO4', report: true, controlBlock: 'simpleIOGenericIO/LLN0.EventsBRCB01 [BR]' }]);
        RED.editor.edit(RED.nodes.node(id));
      }, type);
      await page.waitForSelector('.red-ui-tray #dialog-form', { timeout: 10000 });
      await page.waitForTimeout(300);
      if (type === 'rtu-iec61850-control') {
        const options = await page.$$eval('.red-ui-tray #node-input-orCat option', (els) => els.map((e) => e.textContent));
        assert.equal(options.length, 9);
        assert.equal(await page.$eval('.red-ui-tray #node-input-orCat', (e) => (e as HTMLSelectElement).value), '3');
      } else {
        assert.ok(await page.$('.red-ui-tray #node-input-rcbDataSet'), 'the block data set field');
      }
      await page.screenshot({ path: artifact(`editor-${type}-dialog.png`) });
      await page.click('#node-dialog-cancel');
      await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10000 });
    }
  } finally {
    page.off('pageerror', onError);
  }
  assert.deepEqual(errors, []);
});
