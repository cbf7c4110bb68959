#!/usr/bin/env node
// Quick start: runs Node-RED 4.1 with a user dir inside the repo (.node-red),
// this package and node-red-dashboard linked into it, and the bundled RTU flow
// deployed against the built-in meter simulator. Listens on 127.0.0.1 only.
//   npm start                    node-red-dashboard (/ui); keeps an existing .node-red/flows.json
//   npm start -- --fresh         replaces it with the bundled flow
//   npm start -- --dashboard 2   FlowFuse Dashboard 2 instead (/dashboard), flows in flows-dashboard-2.json
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..');
const userDir = process.env.RTU_USER_DIR || path.join(root, '.node-red');
const port = Number(process.env.PORT || 1880);
const fresh = process.argv.includes('--fresh');
const dashArg = process.argv.indexOf('--dashboard');
const dashboard2 = dashArg >= 0 && process.argv[dashArg + 1] === '2';
if (dashArg >= 0 && !['1', '2'].includes(process.argv[dashArg + 1])) {
  console.error('--dashboard takes 1 (node-red-dashboard, the default) or 2 (FlowFuse Dashboard 2)');
  process.exit(2);
}
const flowSource = path.join(root, 'flows', dashboard2 ? 'rtu-pipeline-dashboard-2.json' : 'rtu-pipeline.json');
const flowName = dashboard2 ? 'flows-dashboard-2.json' : 'flows.json';
const uiPackage = dashboard2 ? '@flowfuse/node-red-dashboard' : 'node-red-dashboard';
const otherUi = dashboard2 ? 'node-red-dashboard' : '@flowfuse/node-red-dashboard';

function link(target, where) {
  try {
    const current = fs.readlinkSync(where);
    if (path.resolve(path.dirname(where), current) === target) return;
    fs.unlinkSync(where);
  } catch {
    if (fs.existsSync(where)) fs.rmSync(where, { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(where), { recursive: true });
  fs.symlinkSync(target, where, 'dir');
}

if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
  console.error('dist/ is missing: run `npm install` (it builds the package) first');
  process.exit(1);
}
fs.mkdirSync(userDir, { recursive: true });
const pkg = require(path.join(root, 'package.json'));
fs.writeFileSync(
  path.join(userDir, 'package.json'),
  JSON.stringify({ name: 'rtu-quick-start', description: 'Node-RED user dir for the quick start', version: '0.0.0', private: true,
    dependencies: { [pkg.name]: `file:${root}`, [uiPackage]: '*' } }, null, 2),
);
link(root, path.join(userDir, 'node_modules', pkg.name));
link(path.join(root, 'node_modules', uiPackage), path.join(userDir, 'node_modules', uiPackage));
// One dashboard at a time: the other one's link from an earlier start is taken away.
fs.rmSync(path.join(userDir, 'node_modules', otherUi), { recursive: true, force: true });

const flowFile = path.join(userDir, flowName);
if (fresh || !fs.existsSync(flowFile)) fs.copyFileSync(flowSource, flowFile);

const settingsFile = path.join(userDir, 'settings.js');
fs.writeFileSync(
  settingsFile,
  `// Written by scripts/start.js for the quick start. Listens on localhost only;
// see the README (Securing the editor and dashboard) before exposing it.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  flowFile: '${flowName}',
  credentialSecret: process.env.RTU_CREDENTIAL_SECRET || 'rtu-quick-start',
  ui: { path: 'ui' },
  logging: { console: { level: 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
};
`,
);

const red = path.join(root, 'node_modules', 'node-red-4', 'red.js');
const dashUrl = dashboard2 ? `http://127.0.0.1:${port}/dashboard/rtu` : `http://127.0.0.1:${port}/ui/`;
console.log(`Node-RED 4.1 with the RTU flow: editor http://127.0.0.1:${port}/  dashboard ${dashUrl}`);
const child = spawn(process.execPath, [red, '--userDir', userDir, '--settings', settingsFile], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
