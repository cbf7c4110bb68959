import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';

const NODES = ['rtu-iec61850-ied', 'rtu-iec61850-poller', 'rtu-iec61850-control'];
const LOCALES = ['en-US', 'de'];

function sourceDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'nodes', 'rtu-iec61850-ied', 'rtu-iec61850-ied.ts'))) return path.join(dir, 'nodes');
    dir = path.dirname(dir);
  }
  throw new Error('nodes/ not found');
}

function has(catalog: unknown, key: string): boolean {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), catalog) !== undefined;
}

test('every message key the IEC 61850 nodes use exists in every locale, and every locale has help', () => {
  const root = sourceDir();
  for (const node of NODES) {
    const html = fs.readFileSync(path.join(root, node, `${node}.html`), 'utf8');
    const ts = fs.readFileSync(path.join(root, node, `${node}.ts`), 'utf8');
    const keys = new Set<string>();
    for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) keys.add(m[1]);
    // RED._ in the runtime, node._ / this._ / tr in the editor.
    for (const m of (html + ts).matchAll(/(?:\b_|\btr)\('([^']+)'/g)) keys.add(m[1]);
    // Keys the editor script builds from parts (shared rows) are checked in the browser: the dialog e2e test fails on any raw key.
    for (const k of [...keys]) if (/['+ ]/.test(k)) keys.delete(k);
    assert.ok(keys.size > 5, `${node}: keys found`);
    for (const locale of LOCALES) {
      const catalog = JSON.parse(fs.readFileSync(path.join(root, node, 'locales', locale, `${node}.json`), 'utf8'));
      for (const key of keys) assert.ok(has(catalog, key), `${node} ${locale}: missing ${key}`);
      const help = fs.readFileSync(path.join(root, node, 'locales', locale, `${node}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${node}"`));
      assert.equal((help.match(/<h3>/g) ?? []).length, 4, `${node} ${locale}: Inputs, Outputs, Details, References`);
    }
  }
});
