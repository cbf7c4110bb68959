/**
 * The IEC 104 server dialog's point table in the real editor (Chromium): the saved CSV opens
 * as an editable list, a CSV import replaces the list, and Done stores the list as CSV.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Page } from 'playwright-core';
import { EditorSession, openEditorSession } from '../support/e2e/editor-session';

let session: EditorSession;
let page: Page;

before(async () => {
  session = await openEditorSession({ prefix: 'iec104pts', nodeRed: 5, dashboard: false });
  ({ page } = session);
});

after(() => session?.stop());

const LIST = '.red-ui-tray #rtu-iec104-server-point-list';

function column(field: string): Promise<string[]> {
  return page.$$eval(`${LIST} [data-field="${field}"]`, (els) => els.map((e) => (e as HTMLInputElement).value));
}

test('IEC 104 server point table: an editable list with CSV import; Done saves it as CSV; the dialog renders it', async () => {
  const id = await page.evaluate(() => {
    const RED = (window as unknown as { RED: any }).RED; // eslint-disable-line @typescript-eslint/no-explicit-any
    const nid = RED.nodes.id();
    RED.nodes.import([{
      id: nid, type: 'rtu-iec104-server', z: RED.workspaces.active(), x: 200, y: 200, wires: [[]],
      points: 'device,point,ioa,type,deadband,group,sbo\nmeter-1,voltage_l1_n,1001,M_ME_NC_1,0.5,1,\nmeter-1,coil:5,5001,C_SC_NA_1,,,yes\n',
    }]);
    RED.editor.edit(RED.nodes.node(nid));
    return nid as string;
  });
  await page.waitForSelector(`${LIST} [data-field="device"]`, { timeout: 10000 });
  assert.deepEqual(await column('point'), ['voltage_l1_n', 'coil:5']);
  assert.deepEqual(await column('type'), ['M_ME_NC_1', 'C_SC_NA_1']);
  assert.deepEqual(await page.$$eval(`${LIST} [data-field="sbo"]`, (els) => els.map((e) => (e as HTMLInputElement).checked)), [false, true]);

  // A European CSV (";") pasted and imported replaces the list.
  await page.click('#rtu-iec104-server-csv-toggle');
  await page.waitForSelector('#rtu-iec104-server-csv', { state: 'visible', timeout: 10000 });
  await page.fill('#rtu-iec104-server-csv', 'Device;Point;IOA;Type;Deadband\r\nmeter-2;frequency;2004;M_ME_NC_1;0.01\r\nmeter-2;breaker;2010;M_SP_TB_1;\r\nmeter-2;voltage_l1_n;2001;M_ME_NC_1;0.5\r\n');
  await page.click('#rtu-iec104-server-csv-import');
  await page.waitForFunction(() => document.querySelectorAll('#rtu-iec104-server-point-list [data-field="device"]').length === 3, undefined, { timeout: 10000 });
  assert.deepEqual(await column('ioa'), ['2004', '2010', '2001']);
  await page.click('#rtu-iec104-server-csv-toggle');

  // The list is on screen inside the tray, every column visible.
  const tray = await page.$('.red-ui-tray');
  const shot = await tray!.screenshot();
  // Kept for a look: the system temp folder, outside the session's work dir that is removed.
  fs.writeFileSync(path.join(os.tmpdir(), 'rtu-iec104-server-points.png'), shot);
  assert.ok(shot.length > 5000, 'a screenshot of the dialog');
  const trayBox = (await tray!.boundingBox())!;
  for (const field of ['device', 'point', 'ioa', 'type', 'deadband', 'group', 'sbo']) {
    const box = (await page.$(`${LIST} [data-field="${field}"]`))!;
    const b = await box.boundingBox();
    assert.ok(b && b.width > 8 && b.height > 8, `${field} is visible`);
    assert.ok(b!.x >= trayBox.x && b!.x + b!.width <= trayBox.x + trayBox.width + 1, `${field} lies inside the dialog`);
  }

  await page.click('#node-dialog-ok');
  const saved = await page.evaluate((nid) => (window as unknown as { RED: any }).RED.nodes.node(nid).points as string, id); // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(saved, 'device,point,ioa,type,deadband,group,sbo\nmeter-2,frequency,2004,M_ME_NC_1,0.01,,\nmeter-2,breaker,2010,M_SP_TB_1,,,\nmeter-2,voltage_l1_n,2001,M_ME_NC_1,0.5,,\n');
});
