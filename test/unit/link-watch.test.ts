import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinkWatch } from '../../nodes/lib/modbus/link-watch';

test('one silent unit among answering units never makes the link dead', () => {
  const watch = new LinkWatch(3);
  watch.answered(1);
  watch.answered(2);
  // unit 3 never answered: its attempts (or pipelined requests) time out back to back
  for (let i = 0; i < 10; i++) assert.equal(watch.timedOut(3), false, `timeout ${i + 1} of unit 3`);
  assert.equal(watch.timeoutsInARow, 10);
  // a unit that answered before and then died alone does not kill the link either
  const again = new LinkWatch(3);
  for (const u of [1, 2, 3]) again.answered(u);
  for (let i = 0; i < 10; i++) assert.equal(again.timedOut(3), false);
});

test('the link is dead when units that answered stop answering, with nothing answering between', () => {
  const watch = new LinkWatch(3);
  for (const u of [1, 2, 3, 4]) watch.answered(u);
  assert.equal(watch.timedOut(1), false);
  assert.equal(watch.timedOut(2), false);
  watch.answered(4); // something answered: start over
  assert.equal(watch.timedOut(1), false);
  assert.equal(watch.timedOut(2), false);
  assert.equal(watch.timedOut(3), true, 'three live units silent in a row');
});

test('a single-unit link, or one where nothing ever answered, is dead after the limit', () => {
  const single = new LinkWatch(3);
  single.answered(1);
  assert.deepEqual([single.timedOut(1), single.timedOut(1), single.timedOut(1)], [false, false, true]);
  const never = new LinkWatch(3);
  assert.deepEqual([never.timedOut(5), never.timedOut(6), never.timedOut(7)], [false, false, true]);
  const two = new LinkWatch(3);
  two.answered(1);
  two.answered(2);
  assert.deepEqual([two.timedOut(1), two.timedOut(9), two.timedOut(2)], [false, false, true], 'both live units silent');
  const off = new LinkWatch(0);
  for (let i = 0; i < 10; i++) assert.equal(off.timedOut(1), false, 'limit 0 disables');
  const reset = new LinkWatch(2);
  reset.answered(1);
  reset.timedOut(1);
  reset.reset();
  assert.equal(reset.timedOut(1), false, 'a new connection starts counting afresh');
});
