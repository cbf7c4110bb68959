/**
 * Every node of every shipped flow and example carries every property its
 * editor defines in `defaults`: a property the flow leaves out shows as an
 * empty field (or four empty drop-downs, for a line switched to serial) when
 * the integrator opens the node. The defaults are read from the editor files
 * themselves, run in a VM with a RED stand-in that records registerType and
 * the shared editor code they load first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import vm from 'vm';
import { editorContext } from '../support/editor-html';

const root = path.resolve(__dirname, '..', '..', '..');

type Defaults = Record<string, { value?: unknown }>;

/** The defaults of every node type the package's editor files register. */
function editorDefaults(): Map<string, Defaults> {
  const out = new Map<string, Defaults>();
  const nodesDir = path.join(root, 'nodes');
  for (const dir of fs.readdirSync(nodesDir).filter((d) => d.startsWith('rtu-'))) {
    const file = path.join(nodesDir, dir, `${dir}.html`);
    if (!fs.existsSync(file)) continue;
    const html = fs.readFileSync(file, 'utf8');
    for (const m of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) {
      const validator = () => () => true;
      const RED = {
        nodes: { registerType: (type: string, def: { defaults?: Defaults }) => out.set(type, def.defaults ?? {}) },
        validators: { number: validator, regex: validator, typedInput: validator },
        _: (k: string) => k,
      };
      // A jQuery stand-in good enough for code that runs at load (not in oneditprepare).
      const $ = Object.assign(() => ({ val: () => undefined, on: () => undefined }), { getJSON: () => undefined });
      vm.runInContext(m[1], editorContext({ RED, $, console }), { filename: file });
    }
  }
  return out;
}

function shippedFlows(): string[] {
  const files = ['flows/rtu-pipeline.json'];
  for (const f of fs.readdirSync(path.join(root, 'examples')).sort()) if (f.endsWith('.json')) files.push(`examples/${f}`);
  return files;
}

const defaults = editorDefaults();

test('the editor files register every node type of package.json', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  assert.deepEqual([...defaults.keys()].sort(), Object.keys(pkg['node-red'].nodes).sort());
});

for (const file of shippedFlows()) {
  test(`${file}: every node has every property its editor shows`, () => {
    const flow = JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as Array<Record<string, unknown> & { id: string; type: string }>;
    const missing: string[] = [];
    for (const n of flow) {
      const d = defaults.get(n.type);
      if (!d) continue;
      const absent = Object.keys(d).filter((k) => !(k in n));
      if (absent.length) missing.push(`${n.type} ${n.id}: ${absent.join(', ')}`);
    }
    assert.deepEqual(missing, []);
  });
}
