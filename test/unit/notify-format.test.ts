import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertLine, DEFAULT_TEMPLATE, formatBatch, formatTime, heading, PLAIN } from '../../nodes/lib/notify/format';
import { discordMarkup } from '../../nodes/lib/notify/discord';
import { stripHtml, telegramMarkup } from '../../nodes/lib/notify/telegram';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import type { OutboxEntry } from '../../nodes/lib/notify/types';

const T0 = Date.UTC(2025, 0, 1, 12);

export function alertAt(i: number, over: Partial<AlertPayload> = {}): AlertPayload {
  const device = over.device ?? `inv-${String(i).padStart(4, '0')}`;
  return {
    id: `${device}/power/high@inv-*:power`,
    state: 'raised',
    severity: 'major',
    category: 'power',
    device,
    point: 'power',
    value: 150 + (i % 10) / 10,
    limit: 100,
    unit: 'kW',
    rule: 'high@inv-*:power',
    kind: 'high',
    timestamp: T0 + i,
    raisedAt: T0 + i,
    text: `${device} power ${150 + (i % 10) / 10} kW above high limit 100 kW`,
    ...over,
  };
}

const entries = (alerts: AlertPayload[]): OutboxEntry[] => alerts.map((alert, i) => ({ id: String(i + 1), notice: { alert, test: false, at: T0 } }));

const opts = { maxChars: 4000, markup: PLAIN, template: DEFAULT_TEMPLATE, detailedUpTo: 8, timeZone: 'UTC' };

test('a few alerts: one line each from the template, in one message', () => {
  const msgs = formatBatch(entries([alertAt(1), alertAt(2, { state: 'cleared', severity: 'critical' }), alertAt(3)]), opts);
  assert.equal(msgs.length, 1);
  const lines = msgs[0].body.split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[0], '🟠 RAISED major · inv-0001 power 150.1 kW above high limit 100 kW · 2025-01-01 12:00:00 UTC');
  assert.match(lines[1], /^🟢 CLEARED critical/);
  assert.deepEqual(msgs[0].ids, ['1', '2', '3']);
  assert.equal(msgs[0].severity, 'critical');
});

test('a storm of 1000 alerts: grouped, every alert named once, in a handful of messages within the limit', () => {
  const alerts = Array.from({ length: 1000 }, (_, i) => alertAt(i));
  alerts.push(...Array.from({ length: 50 }, (_, i) => alertAt(i, { state: 'cleared', device: `pv-${i}`, rule: 'low@pv', kind: 'low', id: `pv-${i}/x` })));
  for (const limit of [4000, 2000]) {
    const msgs = formatBatch(entries(alerts), { ...opts, maxChars: limit }, 40);
    assert.ok(msgs.length <= (limit === 4000 ? 5 : 10), `${msgs.length} messages at ${limit}`);
    for (const m of msgs) assert.ok(m.body.length <= limit - 40, `body of ${m.body.length} characters`);
    const ids = msgs.flatMap((m) => m.ids.map(Number)).sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: 1050 }, (_, i) => i + 1));
    const text = msgs.map((m) => m.body).join('\n');
    for (const a of alerts) assert.ok(text.includes(a.device), `${a.device} missing`);
    assert.match(msgs[0].body, /^🟠 RAISED major · high power \(limit 100 kW\) · 1000 alerts · 2025-01-01 12:00:00 UTC\ninv-0000 150, inv-0001 150.1, /);
    assert.match(msgs[msgs.length - 1].body, /🟢 CLEARED major · low power \(limit 100 kW\) · 50 alerts/);
    assert.deepEqual([msgs[0].part, msgs[0].parts], [1, msgs.length]);
  }
});

test('data is escaped for the markup; headings say TEST in test mode', () => {
  const evil = alertAt(1, { device: '<b>&_m*1', text: 'x < y & z' });
  const html = alertLine(evil, { template: '{device}: {text} {STATE}', markup: telegramMarkup, timeZone: 'UTC' });
  assert.equal(html, '&lt;b&gt;&amp;_m*1: x &lt; y &amp; z <b>RAISED</b>');
  assert.equal(stripHtml(html), '<b>&_m*1: x < y & z RAISED');
  const md = alertLine(evil, { template: '{device} {STATE}', markup: discordMarkup, timeZone: 'UTC' });
  assert.equal(md, '<b\\>&\\_m\\*1 **RAISED**');
  assert.equal(heading({ title: 'Site A', markup: PLAIN }, true, 2, 5), '🧪 TEST · Site A (2/5)');
  assert.equal(heading({ markup: PLAIN }, false, 1, 1), '');
  assert.equal(formatTime(T0, 'Europe/Berlin'), '2025-01-01 13:00:00 CET');
});

test('plain texts sent to a notifier are kept as they are', () => {
  const list: OutboxEntry[] = [{ id: '7', notice: { text: 'Generator test run at 14:00', test: false, at: T0 } }];
  const [m] = formatBatch(list, opts);
  assert.equal(m.body, 'Generator test run at 14:00');
  assert.deepEqual(m.ids, ['7']);
});
