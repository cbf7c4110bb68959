#!/usr/bin/env node
// Checks the meter registry: the package's meter-registry folder plus any
// folders named on the command line (later folders override earlier ones).
//   node scripts/validate-registry.js [folder ...]
// Prints one line per problem as file:line: field: message, then a summary;
// exits 1 if any file is broken. Needs the compiled engine (npm run build).
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..');
let registryLib;
try {
  registryLib = require(path.join(root, 'dist', 'nodes', 'lib', 'registry'));
} catch (err) {
  console.error(`validate-registry: cannot load the compiled registry (${err.message}); run npm run build first`);
  process.exit(2);
}

const userDirs = process.argv.slice(2).map((d) => path.resolve(d));
const registry = registryLib.loadDefaultRegistry(userDirs);
for (const e of registry.errors) console.error(e.text);
for (const o of registry.overrides) console.log(`${o.file} replaces ${o.id} (${o.replaced})`);
let points = 0;
for (const m of registry.models.values()) points += m.points.length;
console.log(`meter registry: ${registry.models.size} models, ${points} points, ${registry.errors.length} errors`);
process.exit(registry.errors.length ? 1 : 0);
