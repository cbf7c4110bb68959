/**
 * `npm run bench`: runs every benchmark in its own process (so peak RSS and CPU
 * figures belong to one scenario) and prints their figures. Pass names to run a
 * subset: `npm run bench -- codec gateway`.
 */
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';

const ORDER = ['codec', 'modbus-fleet', 'modbus-dead-unit', 'node-red', 'modbus-fleet-node', 'gateway', 'publish', 'alert', 'iec61850', 'iec104', 'sparkplug', 'derive'];

const wanted = process.argv.slice(2);
const available = ORDER.filter((name) => fs.existsSync(path.join(__dirname, `${name}.js`)));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.log(`\n##### ${name}`);
  const res = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
  if (res.status !== 0) {
    console.log(`##### ${name} exited with ${res.status ?? res.signal}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
