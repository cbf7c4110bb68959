/**
 * The Sparkplug B edge node against a private mosquitto and an independent host application
 * (test/support/sparkplug: its own protobuf decoder) that checks the edge-node rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DurableQueue } from '../../nodes/lib/queue/durable-queue';
import type { PointValue, Quality, ReadingMessage } from '../../nodes/lib/reading';
import { NODE_METRICS, SparkplugEdgeNode, StoredEvent } from '../../nodes/lib/sparkplug';
import type { EdgeNodeOptions } from '../../nodes/lib/sparkplug';
import { parseDeadbandRules } from '../../nodes/lib/publish/rules';
import { TestHost } from '../support/sparkplug/host';
import { TestMosquitto } from '../support/sparkplug/mosquitto';
import { DataType, encodeCommand } from '../support/sparkplug/wire';
import { waitFor } from '../support/wait';

const GROUP = 'plant';

let ts = 1_800_000_000_000;
function reading(device: string, values: Record<string, PointValue>, quality: Quality = 'good', pointQuality?: Record<string, Quality>): ReadingMessage {
  ts += 1000;
  return {
    topic: device,
    payload: values,
    rtu: {
      device,
      protocol: 'modbus',
      timestamp: ts,
      quality,
      latencyMs: 1,
      seq: 0,
      units: { voltage: 'V', power: 'W' },
      ...(pointQuality ? { pointQuality } : {}),
      points: {
        voltage: { dataType: 'uint16', scaled: true, description: 'phase voltage' },
        power: { dataType: 'float32' },
        count: { dataType: 'int16' },
        running: { dataType: 'bool' },
        setpoint: { dataType: 'int32' },
      },
    },
  };
}

interface Rig {
  dir: string;
  broker: TestMosquitto;
  host: TestHost;
  edge: SparkplugEdgeNode;
  queue: DurableQueue<StoredEvent>;
  logs: string[];
  writes: Array<{ device: string; values: Record<string, PointValue> }>;
  close(): Promise<void>;
}

async function rig(edgeId: string, extra: Partial<EdgeNodeOptions> = {}, hostOnline = true): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-spb-'));
  const broker = await TestMosquitto.start(dir);
  const host = new TestHost(broker.port, 'scada', GROUP);
  await host.connect(hostOnline);
  const queue = await DurableQueue.open<StoredEvent>(path.join(dir, 'queue'));
  const logs: string[] = [];
  const writes: Rig['writes'] = [];
  const edge = new SparkplugEdgeNode({
    ids: { groupId: GROUP, edgeNodeId: edgeId },
    connection: { host: '127.0.0.1', port: broker.port, protocolVersion: 4, clientId: `spb-${edgeId}`, keepaliveS: 5, reconnectMinMs: 100, reconnectMaxMs: 500 },
    queue,
    bdSeqFile: path.join(dir, 'bdseq.json'),
    nodeMetrics: { defs: NODE_METRICS, read: () => [1.5, 1000, queue.depth, extra.testMode?.() ?? false], intervalMs: 0 },
    writeRefusal: (device, point) => (point === 'setpoint' ? undefined : 'not on the write allow-list'),
    write: async (device, values) => {
      writes.push({ device, values });
    },
    ...extra,
  });
  edge.on('log', (_level: string, text: string) => logs.push(text));
  edge.start();
  return {
    dir, broker, host, edge, queue, logs, writes,
    async close() {
      await edge.stop();
      await queue.close();
      await host.close();
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('births, data by exception by alias, quality, deadbands, rebirth on NCMD', async () => {
  const r = await rig('rtu1', { deadbands: parseDeadbandRules('voltage=0.5') });
  try {
    await waitFor(() => r.host.of('NBIRTH').length === 1, 'NBIRTH');
    r.edge.add(reading('meter1', { voltage: 230.1, power: 1000, count: -5, running: true }));
    r.edge.add(reading('meter2', { voltage: 231, power: null }, 'good', { power: 'bad' }));
    await waitFor(() => r.host.of('DBIRTH').length === 2, 'two DBIRTHs');
    const birth = r.host.of('DBIRTH', 'meter1')[0].payload.metrics;
    const byName = Object.fromEntries(birth.map((m) => [m.name, m]));
    assert.equal(byName.voltage.datatype, DataType.Double, 'scaled uint16 → Double');
    assert.equal(byName.power.datatype, DataType.Float);
    assert.equal(byName.count.datatype, DataType.Int16);
    assert.equal(byName.count.value, -5);
    assert.equal(byName.running.datatype, DataType.Boolean);
    assert.equal(byName.voltage.properties?.engUnit.value, 'V');
    assert.equal(byName.voltage.properties?.description.value, 'phase voltage');
    assert.equal(byName.voltage.properties?.Quality.value, 192);
    assert.equal(byName.voltage.timestamp, ts - 1000);
    const m2 = Object.fromEntries(r.host.of('DBIRTH', 'meter2')[0].payload.metrics.map((m) => [m.name, m]));
    assert.equal(m2.power.value, null);
    assert.equal(m2.power.properties?.Quality.value, 0);

    r.edge.add(reading('meter1', { voltage: 230.4, power: 1000, count: -5, running: true })); // inside the deadband: nothing
    r.edge.add(reading('meter1', { voltage: 230.8, power: 1001, count: -5, running: true }, 'good', { power: 'stale' }));
    await waitFor(() => r.host.of('DDATA').length === 1, 'one DDATA');
    const ddata = r.host.of('DDATA')[0].payload.metrics;
    assert.equal(ddata.length, 2, 'only the changed metrics');
    assert.ok(ddata.every((m) => m.name === undefined && m.alias !== undefined), 'by alias, without names');
    assert.deepEqual(r.host.series('meter1', 'power').map((d) => [d.value, d.quality]), [[1000, 192], [1001, 500]]);

    await r.host.rebirth('rtu1');
    await waitFor(() => r.host.of('NBIRTH').length === 2 && r.host.of('DBIRTH').length === 4, 'rebirth');
    r.edge.add(reading('meter1', { voltage: 240, power: 1001, count: -5, running: true }, 'good', { power: 'stale' }));
    await waitFor(() => r.host.of('DDATA').length === 2, 'DDATA after rebirth');
    const nbirth = r.host.of('NBIRTH')[0].payload.metrics.map((m) => m.name);
    for (const name of ['bdSeq', 'Node Control/Rebirth', ...NODE_METRICS.map((m) => m.name)]) assert.ok(nbirth.includes(name), name);
    assert.deepEqual(r.host.violations, []);
  } finally {
    await r.close();
  }
});

test('DDEATH when a device goes bad, DBIRTH when it returns; NDEATH with the birth bdSeq on a clean stop', async () => {
  const r = await rig('rtu2');
  try {
    await waitFor(() => r.host.of('NBIRTH').length === 1, 'NBIRTH');
    r.edge.add(reading('m', { voltage: 230, power: 5 }));
    r.edge.add(reading('m', { voltage: null, power: null }, 'bad'));
    r.edge.add(reading('m', { voltage: null, power: null }, 'bad'));
    r.edge.add(reading('m', { voltage: 231, power: 6 }));
    r.edge.add(reading('m', { voltage: 232, power: 6 }));
    await waitFor(() => r.host.of('DDATA').length === 1, 'data after return');
    assert.deepEqual(r.host.messages.map((m) => m.type), ['NBIRTH', 'DBIRTH', 'DDEATH', 'DBIRTH', 'DDATA']);
    r.edge.add(reading('silent', { voltage: null }, 'bad'));
    await waitFor(() => r.host.of('DDEATH', 'silent').length === 1, 'a device first heard of offline: DBIRTH, then DDEATH');
    assert.deepEqual(r.host.messages.slice(-2).map((m) => `${m.type} ${m.device}`), ['DBIRTH silent', 'DDEATH silent']);
    const bdSeq = r.host.of('NBIRTH')[0].payload.metrics.find((m) => m.name === 'bdSeq')!.value;
    await r.edge.stop();
    await waitFor(() => r.host.of('NDEATH').length === 1, 'NDEATH on stop');
    assert.equal(r.host.of('NDEATH')[0].payload.metrics[0].value, bdSeq);
    assert.equal(r.host.edges.get('rtu2')!.online, false, 'the host took the NDEATH as the end of the session');
    assert.deepEqual(r.host.violations, []);
  } finally {
    await r.close();
  }
});


test('the NDEATH is the will: a connection that breaks ends the session with the birth bdSeq; the next session has the next bdSeq', async () => {
  const r = await rig('rtu3');
  try {
    r.edge.add(reading('m', { voltage: 1 }));
    await waitFor(() => r.host.of('DBIRTH').length === 1, 'DBIRTH');
    const first = r.host.of('NBIRTH')[0].payload.metrics.find((m) => m.name === 'bdSeq')!.value;
    // The socket dies without a DISCONNECT, as when the process is killed or the link is cut.
    (r.edge as unknown as { conn: { client: { stream: { destroy(): void } } } }).conn.client.stream.destroy();
    await waitFor(() => r.host.of('NDEATH').length === 1, 'the will');
    assert.equal(r.host.of('NDEATH')[0].payload.metrics[0].value, first);
    assert.equal(r.host.of('NDEATH')[0].qos, 1);
    assert.equal(r.host.edges.get('rtu3')!.online, false);
    await waitFor(() => r.host.of('NBIRTH').length === 2, 'the next session');
    assert.equal(r.host.of('NBIRTH')[1].payload.metrics.find((m) => m.name === 'bdSeq')!.value, Number(first) + 1);
    assert.deepEqual(r.host.violations, []);
  } finally {
    await r.close();
  }
});

test('primary host outage: data stored, sent as historical in order after the births, then live', async () => {
  const r = await rig('rtu4', { primaryHostId: 'scada' }, false);
  try {
    r.edge.add(reading('m', { voltage: 1, power: 1 }));
    await waitFor(() => r.edge.stats().state === 'waiting for host', 'waiting for the host');
    assert.equal(r.host.of('NBIRTH').length, 0, 'no birth before the primary host is online');
    await r.host.setOnline(true);
    await waitFor(() => r.host.of('DDATA').length === 1, 'the first reading as history');
    r.host.data.length = 0;
    await r.host.setOnline(false);
    await waitFor(() => r.host.of('NDEATH').length === 1, 'NDEATH when the host went offline');
    const before = r.host.of('NBIRTH')[0].payload.metrics.find((m) => m.name === 'bdSeq')!.value;
    await waitFor(() => r.edge.stats().bdSeq !== before, 'a new session waiting for the host');
    for (let i = 2; i <= 50; i++) r.edge.add(reading('m', { voltage: i, power: 1 }));
    r.host.publishRaw('spBv1.0/STATE/scada', 'not json{');
    await waitFor(() => r.logs.some((l) => l.includes('not JSON')), 'the bad STATE logged');
    await r.host.rebirth('rtu4');
    await waitFor(() => r.logs.some((l) => l.includes('rebirth requested while the primary host is offline')), 'the early rebirth request logged');
    assert.equal(r.host.of('NBIRTH').length, 1, 'no birth while the primary host is offline');
    await r.host.setOnline(true);
    await waitFor(() => r.host.data.filter((d) => d.name === 'voltage' && d.historical).length === 49, 'history delivered');
    r.edge.add(reading('m', { voltage: 99, power: 1 }));
    await waitFor(() => r.host.series('m', 'voltage').some((d) => d.value === 99), 'live data');
    const series = r.host.series('m', 'voltage');
    const history = series.filter((d) => d.historical);
    assert.deepEqual(history.map((d) => d.value), Array.from({ length: 49 }, (_, i) => i + 2), 'every stored value, in order');
    const live = series.findIndex((d) => d.value === 99);
    assert.ok(live > series.indexOf(history[history.length - 1]), 'live data after the history');
    assert.equal(series[live].historical, false);
    const types = r.host.messages.map((m) => m.type);
    const lastBirth = types.lastIndexOf('NBIRTH');
    assert.equal(types[lastBirth + 1], 'DBIRTH', 'births before history');
    assert.deepEqual(r.host.violations, []);
  } finally {
    await r.close();
  }
});

test('broker restart: nothing lost, rebirth and history after the reconnect, once the primary host is back', async () => {
  const r = await rig('rtu5', { primaryHostId: 'scada' });
  try {
    r.edge.add(reading('m', { voltage: 0, power: 0 }));
    await waitFor(() => r.host.series('m', 'voltage').some((d) => d.historical), 'DBIRTH and the first reading as history');
    await r.host.close();
    await r.broker.stop();
    await waitFor(() => r.edge.stats().state !== 'online', 'edge sees the broker gone');
    for (let i = 1; i <= 30; i++) r.edge.add(reading('m', { voltage: i, power: 0 }));
    const before = r.edge.stats().bdSeq;
    await r.broker.resume();
    await waitFor(() => r.edge.stats().bdSeq !== before, 'the edge node reconnected', 10_000);
    assert.equal(r.edge.stats().state, 'waiting for host', 'a new session waits for the STATE of the primary host');
    await r.host.connect(true);
    // The first reading came before the first birth: it is history too (and the DBIRTH's value).
    await waitFor(() => r.host.series('m', 'voltage').filter((d) => d.historical).length === 31, 'history after the restart', 15_000);
    assert.deepEqual(r.host.series('m', 'voltage').filter((d) => d.historical).map((d) => d.value), Array.from({ length: 31 }, (_, i) => i));
    assert.deepEqual(r.host.violations, []);
  } finally {
    await r.close();
  }
});

test('DCMD: allowed writes reach the writer, others are refused with a log line; test mode is a dry run; bad commands do not crash', async () => {
  let test = false;
  const r = await rig('rtu6', { testMode: () => test });
  try {
    r.edge.add(reading('m', { voltage: 230, setpoint: 10, running: true }));
    await waitFor(() => r.host.of('DBIRTH').length === 1, 'DBIRTH');
    const alias = r.host.of('DBIRTH')[0].payload.metrics.find((m) => m.name === 'setpoint')!.alias!;
    await r.host.command('rtu6', 'm', [{ alias, datatype: DataType.Int32, value: 42 }]);
    await waitFor(() => r.writes.length === 1, 'the write');
    assert.deepEqual(r.writes[0], { device: 'm', values: { setpoint: 42 } });
    await r.host.command('rtu6', 'm', [{ name: 'voltage', datatype: DataType.Double, value: 1 }, { name: 'nosuch', datatype: DataType.Double, value: 1 }]);
    await waitFor(() => r.logs.some((l) => l.includes('"nosuch"')) && r.logs.some((l) => l.includes('"voltage"') && l.includes('allow-list')), 'refusals logged');
    await r.host.command('rtu6', 'ghost', [{ name: 'setpoint', datatype: DataType.Int32, value: 1 }]);
    await r.host.publishRaw('spBv1.0/plant/DCMD/rtu6/m', Buffer.from([0x12, 0xff, 0x01]));
    await r.host.publishRaw('spBv1.0/plant/NCMD/rtu6', Buffer.from([0x0a]));
    await r.host.publishRaw('spBv1.0/plant/NCMD/rtu6', encodeCommand([{ name: 'Node Control/Reboot', datatype: DataType.Boolean, value: true }]));
    await waitFor(() => r.logs.some((l) => l.includes('"ghost"')) && r.logs.filter((l) => l.includes('not a Sparkplug B payload')).length === 2 && r.logs.some((l) => l.includes('Node Control/Reboot')), 'bad commands logged');
    test = true;
    r.edge.publishNodeData();
    await waitFor(() => r.host.of('NDATA').length === 1, 'NDATA with the test-mode flag');
    const testAlias = r.host.of('NBIRTH')[0].payload.metrics.find((m) => m.name === 'Node Info/Test Mode')!.alias;
    assert.deepEqual(r.host.of('NDATA')[0].payload.metrics.filter((m) => m.alias === testAlias).map((m) => m.value), [true]);
    assert.ok(!r.host.of('NDATA')[0].payload.metrics.some((m) => m.alias === testAlias! - 3), 'CPU (unchanged) is not sent again');
    await r.host.command('rtu6', 'm', [{ name: 'setpoint', datatype: DataType.Int32, value: 7 }]);
    await waitFor(() => r.logs.some((l) => l.includes('dry run')), 'dry run');
    assert.equal(r.writes.length, 1, 'no write in test mode');
    r.edge.add(reading('m', { voltage: 231, setpoint: 10, running: true }));
    await waitFor(() => r.host.of('DDATA').length === 1, 'the edge node still publishes');
    assert.deepEqual(r.host.violations, []);
  } finally {
    await r.close();
  }
});

test('after a restart, stored data waits for its device to be born; a device that never returns is dropped with one log line', async () => {
  const r = await rig('rtu7', { primaryHostId: 'scada' }, false);
  try {
    for (let i = 1; i <= 5; i++) {
      r.edge.add(reading('back', { voltage: i }));
      r.edge.add(reading('gone', { voltage: i }));
    }
    await waitFor(() => r.queue.depth === 10, 'ten stored readings');
    await r.edge.stop();
    const logs: string[] = [];
    const edge = new SparkplugEdgeNode({
      ids: { groupId: GROUP, edgeNodeId: 'rtu7' },
      primaryHostId: 'scada',
      connection: { host: '127.0.0.1', port: r.broker.port, protocolVersion: 4, clientId: 'spb-rtu7', keepaliveS: 5, reconnectMinMs: 100 },
      queue: r.queue,
      historyWaitMs: 300,
    });
    edge.on('log', (_l: string, text: string) => logs.push(text));
    edge.start();
    try {
      await r.host.setOnline(true);
      await waitFor(() => r.host.of('NBIRTH').length === 1, 'NBIRTH after the restart');
      edge.add(reading('back', { voltage: 100 }));
      await waitFor(() => r.host.series('back', 'voltage').filter((d) => d.historical).length === 5, 'history of the device that came back');
      await waitFor(() => r.queue.depth === 0, 'the queue emptied');
      assert.deepEqual(r.host.series('back', 'voltage').map((d) => [d.value, d.historical]), [[100, false], [1, true], [2, true], [3, true], [4, true], [5, true]]);
      assert.equal(r.host.of('DDATA', 'gone').length, 0);
      assert.equal(logs.filter((l) => l.includes('"gone"')).length, 1, logs.join('\n'));
      assert.equal(edge.stats().dropped, 5);
      edge.add(reading('back', { voltage: 101 }));
      await waitFor(() => r.host.series('back', 'voltage').some((d) => d.value === 101 && !d.historical), 'live data');
      assert.deepEqual(r.host.violations, []);
    } finally {
      await edge.stop();
    }
  } finally {
    await r.close();
  }
});
