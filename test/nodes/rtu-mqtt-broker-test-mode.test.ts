/**
 * Test mode and the broker's status messages, in the real Node-RED runtime against mosquitto:
 * while test mode is on, birth, close and last will go to the test prefix; nothing reaches a
 * production topic, and production gets its birth again when test mode ends.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import mqtt from 'mqtt';
import brokerNode from '../../nodes/rtu-mqtt-broker/rtu-mqtt-broker';
import mqttOutNode from '../../nodes/rtu-mqtt-out/rtu-mqtt-out';
import type { MqttLink } from '../../nodes/lib/publish/mqtt-link';
import { testMode } from '../../nodes/lib/test-mode';
import { Mosquitto, reading, startMosquitto } from '../integration/mqtt-fixture';
import { helper, startServer, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';

interface TestNode {
  receive(msg: unknown): void;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-mqtt-testmode-'));
let mosq: Mosquitto;
let sub: mqtt.MqttClient;
const seen: Array<{ topic: string; payload: string }> = [];

before(async () => {
  helper.settings({ userDir });
  await startServer();
  mosq = await startMosquitto(userDir);
  sub = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, protocolVersion: 4, clientId: 'rtu-test-observer' });
  sub.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString() }));
  await sub.subscribeAsync('#', { qos: 1 });
});
after(async () => {
  await helper.unload();
  testMode.set(false, 'test');
  await sub?.endAsync();
  await mosq?.stop();
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const has = (topic: string, payload: string, from = 0): boolean => seen.slice(from).some((m) => m.topic === topic && m.payload === payload);

test('in test mode the birth, close message and last will use the test prefix; production hears nothing until test mode ends', async () => {
  await helper.load([brokerNode, mqttOutNode], [
    { id: 'tab', type: 'tab', label: 'mqtt' },
    { id: 'brk', type: 'rtu-mqtt-broker', host: '127.0.0.1', port: mosq.port, protocolVersion: '4', keepalive: 30, cleanSession: true, statusTopic: 'site/rtu/status', onlinePayload: 'online', offlinePayload: 'offline', statusQos: '1', statusRetain: true },
    {
      id: 'out', z: 'tab', type: 'rtu-mqtt-out', broker: 'brk', topic: 'site/{device}/m', split: 'device', qos: '1', retain: false, interval: 0,
      aggregate: 'latest', testTopicPrefix: 'test/', queueDir: path.join(userDir, 'queues'), queueSizeMb: 8, fsync: 'interval', wires: [[], []],
    },
  ]);
  await waitFor(() => has('site/rtu/status', 'online'), 'the production birth', 10_000);

  const enteredAt = seen.length;
  testMode.set(true, 'node test');
  await waitFor(() => has('test/site/rtu/status', 'online', enteredAt), 'the birth on the test topic', 10_000);
  (helper.getNode('out') as TestNode).receive(reading('meter1', 1, { power_total: 5 }));
  await waitFor(() => seen.slice(enteredAt).some((m) => m.topic === 'test/site/meter1/m'), 'the test reading', 10_000);

  // A power cut or network loss: the broker publishes the will, which must be the test one now.
  const brk = helper.getNode('brk') as unknown as { acquire(id: string): MqttLink | undefined; release(id: string): Promise<void> };
  const link = brk.acquire('probe') as MqttLink;
  const onlineBefore = seen.length;
  (link as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
  await waitFor(() => has('test/site/rtu/status', 'offline', onlineBefore), 'the last will on the test topic', 10_000);
  await waitFor(() => has('test/site/rtu/status', 'online', onlineBefore), 'the birth after reconnecting', 10_000);
  await brk.release('probe');

  const leftAt = seen.length;
  testMode.set(false, 'node test');
  await waitFor(() => has('site/rtu/status', 'online', leftAt), 'the production birth after test mode', 10_000);
  const duringTest = seen.slice(enteredAt, leftAt).filter((m) => !m.topic.startsWith('test/'));
  assert.deepEqual(duringTest, [], 'nothing on a production topic while test mode was on');
  assert.ok(has('test/site/rtu/status', 'offline', leftAt), 'the test status topic got its close message');
});
