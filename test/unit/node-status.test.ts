import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeStatus } from 'node-red';
import { throttledStatus } from '../../nodes/shared/node-status';

function sink() {
  const seen: NodeStatus[] = [];
  return { seen, status: (s: NodeStatus) => void seen.push(s) };
}

const ok = (text: string): NodeStatus => ({ fill: 'green', shape: 'dot', text });
const error = (text: string): NodeStatus => ({ fill: 'red', shape: 'ring', text });

test('an unchanged status is not sent again; a change of colour is sent at once', () => {
  const node = sink();
  const shown = throttledStatus(node, 60_000);
  shown.set(ok('polling'));
  shown.set(ok('polling'));
  shown.set(error('timeout'));
  shown.set(ok('12 values, 30 ms'));
  assert.deepEqual(node.seen.map((s) => s.text), ['polling', 'timeout', '12 values, 30 ms']);
  shown.stop();
});

test('new text on the same colour waits for the gap, and only the latest text is sent', async () => {
  const node = sink();
  const shown = throttledStatus(node, 50);
  shown.set(ok('12 values, 30 ms'));
  shown.set(ok('12 values, 31 ms'));
  shown.set(ok('12 values, 32 ms'));
  assert.deepEqual(node.seen.map((s) => s.text), ['12 values, 30 ms']);
  for (let i = 0; i < 100 && node.seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(node.seen.map((s) => s.text), ['12 values, 30 ms', '12 values, 32 ms']);
  shown.set(ok('12 values, 33 ms'));
  shown.stop();
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(node.seen.length, 2, 'stop drops the pending update');
});
