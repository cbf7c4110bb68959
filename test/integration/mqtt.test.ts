/**
 * The MQTT publisher engine against real brokers on loopback: aedes (in process, MQTT 3.1.1),
 * a private mosquitto (MQTT 5) when installed, and the system's mosquitto on 127.0.0.1:1883
 * when one listens there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import mqtt from 'mqtt';
import { MqttLink, MqttLinkOptions } from '../../nodes/lib/publish/mqtt-link';
import { MqttPreview, MqttPublisher, MqttPublisherOptions } from '../../nodes/lib/publish/mqtt-publisher';
import { recordFromMessage } from '../../nodes/lib/publish/record';
import { parseDeadbandRules } from '../../nodes/lib/publish/rules';
import { hasBinary, listening, makeCerts, reading, startBroker, startMosquitto, waitFor } from './mqtt-fixture';

interface Body {
  id: string;
  device: string;
  seq: number;
  values: Record<string, number>;
  test?: boolean;
  topic: string;
}

type TestContext = { after(fn: () => unknown): void };

function tmp(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-mqtt-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let clientCounter = 0;

function linkTo(port: number, extra: Partial<MqttLinkOptions> = {}): MqttLink {
  return new MqttLink({
    host: '127.0.0.1',
    port,
    protocolVersion: 4,
    clientId: `rtu-test-${process.pid}-${++clientCounter}`,
    keepaliveS: 30,
    clean: true,
    reconnectMinMs: 100,
    reconnectMaxMs: 400,
    connectTimeoutMs: 2000,
    status: { topic: 'site/rtu/status', online: 'online', offline: 'offline', qos: 1, retain: true },
    ...extra,
  });
}

async function publisher(t: TestContext, link: MqttLink, dir: string, extra: Partial<MqttPublisherOptions> = {}, testMode = { on: false }): Promise<MqttPublisher> {
  const pub = new MqttPublisher({
    owner: 'mqtt test',
    queueDir: dir,
    link,
    topic: 'site/{device}/measurements',
    split: 'device',
    qos: 1,
    retain: false,
    testTopicPrefix: '',
    shaping: { intervalMs: 0, aggregate: 'latest', rbe: false },
    testTarget: false,
    isTestMode: () => testMode.on,
    ...extra,
  });
  await pub.start();
  link.start();
  t.after(async () => {
    await pub.stop();
    await link.stop();
  });
  return pub;
}

function feed(pub: MqttPublisher, devices: string[], from: number, to: number, test = false): void {
  for (let seq = from; seq <= to; seq++) {
    for (const d of devices) pub.add(recordFromMessage(reading(d, seq, { voltage_l1: 230 + (seq % 7), power_total: seq * 10 }), test));
  }
}

/** Every reading exactly once after dropping duplicates by id, in order per device. */
function assertComplete(bodies: Body[], devices: string[], count: number): { duplicates: number } {
  const byId = new Map<string, Body>();
  let duplicates = 0;
  for (const b of bodies) {
    const prev = byId.get(b.id);
    if (prev) {
      duplicates++;
      assert.deepEqual({ ...b, topic: prev.topic }, prev, `a duplicate carries the same content as the original (${b.id})`);
    } else byId.set(b.id, b);
  }
  for (const d of devices) {
    const seqs = [...byId.values()].filter((b) => b.device === d).map((b) => b.seq);
    assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i + 1), `device ${d}: every reading, in order`);
  }
  return { duplicates };
}

test('readings reach the broker per device, in order, with ids and units; birth message retained', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const link = linkTo(broker.port);
  const pub = await publisher(t, link, tmp(t));
  feed(pub, ['m1', 'm2', 'm3'], 1, 50);
  await waitFor(() => broker.json('site/m').length >= 150, '150 messages');
  const bodies = broker.json<Body>('site/m');
  assertComplete(bodies, ['m1', 'm2', 'm3'], 50);
  const first = broker.received.find((m) => m.topic === 'site/m2/measurements');
  assert.equal(first?.qos, 1);
  const b = JSON.parse(first?.payload.toString() ?? '{}');
  assert.match(b.id, /^[0-9a-f]{8}-\d+$/);
  assert.equal(b.line, 'line1');
  assert.equal(b.model, 'em24');
  assert.equal(b.units.power_total, 'W');
  assert.equal(typeof b.timestamp, 'string');
  assert.equal(b.test, undefined);
  const birth = broker.received.find((m) => m.topic === 'site/rtu/status');
  assert.equal(birth?.payload.toString(), 'online');
  assert.equal(birth?.retain, true);
  await waitFor(() => pub.stats().queue?.depth === 0, 'the queue to empty');
  assert.equal(pub.stats().state, 'connected');
  assert.equal(pub.stats().delivered, 150);
});

test('one message per point, QoS 2 and retain, topic from the point name', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const pub = await publisher(t, linkTo(broker.port), tmp(t), { split: 'point', topic: 'site/{line}/{device}/{point}', qos: 2, retain: true });
  feed(pub, ['pv/1'], 1, 3);
  await waitFor(() => broker.json('site/line1').length >= 6, 'six point messages');
  const msgs = broker.received.filter((m) => m.topic.startsWith('site/line1/'));
  assert.deepEqual([...new Set(msgs.map((m) => m.topic))].sort(), ['site/line1/pv_1/power_total', 'site/line1/pv_1/voltage_l1']);
  assert.ok(msgs.every((m) => m.qos === 2 && m.retain));
  const p = JSON.parse(msgs.find((m) => m.topic.endsWith('power_total'))?.payload.toString() ?? '{}');
  assert.equal(p.point, 'power_total');
  assert.equal(p.value, 10);
  assert.equal(p.unit, 'W');
  assert.equal(p.device, 'pv/1', 'the payload keeps the real name; only the topic level is made safe');
});

test('publish interval with an average, and report by exception with deadbands', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const pub = await publisher(t, linkTo(broker.port), tmp(t), {
    shaping: { intervalMs: 300, aggregate: 'avg', rbe: true, deadbands: parseDeadbandRules('power_*=50, *=1%') },
  });
  await waitFor(() => pub.stats().state === 'connected', 'connection');
  const send = (seq: number, v: number, p: number): void => pub.add(recordFromMessage(reading('m1', seq, { voltage_l1: v, power_total: p }), false));
  send(1, 230, 1000);
  send(2, 232, 1100);
  await waitFor(() => broker.json('site/m1').length >= 1, 'the first window');
  const [w1] = broker.json<Body & { window: { samples: number; aggregate: string } }>('site/m1');
  assert.deepEqual(w1.values, { voltage_l1: 231, power_total: 1050 });
  assert.equal(w1.window.samples, 2);
  assert.equal(w1.window.aggregate, 'avg');
  // Within both deadbands (1% of 231 = 2.31 V, 50 W): nothing to publish.
  send(3, 232, 1080);
  // Past the 300 ms window (so reading 3 has a window of its own, not to wait for anything to happen).
  await new Promise((r) => setTimeout(r, 450));
  // Power moves by 150 W, voltage stays: only power is published (had reading 3 gone out, it would come first).
  send(4, 231.5, 1200);
  await waitFor(() => broker.json('site/m1').length >= 2, 'the changed point');
  assert.equal(broker.json('site/m1').length, 2);
  const w3 = broker.json<Body>('site/m1')[1];
  assert.deepEqual(w3.values, { power_total: 1200 });
});

test('close message on stop; last will when the connection dies without a goodbye', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const a = linkTo(broker.port, { status: { topic: 'site/a/status', online: 'up', offline: 'down', qos: 1, retain: true } });
  a.start();
  await waitFor(() => a.connected, 'link a');
  await a.stop();
  const aStatus = broker.received.filter((m) => m.topic === 'site/a/status').map((m) => m.payload.toString());
  assert.deepEqual(aStatus, ['up', 'down']);

  const b = linkTo(broker.port, { clientId: 'rtu-will-test', status: { topic: 'site/b/status', online: 'up', offline: 'down', qos: 1, retain: true } });
  t.after(() => b.stop());
  b.start();
  await waitFor(() => b.connected, 'link b');
  const willSeen = new Promise<string>((resolve) => {
    broker.aedes.on('publish', (packet) => {
      if (packet.topic === 'site/b/status' && packet.payload.toString() === 'down') resolve('down');
    });
  });
  // Cut the TCP connection from the broker's side: no DISCONNECT was sent, so the will fires.
  const conns = (broker.aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients;
  conns['rtu-will-test'].conn.destroy();
  assert.equal(await willSeen, 'down');
  await waitFor(() => b.connected, 'link b to reconnect by itself', 5000);
});

test('wrong credentials: clear error, readings stay queued, delivered once the credentials are right', async (t) => {
  const broker = await startBroker({ credentials: { username: 'rtu', password: 'right' } });
  t.after(() => broker.stop());
  const dir = tmp(t);
  const bad = linkTo(broker.port, { username: 'rtu', password: 'wrong' });
  const pub1 = new MqttPublisher({
    owner: 'cred test', queueDir: dir, link: bad, topic: 'site/{device}/m', split: 'device', qos: 1, retain: false,
    testTopicPrefix: '', shaping: { intervalMs: 0, aggregate: 'latest', rbe: false }, testTarget: false, isTestMode: () => false,
  });
  await pub1.start();
  bad.start();
  feed(pub1, ['m1'], 1, 20);
  await waitFor(() => pub1.stats().state === 'down', 'the refusal');
  assert.match(pub1.stats().lastError ?? '', /broker mqtt:\/\/127\.0\.0\.1:\d+ refused the connection: bad user name or password/);
  assert.equal(pub1.stats().queue?.depth, 20);
  await pub1.stop();
  await bad.stop();

  const good = linkTo(broker.port, { username: 'rtu', password: 'right' });
  const pub2 = await publisher(t, good, dir, { topic: 'site/{device}/m' });
  await waitFor(() => broker.json('site/m1').length >= 20, 'the queued readings');
  assertComplete(broker.json<Body>('site/m1'), ['m1'], 20);
  await waitFor(() => pub2.stats().queue?.depth === 0, 'an empty queue');
});

test('unreachable broker: clear error, and adding readings never blocks', async (t) => {
  const broker = await startBroker();
  const port = broker.port;
  await broker.stop(); // nothing listens on this port any more
  const pub = await publisher(t, linkTo(port), tmp(t));
  await waitFor(() => pub.stats().state === 'down', 'the connection failure');
  assert.match(pub.stats().lastError ?? '', /refused the connection \(nothing listening there\?\)/);
  const started = process.hrtime.bigint();
  feed(pub, ['m1', 'm2'], 1, 2000);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.ok(ms < 1000, `4000 readings queued in ${ms.toFixed(0)} ms`);
  assert.equal(pub.stats().queue?.depth, 4000);
});

test('bad TLS material stops the link with the field named; no connection is attempted', async (t) => {
  const certs = makeCerts(tmp(t));
  if (!certs) {
    t.skip('openssl is not installed');
    return;
  }
  const cases: Array<[Partial<MqttLinkOptions>, RegExp]> = [
    [{ tlsMaterial: { ca: 'garbage' } }, /TLS CA certificate: "garbage" is neither PEM text nor a readable file/],
    [{ tlsMaterial: { cert: certs.clientCert, key: '-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----' } }, /TLS client key: not a valid private key/],
    [{ tlsMaterial: { cert: certs.clientCert, key: certs.clientKeyEncrypted, passphrase: 'wrong' } }, /TLS client key: wrong or missing passphrase/],
    [{ tlsMaterial: { cert: certs.clientCert, key: certs.serverKey } }, /TLS client key does not belong to the client certificate/],
  ];
  for (const [extra, expected] of cases) {
    const link = linkTo(1, { tls: true, ...extra });
    link.start();
    assert.equal(link.state, 'failed');
    assert.match(link.lastError ?? '', expected);
    await link.stop();
  }
});

test('TLS: a trusted CA connects with a client certificate; an unknown CA is refused with the reason', async (t) => {
  const certs = makeCerts(tmp(t));
  if (!certs) {
    t.skip('openssl is not installed');
    return;
  }
  const broker = await startBroker({ tls: { key: certs.serverKey, cert: certs.serverCert } });
  t.after(() => broker.stop());
  const ok = linkTo(broker.port, { tls: true, tlsMaterial: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKeyEncrypted, passphrase: 'secret' } });
  const pub = await publisher(t, ok, tmp(t));
  feed(pub, ['m1'], 1, 5);
  await waitFor(() => broker.json('site/m1').length >= 5, 'messages over TLS');

  const untrusted = linkTo(broker.port, { tls: true });
  t.after(() => untrusted.stop());
  untrusted.start();
  await waitFor(() => untrusted.state === 'down', 'the refusal');
  assert.match(untrusted.lastError ?? '', /mqtts:\/\/127\.0\.0\.1:\d+: the server certificate is not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
});

test('outage under load: broker down and back on the same port; every reading arrives once by id, in order', async (t) => {
  let broker = await startBroker();
  const port = broker.port;
  const before = broker;
  t.after(() => broker.stop());
  const link = linkTo(port);
  const pub = await publisher(t, link, tmp(t), { maxInFlight: 50 });
  const devices = ['m1', 'm2', 'm3', 'm4'];
  let seq = 0;
  const load = setInterval(() => {
    if (seq < 400) {
      const next = seq + 10;
      feed(pub, devices, seq + 1, next);
      seq = next;
    }
  }, 5);
  t.after(() => clearInterval(load));
  await waitFor(() => before.received.length > 300, 'traffic before the outage');
  await before.stop();
  await waitFor(() => pub.stats().state === 'down', 'the outage to be seen');
  await waitFor(() => (pub.stats().queue?.depth ?? 0) > 200, 'readings to pile up');
  const backlog = pub.stats().queue?.depth;
  broker = await startBroker({ port });
  await waitFor(() => seq >= 400, 'the load to finish');
  await waitFor(() => pub.stats().queue?.depth === 0, 'the backlog to drain', 20_000);
  const all = [...before.json<Body>('site/m'), ...broker.json<Body>('site/m')];
  const { duplicates } = assertComplete(all, devices, 400);
  t.diagnostic(`outage backlog ${backlog} drained; duplicates (resent after a lost PUBACK): ${duplicates}`);
});

test('test mode: test topics only, flagged, production held; without a test prefix only the dry run', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const mode = { on: false };
  const pub = await publisher(t, linkTo(broker.port), tmp(t), { testTopicPrefix: 'test/', testTarget: true }, mode);
  const previews: MqttPreview[] = [];
  pub.on('dry-run', (p: MqttPreview) => previews.push(p));
  feed(pub, ['m1'], 1, 3);
  await waitFor(() => broker.json('site/m1').length === 3, 'production messages');
  mode.on = true;
  feed(pub, ['m1'], 4, 6, true); // made in test mode
  feed(pub, ['m1'], 7, 8); // production readings arriving while test mode is on are held
  await waitFor(() => broker.json('test/site/m1').length === 3, 'test messages');
  const tests = broker.json<Body>('test/site/m1');
  assert.ok(tests.every((b) => b.test === true));
  assert.deepEqual(previews.map((p) => p.topic), ['test/site/m1/measurements', 'test/site/m1/measurements', 'test/site/m1/measurements']);
  await waitFor(() => pub.stats().paused && pub.stats().queue?.depth === 2, 'the production readings held in the queue');
  assert.equal(broker.json('site/m1').length, 3, 'nothing reaches production while test mode is on');
  mode.on = false;
  pub.wake();
  await waitFor(() => broker.json('site/m1').length === 5, 'held production messages after test mode');

  const dry = await publisher(t, linkTo(broker.port), tmp(t), { topic: 'dry/{device}' }, { on: true });
  const dryPreviews: MqttPreview[] = [];
  dry.on('dry-run', (p: MqttPreview) => dryPreviews.push(p));
  feed(dry, ['m9'], 1, 4, true);
  await waitFor(() => dryPreviews.length === 4, 'four dry-run previews');
  assert.equal(dryPreviews[0].payload.test, true);
  assert.equal(broker.received.filter((m) => m.topic.includes('m9')).length, 0, 'a dry run publishes nothing');
  assert.equal(dry.stats().queue?.depth, 0);
});

async function subscribeV5(port: number, topic: string, got: Array<{ topic: string; props: Record<string, unknown>; body: Body }>, opts: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const sub = await mqtt.connectAsync({ host: '127.0.0.1', port, protocolVersion: 5, reconnectPeriod: 0, ...opts });
  sub.on('message', (tp, payload, packet) => {
    if (tp.endsWith('/status')) return;
    got.push({ topic: tp, props: (packet.properties?.userProperties ?? {}) as Record<string, unknown>, body: JSON.parse(payload.toString()) });
  });
  await sub.subscribeAsync(topic, { qos: 1 });
  return sub;
}

test('MQTT 5 on a private mosquitto: id and test flag as user properties; bad password explained', async (t) => {
  if (!hasBinary('mosquitto')) {
    t.skip('mosquitto is not installed');
    return;
  }
  const dir = tmp(t);
  const mosq = await startMosquitto(dir, { username: 'rtu', password: 'pw' });
  t.after(() => mosq.stop());
  const got: Array<{ topic: string; props: Record<string, unknown>; body: Body }> = [];
  const sub = await subscribeV5(mosq.port, '#', got, { username: 'rtu', password: 'pw' });
  t.after(() => sub.endAsync());
  const pub = await publisher(t, linkTo(mosq.port, { protocolVersion: 5, username: 'rtu', password: 'pw' }), path.join(dir, 'q'), { testTopicPrefix: 'test/', testTarget: true });
  feed(pub, ['m1'], 1, 10);
  await waitFor(() => got.filter((g) => g.topic === 'site/m1/measurements').length === 10, 'ten messages');
  const one = got.find((g) => g.topic === 'site/m1/measurements');
  assert.equal(one?.props.id, one?.body.id);
  feed(pub, ['m1'], 11, 11, true);
  await waitFor(() => got.some((g) => g.topic === 'test/site/m1/measurements'), 'the test message');
  assert.equal(got.find((g) => g.topic.startsWith('test/'))?.props.test, 'true');

  const wrong = linkTo(mosq.port, { protocolVersion: 5, username: 'rtu', password: 'nope' });
  t.after(() => wrong.stop());
  wrong.start();
  await waitFor(() => wrong.state === 'down', 'the refusal');
  assert.match(wrong.lastError ?? '', /refused the connection: (bad user name or password|not authorized)/);
});

test('the system mosquitto on 127.0.0.1:1883 receives readings', async (t) => {
  if (!(await listening(1883))) {
    t.skip('nothing listens on 127.0.0.1:1883 (start mosquitto to run this test)');
    return;
  }
  const topicRoot = `rtu-test-${process.pid}-${Date.now()}`;
  const got: Array<{ topic: string; props: Record<string, unknown>; body: Body }> = [];
  let sub: mqtt.MqttClient;
  try {
    sub = await subscribeV5(1883, `${topicRoot}/#`, got, { connectTimeout: 2000 });
  } catch (err) {
    t.skip(`127.0.0.1:1883 does not accept an anonymous MQTT 5 client: ${(err as Error).message}`);
    return;
  }
  t.after(() => sub.endAsync());
  const pub = await publisher(t, linkTo(1883, { protocolVersion: 5, status: undefined }), tmp(t), { topic: `${topicRoot}/{device}` });
  feed(pub, ['m1', 'm2'], 1, 25);
  await waitFor(() => got.length >= 50, '50 messages through mosquitto');
  assertComplete(got.map((g) => ({ ...g.body, topic: g.topic })), ['m1', 'm2'], 25);
});

test('the drain rate caps messages per second', async (t) => {
  const broker = await startBroker();
  t.after(() => broker.stop());
  const pub = await publisher(t, linkTo(broker.port), tmp(t), { maxRatePerS: 200 });
  await waitFor(() => pub.stats().state === 'connected', 'connection');
  const t0 = Date.now();
  feed(pub, ['m1'], 1, 100);
  await waitFor(() => broker.json('site/m1').length === 100, 'all messages', 5000);
  const ms = Date.now() - t0;
  assert.ok(ms >= 350, `100 messages at 200/s (20-message burst allowed) took ${ms} ms`);
});
