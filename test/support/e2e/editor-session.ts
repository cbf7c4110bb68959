/** The packed package installed in a fresh user dir, Node-RED started on it and its editor open in Chromium. */
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './browser';
import { makeUserDir, pack, UserDir } from './install';
import { RunningNodeRed, startNodeRed } from './node-red';
import { stopAll } from './processes';

export interface EditorSession {
  workDir: string;
  userDir: UserDir;
  red: RunningNodeRed;
  browser: Browser;
  page: Page;
  stop(): Promise<void>;
}

export async function openEditorSession(opts: { prefix: string; nodeRed: 4 | 5; dashboard: boolean }): Promise<EditorSession> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `rtu-e2e-${opts.prefix}-`));
  const session: Partial<EditorSession> = { workDir };
  session.stop = async () => {
    await session.browser?.close().catch(() => undefined);
    await session.red?.stop();
    await stopAll();
    session.userDir?.remove();
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  session.userDir = await makeUserDir(await pack(workDir), { dashboard: opts.dashboard });
  session.red = await startNodeRed(opts.nodeRed, session.userDir.dir, session.userDir.settingsFile);
  session.browser = await launchBrowser();
  const page = await session.browser.newPage({ viewport: { width: 1600, height: 1000 } });
  session.page = page;
  await page.goto(`${session.red.url}/`, { waitUntil: 'load', timeout: 30000 });
  await page.waitForSelector('#red-ui-palette-container-RTU .red-ui-palette-node', { timeout: 30000 });
  return session as EditorSession;
}
