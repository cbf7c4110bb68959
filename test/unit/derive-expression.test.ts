import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileExpression, evaluate } from '../../nodes/lib/derive/expression-compile';
import { ExpressionError, parseExpression } from '../../nodes/lib/derive/expression-parse';
import { BAD, GOOD, PointTable, STALE } from '../../nodes/lib/derive/point-table';

function calc(expression: string, values: Record<string, number | null> = {}, device = 'm1'): number | null {
  const table = new PointTable();
  const expr = compileExpression(expression, { table, device });
  for (const [name, v] of Object.entries(values)) {
    const [d, p] = name.includes('.') ? name.split('.') : [device, name];
    table.set(table.slot(d, p), v, GOOD, 0);
  }
  return expr.value();
}

function errorAt(expression: string, device: string | null = 'm1'): ExpressionError {
  try {
    compileExpression(expression, { table: new PointTable(), device: device ?? undefined });
  } catch (err) {
    assert.ok(err instanceof ExpressionError, String(err));
    return err;
  }
  assert.fail(`"${expression}" compiled`);
}

test('precedence and associativity follow arithmetic', () => {
  assert.equal(calc('1 + 2 * 3'), 7);
  assert.equal(calc('(1 + 2) * 3'), 9);
  assert.equal(calc('10 - 4 - 3'), 3);
  assert.equal(calc('2 ^ 3 ^ 2'), 512);
  assert.equal(calc('-2 ^ 2'), -4);
  assert.equal(calc('2 * -3'), -6);
  assert.equal(calc('7 % 4 + 1'), 4);
  assert.equal(calc('1 + 2 > 2 && 3 < 4'), 1);
  assert.equal(calc('1 < 2 ? 10 : 20'), 10);
  assert.equal(calc('0 ? 1 : 0 ? 2 : 3'), 3);
  assert.equal(calc('!0 + !5'), 1);
  assert.equal(calc('1.5e3 / .5'), 3000);
});

test('points, device.point, backtick names and functions', () => {
  assert.equal(calc('voltage_l1_n * current_l1 / 1000', { voltage_l1_n: 230, current_l1: 10 }), 2.3);
  assert.equal(calc('sqrt(p^2 + q^2)', { p: 3, q: 4 }), 5);
  assert.equal(calc('round(p / s, 3)', { p: 2, s: 3 }), 0.667);
  assert.equal(calc('`meter-2`.p + p', { p: 1, 'meter-2.p': 2 }), 3);
  assert.equal(calc('max(a, b, 3) + min(a, b) + abs(-2) + clamp(a, 0, 1)', { a: 5, b: 7 }), 7 + 5 + 2 + 1);
  assert.equal(calc('if(a > 1, 10, 20) + hypot(3, 4)', { a: 2 }), 15);
  assert.equal(calc('avg(a, b, c)', { a: 1, b: 2, c: 6 }), 3);
});

test('a device pattern inside an aggregate sums every matching device, also those that appear later', () => {
  const table = new PointTable();
  table.set(table.slot('feeder-1', 'power_total'), 100, GOOD, 0);
  const expr = compileExpression('sum(`feeder-*`.power_total)', { table });
  table.set(table.slot('feeder-2', 'power_total'), 50, GOOD, 0);
  table.set(table.slot('other', 'power_total'), 1000, GOOD, 0);
  assert.equal(expr.value(), 150);
  assert.equal(compileExpression('count(`feeder-*`.power_total)', { table }).value(), 2);
  assert.equal(compileExpression('max(`feeder-*`.power_total)', { table }).value(), 100);
});

test('quality is the worst of the inputs, and no value is bad', () => {
  const table = new PointTable();
  const expr = compileExpression('a + b', { table, device: 'm' });
  table.set(table.slot('m', 'a'), 1, GOOD, 0);
  table.set(table.slot('m', 'b'), 2, STALE, 0);
  assert.deepEqual(evaluate(expr), { value: 3, quality: STALE });
  table.set(table.slot('m', 'b'), 2, BAD, 0);
  assert.equal(evaluate(expr).quality, BAD);
  table.set(table.slot('m', 'b'), null, GOOD, 0);
  assert.deepEqual(evaluate(expr), { value: null, quality: BAD });
  assert.equal(calc('a / b', { a: 1, b: 0 }), null, 'division by zero gives no value');
});

test('errors name what is wrong and where', () => {
  assert.equal(errorAt('1 + * 2').position, 4);
  assert.match(errorAt('1 + * 2').message, /expected a number, a point name or "\(" but found "\*" at position 5/);
  assert.equal(errorAt('(1 + 2').position, 6);
  assert.match(errorAt('(1 + 2').message, /expected "\)" but found the end/);
  assert.equal(errorAt('a $ b').position, 2);
  assert.match(errorAt('foo(1)').message, /unknown function "foo"/);
  assert.match(errorAt('sqrt(1, 2)').message, /sqrt\(\) takes 1 argument, not 2/);
  assert.match(errorAt('1 2').message, /unexpected number 2 at position 3/);
  assert.match(errorAt('`meter-*`.p + 1').message, /can only be used inside sum/);
  assert.match(errorAt('power', null).message, /"power" needs a device/);
  assert.match(errorAt('`abc').message, /unclosed ` quote at position 1/);
  assert.equal(errorAt('').position, 0);
});

test('nothing but point values is reachable: no globals, no properties, no eval', () => {
  for (const src of ['process.exit(1)', 'constructor.constructor("return process")()', 'a["b"]', 'require("fs")']) {
    assert.throws(() => compileExpression(src, { table: new PointTable(), device: 'm' }), ExpressionError, src);
  }
  // `process.exit` parses as the point "exit" of a device called "process": harmless, it reads a number.
  assert.equal(calc('process.exit', { 'process.exit': 4 }), 4);
  assert.deepEqual(parseExpression('a').kind, 'ref');
});
