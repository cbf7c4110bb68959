/**
 * The outage the issue describes, in the real Node-RED runtime: readings flow to an MQTT
 * broker (aedes) and an HTTP receiver under load; both peers go down; the Node-RED runtime is
 * torn down in the middle of the outage and started again on the same queue folder; the
 * peers come back. Every reading must arrive, in order per device, duplicates only with the
 * same id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper from 'node-red-node-test-helper';
import brokerNode from '../../nodes/rtu-mqtt-broker/rtu-mqtt-broker';
import mqttOutNode from '../../nodes/rtu-mqtt-out/rtu-mqtt-out';
import httpOutNode from '../../nodes/rtu-http-out/rtu-http-out';
import { listQueues } from '../../nodes/lib/queue/registry';
import { reading, startBroker, TestBroker, waitFor } from './mqtt-fixture';
import { Receiver, startReceiver } from './http-fixture';

helper.init(require.resolve(process.env.RTU_NODE_RED === '4' ? 'node-red-4' : 'node-red'));

interface Doc {
  id: string;
  device: string;
  seq: number;
  values: Record<string, number>;
}

interface TestNode {
  receive(msg: unknown): void;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-outage-'));
const queueDir = path.join(userDir, 'queues');

before(async () => {
  helper.settings({ userDir });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  fs.rmSync(userDir, { recursive: true, force: true });
});

function flow(brokerPort: number, receiverUrl: string) {
  return [
    { id: 'tab', type: 'tab', label: 'outage' },
    { id: 'brk', type: 'rtu-mqtt-broker', host: '127.0.0.1', port: brokerPort, protocolVersion: '4', keepalive: 10, cleanSession: true },
    { id: 'mq', z: 'tab', type: 'rtu-mqtt-out', name: 'mqtt', broker: 'brk', topic: 'site/{device}/measurements', split: 'device', qos: '1', queueDir, wires: [[], []] },
    { id: 'web', z: 'tab', type: 'rtu-http-out', name: 'http', url: `${receiverUrl}/ingest`, method: 'POST', format: 'document', batchSize: 50, batchWait: 0.05, timeout: 2, retryMax: 1, queueDir, wires: [[], []] },
  ];
}

/** Unique readings after dropping duplicates by id (a duplicate must equal its original). */
function unique(docs: Doc[]): { docs: Doc[]; duplicates: number } {
  const byId = new Map<string, Doc>();
  let duplicates = 0;
  for (const d of docs) {
    const prev = byId.get(d.id);
    if (prev) {
      duplicates++;
      assert.deepEqual(d, prev, `duplicate ${d.id} carries the same reading`);
    } else byId.set(d.id, d);
  }
  return { docs: [...byId.values()], duplicates };
}

function assertEveryReadingInOrder(docs: Doc[], devices: string[], total: number, what: string): void {
  for (const device of devices) {
    const seqs = docs.filter((d) => d.device === device).map((d) => d.seq);
    assert.equal(seqs.length, total, `${what}, ${device}: ${total} readings (got ${seqs.length})`);
    seqs.forEach((s, i) => assert.equal(s, i + 1, `${what}, ${device}: reading ${i + 1} in its place`));
  }
}

test('broker and receiver down, Node-RED restarted mid-outage: every reading delivered, in order, none lost', async (t) => {
  let broker: TestBroker = await startBroker();
  let receiver: Receiver = await startReceiver();
  const brokerPort = broker.port;
  const receiverPort = receiver.port;
  const brokers = [broker];
  const receivers = [receiver];
  t.after(async () => {
    await broker.stop();
    await receiver.stop();
  });
  const devices = ['meter1', 'meter2', 'pv1'];
  const total = 600;
  let seq = 0;
  let running = false;

  const load = async (): Promise<void> => {
    await helper.load([brokerNode, mqttOutNode, httpOutNode], flow(brokerPort, receiver.url));
    running = true;
  };
  // The poller: every 5 ms one reading per device, to both publishers, while the runtime runs.
  const poll = setInterval(() => {
    if (!running || seq >= total) return;
    seq++;
    for (const d of devices) {
      const msg = reading(d, seq, { power_total: seq * 10, voltage_l1: 230 + (seq % 5) });
      (helper.getNode('mq') as TestNode).receive(structuredClone(msg));
      (helper.getNode('web') as TestNode).receive(structuredClone(msg));
    }
  }, 5);
  t.after(() => clearInterval(poll));

  await load();
  await waitFor(() => broker.received.length > 100 && receiver.accepted().length > 100, 'traffic before the outage');

  // Outage: both peers go away while readings keep coming.
  await broker.stop();
  await receiver.stop();
  const seqAtOutage = seq;
  await waitFor(() => seq >= seqAtOutage + 60, 'readings during the outage');

  // Node-RED goes down in the middle of the outage (a redeploy, a restart) ...
  running = false;
  await helper.unload();
  const onDisk = fs.readdirSync(queueDir).sort();
  assert.deepEqual(onDisk, ['mq', 'web'], 'both queues are on disk');
  // ... and comes back on the same queue folder, still without its peers.
  await load();
  const queued = (): number[] => ['rtu-mqtt-out mqtt', 'rtu-http-out http'].map((o) => listQueues().find((q) => q.owner === o)?.stats.depth ?? -1);
  await waitFor(() => queued().every((d) => d > 60 * devices.length), 'the backlog reloaded from disk');
  const seqAtRestart = seq;
  await waitFor(() => seq >= seqAtRestart + 40, 'more readings after the restart');

  // The peers come back on their old ports.
  broker = await startBroker({ port: brokerPort });
  receiver = await startReceiver({ port: receiverPort });
  brokers.push(broker);
  receivers.push(receiver);
  await waitFor(() => seq >= total, 'the poller to finish', 20_000);
  await waitFor(() => queued().every((d) => d === 0), 'both queues to drain', 20_000);

  const mqttDocs = brokers.flatMap((b) => b.json<Doc>('site/'));
  const httpDocs = receivers.flatMap((r) => r.accepted<Doc>());
  const mqtt = unique(mqttDocs);
  const http = unique(httpDocs);
  assertEveryReadingInOrder(mqtt.docs, devices, total, 'MQTT');
  assertEveryReadingInOrder(http.docs, devices, total, 'HTTP');
  t.diagnostic(`${total * devices.length} readings each way; duplicates by id: MQTT ${mqtt.duplicates}, HTTP ${http.duplicates}`);
});
