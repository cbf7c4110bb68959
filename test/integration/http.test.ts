/** The HTTP publisher engine against a real HTTP(S) receiver on loopback. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { HttpConfigError, HttpPreview, HttpPublisher, HttpPublisherOptions } from '../../nodes/lib/publish/http-publisher';
import { recordFromMessage } from '../../nodes/lib/publish/record';
import { startReceiver } from './http-fixture';
import { makeCerts, reading, waitFor } from './mqtt-fixture';

type TestContext = { after(fn: () => unknown): void };

interface Doc {
  id: string;
  device: string;
  seq: number;
  values: Record<string, number>;
  test?: boolean;
}

// Removed once every test is over: a test's own after-hooks stop its publishers,
// and a folder removed before its publisher stopped fails with ENOTEMPTY.
const tmpDirs: string[] = [];
after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tmp(_t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-http-'));
  tmpDirs.push(dir);
  return dir;
}

async function publisher(t: TestContext, url: string, extra: Partial<HttpPublisherOptions> = {}, mode = { on: false }, dir = tmp(t)): Promise<HttpPublisher> {
  const pub = new HttpPublisher({
    owner: 'http test',
    queueDir: dir,
    url: `${url}/ingest`,
    method: 'POST',
    format: { format: 'document' },
    batchSize: 100,
    batchWaitMs: 100,
    gzip: false,
    timeoutMs: 2000,
    retryMinMs: 50,
    retryMaxMs: 400,
    testTarget: false,
    isTestMode: () => mode.on,
    ...extra,
  });
  await pub.start();
  t.after(() => pub.stop());
  return pub;
}

function feed(pub: HttpPublisher, devices: string[], from: number, to: number, test = false): void {
  for (let seq = from; seq <= to; seq++) {
    for (const d of devices) pub.add(recordFromMessage(reading(d, seq, { voltage_l1: 230, power_total: seq * 10 }), test));
  }
}

function assertComplete(docs: Doc[], devices: string[], count: number): number {
  const byId = new Map<string, Doc>();
  let duplicates = 0;
  for (const d of docs) {
    if (byId.has(d.id)) {
      duplicates++;
      assert.deepEqual(d, byId.get(d.id));
    } else byId.set(d.id, d);
  }
  for (const dev of devices) {
    const seqs = [...byId.values()].filter((d) => d.device === dev).map((d) => d.seq);
    assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i + 1), `device ${dev}: every reading, in order`);
  }
  return duplicates;
}

test('batches by count and by time, in order, with auth, headers and ids', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  const pub = await publisher(t, rx.url, {
    batchSize: 100, batchWaitMs: 300, auth: { type: 'basic', username: 'rtu', password: 's3cret' }, headers: { 'x-site': 'north' },
  });
  const fedAt = Date.now();
  feed(pub, ['m1', 'm2'], 1, 125); // 250 readings: two full batches at once, the rest after the wait
  await waitFor(() => rx.accepted().length === 250, 'all readings');
  assert.deepEqual(rx.requests.map((r) => JSON.parse(r.body).length), [100, 100, 50]);
  // The partial batch waits the batch time from the arrival of its first reading (timer slack allowed).
  const last = rx.requests[2];
  assert.ok(last.at - fedAt >= 280, `the partial batch waited for the batch time (sent ${last.at - fedAt} ms after the feed)`);
  assert.ok(rx.requests[1].at - fedAt < last.at - fedAt, 'the full batches went first');
  const r0 = rx.requests[0];
  assert.equal(r0.method, 'POST');
  assert.equal(r0.url, '/ingest');
  assert.equal(r0.headers['content-type'], 'application/json');
  assert.equal(r0.headers.authorization, `Basic ${Buffer.from('rtu:s3cret').toString('base64')}`);
  assert.equal(r0.headers['x-site'], 'north');
  const docs = rx.accepted<Doc>();
  assert.match(String(r0.headers['x-rtu-message-ids']), new RegExp(`^${docs[0].id}\\.\\.${docs[99].id}$`));
  assertComplete(docs, ['m1', 'm2'], 125);
  await waitFor(() => pub.stats().queue?.depth === 0, 'an empty queue');
  assert.equal(pub.stats().delivered, 250);
});

test('gzip, PUT, bearer token; flat rows, line protocol and a template', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  const withPoints = (seq: number, test = false): ReturnType<typeof recordFromMessage> => {
    const msg = reading('m 1', seq, { power_total: 1500.5, state: 'on', ok: true });
    (msg.rtu as unknown as { points: unknown }).points = { power_total: { address: 30053, dataType: 'float32', description: 'Total active power' } };
    return recordFromMessage(msg, test);
  };
  const gz = await publisher(t, rx.url, { gzip: true, method: 'PUT', auth: { type: 'bearer', token: 'tok' }, format: { format: 'flat' }, batchWaitMs: 20 });
  gz.add(withPoints(1));
  await waitFor(() => rx.requests.length === 1, 'the flat request');
  const flat = rx.requests[0];
  assert.equal(flat.method, 'PUT');
  assert.equal(flat.headers['content-encoding'], 'gzip');
  assert.equal(flat.headers.authorization, 'Bearer tok');
  const rows = JSON.parse(flat.body);
  assert.deepEqual(Object.keys(rows[0]).slice(0, 8), ['device_id', 'parameter', 'value', 'unit', 'timestamp', 'register_address', 'data_type', 'description']);
  assert.deepEqual(rows[0], {
    device_id: 'm 1', parameter: 'power_total', value: 1500.5, unit: 'W', timestamp: rows[0].timestamp, register_address: 30053,
    data_type: 'float32', description: 'Total active power', quality: 'good', message_id: rows[0].message_id,
  });
  assert.equal(rows[1].register_address, null);

  const influx = await publisher(t, rx.url, { format: { format: 'influx', measurement: 'energy', precision: 'ms' }, batchWaitMs: 20 });
  const rec = withPoints(2);
  influx.add(rec);
  await waitFor(() => rx.requests.length === 2, 'the line protocol request');
  assert.equal(rx.requests[1].headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(rx.requests[1].body, `energy,device=m\\ 1,line=line1,model=em24,quality=good power_total=1500.5,state="on",ok=true ${rec.ts}`);

  const tpl = await publisher(t, rx.url, { format: { format: 'template', template: '{"sensor": "rtu-{{{device}}}", "p": {{values.power_total}}, "msg": {{id}}}' }, batchWaitMs: 20 });
  tpl.add(withPoints(3));
  await waitFor(() => rx.requests.length === 3, 'the template request');
  const [doc] = JSON.parse(rx.requests[2].body);
  assert.equal(doc.sensor, 'rtu-m 1');
  assert.equal(doc.p, 1500.5);
  assert.match(doc.msg, /^[0-9a-f]{8}-1$/);
});

test('5xx and 429: kept and retried with backoff; Retry-After honoured', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  rx.answer = (_r, i) => (i === 0 ? { status: 503, body: 'maintenance' } : i === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
  const pub = await publisher(t, rx.url, { batchWaitMs: 10 });
  const states: string[] = [];
  pub.on('state', (s: string, e: string | null) => states.push(`${s}: ${e}`));
  feed(pub, ['m1'], 1, 10);
  await waitFor(() => rx.accepted().length === 10, 'delivery after the retries', 5000);
  const sizes = rx.requests.map((r) => (JSON.parse(r.body) as Doc[]).map((d) => d.seq).join(','));
  assert.deepEqual(sizes, [sizes[0], sizes[0], sizes[0]], 'the same batch, three times');
  assert.ok(rx.requests[2].at - rx.requests[1].at >= 950, 'waited for Retry-After: 1');
  assert.match(states[0], /^down: POST http:\/\/127\.0\.0\.1:\d+\/ingest answered 503 Service Unavailable: maintenance$/);
  await waitFor(() => pub.stats().state === 'connected', 'the state to follow the delivery');
});

test('a rejected payload (400) is isolated, set aside in the dead-letter file, and not retried', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  // The receiver refuses any request containing the reading with seq 4.
  rx.answer = (r) => (JSON.parse(r.body).some((d: Doc) => d.seq === 4) ? { status: 400, body: '{"error":"value out of range"}' } : { status: 200 });
  const dir = tmp(t);
  const pub = await publisher(t, rx.url, { batchWaitMs: 10 }, { on: false }, dir);
  const rejected: Array<{ reason: string; items: Array<{ id: string }>; file: string }> = [];
  pub.on('rejected', (r: (typeof rejected)[number]) => rejected.push(r));
  feed(pub, ['m1'], 1, 8);
  await waitFor(() => rx.accepted().length === 7, 'the seven good readings');
  await waitFor(() => pub.stats().queue?.depth === 0, 'the queue to empty');
  assert.equal(rejected.length, 1);
  assert.match(rejected[0].reason, /answered 400 Bad Request: \{"error":"value out of range"\}/);
  const letters = fs.readFileSync(path.join(dir, 'dead-letter.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(letters.length, 1);
  assert.equal(letters[0].status, 400);
  assert.equal(letters[0].items[0].item.seq, 4);
  assert.equal(rejected[0].file, path.join(dir, 'dead-letter.jsonl'));
  assert.deepEqual(rx.accepted<Doc>().map((d) => d.seq), [1, 2, 3, 5, 6, 7, 8], 'the others went through, in order');
  // Nothing is retried after that: the next request the receiver sees carries only the next reading.
  const count = rx.requests.length;
  feed(pub, ['m1'], 9, 9);
  await waitFor(() => rx.accepted().length === 8, 'the next reading');
  assert.equal(rx.requests.length, count + 1, 'one more request, not a retry of the rejected one');
  assert.deepEqual((JSON.parse(rx.requests[count].body) as Doc[]).map((d) => d.seq), [9]);
  assert.equal(pub.stats().rejected, 1);
});

test('401: clear status, data kept, delivered once the server accepts the credentials', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  let allow = false;
  rx.answer = () => (allow ? { status: 200 } : { status: 401, body: 'invalid token' });
  const pub = await publisher(t, rx.url, { batchWaitMs: 10, auth: { type: 'bearer', token: 'old' } });
  feed(pub, ['m1'], 1, 5);
  await waitFor(() => pub.stats().state === 'blocked', 'the refusal');
  assert.match(pub.stats().lastError ?? '', /answered 401 Unauthorized: invalid token \(check the credentials\)/);
  assert.equal(pub.stats().queue?.depth, 5);
  allow = true;
  pub.wake();
  await waitFor(() => rx.accepted().length === 5, 'delivery', 8000);
  assert.equal(pub.stats().rejected, 0);
});

test('unreachable receiver and a receiver that never answers: clear errors, data kept', async (t) => {
  const rx = await startReceiver();
  const closedUrl = rx.url;
  await rx.stop();
  const pub = await publisher(t, closedUrl, { batchWaitMs: 10 });
  feed(pub, ['m1'], 1, 3);
  await waitFor(() => pub.stats().state === 'down', 'the failure');
  assert.match(pub.stats().lastError ?? '', /POST http:\/\/127\.0\.0\.1:\d+\/ingest refused the connection/);
  assert.equal(pub.stats().queue?.depth, 3);

  const mute = await startReceiver();
  t.after(() => mute.stop());
  mute.answer = () => ({ status: 200, hang: true });
  const slow = await publisher(t, mute.url, { batchWaitMs: 10, timeoutMs: 200 });
  feed(slow, ['m1'], 1, 1);
  await waitFor(() => slow.stats().state === 'down', 'the timeout');
  assert.match(slow.stats().lastError ?? '', /did not answer in time \(ETIMEDOUT\)/);
});

test('outage under load: receiver down and back; every reading once by id, in order', async (t) => {
  let rx = await startReceiver();
  const port = rx.port;
  const first = rx;
  t.after(() => rx.stop());
  const pub = await publisher(t, rx.url, { batchSize: 50, batchWaitMs: 20 });
  const devices = ['m1', 'm2', 'm3'];
  let seq = 0;
  const load = setInterval(() => {
    if (seq < 600) {
      feed(pub, devices, seq + 1, seq + 10);
      seq += 10;
    }
  }, 5);
  t.after(() => clearInterval(load));
  await waitFor(() => first.accepted().length > 200, 'traffic before the outage');
  await first.stop();
  await waitFor(() => (pub.stats().queue?.depth ?? 0) > 300, 'a backlog');
  rx = await startReceiver({ port });
  await waitFor(() => seq >= 600, 'the load to finish');
  await waitFor(() => pub.stats().queue?.depth === 0, 'the backlog to drain', 20_000);
  const dups = assertComplete([...first.accepted<Doc>(), ...rx.accepted<Doc>()], devices, 600);
  t.diagnostic(`duplicates: ${dups}`);
});

test('test mode: test URL only, flagged; production held; without a test URL only the dry run', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  const mode = { on: false };
  const pub = await publisher(t, rx.url, { testUrl: `${rx.url}/test`, batchWaitMs: 10 }, mode);
  const previews: HttpPreview[] = [];
  pub.on('dry-run', (p: HttpPreview) => previews.push(p));
  feed(pub, ['m1'], 1, 2);
  await waitFor(() => rx.accepted('/ingest').length === 2, 'production readings');
  mode.on = true;
  feed(pub, ['m1'], 3, 4, true);
  feed(pub, ['m1'], 5, 5);
  await waitFor(() => rx.accepted('/test').length === 2, 'test readings');
  const testReq = rx.requests.find((r) => r.url === '/test');
  assert.equal(testReq?.headers['x-rtu-test'], 'true');
  assert.ok(rx.accepted<Doc>('/test').every((d) => d.test === true));
  assert.equal(previews.length, 2);
  assert.match(previews[0].url, /\/test$/);
  // The production reading is in the queue, held: the lane is paused, so it is not being sent.
  await waitFor(() => pub.stats().paused && pub.stats().queue?.depth === 1, 'the production reading held in the queue');
  assert.equal(rx.accepted('/ingest').length, 2, 'production held during test mode');
  mode.on = false;
  pub.wake();
  await waitFor(() => rx.accepted('/ingest').length === 3, 'the held reading');

  const dry = await publisher(t, rx.url, { url: `${rx.url}/dry` }, { on: true });
  const dryPreviews: HttpPreview[] = [];
  dry.on('dry-run', (p: HttpPreview) => dryPreviews.push(p));
  feed(dry, ['m1'], 1, 3, true);
  await waitFor(() => dryPreviews.length === 3, 'three dry-run previews');
  assert.equal(JSON.parse(dryPreviews[0].body)[0].test, true);
  assert.equal(rx.requests.filter((r) => r.url === '/dry').length, 0);
});

test('configuration mistakes are refused before anything is sent', async (t) => {
  const base = { owner: 'x', queueDir: tmp(t), method: 'POST' as const, batchSize: 10, batchWaitMs: 10, gzip: false, timeoutMs: 100, testTarget: false, isTestMode: () => false };
  assert.throws(() => new HttpPublisher({ ...base, url: 'not a url', format: { format: 'document' } }), (e: Error) => e instanceof HttpConfigError && /URL "not a url" is not a valid URL/.test(e.message));
  assert.throws(() => new HttpPublisher({ ...base, url: 'ftp://x/y', format: { format: 'document' } }), /must start with http:\/\/ or https:\/\//);
  assert.throws(() => new HttpPublisher({ ...base, url: 'http://x/', format: { format: 'template', template: '{"a": {{device}' } }), /does not give valid JSON/);
  assert.throws(() => new HttpPublisher({ ...base, url: 'https://x/', format: { format: 'document' }, tls: { ca: '/nonexistent/ca.pem' } }), /TLS CA certificate: "\/nonexistent\/ca.pem" is neither PEM text nor a readable file \(ENOENT\)/);
});

test('HTTPS with the receiver\'s CA; without it the certificate is reported as not trusted', async (t) => {
  const certs = makeCerts(tmp(t));
  if (!certs) {
    t.skip('openssl is not installed');
    return;
  }
  const rx = await startReceiver({ tls: { key: certs.serverKey, cert: certs.serverCert } });
  t.after(() => rx.stop());
  const ok = await publisher(t, rx.url, { batchWaitMs: 10, tls: { ca: certs.ca } });
  feed(ok, ['m1'], 1, 3);
  await waitFor(() => rx.accepted().length === 3, 'delivery over HTTPS');
  const untrusted = await publisher(t, rx.url, { batchWaitMs: 10 });
  feed(untrusted, ['m1'], 1, 1);
  await waitFor(() => untrusted.stats().state === 'down', 'the refusal');
  assert.match(untrusted.stats().lastError ?? '', /https:\/\/127\.0\.0\.1:\d+\/ingest: the server certificate is not trusted/);
});

test('the drain rate spaces a backlog out', async (t) => {
  const rx = await startReceiver();
  t.after(() => rx.stop());
  const pub = await publisher(t, rx.url, { batchSize: 10, batchWaitMs: 10, maxRatePerS: 100 });
  feed(pub, ['m1'], 1, 40);
  await waitFor(() => rx.accepted().length === 40, 'the backlog', 5000);
  const spanMs = rx.requests[rx.requests.length - 1].at - rx.requests[0].at;
  assert.equal(rx.requests.length, 4);
  assert.ok(spanMs >= 250, `4 batches of 10 at 100 msg/s take at least 300 ms minus timer slack (took ${spanMs} ms)`);
});
