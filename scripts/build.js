#!/usr/bin/env node
// Compiles the TypeScript sources to CommonJS in dist/ and copies the editor
// files (.html, locale catalogues) beside the compiled node files, where
// Node-RED looks for them.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const tscBin = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

function copyAssets(fromDir, toDir) {
  for (const entry of fs.readdirSync(fromDir, { withFileTypes: true })) {
    const from = path.join(fromDir, entry.name);
    const to = path.join(toDir, entry.name);
    if (entry.isDirectory()) {
      copyAssets(from, to);
    } else if (/\.(html|json)$/.test(entry.name)) {
      fs.mkdirSync(toDir, { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}

if (!fs.existsSync(tscBin)) {
  // Installed from a packed tarball: dist/ is already built and shipped.
  if (fs.existsSync(path.join(root, 'dist', 'nodes'))) process.exit(0);
  console.error('build: typescript is not installed; run npm install first');
  process.exit(1);
}
const result = spawnSync(process.execPath, [tscBin, '-p', path.join(root, 'tsconfig.json')], {
  cwd: root,
  stdio: 'inherit',
});
copyAssets(path.join(root, 'nodes'), path.join(root, 'dist', 'nodes'));
// Node-RED serves a node's icons from an `icons` folder beside its .js file, so the
// package's icons/ (the one place they are kept) is copied beside every node.
const iconDir = path.join(root, 'icons');
for (const entry of fs.readdirSync(path.join(root, 'nodes'), { withFileTypes: true })) {
  if (!entry.isDirectory() || !entry.name.startsWith('rtu-')) continue;
  const to = path.join(root, 'dist', 'nodes', entry.name, 'icons');
  fs.mkdirSync(to, { recursive: true });
  for (const icon of fs.readdirSync(iconDir)) fs.copyFileSync(path.join(iconDir, icon), path.join(to, icon));
}
if (result.status !== 0) process.exit(result.status === null ? 1 : result.status);
// A broken shipped meter model fails the build, with file:line: field: message lines.
const registry = spawnSync(process.execPath, [path.join(__dirname, 'validate-registry.js')], { cwd: root, stdio: 'inherit' });
process.exit(registry.status === null ? 1 : registry.status);
