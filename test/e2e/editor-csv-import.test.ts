/**
 * The decoder dialog's CSV import in the real editor (Chromium): a table with a bad line
 * leaves the point list as it was and lists every bad line; a European export (";" with
 * decimal commas and rows of empty cells) replaces the list.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { EditorSession, openEditorSession } from '../support/e2e/editor-session';

let session: EditorSession;
let page: Page;

before(async () => {
  session = await openEditorSession({ prefix: 'csv', nodeRed: 5, dashboard: false });
  ({ page } = session);
});

after(() => session?.stop());

async function openDecoder(): Promise<void> {
  await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
    const id = RED.nodes.id();
    RED.nodes.import([{
      id, type: 'rtu-decoder', z: RED.workspaces.active(), x: 200, y: 200, wires: [[]], source: 'points',
      points: [{ name: 'keep_me', registerType: 'holding', address: 0, dataType: 'uint16' }],
    }]);
    RED.editor.edit(RED.nodes.node(id));
  });
  await page.waitForSelector('.red-ui-tray #dialog-form #node-input-point-list [data-field="name"]', { timeout: 10000 });
  // The CSV box shows with the point list or after its toggle, depending on the dialog's state.
  if (!(await page.isVisible('#rtu-decoder-csv'))) await page.click('#rtu-decoder-csv-toggle');
  await page.waitForSelector('#rtu-decoder-csv', { state: 'visible', timeout: 10000 });
}

async function importCsv(csv: string): Promise<string> {
  await page.fill('#rtu-decoder-csv', csv);
  await page.evaluate(() => document.getElementById('rtu-decoder-messages')?.replaceChildren());
  await page.click('#rtu-decoder-csv-import');
  await page.waitForFunction(() => (document.getElementById('rtu-decoder-messages')?.textContent ?? '') !== '', undefined, { timeout: 10000 });
  return page.$eval('#rtu-decoder-messages', (el) => el.textContent ?? '');
}

function pointNames(): Promise<string[]> {
  return page.$$eval('#node-input-point-list [data-field="name"]', (els) => els.map((e) => (e as HTMLInputElement).value));
}

test('a CSV table with bad lines is refused whole in the decoder dialog; a European export is imported', async () => {
  await openDecoder();
  assert.deepEqual(await pointNames(), ['keep_me']);
  const messages = await importCsv('name,address,data_type\nvoltage,30001,float32\ncurrent,30003,float99\npower,abc,int16\n');
  assert.match(messages, /line 3 \(point "current"\)/);
  assert.match(messages, /line 4 \(point "power"\)/);
  assert.match(messages, /Nothing imported/);
  assert.deepEqual(await pointNames(), ['keep_me'], 'the list keeps what it had, not the rows that parsed');

  const ok = await importCsv('Name;Address;Data type;Scale;Unit\r\nvoltage;30001;float32;1;V\r\n;;;;\r\nenergy;30073;uint32;0,001;kWh\r\n;;;;\r\n');
  assert.match(ok, /2 points, no problems/);
  assert.deepEqual(await pointNames(), ['voltage', 'energy']);
  const scale = await page.$$eval('#node-input-point-list [data-field="scale"]', (els) => els.map((e) => (e as HTMLInputElement).value));
  assert.equal(scale[1], '0.001');
  await page.click('#node-dialog-cancel');
});
