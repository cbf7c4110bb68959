import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import cacheNode from '../../nodes/rtu-cache/rtu-cache';
import serverNode from '../../nodes/rtu-iec104-server/rtu-iec104-server';
import connectionNode from '../../nodes/rtu-iec104-connection/rtu-iec104-connection';
import clientNode from '../../nodes/rtu-iec104-client/rtu-iec104-client';
import type { RegisterCache } from '../../nodes/lib/cache';
import { health } from '../../nodes/lib/health/registry';
import type { ModbusRequest } from '../../nodes/lib/modbus/pdu';
import type { ReadingMessage } from '../../nodes/lib/reading';
import type { CommandEvent } from '../../nodes/lib/iec104/outstation-commands';
import { RawClient } from '../support/iec104/rig';
import { loadFrames } from '../support/iec104/captures';
import { decodeApdu } from '../../nodes/lib/iec104/apci';
import simulatorNode from '../../nodes/rtu-simulator/rtu-simulator';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import { caughtErrors, checkLocales, coreNode, exampleFlow, freePort, helper, next, statusUntil, TestNode, until, useNodeRed } from './rtu-simulator-support';

useNodeRed();

const NODES = [cacheNode, serverNode, connectionNode, clientNode, coreNode('common/25-catch.js')];

const SERVER_POINTS = [
  'device,point,ioa,type,deadband,group,sbo',
  'meter-1,voltage,100,M_ME_NC_1,0.5,,',
  'meter-1,energy,300,M_IT_NA_1,,,',
  'meter-1,breaker,200,M_DP_TB_1,,,',
  'meter-1,holding:100,5000,C_SE_NB_1,,,',
  'meter-1,coil:5,5001,C_SC_NA_1,,,yes',
].join('\n');

const CLIENT_POINTS = [
  'device,point,ioa,type,sbo',
  'station,voltage,100,M_ME_NC_1,',
  'station,breaker,200,M_DP_TB_1,',
  'station,limit,5000,C_SE_NB_1,',
  'station,relay,5001,C_SC_NA_1,yes',
].join('\n');

async function flow(port: number, server: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'iec104' },
    { id: 'cache1', type: 'rtu-cache', name: 'cache', ttl: 60 },
    { id: 'srv', z: 'tab', type: 'rtu-iec104-server', name: 'scada', cache: 'cache1', host: '127.0.0.1', port, commonAddress: 1, points: SERVER_POINTS, allowCommands: true, selectTimeout: 5, wires: [['commands']], ...server },
    { id: 'conn', type: 'rtu-iec104-connection', name: 'to scada', host: '127.0.0.1', port, commonAddress: 1, originator: 3, reconnectMax: 1 },
    { id: 'cli', z: 'tab', type: 'rtu-iec104-client', connection: 'conn', points: CLIENT_POINTS, wires: [['readings']] },
    { id: 'commands', z: 'tab', type: 'helper', wires: [] },
    { id: 'readings', z: 'tab', type: 'helper', wires: [] },
    ...caughtErrors('tab'),
  ];
}

const reading = (payload: Record<string, number | boolean>, quality: 'good' | 'bad' | 'stale' = 'good'): ReadingMessage => ({
  topic: 'meter-1', payload, rtu: { device: 'meter-1', protocol: 'modbus', timestamp: Date.now(), quality, latencyMs: 1, units: {}, seq: 1 },
});

async function waitReading(check: (r: ReadingMessage) => boolean): Promise<ReadingMessage> {
  for (;;) {
    const r = await next<ReadingMessage>('readings', 5000);
    if (check(r)) return r;
  }
}

test('client and outstation nodes: readings wired in reach the master as readings; GI, spontaneous, IV → bad', async () => {
  const port = await freePort();
  await helper.load(NODES, await flow(port));
  await statusUntil('cli', (s) => s.fill === 'green', 5000);
  (helper.getNode('srv') as TestNode).receive(reading({ voltage: 231.5, breaker: true }));
  const r = await waitReading((m) => m.payload.voltage !== undefined && Math.abs((m.payload.voltage as number) - 231.5) < 1e-3);
  assert.equal(r.topic, 'station');
  assert.equal(r.rtu.protocol, 'iec104');
  assert.equal(r.rtu.line, 'to scada');
  (helper.getNode('srv') as TestNode).receive(reading({}, 'bad'));
  const bad = await waitReading((m) => m.rtu.quality === 'bad');
  assert.ok('voltage' in bad.payload || 'breaker' in bad.payload);
  // A general interrogation from a message: every mapped point, then the result message.
  (helper.getNode('cli') as TestNode).receive({ topic: 'interrogate' });
  const snapshot = health.snapshot();
  assert.equal(snapshot.iec104?.scada.role, 'outstation');
  assert.equal(snapshot.iec104?.scada.connections.length, 1);
  assert.equal(snapshot.iec104?.['to scada'].state, 'started');
});

test('commands from the client node reach the device writer on the cache; SBO from the table; negative confirm is a caught error', async () => {
  const port = await freePort();
  await helper.load(NODES, await flow(port));
  const cache = (helper.getNode('cache1') as unknown as { cache: RegisterCache }).cache;
  const carried: ModbusRequest[] = [];
  cache.setWriter('meter-1', async (req) => {
    carried.push(req);
  });
  await statusUntil('cli', (s) => s.fill === 'green', 5000);
  const cmdEvents: Array<{ payload: { action: string; ok: boolean } }> = [];
  (helper.getNode('commands') as unknown as { on: (e: string, f: (m: never) => void) => void }).on('input', (m: never) => cmdEvents.push(m));
  const cli = helper.getNode('cli') as TestNode;
  cli.receive({ command: { point: 'limit', value: 1234 } });
  await until(() => carried.length === 1, 5000, 'set-point written');
  assert.deepEqual(carried[0], { fc: 6, address: 100, value: 1234 });
  cli.receive({ command: { point: 'relay', value: true } });
  await until(() => carried.length === 2, 5000, 'SBO single command written');
  assert.deepEqual(carried[1], { fc: 5, address: 5, value: true });
  await until(() => cmdEvents.length >= 3, 5000, 'command events');
  assert.deepEqual(cmdEvents.map((e) => [e.payload.action, e.payload.ok]), [['execute', true], ['select', true], ['execute', true]]);
  // An IOA the outstation does not know: negative confirm, caught with the cause.
  cli.receive({ command: { ioa: 4999, type: 'C_SC_NA_1', value: true } });
  const caught = await next<{ error: { message: string } }>('caught', 5000);
  assert.match(caught.error.message, /negative confirmation, cause 47 \(unknown IOA\)/);
});

test('a bad point table stops the server node naming the row', async () => {
  const port = await freePort();
  await helper.load(NODES, await flow(port, { points: 'device,point,ioa,type\nm,a,1,M_SP_NA_1\nm,b,1,M_ME_NC_1' }));
  const red = await statusUntil('srv', (s) => s.fill === 'red');
  assert.match(red.text ?? '', /row 2 \(m\.b\): IOA 1 is already used/);
});

test('locale catalogues and help for the three IEC 104 nodes', () => {
  checkLocales('rtu-iec104-server');
  checkLocales('rtu-iec104-connection');
  checkLocales('rtu-iec104-client');
});

test('the example flows load, and the example client starts data transfer with the example server', async () => {
  const port = await freePort();
  const flowNodes = [...exampleFlow('rtu-iec104-server.json'), ...exampleFlow('rtu-iec104-client.json')].map((n) =>
    n.type === 'rtu-iec104-server' || n.type === 'rtu-iec104-connection' ? { ...n, port, host: '127.0.0.1' } : n,
  );
  await helper.load([...NODES, coreNode('common/20-inject.js'), coreNode('common/21-debug.js'), coreNode('function/10-function.js')], flowNodes);
  const cli = flowNodes.find((n) => n.type === 'rtu-iec104-client')!;
  await statusUntil(cli.id, (s) => s.fill === 'green', 5000);
});

test('a malformed frame closes only that master connection, with the reason in the log; the client node keeps its data', async () => {
  const port = await freePort();
  await helper.load(NODES, await flow(port));
  await statusUntil('cli', (s) => s.fill === 'green', 5000);
  const net = await import('net');
  const bad = net.connect(port, '127.0.0.1');
  bad.on('error', () => undefined);
  await new Promise((r) => bad.once('connect', r));
  bad.write(Buffer.from('680407000000680a00000000640106030100', 'hex')); // STARTDT, then an interrogation ASDU without its IOA and QOI
  await new Promise((r) => bad.once('close', r));
  const warned = () => (helper.log().args as Array<[{ level: number; msg: unknown }]>).some(([e]) => e.level === 30 && /IEC 104 server "scada": master 127\.0\.0\.1:\d+: malformed/.test(String(e.msg)));
  await until(() => warned(), 5000, 'the reason in the log');
  (helper.getNode('srv') as TestNode).receive(reading({ voltage: 240 }));
  const r = await waitReading((m) => m.payload.voltage !== undefined && Math.abs((m.payload.voltage as number) - 240) < 1e-3);
  assert.equal(r.rtu.quality, 'good');
});

/** One raw master against the server node: frames as given, nothing acknowledged unless asked. */
async function rawMaster(port: number): Promise<RawClient> {
  const raw = new RawClient(port);
  await raw.ready();
  return raw;
}

const iFrames = (raw: RawClient) => raw.asdus().length;

/** Everything the outstation had to send before it answers a TESTFR has arrived once the con is in. */
async function barrier(raw: RawClient): Promise<void> {
  const before = raw.received.filter((r) => r.kind === 'TESTFR_CON').length;
  raw.u('TESTFR_ACT');
  await until(() => raw.received.filter((r) => r.kind === 'TESTFR_CON').length > before || undefined, 5000, 'TESTFR con');
}

function commandEvents(): CommandEvent[] {
  const events: CommandEvent[] = [];
  (helper.getNode('commands') as unknown as { on: (e: string, f: (m: { payload: CommandEvent }) => void) => void }).on('input', (m) => events.push(m.payload));
  return events;
}

test('server node status: grey ring while no master, yellow ring connected before STARTDT, green dot in data transfer', async () => {
  const port = await freePort();
  await helper.load(NODES, (await flow(port)).filter((n) => n.type !== 'rtu-iec104-client' && n.type !== 'rtu-iec104-connection'));
  const starting = await statusUntil('srv', (s) => s.text === 'rtu-iec104-server.status.starting');
  assert.deepEqual([starting.fill, starting.shape], ['yellow', 'ring']);
  const idle = await statusUntil('srv', (s) => s.fill === 'grey');
  assert.deepEqual([idle.shape, idle.text], ['ring', 'rtu-iec104-server.status.listening']);
  const raw = await rawMaster(port);
  const waiting = await statusUntil('srv', (s) => s.fill === 'yellow' && s.text !== starting.text, 5000);
  assert.deepEqual([waiting.shape, waiting.text], ['ring', 'rtu-iec104-server.status.serving']);
  raw.u('STARTDT_ACT');
  const serving = await statusUntil('srv', (s) => s.fill === 'green', 5000);
  assert.deepEqual([serving.shape, serving.text], ['dot', 'rtu-iec104-server.status.serving']);
  raw.close();
});

test('server node, STOPDT: no spontaneous data while stopped; the change goes out on STARTDT', async () => {
  const port = await freePort();
  await helper.load(NODES, await flow(port));
  const raw = await rawMaster(port);
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON') || undefined, 5000, 'STARTDT con');
  raw.u('STOPDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STOPDT_CON') || undefined, 5000, 'STOPDT con');
  const srv = helper.getNode('srv') as TestNode;
  srv.receive(reading({ voltage: 240 }));
  await barrier(raw);
  assert.equal(iFrames(raw), 0, 'no data while stopped');
  raw.u('STARTDT_ACT');
  await until(() => raw.asdus().some((a) => a.objects[0].ioa === 100 && a.objects[0].value === 240) || undefined, 5000, 'the change after STARTDT');
  raw.close();
});

test('server node, k window: sending stops at k unacknowledged frames and resumes after an S-frame', async () => {
  const port = await freePort();
  await helper.load(NODES, await flow(port, { k: 3, w: 2 }));
  const raw = await rawMaster(port);
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON') || undefined, 5000, 'STARTDT con');
  const srv = helper.getNode('srv') as TestNode & { outstation: { stats(): { connections: Array<{ unacked: number; buffered: number }> } } };
  for (let i = 0; i < 8; i++) srv.receive(reading({ voltage: 300 + i }));
  await until(() => iFrames(raw) >= 3 || undefined, 5000, 'k frames');
  await barrier(raw);
  assert.equal(iFrames(raw), 3, 'stopped at k = 3');
  assert.equal(srv.outstation.stats().connections[0].unacked, 3);
  raw.ack();
  await until(() => iFrames(raw) >= 6 || undefined, 5000, 'k more after the S-frame');
  await barrier(raw);
  assert.equal(iFrames(raw), 6);
  raw.ack();
  await until(() => iFrames(raw) >= 8 || undefined, 5000, 'the rest');
  assert.deepEqual(raw.asdus().map((a) => a.objects[0].value), [300, 301, 302, 303, 304, 305, 306, 307]);
  raw.close();
});

test('server node, t1: a master that never acknowledges is disconnected with the reason logged; the server keeps listening', async () => {
  const port = await freePort();
  await helper.load(NODES, (await flow(port, { t1: 2, t2: 1 })).filter((n) => n.type !== 'rtu-iec104-client' && n.type !== 'rtu-iec104-connection'));
  const raw = await rawMaster(port);
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON') || undefined, 5000, 'STARTDT con');
  (helper.getNode('srv') as TestNode).receive(reading({ voltage: 250 }));
  await until(() => iFrames(raw) === 1 || undefined, 5000, 'one I-frame');
  await until(() => raw.closed || undefined, 8000, 'closed on t1');
  const warned = () => (helper.log().args as Array<[{ level: number; msg: unknown }]>).some(([e]) => e.level === 30 && /master 127\.0\.0\.1:\d+: t1 expired: 1 I-frame\(s\) unacknowledged for 2000 ms/.test(String(e.msg)));
  await until(() => warned() || undefined, 5000, 'the t1 reason in the log');
  const again = await rawMaster(port);
  again.u('STARTDT_ACT');
  await until(() => again.received.some((r) => r.kind === 'STARTDT_CON') || undefined, 5000, 'a new master is served');
  again.close();
});

test('server node, select before operate: an execute after the select timed out is refused; nothing is written', async () => {
  const port = await freePort();
  await helper.load(NODES, (await flow(port, { selectTimeout: 0.2 })).filter((n) => n.type !== 'rtu-iec104-client' && n.type !== 'rtu-iec104-connection'));
  const cache = (helper.getNode('cache1') as unknown as { cache: RegisterCache }).cache;
  const carried: ModbusRequest[] = [];
  cache.setWriter('meter-1', async (req) => {
    carried.push(req);
  });
  const events = commandEvents();
  const raw = await rawMaster(port);
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON') || undefined, 5000, 'STARTDT con');
  raw.send(Buffer.from('2d0106000100891300' + '81', 'hex')); // C_SC_NA_1 IOA 5001 select ON
  await until(() => iFrames(raw) === 1 || undefined, 5000, 'select con');
  assert.deepEqual([raw.asdus()[0].cot, raw.asdus()[0].negative], [7, false]);
  await until(() => events.some((e) => e.action === 'select-timeout') || undefined, 5000, 'select timeout');
  raw.send(Buffer.from('2d0106000100891300' + '01', 'hex')); // execute ON
  await until(() => iFrames(raw) === 2 || undefined, 5000, 'execute con');
  assert.deepEqual([raw.asdus()[1].cot, raw.asdus()[1].negative], [7, true]);
  const refused = events.find((e) => e.action === 'execute');
  assert.equal(refused?.ok, false);
  assert.match(refused?.error ?? '', /execute without a valid select/);
  assert.deepEqual(carried, []);
  raw.close();
});

test('status texts of the IEC 104 nodes come from both catalogues', () => {
  for (const type of ['rtu-iec104-server', 'rtu-iec104-client']) {
    const dir = path.join(__dirname, '..', '..', '..', 'nodes', type);
    const code = fs.readFileSync(path.join(dir, `${type}.ts`), 'utf8');
    const used = [...code.matchAll(/RED\._\('([^']+)'/g)].map((m) => m[1]);
    assert.ok(used.some((k) => k.includes('.status.')), `${type} words its status from the catalogue`);
    for (const lang of ['en-US', 'de']) {
      const catalogue = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, `${type}.json`), 'utf8'));
      for (const key of used) {
        const text = key.split('.').reduce((o: Record<string, unknown> | undefined, k) => o?.[k] as Record<string, unknown> | undefined, catalogue);
        assert.equal(typeof text, 'string', `${type} ${lang}: ${key}`);
      }
    }
  }
});

test('the bundled RTU flow: its IEC 104 outstation answers the reference master\'s general interrogation with the simulated meters (meter-4 offline: IV)', async () => {
  const simPort = await freePort();
  const keep = new Set(['tab', 'rtu-simulator', 'rtu-modbus-line', 'rtu-cache', 'rtu-modbus-poller', 'rtu-iec104-server']);
  const flow = exampleFlow('rtu-pipeline-without-dashboard.json', { rtu_pl_sim: simPort, rtu_pl_line: simPort, rtu_pl_iec104: 0 })
    .filter((n) => keep.has(n.type) && (n.type !== 'tab' || n.id === 'rtu_pl_tab'))
    .map((n) => (n.type === 'rtu-modbus-poller' ? { ...n, interval: 0.2, wires: [[]] } : n));
  const served = flow.find((n) => n.type === 'rtu-iec104-server')!;
  assert.equal(served.allowCommands, false, 'the bundled outstation is read-only');
  await helper.load([cacheNode, serverNode, simulatorNode, lineNode, pollerNode], flow);
  const cache = (helper.getNode('rtu_pl_cache') as unknown as { cache: RegisterCache }).cache;
  await until(() => ['meter-1', 'meter-2', 'meter-3'].every((d) => cache.has(d)), 8000, 'meters polled');
  const srv = await until(() => (helper.getNode('rtu_pl_iec104') as unknown as { port?: number }).port, 3000, 'outstation listening');
  const raw = await rawMaster(srv);
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON') || undefined, 5000, 'STARTDT con');
  // The interrogation ASDU exactly as the reference master sent it (CA 1, originator 3, QOI 20).
  const gi = loadFrames('startdt_gi.log').filter((x) => x.dir === 'C->S').map((x) => decodeApdu(x.bytes)).flatMap((a) => (a.kind === 'I' && a.asdu[0] === 100 ? [Buffer.from(a.asdu)] : []))[0];
  raw.send(gi);
  await until(() => raw.asdus().some((a) => a.typeId === 100 && a.cot === 10) || undefined, 5000, 'act-term');
  raw.ack();
  const objects = raw.asdus().filter((a) => a.cot === 20).flatMap((a) => a.objects);
  assert.deepEqual(objects.map((o) => o.ioa).sort((a, b) => a - b), [1001, 1002, 1003, 1004, 2001, 2002, 2003, 2004, 3001, 3002, 3003, 3004, 4001, 4002, 4003, 4004]);
  const at = (ioa: number) => objects.find((o) => o.ioa === ioa)!;
  assert.equal(at(1001).quality?.iv, false);
  assert.ok((at(1001).value as number) > 200 && (at(1001).value as number) < 260, `meter-1 voltage ${String(at(1001).value)}`);
  assert.ok(Math.abs((at(1004).value as number) - 50) < 1, `meter-1 frequency ${String(at(1004).value)}`);
  assert.equal(at(4001).quality?.iv, true, 'the switched-off meter-4 is invalid');
  raw.close();
});
