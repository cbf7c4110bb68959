/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser),
 * and the folder where screenshots are kept (test-artifacts/, git-ignored).
 */
import fs from 'fs';
import path from 'path';
import { Browser, chromium } from 'playwright-core';
import { repoRoot } from './install';

export const artifactsDir = path.join(repoRoot, 'test-artifacts');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS, headless: true, timeout: 30000 });
}

export function artifact(name: string): string {
  fs.mkdirSync(artifactsDir, { recursive: true });
  return path.join(artifactsDir, name);
}
