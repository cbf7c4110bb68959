/** The Flow Library's scorecard (node-red-dev validate) reports no failure and no warning for the package. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import path from 'path';

test('node-red-dev validate: every check passes, examples exist for every node', { timeout: 120000 }, () => {
  const root = path.resolve(__dirname, '../../..');
  const res = spawnSync(process.execPath, [path.join(root, 'scripts', 'validate-package.js')], { cwd: root, encoding: 'utf8', timeout: 110000 });
  const out = `${res.stdout}${res.stderr}`;
  assert.equal(res.status, 0, out);
  assert.match(out, /✅ Examples found for all nodes/);
  assert.match(out, /✅ Nodes all have unique names/);
  assert.doesNotMatch(out, /Warning:/, out);
});
