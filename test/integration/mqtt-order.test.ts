/**
 * Order with a window of messages in flight, against a bare MQTT 5 server that refuses one
 * message once (quota exceeded) and takes every other: the last copy of every message must
 * reach the broker in push order, and nothing may be lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { MqttLink } from '../../nodes/lib/publish/mqtt-link';
import { MqttPublisher } from '../../nodes/lib/publish/mqtt-publisher';
import { recordFromMessage } from '../../nodes/lib/publish/record';
import { startMqttStub } from '../support/mqtt-stub';
import { waitFor } from '../support/wait';
import { reading } from './mqtt-fixture';

test('a message refused while newer ones are in flight is sent again before them: the last copies arrive in order', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-mqtt-order-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  let refused = false;
  const stub = await startMqttStub((p) => {
    const seq = (JSON.parse(p.payload.toString()) as { seq: number }).seq;
    if (seq === 3 && !refused) {
      refused = true;
      return 0x97; // quota exceeded: worth sending again later
    }
    return 'ack';
  });
  t.after(() => stub.stop());
  const link = new MqttLink({
    host: '127.0.0.1', port: stub.port, protocolVersion: 5, clientId: 'rtu-order-test', keepaliveS: 30, clean: true,
    reconnectMinMs: 100, reconnectMaxMs: 400, connectTimeoutMs: 2000,
  });
  const pub = new MqttPublisher({
    owner: 'order test', queueDir: dir, link, topic: 'site/{device}/m', split: 'device', qos: 1, retain: true,
    testTopicPrefix: '', shaping: { intervalMs: 0, aggregate: 'latest', rbe: false }, testTarget: false, isTestMode: () => false,
    maxInFlight: 10,
  });
  await pub.start();
  for (let seq = 1; seq <= 30; seq++) pub.add(recordFromMessage(reading('m1', seq, { power_total: seq }), false));
  await pub.flush();
  link.start();
  t.after(async () => {
    await pub.stop();
    await link.stop();
  });
  await waitFor(() => pub.stats().queue?.depth === 0, 'every message to be acknowledged', 15_000);
  assert.ok(refused, 'the broker refused message 3 once');
  const accepted = stub.publishes.filter((p) => p.answer === 'ack').map((p) => (JSON.parse(p.payload.toString()) as { seq: number }).seq);
  // What a retained topic (or a receiver that keeps the latest copy per id) ends up with.
  const lastCopies = accepted.filter((seq, i) => accepted.indexOf(seq, i + 1) === -1);
  assert.deepEqual(lastCopies, Array.from({ length: 30 }, (_, i) => i + 1), `accepted in this order: ${accepted.join(',')}`);
  assert.equal(accepted[accepted.length - 1], 30, 'the newest message is the last the broker took');
});
