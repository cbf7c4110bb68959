/** The few helpers that know the Node-RED runtime, shared by every node adapter. */
import path from 'path';
import os from 'os';
import type { NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { testMode } from '../lib/test-mode';

/** A path inside the Node-RED user dir (where queues, alert state and the test-mode switch live). */
export function userDirPath(RED: NodeAPI, ...parts: string[]): string {
  const settings = RED.settings as unknown as { userDir?: string };
  const base = settings.userDir || path.join(os.homedir(), '.node-red');
  return path.join(base, ...parts);
}

/** Binds the process-wide test-mode switch to its state file in the user dir. */
export function attachTestMode(RED: NodeAPI): typeof testMode {
  testMode.attach(userDirPath(RED, 'rtu-test-mode.json'));
  return testMode;
}

/** Status shapes with one meaning in every node (see nodes/README.md). */
export const status = {
  connecting: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'ring', text }),
  ok: (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text }),
  warn: (text: string): NodeStatus => ({ fill: 'yellow', shape: 'dot', text }),
  error: (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text }),
  idle: (text: string): NodeStatus => ({ fill: 'grey', shape: 'ring', text }),
  test: (text: string): NodeStatus => ({ fill: 'blue', shape: 'dot', text }),
  clear: (): NodeStatus => ({}),
};

/** Short, stable status text: Node-RED truncates long text in the editor anyway. */
export function shortText(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The named points an input message asks a poller to write: `msg.write` or `msg.payload.write`. */
export function writeRequest(msg: NodeMessage & { write?: unknown }): Record<string, unknown> | undefined {
  const payload = msg.payload as { write?: unknown } | undefined;
  const w = msg.write ?? (payload && typeof payload === 'object' ? payload.write : undefined);
  return w && typeof w === 'object' && !Array.isArray(w) ? (w as Record<string, unknown>) : undefined;
}
