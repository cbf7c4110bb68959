/**
 * rtu-mqtt-out in the real Node-RED runtime against a broker that stops acknowledging: a
 * partial redeploy (the broker config node kept) must close the node on its own, well within
 * the runtime's close timeout, and keep the unacknowledged messages queued.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import brokerNode from '../../nodes/rtu-mqtt-broker/rtu-mqtt-broker';
import mqttOutNode from '../../nodes/rtu-mqtt-out/rtu-mqtt-out';
import { reading } from '../integration/mqtt-fixture';
import { MqttStub, startMqttStub } from '../support/mqtt-stub';
import { helper, startServer, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';

interface TestNode {
  receive(msg: unknown): void;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-mqtt-close-'));
let stub: MqttStub;

function flow(name: string) {
  return [
    { id: 'tab', type: 'tab', label: 'mqtt' },
    { id: 'brk', type: 'rtu-mqtt-broker', host: '127.0.0.1', port: stub.port, protocolVersion: '4', keepalive: 30, cleanSession: true },
    {
      id: 'out', z: 'tab', type: 'rtu-mqtt-out', name, broker: 'brk', topic: 'site/{device}/m', split: 'device', qos: '1',
      retain: false, interval: 0, aggregate: 'latest', testTopicPrefix: 'test/', queueDir: path.join(userDir, 'queues'), queueSizeMb: 8,
      fsync: 'interval', maxInFlight: 5, wires: [[], []],
    },
  ];
}

before(async () => {
  helper.settings({ userDir });
  await startServer();
  stub = await startMqttStub(() => 'ignore');
});
after(async () => {
  await helper.unload();
  await stub.stop();
  await stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

const idsOf = (from = 0): string[] => stub.publishes.slice(from).filter((p) => p.topic.startsWith('site/')).map((p) => (JSON.parse(p.payload.toString()) as { id: string }).id);

test('a partial redeploy closes the node although its window is full and the broker never acknowledges; nothing is lost', async () => {
  await helper.load([brokerNode, mqttOutNode], flow('first'));
  const out = helper.getNode('out') as TestNode;
  for (let seq = 1; seq <= 20; seq++) out.receive(reading('meter1', seq, { power_total: seq }));
  await waitFor(() => idsOf().length === 5, 'a full window of 5 unacknowledged messages', 10_000);
  const inFlight = idsOf();
  const mark = stub.publishes.length;
  const logSpy = helper.log();
  const logged = (): string[] => logSpy.getCalls().map((c: { args: Array<{ msg?: unknown }> }) => String(c.args[0]?.msg ?? ''));
  const before = logged().length;

  // Only the changed rtu-mqtt-out node restarts; the broker config node stays.
  const red = (helper as unknown as { _redNodes: { setFlows(f: unknown, c: unknown, type: string): Promise<unknown> } })._redNodes;
  await red.setFlows(flow('second'), {}, 'nodes');
  const closeProblems = logged().slice(before).filter((m) => /timed out|stopping-error|Error stopping/i.test(m));
  assert.deepEqual(closeProblems, [], 'the node closed by itself, not by the runtime giving up on it');

  // The new node sends the unacknowledged messages again, with the same ids: they were kept.
  await waitFor(() => idsOf(mark).length >= 5, 'the redeployed node to send again', 10_000);
  assert.deepEqual(idsOf(mark).slice(0, 5), inFlight);
});
