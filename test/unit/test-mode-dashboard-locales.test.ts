/**
 * The editor files of rtu-test-mode and rtu-dashboard: every message key the
 * form, the runtime and the editor script use exists in every locale, the
 * catalogues have the same keys, and each help has its sections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const LOCALES = ['en-US', 'de'];
const HELP_SECTIONS: Record<string, string[]> = {
  'en-US': ['Inputs', 'Outputs', 'Details', 'References'],
  de: ['Eingänge', 'Ausgänge', 'Details', 'Referenzen'],
};

function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

for (const node of ['rtu-test-mode', 'rtu-dashboard']) {
  const dir = path.join(root, 'nodes', node);
  const read = (...p: string[]) => fs.readFileSync(path.join(dir, ...p), 'utf8');

  test(`${node}: every key used exists in ${LOCALES.join(' and ')}, and the catalogues match`, () => {
    const catalogues = LOCALES.map((l) => new Set(keys(JSON.parse(read('locales', l, `${node}.json`)) as Record<string, unknown>)));
    assert.deepEqual([...catalogues[1]].sort(), [...catalogues[0]].sort(), 'de has the same keys as en-US');
    const sources = read(`${node}.html`) + read(`${node}.ts`);
    const used = new Set<string>();
    for (const m of sources.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) used.add(m[1]);
    for (const m of sources.matchAll(/_\('([a-z0-9-]+\.[a-zA-Z0-9.]+)'\s*[,)]/g)) used.add(m[1]);
    // Keys built at run time in the editor script.
    if (node === 'rtu-dashboard') for (let i = 1; i <= 4; i++) used.add(`${node}.label.output${i}`);
    assert.ok(used.size >= 5, `keys found: ${[...used].join(', ')}`);
    for (const key of used) {
      assert.ok(key.startsWith(`${node}.`), `${key} is outside the node's namespace`);
      for (const [i, cat] of catalogues.entries()) assert.ok(cat.has(key), `${LOCALES[i]} has no ${key}`);
    }
  });

  test(`${node}: the help in every locale has its sections`, () => {
    for (const l of LOCALES) {
      const help = read('locales', l, `${node}.html`);
      assert.match(help, new RegExp(`data-help-name="${node}"`));
      for (const section of HELP_SECTIONS[l]) assert.match(help, new RegExp(`<h3>${section}</h3>`), `${l} help has ${section}`);
    }
  });
}
