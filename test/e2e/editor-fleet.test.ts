/**
 * The device-table node in the real editor (Chromium, packed package, Node-RED 5):
 * a fresh node is valid; the dialog adds and duplicates rows, imports CSV, flags a
 * duplicate unit id by row and field, filters; the table deploys and runs; a
 * runtime change made through the admin API shows in the dialog; after a restart
 * with adminAuth on, the API answers 401 without a token and keeps the change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { artifact } from '../support/e2e/browser';
import { dialogProblems, invalidNodes, useEditorLanguage } from '../support/e2e/editor-dialogs';
import { EditorSession, openEditorSession } from '../support/e2e/editor-session';
import { repoRoot } from '../support/e2e/install';
import { deployFlows, FlowNode, request, startNodeRed } from '../support/e2e/node-red';
import { startSimulator, RunningSimulator } from '../../nodes/lib/simulator/start';
import { sleep } from '../support/wait';

const MODEL = 'rtu/simulated-energy-meter';
// bcrypt of "fleet-admin-pass": Node-RED's adminAuth takes the hash, never the password.
const ADMIN_HASH = '$2b$08$/OHGAGPyaNcoLFtrHfrCOu6.DydHsAOVrqvbrFPWEFfw4zRymwx/e';

let session: EditorSession;
let page: Page;
let sim: RunningSimulator;
let fleetId = '';

before(async () => {
  sim = await startSimulator({ units: [1, 2, 3, 4, 5, 6] });
  session = await openEditorSession({ prefix: 'fleet', nodeRed: 5, dashboard: false });
  ({ page } = session);
});

after(async () => {
  await session?.stop();
  await sim?.close();
});

/** Adds a line config node and a fresh device-table node with its editor defaults; returns the node's id. */
async function freshFleetNode(): Promise<string> {
  return page.evaluate((port) => {
    const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
    const withDefaults = (type: string, n: Record<string, unknown>) => {
      const def = RED.nodes.getType(type);
      const out: Record<string, unknown> = { id: RED.nodes.id(), type };
      for (const d of Object.keys(def.defaults)) out[d] = JSON.parse(JSON.stringify(def.defaults[d].value ?? ''));
      return Object.assign(out, n);
    };
    RED.nodes.import([withDefaults('rtu-modbus-line', { name: 'feeder-1', transport: 'tcp', host: '127.0.0.1', port, timeout: 500, retries: 0 })]);
    const fleet = withDefaults('rtu-modbus-fleet', { z: RED.workspaces.active(), x: 300, y: 200, wires: [[]] });
    RED.nodes.import([fleet]);
    return fleet.id as string;
  }, sim.port);
}

async function openFleet(id: string): Promise<void> {
  await page.evaluate((nid) => {
    const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
    RED.editor.edit(RED.nodes.node(nid));
  }, id);
  await page.waitForSelector('.red-ui-tray #dialog-form #rtu-fleet-filter', { timeout: 10000 });
  await page.waitForFunction(() => (window as unknown as { $: { active: number } }).$.active === 0, undefined, { timeout: 10000 });
}

function rowValues(field: string): Promise<string[]> {
  return page.$$eval(`#node-input-devices-list .red-ui-editableList-item-content:visible [data-field="${field}"]`, (els) =>
    els.filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => (e as HTMLInputElement).value),
  );
}

async function messages(): Promise<string> {
  await page.waitForFunction(() => (document.getElementById('rtu-fleet-messages')?.textContent ?? '') !== '', undefined, { timeout: 10000 });
  return page.$eval('#rtu-fleet-messages', (el) => el.textContent ?? '');
}

test('the device table dialog: fresh node valid, add, duplicate, CSV import, check by row and field, filter, deploy', { timeout: 300_000 }, async () => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  fleetId = await freshFleetNode();
  assert.deepEqual(await invalidNodes(page), [], 'a freshly dropped device table is valid');
  await openFleet(fleetId);
  assert.deepEqual(await dialogProblems(page), []);
  assert.match(await page.$eval('#rtu-fleet-runtime', (el) => el.textContent ?? ''), /not deployed yet/);

  await page.click('.red-ui-editableList-addButton');
  await page.click('.red-ui-editableList-addButton');
  assert.deepEqual(await rowValues('name'), ['meter-1', 'meter-2']);
  assert.deepEqual(await rowValues('unitId'), ['1', '2']);
  assert.deepEqual(await rowValues('line'), ['feeder-1', 'feeder-1']);
  await page.click('#node-input-devices-list .rtu-fleet-duplicate >> nth=0');
  assert.deepEqual(await rowValues('name'), ['meter-1', 'meter-1-2', 'meter-2']);
  assert.deepEqual(await rowValues('unitId'), ['1', '3', '2']);

  await page.click('#rtu-fleet-import-csv');
  await page.fill('#rtu-fleet-import-text', `name,line,unit,model,profile,interval\npm-10,feeder-1,4,${MODEL},energy,2\npm-11,feeder-1,2,${MODEL},basic_power,1\n`);
  await page.click('#rtu-fleet-import-apply');
  const flagged = await messages();
  assert.match(flagged, /row 5 \(pm-11\), field "unitId": unit id 2 on line "feeder-1" is already used in row 3 \(meter-2\)/);
  assert.equal(await page.$$eval('.rtu-fleet-bad', (els) => els.length), 1, 'the field at fault is marked');
  assert.deepEqual(await rowValues('name'), ['meter-1', 'meter-1-2', 'meter-2', 'pm-10', 'pm-11']);
  assert.deepEqual(await rowValues('profile'), ['basic_power', 'basic_power', 'basic_power', 'energy', 'basic_power']);

  await page.fill('#node-input-devices-list .red-ui-editableList-item-content >> nth=4 >> [data-field="unitId"]', '5');
  await page.dispatchEvent('#node-input-devices-list .red-ui-editableList-item-content >> nth=4 >> [data-field="unitId"]', 'change');
  await page.evaluate(() => document.getElementById('rtu-fleet-messages')?.replaceChildren());
  await page.click('#rtu-fleet-check');
  assert.match(await messages(), /5 devices, no problems/);

  await page.fill('#rtu-fleet-filter', 'pm-1');
  await page.dispatchEvent('#rtu-fleet-filter', 'input');
  assert.deepEqual(await rowValues('name'), ['pm-10', 'pm-11']);
  await page.screenshot({ path: artifact('fleet-dialog-filtered.png') });
  await page.fill('#rtu-fleet-filter', '');
  await page.dispatchEvent('#rtu-fleet-filter', 'input');
  await page.screenshot({ path: artifact('fleet-dialog.png') });
  assert.deepEqual(await dialogProblems(page), []);

  await page.click('#node-dialog-ok');
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10000 });
  const saved = await page.evaluate((id) => (window as unknown as { RED: any }).RED.nodes.node(id).devices, fleetId); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(saved.length, 5);
  assert.deepEqual(saved[3], { name: 'pm-10', line: 'feeder-1', unitId: 4, model: MODEL, profile: 'energy', interval: 2, enabled: true });
  assert.deepEqual(await invalidNodes(page), []);

  // Deployed as the editor has it; the runtime reads every row from the simulator.
  const flows = (await page.evaluate(() => (window as unknown as { RED: any }).RED.nodes.createCompleteNodeSet())) as FlowNode[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  await deployFlows(session.red, flows);
  const api = `${session.red.url}/rtu/fleet/${fleetId}/devices`;
  await waitUntilOnline(api, 5);
  const added = await request(api, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'pm-20', line: 'feeder-1', unitId: 6, model: MODEL, profile: 'basic_power' }) });
  assert.equal(added.status, 201);
  const refused = await request(api, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'pm-21', line: 'feeder-1', unitId: 6, model: MODEL, profile: 'basic_power' }) });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { problems: string[] }).problems.join('\n'), /row 7 \(pm-21\), field "unitId"/);

  await openFleet(fleetId);
  await page.waitForFunction(() => /pm-20/.test(document.getElementById('rtu-fleet-runtime')?.textContent ?? ''), undefined, { timeout: 10000 });
  assert.match(await page.$eval('#rtu-fleet-runtime', (el) => el.textContent ?? ''), /1 rows changed or added at runtime, 0 removed/);
  await page.screenshot({ path: artifact('fleet-dialog-runtime.png') });
  await page.click('#node-dialog-cancel');
  assert.deepEqual(errors, []);
});

test('de: a fresh device table dialog shows no raw key, no clipped drop-down, no validation error', { timeout: 120_000 }, async () => {
  const de = await session.browser.newPage({ viewport: { width: 1600, height: 1000 } });
  try {
    await useEditorLanguage(de, 'de');
    await de.goto(`${session.red.url}/`, { waitUntil: 'load', timeout: 30000 });
    await de.waitForSelector('#red-ui-palette-container-RTU .red-ui-palette-node', { timeout: 30000 });
    const previous = page;
    page = de;
    try {
      const id = await freshFleetNode();
      await openFleet(id);
      await page.click('.red-ui-editableList-addButton');
      assert.deepEqual(await dialogProblems(page), []);
      assert.match(await page.$eval('#rtu-fleet-runtime', (el) => el.textContent ?? ''), /noch nicht übernommen/);
      await page.screenshot({ path: artifact('fleet-dialog-de.png') });
    } finally {
      page = previous;
    }
  } finally {
    await de.close();
  }
});

test('the 200-meter example opens in the dialog: 200 rows, valid, nothing clipped; the filter finds one line', { timeout: 120_000 }, async () => {
  const example = JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', 'site-200-meters.json'), 'utf8')) as FlowNode[];
  await page.evaluate((flow) => (window as unknown as { RED: any }).RED.nodes.import(flow), example); // eslint-disable-line @typescript-eslint/no-explicit-any
  const site = example.find((n) => n.type === 'rtu-modbus-fleet')!;
  const invalid = (await invalidNodes(page)).filter((p) => p.includes('site meters') || p.includes('feeder'));
  assert.deepEqual(invalid, []);
  await openFleet(site.id);
  await page.waitForFunction(() => document.querySelectorAll('#node-input-devices-list .rtu-fleet-row').length === 200, undefined, { timeout: 20000 });
  assert.deepEqual(await dialogProblems(page), []);
  await page.fill('#rtu-fleet-filter', 'feeder 07');
  await page.dispatchEvent('#rtu-fleet-filter', 'input');
  assert.equal((await rowValues('name')).length, 17);
  await page.selectOption('#rtu-fleet-sort', 'model');
  await page.screenshot({ path: artifact('fleet-dialog-site.png') });
  await page.click('#node-dialog-cancel');
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, undefined, { timeout: 10000 });
});

/** Polls the API (bounded) until `count` devices report good readings. */
async function waitUntilOnline(api: string, count: number, headers: Record<string, string> = {}): Promise<void> {
  let online = -1;
  for (let i = 0; i < 100; i++) {
    const res = await request(api, { headers });
    // Right after a deploy the node may not be there yet (404).
    if (res.ok) {
      const body = (await res.json()) as { devices: Array<{ state: { online?: boolean } }> };
      online = body.devices.filter((d) => d.state.online).length;
      if (online === count) return;
    }
    await sleep(200);
  }
  assert.fail(`${count} devices online expected, ${online} after 20 s`);
}

test('after a restart with adminAuth on: 401 without a token, the runtime change is kept, a token gets in', { timeout: 120_000 }, async () => {
  assert.ok(fleetId, 'the first test deployed the table');
  await session.red.stop();
  const settings = fs.readFileSync(session.userDir.settingsFile, 'utf8');
  const admin = { type: 'credentials', users: [{ username: 'admin', password: ADMIN_HASH, permissions: '*' }] };
  fs.writeFileSync(session.userDir.settingsFile, settings.replace('module.exports = {', `module.exports = {\n  adminAuth: ${JSON.stringify(admin)},`));
  session.red = await startNodeRed(5, session.userDir.dir, session.userDir.settingsFile);
  const api = `${session.red.url}/rtu/fleet/${fleetId}/devices`;
  assert.equal((await request(api)).status, 401);
  assert.equal((await request(`${api}/pm-20`, { method: 'DELETE' })).status, 401);
  const tokenRes = await request(`${session.red.url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password: 'fleet-admin-pass' }),
  });
  assert.equal(tokenRes.status, 200);
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const auth = { Authorization: `Bearer ${token}` };
  const one = await request(`${api}/pm-20`, { headers: auth });
  assert.equal(one.status, 200);
  assert.equal(((await one.json()) as { changed: string }).changed, 'runtime', 'the runtime change survived the restart');
  await waitUntilOnline(api, 6, auth);
});
