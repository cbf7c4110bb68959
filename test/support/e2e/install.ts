/**
 * The package as an integrator gets it: `npm pack`, then a fresh Node-RED user
 * dir where the tarball is installed the way the palette manager does it
 * (`npm install <tarball>` with the palette manager's flags), plus
 * node-red-dashboard linked from this repository (no download).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { run } from './processes';

export const repoRoot = path.resolve(__dirname, '..', '..', '..', '..');
export const packageJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  'node-red': { nodes: Record<string, string> };
};

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** npm without the update check or audit, quiet about the machine's npmrc. */
const npmEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };

/**
 * Packs the package as it is in the work tree. `npm test` has just built dist/,
 * so the prepare script (the build) is skipped here.
 */
export async function pack(into: string): Promise<string> {
  fs.mkdirSync(into, { recursive: true });
  const out = await run('npm pack', npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', into], { cwd: repoRoot, env: npmEnv, timeoutMs: 60000 });
  const json = out.slice(out.indexOf('['), out.lastIndexOf(']') + 1);
  const [info] = JSON.parse(json) as Array<{ filename: string }>;
  const tarball = path.join(into, info.filename);
  if (!fs.existsSync(tarball)) throw new Error(`npm pack reported ${info.filename} but ${tarball} does not exist`);
  return tarball;
}

export interface UserDir {
  dir: string;
  settingsFile: string;
  remove(): void;
}

export interface UserDirOptions {
  /** Link node-red-dashboard from the repository's node_modules; without it, Node-RED does not see the dashboard at all. */
  dashboard: boolean;
  /** Link FlowFuse Dashboard 2 (@flowfuse/node-red-dashboard) instead. */
  dashboard2?: boolean;
  /** More settings.js entries (JSON values). */
  settings?: Record<string, unknown>;
}

/** A fresh Node-RED user dir with the tarball installed and a settings file for 127.0.0.1. */
export async function makeUserDir(tarball: string, options: UserDirOptions): Promise<UserDir> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-e2e-userdir-'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 2),
  );
  // The palette manager's command line (Node-RED 4/5 @node-red/registry installer), offline-first.
  await run(
    'npm install',
    npm,
    ['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', tarball],
    { cwd: dir, env: npmEnv, timeoutMs: 120000 },
  );
  const installed = path.join(dir, 'node_modules', ...packageJson.name.split('/'), 'package.json');
  if (!fs.existsSync(installed)) throw new Error(`npm install did not put ${packageJson.name} into ${dir}/node_modules`);
  if (options.dashboard) {
    fs.symlinkSync(path.join(repoRoot, 'node_modules', 'node-red-dashboard'), path.join(dir, 'node_modules', 'node-red-dashboard'), 'dir');
  }
  if (options.dashboard2) {
    fs.mkdirSync(path.join(dir, 'node_modules', '@flowfuse'), { recursive: true });
    fs.symlinkSync(path.join(repoRoot, 'node_modules', '@flowfuse', 'node-red-dashboard'), path.join(dir, 'node_modules', '@flowfuse', 'node-red-dashboard'), 'dir');
  }
  // Node-RED also loads node modules from the node_modules folders above its own install, which
  // here is this repository's: without a dashboard, the module folder is excluded by name, as on
  // a machine where no dashboard was ever installed (the name matches both dashboards' folders).
  const excludes = options.dashboard || options.dashboard2 ? [] : ['node-red-dashboard'];
  const settingsFile = path.join(dir, 'settings.js');
  fs.writeFileSync(
    settingsFile,
    `module.exports = {
  uiHost: '127.0.0.1',
  flowFile: 'flows.json',
  credentialSecret: 'rtu-e2e',
  ui: { path: 'ui' },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false },
  nodesExcludes: ${JSON.stringify(excludes)},
${Object.entries(options.settings ?? {}).map(([k, v]) => `  ${k}: ${JSON.stringify(v)},\n`).join('')}};
`,
  );
  return { dir, settingsFile, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
