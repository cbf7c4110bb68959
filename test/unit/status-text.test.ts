import { test } from 'node:test';
import assert from 'node:assert/strict';
import { templatedText } from '../../nodes/shared/status-text';

/** Interpolates as Node-RED's i18next set-up does (__name__), and counts its calls. */
function catalogue(texts: Record<string, string>) {
  const calls: string[] = [];
  const translate = (key: string, vars: Record<string, string | number> = {}) => {
    calls.push(key);
    const text = texts[key];
    return text === undefined ? key : text.replace(/__(\w+)__/g, (_, n: string) => String(vars[n] ?? `__${n}__`));
  };
  return { translate, calls };
}

test('a key is translated once; later texts put the values into the template', () => {
  const c = catalogue({ 'p.status.ok': '__count__ values in __latency__ ms' });
  const t = templatedText(c.translate, 'p.status');
  assert.equal(t('ok', { count: 40, latency: 12 }), '40 values in 12 ms');
  assert.equal(t('ok', { count: 39, latency: 7 }), '39 values in 7 ms');
  assert.deepEqual(c.calls, ['p.status.ok']);
});

test('a variable used twice or not at all, a text without variables and a missing key come out as translated per call', () => {
  const texts = { 'p.status.twice': '__n__ of __n__', 'p.status.none': 'polling', 'p.status.unused': 'fixed text' };
  const c = catalogue(texts);
  const t = templatedText(c.translate, 'p.status');
  for (const [key, vars] of [['twice', { n: 3 }], ['none', {}], ['unused', { n: 1 }], ['missing', { n: 2 }]] as const) {
    assert.equal(t(key, vars), catalogue(texts).translate(`p.status.${key}`, vars));
  }
});

test('the same key with other variables gets its own template', () => {
  const c = catalogue({ 'p.status.failed': 'failed: __error__' });
  const t = templatedText(c.translate, 'p.status');
  assert.equal(t('failed', { error: 'timeout' }), 'failed: timeout');
  assert.equal(t('failed', {}), 'failed: __error__');
});
