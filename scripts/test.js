#!/usr/bin/env node
// Runs the compiled test suite with Node's test runner, layer by layer:
//   node scripts/test.js [unit|integration|nodes|e2e ...]
// The node layer runs twice: in Node-RED 5 (the `node-red` package) and in
// Node-RED 4 (the `node-red-4` alias), since the package must work in both.
// Each layer's output is passed through as it comes (a long layer shows its
// progress), and kept to add up the totals at the end.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const all = ['unit', 'integration', 'nodes', 'e2e'];
const layers = process.argv.slice(2).length ? process.argv.slice(2) : all;

function testFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

const runs = [];
for (const layer of layers) {
  if (!all.includes(layer)) {
    console.error(`unknown test layer "${layer}"; use ${all.join(', ')}`);
    process.exit(2);
  }
  const files = testFiles(path.join(root, 'dist', 'test', layer));
  if (!files.length) continue;
  if (layer === 'nodes') {
    runs.push({ label: 'nodes (Node-RED 5)', files, env: { RTU_NODE_RED: '5' } });
    runs.push({ label: 'nodes (Node-RED 4)', files, env: { RTU_NODE_RED: '4' } });
  } else {
    runs.push({ label: layer, files, env: {}, timeoutMs: layer === 'e2e' ? 15 * 60 * 1000 : undefined });
  }
}

const RUN_LIMIT_MS = 30 * 60 * 1000;

/** Runs one layer, streaming its output; resolves with the exit code and the whole stdout. */
function runLayer(run) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      // A test that hangs fails after 3 minutes; a file whose tests are done but that
      // leaves a handle open is ended rather than stalling the whole run. The limit also
      // applies to each file as a whole, and an end-to-end file (some 200 editor dialogs
      // in Chromium) needs more on a loaded machine, so that layer gets 15 minutes.
      ['--test', '--test-concurrency=1', '--test-reporter=spec', `--test-timeout=${run.timeoutMs ?? 180000}`, '--test-force-exit', ...run.files],
      { cwd: root, env: { ...process.env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk) => process.stderr.write(chunk));
    const timer = setTimeout(() => {
      console.error(`${run.label}: still running after ${RUN_LIMIT_MS / 60000} minutes, stopped`);
      child.kill('SIGTERM');
    }, RUN_LIMIT_MS);
    child.on('error', (err) => console.error(`${run.label}: ${err.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: signal ? 1 : code, stdout });
    });
  });
}

async function main() {
  let failed = 0;
  const totals = { pass: 0, fail: 0, skipped: 0 };
  for (const run of runs) {
    console.log(`\n=== ${run.label}: ${run.files.length} files`);
    const res = await runLayer(run);
    for (const key of Object.keys(totals)) {
      const m = res.stdout.match(new RegExp(`^ℹ ${key} (\\d+)`, 'm'));
      if (m) totals[key] += Number(m[1]);
    }
    if (res.status !== 0) failed++;
  }
  console.log(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
  if (totals.pass === 0) {
    console.error('no test ran');
    process.exit(1);
  }
  process.exit(failed ? 1 : 0);
}

main();
