#!/usr/bin/env node
// Runs the Flow Library scorecard (`node-red-dev validate`) on this package.
// catalogue.nodered.org cannot be reached from build machines without general
// internet access; its two look-ups (similar package names, node types already
// published) then see an empty catalogue, and this script says so. Every other
// check runs as the Flow Library runs it.
//   node scripts/validate-package.js
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');
const hook = path.join(__dirname, 'offline-catalogue.js');
const local = path.join(root, 'node_modules', '.bin', 'node-red-dev');
const [cmd, args] = require('fs').existsSync(local) ? [local, ['validate']] : ['npx', ['--yes', 'node-red-dev@0.1.6', 'validate']];
const res = spawnSync(cmd, args, {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${hook}`.trim() },
});
const out = `${res.stdout}${res.stderr}`.split('\n').filter((l) => !/Unknown user config "nodedir"/.test(l)).join('\n');
console.log(out);
const failures = out.split('\n').filter((l) => /^\s*(❌|›\s+Error|Error:)/.test(l));
if (res.status !== 0 || failures.length) {
  console.error(`scorecard: ${failures.length} failure(s)`);
  process.exit(1);
}
