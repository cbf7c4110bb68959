import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import fleetNode from '../../nodes/rtu-modbus-fleet/rtu-modbus-fleet';
import { fleet } from '../../nodes/lib/fleet';
import { startSimulator, RunningSimulator } from '../../nodes/lib/simulator/start';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { collect, helper, nextMessage, startServer, statusWhere, stopServer } from '../support/node-red';
import { waitFor } from '../support/wait';

const MODEL = 'rtu/simulated-energy-meter';
let sim: RunningSimulator;
let userDir: string;

before(async () => {
  sim = await startSimulator({ units: [1, 2, 3, 4, 5] });
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-fleet-'));
  helper.settings({ userDir });
  await startServer();
});
after(async () => {
  await stopServer();
  await sim.close();
  fs.rmSync(userDir, { recursive: true, force: true });
});
afterEach(async () => {
  await helper.unload();
  fs.rmSync(path.join(userDir, 'rtu-fleet'), { recursive: true, force: true });
});

const row = (name: string, unitId: number, extra: Record<string, unknown> = {}) => ({ name, line: 'sim line', unitId, model: MODEL, profile: 'basic_power', interval: 0.2, enabled: true, ...extra });

function flow(devices: unknown[], extra: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'fleet' },
    { id: 'line', type: 'rtu-modbus-line', name: 'sim line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 300, retries: 0 },
    // A line nothing answers on: a device added there is refused by nobody, it just reads bad.
    { id: 'dead', type: 'rtu-modbus-line', name: 'dead line', transport: 'tcp', host: '127.0.0.1', port: 1, timeout: 200, retries: 0 },
    { id: 'fleet', z: 'tab', type: 'rtu-modbus-fleet', name: 'meters', devices, includeRaw: true, bitWrites: 'read-modify-write', cache: '', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper', wires: [] },
    ...((extra.nodes as unknown[]) ?? []),
  ];
}

function errorsOf(id: string): string[] {
  return ((helper.getNode(id) as unknown as { error: { getCalls(): Array<{ args: unknown[] }> } }).error.getCalls() ?? []).map((c) => String(c.args[0]));
}

const good = (name: string) => (m: ReadingMessage) => m.topic === name && m.rtu.quality === 'good';

function send(msg: Record<string, unknown>): void {
  (helper.getNode('fleet') as unknown as { receive(m: unknown): void }).receive(msg);
}

async function names(): Promise<string[]> {
  const res = await helper.request().get('/rtu/fleet/fleet/devices').expect(200);
  return (res.body.devices as Array<{ name: string }>).map((d) => d.name);
}

test('one node reads several devices from its table, one reading per device per poll, like a poller', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1), row('pm-2', 2), row('pm-3', 3, { enabled: false })]));
  const [a, b] = await Promise.all([nextMessage<ReadingMessage>('out', good('pm-1')), nextMessage<ReadingMessage>('out', good('pm-2'))]);
  assert.equal(a.rtu.device, 'pm-1');
  assert.equal(a.rtu.unitId, 1);
  assert.equal(b.rtu.unitId, 2);
  assert.equal(a.rtu.line, 'sim line');
  assert.equal(a.rtu.model, MODEL);
  const v = a.payload.voltage_l1_n as number;
  assert.ok(v > 200 && v < 260, `voltage_l1_n ${v} should be near 230 V`);
  assert.equal(a.rtu.units.voltage_l1_n, 'V');
  assert.ok(Array.isArray(a.rtu.raw) && a.rtu.raw.length > 0);
  assert.equal(fleet.get('pm-1')?.owner?.type, 'rtu-modbus-fleet', 'each device is in the fleet (health, dashboard, verification)');
  assert.equal(fleet.get('pm-3'), undefined, 'a disabled row is not polled');
  const s = await statusWhere('fleet', (x) => x.fill === 'green');
  assert.equal(s.text, 'rtu-modbus-fleet.status.devices · rtu-modbus-fleet.status.disabled');
  // The fleet's read path (test-mode verification, dashboard) reaches a device of the table.
  const once = await fleet.get('pm-2')!.readOnce();
  assert.equal(once.rtu.quality, 'good');
});

test('messages add, update, disable, enable and remove devices while the others keep reading', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1)]));
  await nextMessage<ReadingMessage>('out', good('pm-1'));
  const seen = collect<ReadingMessage>('out');
  send({ topic: 'device/add', payload: row('pm-4', 4) });
  await nextMessage<ReadingMessage>('out', good('pm-4'));
  send({ topic: 'device/update', payload: { name: 'pm-4', unitId: 5 } });
  const moved = await nextMessage<ReadingMessage>('out', (m) => m.topic === 'pm-4' && m.rtu.unitId === 5);
  assert.equal(moved.rtu.quality, 'good');
  send({ topic: 'device/disable', payload: 'pm-4' });
  await waitFor(() => !fleet.get('pm-4'), 'pm-4 leaves the fleet when disabled');
  send({ topic: 'device/enable', payload: 'pm-4' });
  await nextMessage<ReadingMessage>('out', good('pm-4'));
  send({ topic: 'device/remove', payload: { name: 'pm-4' } });
  await waitFor(() => !fleet.get('pm-4'), 'pm-4 leaves the fleet when removed');
  await waitFor(() => seen.filter((m) => m.topic === 'pm-1').length >= 3, 'pm-1 reads on');
  // pm-1 was never restarted: its reading sequence ran on without a gap back to 1.
  const seqs = seen.filter((m) => m.topic === 'pm-1').map((m) => m.rtu.seq);
  assert.ok(seqs.length >= 2);
  assert.ok(seqs.every((s, i) => i === 0 || s === seqs[i - 1] + 1), `pm-1's readings ran on in sequence: ${seqs.join(',')}`);
  assert.deepEqual(await names(), ['pm-1']);
});

test('a bad change in a message is refused as a whole with the row and the field; running devices are untouched', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1), row('pm-2', 2)]));
  await nextMessage<ReadingMessage>('out', good('pm-1'));
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ topic: 'device/add', payload: row('pm-9', 2) }, /row 3 \(pm-9\), field "unitId": unit id 2 on line "sim line" is already used in row 2 \(pm-2\)/],
    [{ topic: 'device/add', payload: row('pm-1', 7) }, /row 3 \(pm-1\), field "name": device name "pm-1" is already used in row 1/],
    [{ topic: 'device/add', payload: row('pm-9', 9, { line: 'nowhere' }) }, /row 3 \(pm-9\), field "line": unknown line "nowhere"; configured lines: dead line, sim line/],
    [{ topic: 'device/add', payload: row('pm-9', 300) }, /row 3 \(pm-9\), field "unitId": unit id "300" is not a whole number in 1..247/],
    [{ topic: 'device/update', payload: { name: 'pm-2', model: 'acme/none' } }, /row 2 \(pm-2\), field "model": meter model "acme\/none" is not in the registry/],
    [{ topic: 'device/frobnicate', payload: 'pm-1' }, /unknown msg.topic "device\/frobnicate"/],
  ];
  for (const [msg, expected] of cases) {
    const before = errorsOf('fleet').length;
    send(msg);
    await waitFor(() => errorsOf('fleet').length > before, `an error for ${JSON.stringify(msg)}`);
    assert.match(errorsOf('fleet').at(-1)!, expected);
  }
  assert.deepEqual(await names(), ['pm-1', 'pm-2']);
  assert.equal(fleet.get('pm-2')?.unitId, 2);
  assert.equal(fs.existsSync(path.join(userDir, 'rtu-fleet', 'fleet.json')), false, 'nothing was stored');
});

test('the admin API lists, adds, updates, removes and clears; bad rows answer 400 naming row and field', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1)]));
  const api = () => helper.request();
  const created = await api().post('/rtu/fleet/fleet/devices').send(row('pm-2', 2)).expect(201);
  assert.deepEqual(created.body.overlay.rows.map((r: { name: string }) => r.name), ['pm-2']);
  await nextMessage<ReadingMessage>('out', good('pm-2'));
  const one = await api().get('/rtu/fleet/fleet/devices/pm-2').expect(200);
  assert.equal(one.body.changed, 'runtime');
  assert.equal(one.body.state.running, true);
  await api().put('/rtu/fleet/fleet/devices/pm-1').send({ enabled: false }).expect(200);
  await waitFor(() => !fleet.get('pm-1'), 'pm-1 disabled through the API');
  const bad = await api().post('/rtu/fleet/fleet/devices').send(row('pm-3', 2)).expect(400);
  assert.match(bad.body.problems.join('\n'), /row 3 \(pm-3\), field "unitId": unit id 2 on line "sim line" is already used in row 2 \(pm-2\)/);
  await api().delete('/rtu/fleet/fleet/devices/nobody').expect(400);
  await api().get('/rtu/fleet/fleet/devices/nobody').expect(404);
  await api().get('/rtu/fleet/other/devices').expect(404);
  await api().delete('/rtu/fleet/fleet/devices/pm-2').expect(200);
  const listed = await api().get('/rtu/fleet/fleet/devices').expect(200);
  assert.deepEqual(listed.body.devices.map((d: { name: string; enabled: boolean }) => [d.name, d.enabled]), [['pm-1', false]]);
  const cleared = await api().delete('/rtu/fleet/fleet/overrides').expect(200);
  assert.deepEqual(cleared.body.overlay, { rows: [], removed: [] });
  await nextMessage<ReadingMessage>('out', good('pm-1'));
});

test('runtime changes persist across a restart and a redeploy merges them onto the flow table until cleared', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1), row('pm-2', 2)]));
  send({ topic: 'device/add', payload: row('pm-4', 4) });
  send({ topic: 'device/remove', payload: 'pm-2' });
  await waitFor(() => fs.existsSync(path.join(userDir, 'rtu-fleet', 'fleet.json')), 'the overlay file is written');
  await helper.unload();
  // A restart: the runtime loads the same flow from the same user dir; a new base row pm-5 comes with it.
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1), row('pm-2', 2), row('pm-5', 5)]));
  await nextMessage<ReadingMessage>('out', good('pm-4'));
  assert.deepEqual(await names(), ['pm-1', 'pm-5', 'pm-4']);
  const view = (await helper.request().get('/rtu/fleet/fleet/devices').expect(200)).body;
  assert.deepEqual(view.overlay.removed, ['pm-2']);
  assert.deepEqual(view.base.map((r: { name: string }) => r.name), ['pm-1', 'pm-2', 'pm-5']);
  send({ topic: 'device/clear-overrides' });
  await waitFor(() => !fs.existsSync(path.join(userDir, 'rtu-fleet', 'fleet.json')), 'clearing removes the file');
  assert.deepEqual(await names(), ['pm-1', 'pm-2', 'pm-5']);
});

test('a change during an outage of a line is taken; the device reads bad until the line answers', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1)]));
  send({ topic: 'device/add', payload: row('far-1', 1, { line: 'dead line' }) });
  const bad = await nextMessage<ReadingMessage>('out', (m) => m.topic === 'far-1');
  assert.equal(bad.rtu.quality, 'bad');
  send({ topic: 'device/update', payload: { name: 'far-1', unitId: 2 } });
  await nextMessage<ReadingMessage>('out', (m) => m.topic === 'far-1' && m.rtu.unitId === 2);
  await nextMessage<ReadingMessage>('out', good('pm-1'));
  const view = (await helper.request().get('/rtu/fleet/fleet/devices/far-1').expect(200)).body;
  assert.equal(view.state.online, false);
});

test('a change made while the line is down is taken, and both devices read good once the line is back', async () => {
  let own = await startSimulator({ units: [1, 2] });
  const port = own.port;
  try {
    const nodes = flow([{ ...row('o-1', 1), line: 'own line' }]);
    nodes.push({ id: 'own', type: 'rtu-modbus-line', name: 'own line', transport: 'tcp', host: '127.0.0.1', port, timeout: 200, retries: 0 } as never);
    await helper.load([lineNode, fleetNode], nodes);
    await nextMessage<ReadingMessage>('out', good('o-1'));
    await own.close();
    await nextMessage<ReadingMessage>('out', (m) => m.topic === 'o-1' && m.rtu.quality === 'bad');
    send({ topic: 'device/add', payload: { ...row('o-2', 2), line: 'own line' } });
    await waitFor(() => !!fleet.get('o-2'), 'o-2 is started during the outage');
    own = await startSimulator({ units: [1, 2], port });
    await Promise.all([nextMessage<ReadingMessage>('out', good('o-1'), 30000), nextMessage<ReadingMessage>('out', good('o-2'), 30000)]);
  } finally {
    await own.close().catch(() => undefined);
  }
});

test('an invalid flow table stops the node with every problem named by row and field', async () => {
  await helper.load([lineNode, fleetNode], flow([row('pm-1', 1), row('pm-1', 1), row('pm-3', 3, { line: 'x' })]));
  const errors = errorsOf('fleet').join('\n');
  assert.match(errors, /row 2 \(pm-1\), field "name": device name "pm-1" is already used in row 1/);
  assert.match(errors, /row 3 \(pm-3\), field "line": unknown line "x"/);
  const res = await helper.request().get('/rtu/fleet/fleet/devices').expect(409);
  assert.match(res.body.error, /row 2 \(pm-1\)/);
});

test('the dialog tools check, import and export with the runtime code', async () => {
  await helper.load([lineNode, fleetNode], flow([]));
  const csv = `name,line,unitId,model,profile,interval,enabled\npm-1,sim line,1,${MODEL},basic_power,1,true\npm-2,sim line,1,${MODEL},basic_power,1,true\n`;
  const imported = await helper.request().post('/rtu/fleet/import').send({ format: 'csv', text: csv }).expect(200);
  assert.equal(imported.body.rows.length, 2);
  const checked = await helper.request().post('/rtu/fleet/check').send({ rows: imported.body.rows, lines: ['sim line'] }).expect(200);
  assert.deepEqual(checked.body.problems.map((p: { row: number; field: string }) => [p.row, p.field]), [[2, 'unitId']]);
  const yaml = await helper.request().post('/rtu/fleet/export').send({ format: 'yaml', rows: imported.body.rows }).expect(200);
  assert.match(yaml.body.text, /^lines:\n  - name: sim line\n/);
  const broken = await helper.request().post('/rtu/fleet/import').send({ format: 'csv', text: 'name,unit\nx,1\n' }).expect(400);
  assert.match(broken.body.problems.map((p: { text: string }) => p.text).join('\n'), /no column "line"/);
});
