/** Shared by the simulator, cache and gateway node tests: waiting helpers, locale checks, example flows. */
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import { helper, NodeStatusLike } from '../support/node-red';
import { expandedEditorHtml } from '../support/editor-html';

export { caughtErrors, coreNode, helper, helperNodes, useNodeRed } from '../support/node-red';
export { freePort } from '../support/loopback';

export interface TestNode {
  receive(msg: unknown): void;
  on(event: string, cb: (arg: unknown) => void): void;
}

export type Status = NodeStatusLike;

/** Resolves with the next message a helper node receives, or rejects after `ms`. */
export function next<T = Record<string, unknown>>(id: string, ms = 3000): Promise<T> {
  const n = helper.getNode(id) as TestNode;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${id} within ${ms} ms`)), ms);
    n.on('input', (msg) => {
      clearTimeout(timer);
      resolve(msg as T);
    });
  });
}

interface StatusSpy {
  getCalls(): Array<{ thisValue: { id?: string }; args: [Status] }>;
}

/** Statuses a node set so far: the helper spies on Node.prototype.status. */
function earlierStatuses(id: string): Status[] {
  const spy = (helper as unknown as { _NodePrototype?: { status?: Partial<StatusSpy> } })._NodePrototype?.status;
  if (!spy || typeof spy.getCalls !== 'function') return [];
  return spy.getCalls().filter((c) => c.thisValue?.id === id).map((c) => c.args[0]);
}

/** Resolves with the first status the node set (or sets) that `check` accepts. */
export function statusUntil(id: string, check: (s: Status) => boolean, ms = 3000): Promise<Status> {
  const n = helper.getNode(id) as TestNode;
  const earlier = earlierStatuses(id).find(check);
  if (earlier) return Promise.resolve(earlier);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`status of ${id} not reached within ${ms} ms`)), ms);
    n.on('call:status', (call) => {
      const s = (call as { args: [Status] }).args[0];
      if (check(s)) {
        clearTimeout(timer);
        resolve(s);
      }
    });
  });
}

export async function until<T>(get: () => T | undefined, ms = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


function keys(obj: unknown, prefix = ''): string[] {
  if (!obj || typeof obj !== 'object') return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

/** Every data-i18n key and RED._/node._ key of a node's editor file exists in the en-US and de catalogues, with the same key sets. */
export function checkLocales(type: string): void {
  const dir = path.join(__dirname, '..', '..', '..', 'nodes', type);
  const html = expandedEditorHtml(type);
  const used = new Set<string>();
  for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) used.add(m[1]);
  for (const m of html.matchAll(/(?:node|this|RED)\._\('([^']+)'/g)) used.add(m[1]);
  const en = keys(JSON.parse(fs.readFileSync(path.join(dir, 'locales', 'en-US', `${type}.json`), 'utf8')));
  const de = keys(JSON.parse(fs.readFileSync(path.join(dir, 'locales', 'de', `${type}.json`), 'utf8')));
  assert.deepEqual([...de].sort(), [...en].sort(), `${type}: en-US and de have the same keys`);
  for (const key of used) assert.ok(en.includes(key), `${type}: key ${key} is in the catalogue`);
  for (const lang of ['en-US', 'de']) {
    const help = fs.readFileSync(path.join(dir, 'locales', lang, `${type}.html`), 'utf8');
    assert.match(help, new RegExp(`data-help-name="${type}"`));
  }
}

export interface FlowNode extends Record<string, unknown> {
  id: string;
  type: string;
}

/** A bundled example flow, with its fixed ports replaced (tests never bind fixed ports). */
export function exampleFlow(file: string, ports: Record<string, number> = {}): FlowNode[] {
  const flow = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'examples', file), 'utf8')) as FlowNode[];
  return flow.map((n) => (n.id in ports ? { ...n, port: ports[n.id] } : n));
}
