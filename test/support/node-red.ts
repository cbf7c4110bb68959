/** The Node-RED runtime under test (5 by default, 4 with RTU_NODE_RED=4) and small waiting helpers. */
import { after, afterEach, before } from 'node:test';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper from 'node-red-node-test-helper';

export const runtimeName = process.env.RTU_NODE_RED === '4' ? 'node-red-4' : 'node-red';
helper.init(require.resolve(runtimeName));
export { helper };

/** Core nodes of the same runtime (catch, inject...), to see errors the way a flow does. */
export function coreNode(file: string): unknown {
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [path.dirname(require.resolve(runtimeName))] }));
}

export function startServer(): Promise<void> {
  return new Promise<void>((resolve) => helper.startServer(resolve));
}

export function stopServer(): Promise<void> {
  return new Promise<void>((resolve) => helper.stopServer(resolve));
}

/**
 * For a test file that needs nothing else around its tests: one server for the file, a fresh
 * flow for each test; with `userDirPrefix`, a temporary user dir for the runtime, removed at the end.
 */
export function useNodeRed(userDirPrefix?: string): void {
  let userDir = '';
  before(async () => {
    if (userDirPrefix) {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), userDirPrefix));
      helper.settings({ userDir });
    }
    await startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });
}

export interface NodeStatusLike {
  fill?: string;
  shape?: string;
  text?: string;
}

interface EventNode {
  on(event: string, cb: (arg: unknown) => void): void;
  removeListener(event: string, cb: (arg: unknown) => void): void;
}

/** Helper nodes on tab `z`: each records the messages that reach it. */
export function helperNodes(z: string, ...ids: string[]): Array<Record<string, unknown>> {
  return ids.map((id) => ({ id, z, type: 'helper', wires: [] }));
}

/** A Catch node for the whole tab `z`, passing what it catches to the helper node 'caught'. */
export function caughtErrors(z: string): Array<Record<string, unknown>> {
  return [{ id: 'catcher', z, type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, ...helperNodes(z, 'caught')];
}

/** Resolves with the first message on a helper node that `accept` takes, or rejects after `ms`. */
export function nextMessage<T = Record<string, unknown>>(id: string, accept: (msg: T) => boolean = () => true, ms = 5000): Promise<T> {
  const node = helper.getNode(id) as EventNode;
  return new Promise((resolve, reject) => {
    const onInput = (msg: unknown) => {
      if (!accept(msg as T)) return;
      clearTimeout(timer);
      node.removeListener('input', onInput);
      resolve(msg as T);
    };
    const timer = setTimeout(() => {
      node.removeListener('input', onInput);
      reject(new Error(`no accepted message on node ${id} within ${ms} ms`));
    }, ms);
    node.on('input', onInput);
  });
}

/** Collects every message a helper node receives. */
export function collect<T = Record<string, unknown>>(id: string): T[] {
  const out: T[] = [];
  (helper.getNode(id) as EventNode).on('input', (msg) => out.push(msg as T));
  return out;
}

/** Records every status node `id` sets from now on. */
export function statuses(id: string): NodeStatusLike[] {
  const seen: NodeStatusLike[] = [];
  // The test helper spies on node methods and emits `call:<method>` with the call's arguments.
  (helper.getNode(id) as EventNode).on('call:status', (call) => seen.push((call as { args: [NodeStatusLike] }).args[0]));
  return seen;
}

/** Resolves with the node's latest status if `accept` takes it, else as statusWhere (a node does not repeat an unchanged status). */
export function statusNowOrNext(id: string, accept: (s: NodeStatusLike) => boolean, ms = 5000): Promise<NodeStatusLike> {
  const node = helper.getNode(id) as unknown as { status: { getCalls(): Array<{ args: unknown[]; thisValue: unknown }> } };
  // The helper's spies sit on the shared Node prototype: keep this node's calls only.
  const calls = node.status.getCalls().filter((c) => c.thisValue === node);
  const latest = calls.length ? (calls[calls.length - 1].args[0] as NodeStatusLike) : undefined;
  return latest && accept(latest) ? Promise.resolve(latest) : statusWhere(id, accept, ms);
}

/** Resolves with the first status of node `id` that `accept` takes (statuses set before the call are missed). */
export function statusWhere(id: string, accept: (s: NodeStatusLike) => boolean, ms = 5000): Promise<NodeStatusLike> {
  const node = helper.getNode(id) as EventNode;
  return new Promise((resolve, reject) => {
    // The test helper spies on node methods and emits `call:<method>` with the call's arguments.
    const onCall = (call: unknown) => {
      const s = (call as { args: unknown[] }).args[0] as NodeStatusLike;
      if (!accept(s)) return;
      clearTimeout(timer);
      node.removeListener('call:status', onCall);
      resolve(s);
    };
    const timer = setTimeout(() => {
      node.removeListener('call:status', onCall);
      reject(new Error(`no accepted status on node ${id} within ${ms} ms`));
    }, ms);
    node.on('call:status', onCall);
  });
}
