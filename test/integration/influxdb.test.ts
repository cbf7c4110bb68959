/**
 * Line protocol against a real InfluxDB 1.x (Debian's influxd, started by the test): what the
 * HTTP publisher writes must be stored with the exact names and values it was given.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { HttpPublisher } from '../../nodes/lib/publish/http-publisher';
import { recordFromMessage } from '../../nodes/lib/publish/record';
import { Influxd, startInfluxd } from '../support/influxd';
import { waitFor } from '../support/wait';
import { reading } from './mqtt-fixture';

let influx: Influxd;
const dirs: string[] = [];

before(async () => {
  influx = await startInfluxd();
  await influx.query('rtu', 'CREATE DATABASE rtu');
});
after(async () => {
  await influx?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function publish(measurement: string, msgs: ReturnType<typeof reading>[]): Promise<HttpPublisher> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-influx-'));
  dirs.push(dir);
  const pub = new HttpPublisher({
    owner: 'influx test', queueDir: dir, url: `${influx.url}/write?db=rtu&precision=ms`, method: 'POST',
    format: { format: 'influx', measurement, precision: 'ms' }, batchSize: 100, batchWaitMs: 20, gzip: false,
    timeoutMs: 5000, retryMinMs: 50, retryMaxMs: 400, testTarget: false, isTestMode: () => false,
  });
  await pub.start();
  for (const m of msgs) pub.add(recordFromMessage(m, false));
  await waitFor(() => pub.stats().queue?.depth === 0 || pub.stats().rejected > 0, 'the batch to be answered', 10_000);
  await pub.stop();
  return pub;
}

test('device names, measurement, point names and strings with backslashes and separators are stored exactly', async () => {
  const devices = ['C:\\meters\\m1', 'a b,c=d', 'tab\there', 'quote"d'];
  const msgs = devices.map((d, i) => reading(d, i + 1, { 'p 1,x=y': i + 1, note: 'say "hi" \\ C:\\path\\', multi: 'line1\nline2' }));
  const pub = await publish('site, main\\raw', msgs);
  assert.equal(pub.stats().rejected, 0, `InfluxDB refused the batch: ${pub.stats().lastError}`);
  assert.equal(pub.stats().delivered, devices.length);
  const series = await influx.query('rtu', 'SELECT * FROM /.*/ GROUP BY device');
  assert.deepEqual(series.map((s) => s.name), devices.map(() => 'site, main\\raw'));
  const byDevice = new Map(series.map((s) => [s.tags?.device, s]));
  assert.deepEqual([...byDevice.keys()].sort(), [...devices].sort());
  for (const [i, d] of devices.entries()) {
    const s = byDevice.get(d);
    assert.ok(s, `device ${d} stored under its exact name`);
    const row = Object.fromEntries(s.columns.map((c, j) => [c, s.values[0][j]]));
    assert.equal(row['p 1,x=y'], i + 1);
    assert.equal(row.note, 'say "hi" \\ C:\\path\\');
    assert.equal(row.multi, 'line1\nline2');
  }
});

test('a device name ending in a backslash is stored, not refused (InfluxDB 1.x cannot keep the final backslash)', async () => {
  const pub = await publish('rtu', [reading('C:\\meters\\', 1, { v: 1 }), reading('odd\\ name\\,x', 2, { v: 2 })]);
  assert.equal(pub.stats().rejected, 0, `InfluxDB refused the batch: ${pub.stats().lastError}`);
  const tags = await influx.query('rtu', 'SHOW TAG VALUES FROM rtu WITH KEY = "device"');
  assert.deepEqual(tags[0].values.map((v) => v[1]).sort(), ['C:\\meters', 'odd name,x']);
});
