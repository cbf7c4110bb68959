/** The Node-RED runtime under test (5 by default, 4 with RTU_NODE_RED=4) and small waiting helpers. */
import helper from 'node-red-node-test-helper';

export const runtimeName = process.env.RTU_NODE_RED === '4' ? 'node-red-4' : 'node-red';
helper.init(require.resolve(runtimeName));
export { helper };

export interface NodeStatusLike {
  fill?: string;
  shape?: string;
  text?: string;
}

interface EventNode {
  on(event: string, cb: (arg: unknown) => void): void;
  removeListener(event: string, cb: (arg: unknown) => void): void;
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
