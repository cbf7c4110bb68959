/**
 * The editor code the node dialogs share (resources/rtu-editor.js), run as the
 * editor runs it: typed-field validators and the expansion of shared rows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editorContext } from '../support/editor-html';

type Validator = (this: Record<string, unknown>, v: unknown) => boolean;
interface Editor {
  typedValue(field: string, opts?: Record<string, unknown>): Validator;
  urlValue(field: string, optional: boolean): Validator;
  expandMarkup(type: string, html: string, own?: Record<string, (...args: string[]) => string>): string;
}

/** The shared editor code with a dialog whose inputs hold `inputs` (id to value). */
function editor(inputs: Record<string, string> = {}): Editor {
  const $ = (selector: string) => ({ val: () => inputs[selector] });
  return editorContext({ $ }).RTU_EDITOR as Editor;
}

test('a typed value is checked as typed; an env variable or context key must be named', () => {
  const check: Validator = function (v) { return Number(v) > 0; };
  const port = editor({ '#node-input-portType': 'env' }).typedValue('portType', { literal: ['str', 'num'], check });
  assert.equal(port.call({}, 'GATEWAY_PORT'), true);
  assert.equal(port.call({}, ' '), false);
  const typed = editor().typedValue('portType', { fallback: 'num', literal: ['str', 'num'], check });
  assert.equal(typed.call({}, '502'), true, 'no type in the dialog or node: the fallback, a number');
  assert.equal(typed.call({}, '-1'), false);
  assert.equal(typed.call({ portType: 'env' }, ''), false, 'the node\'s stored type when the dialog is closed');
  const config = editor({ '#node-config-input-portType': 'env', '#node-input-portType': 'num' }).typedValue('portType', { config: true, literal: ['num'], check });
  assert.equal(config.call({}, 'PORT'), true, 'a config dialog reads its own inputs');
});

test('a check sees the node: an MQTT topic per point needs {point}', () => {
  const topic = editor().typedValue('topicType', { check(this: Record<string, unknown>, v: unknown) { return this.split !== 'point' || String(v).includes('{point}'); } });
  assert.equal(topic.call({ split: 'point' }, 'site/{device}'), false);
  assert.equal(topic.call({ split: 'point' }, 'site/{device}/{point}'), true);
  const prefix = editor({ '#node-input-prefixType': 'flow' }).typedValue('prefixType', { optional: true, check: () => false });
  assert.equal(prefix.call({}, ''), true, 'an optional key may be empty');
});

test('a URL typed must be http(s); an optional one may be empty; a variable must be named', () => {
  assert.equal(editor().urlValue('urlType', false).call({}, 'ftp://x'), false);
  assert.equal(editor().urlValue('urlType', false).call({}, 'https://backend.example/api'), true);
  assert.equal(editor().urlValue('urlType', false).call({}, ''), false);
  assert.equal(editor().urlValue('testUrlType', true).call({}, ''), true);
  assert.equal(editor({ '#node-input-urlType': 'env' }).urlValue('urlType', false).call({}, 'RTU_HTTP_URL'), true);
  assert.equal(editor({ '#node-input-urlType': 'env' }).urlValue('urlType', false).call({}, ''), false);
});

test('section markers become rows labelled from the node\'s catalogue; an unknown section is an error', () => {
  const html = editor().expandMarkup('rtu-x', '<p></p>\n  <div data-rtu-section="check" data-rtu-args="node-input gzip rtu-x-tls"></div>\n');
  assert.match(html, /<div class="form-row rtu-x-tls">/);
  assert.match(html, /<input type="checkbox" id="node-input-gzip"/);
  assert.match(html, /data-i18n="rtu-x\.label\.gzip"/);
  assert.doesNotMatch(html, /data-rtu-section/);
  const own = editor().expandMarkup('rtu-x', '<div data-rtu-section="mine" data-rtu-args="a b"></div>', { mine: (ns, a, b) => `${ns}|${a}|${b}` });
  assert.equal(own, 'rtu-x|a|b');
  assert.throws(() => editor().expandMarkup('rtu-x', '<div data-rtu-section="nope"></div>'), /no section nope/);
});
