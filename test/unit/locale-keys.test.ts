import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';

function nodesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'nodes', 'shared', 'runtime.ts'))) return path.join(dir, 'nodes');
    dir = path.dirname(dir);
  }
  throw new Error('nodes/ not found');
}

function has(catalog: unknown, key: string): boolean {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog) !== undefined;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'lib' || e.name === 'locales' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('every literal message key the node adapters pass to RED._ exists in the en-US and de catalogue of its node', () => {
  const root = nodesDir();
  const used = new Map<string, string>();
  for (const file of tsFiles(root)) {
    const source = fs.readFileSync(file, 'utf8');
    for (const m of source.matchAll(/RED\._\('(rtu-[a-z0-9-]+)\.([^']+)'/g)) used.set(`${m[1]}.${m[2]}`, path.relative(root, file));
    // Texts made from a template: const t = templatedText(RED._, '<prefix>'), then t('<key>', …).
    for (const [, fn, prefix] of source.matchAll(/const (\w+) = templatedText\(RED\._, '([^']+)'\)/g)) {
      for (const m of source.matchAll(new RegExp(`\\b${fn}\\('([^']+)'`, 'g'))) used.set(`${prefix}.${m[1]}`, path.relative(root, file));
    }
  }
  // Keys built from a variable part: the Modbus status texts a reading gives (nodes/shared/modbus-device.ts).
  for (const key of ['backoff', 'failed', 'partial', 'ok']) used.set(`rtu-modbus-poller.status.${key}`, 'shared/modbus-device.ts');
  assert.ok(used.size > 50, `keys found: ${used.size}`);
  const missing: string[] = [];
  for (const [key, file] of used) {
    const node = key.slice(0, key.indexOf('.'));
    for (const locale of ['en-US', 'de']) {
      const catalog = JSON.parse(fs.readFileSync(path.join(root, node, 'locales', locale, `${node}.json`), 'utf8'));
      if (!has(catalog, key)) missing.push(`${locale} ${key} (used in ${file})`);
    }
  }
  assert.deepEqual(missing, []);
});
