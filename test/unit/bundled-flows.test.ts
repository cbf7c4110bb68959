/**
 * The bundled flows as files: generated from flows/src (never edited by hand
 * and left behind), wired consistently, free of secrets, and using only node
 * types that the package, Node-RED's core or node-red-dashboard provide.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const CORE = new Set(['tab', 'comment', 'inject', 'debug', 'junction', 'link in', 'link out', 'function', 'change', 'switch', 'catch', 'status', 'complete', 'template', 'delay', 'trigger', 'http request', 'http in', 'http response', 'mqtt in', 'mqtt out', 'mqtt-broker', 'split', 'join', 'group']);
const DASHBOARD = /^ui_/;

type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; links?: string[]; [k: string]: unknown };

function load(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as FlowNode[];
}

const BUNDLED = ['flows/rtu-pipeline.json', 'examples/rtu-pipeline.json', 'examples/rtu-pipeline-without-dashboard.json', 'examples/rtu-dashboard.json', 'examples/rtu-test-mode.json'];

test('the bundled flows are what flows/src/build-flows.js writes', () => {
  const res = spawnSync(process.execPath, [path.join(root, 'flows', 'src', 'build-flows.js'), '--check'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
});

for (const file of BUNDLED) {
  test(`${file}: unique ids, every wire, link and config reference resolves, no secrets, known types`, () => {
    const flow = load(file);
    const ids = new Set<string>();
    for (const n of flow) {
      assert.ok(!ids.has(n.id), `duplicate id ${n.id}`);
      ids.add(n.id);
    }
    const tabs = new Set(flow.filter((n) => n.type === 'tab').map((n) => n.id));
    const packaged = new Set(Object.keys(pkg['node-red'].nodes));
    for (const n of flow) {
      assert.ok(packaged.has(n.type) || CORE.has(n.type) || DASHBOARD.test(n.type), `${file}: ${n.id} has type ${n.type} that nothing provides`);
      if (n.z) assert.ok(tabs.has(n.z), `${n.id} sits on a missing tab ${n.z}`);
      for (const out of n.wires ?? []) for (const target of out) assert.ok(ids.has(target), `${n.id} is wired to missing ${target}`);
      if (n.type.startsWith('link ') && file !== 'examples/rtu-dashboard.json') for (const l of n.links ?? []) assert.ok(ids.has(l), `${n.id} links to missing ${l}`);
      // Config nodes referred to by id: a line, a cache, a broker, a dashboard group or tab.
      const refs = n.type === 'ui_group' ? ['tab'] : ['line', 'cache', 'broker', 'group'];
      for (const key of refs) {
        const ref = n[key];
        if (typeof ref === 'string' && ref) assert.ok(ids.has(ref), `${n.id}.${key} refers to missing ${ref}`);
      }
      assert.equal(n.credentials, undefined, `${n.id} carries credentials`);
    }
    const text = JSON.stringify(flow);
    assert.doesNotMatch(text, /discord(app)?\.com\/api\/webhooks\/\d+/i, 'a real Discord webhook URL');
    assert.doesNotMatch(text, /\d{8,10}:[A-Za-z0-9_-]{30,}/, 'something shaped like a Telegram bot token');
    for (const n of flow.filter((x) => ['rtu-mqtt-broker', 'rtu-simulator', 'rtu-gateway', 'rtu-modbus-line', 'rtu-iec104-server', 'rtu-iec104-connection'].includes(x.type))) {
      assert.equal(n.host, '127.0.0.1', `${n.id} points at ${String(n.host)}: the bundled flows stay on this machine`);
    }
    for (const n of flow.filter((x) => x.type === 'rtu-http-out')) assert.match(String(n.url), /^http:\/\/127\.0\.0\.1:/);
  });
}

test('the pipeline without dashboard has no dashboard node; the full one links alerts both ways', () => {
  assert.ok(!load('examples/rtu-pipeline-without-dashboard.json').some((n) => DASHBOARD.test(n.type)));
  const full = load('examples/rtu-pipeline.json');
  const byId = new Map(full.map((n) => [n.id, n]));
  for (const n of full.filter((x) => x.type === 'link out')) {
    for (const l of n.links ?? []) assert.ok(byId.get(l)?.links?.includes(n.id), `${n.id} -> ${l} is linked from both ends`);
  }
  assert.deepEqual(load('flows/rtu-pipeline.json'), full, 'the quick-start flow and the example are the same');
});
