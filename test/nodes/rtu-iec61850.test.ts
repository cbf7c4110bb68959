import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import iedNode from '../../nodes/rtu-iec61850-ied/rtu-iec61850-ied';
import pollerNode from '../../nodes/rtu-iec61850-poller/rtu-iec61850-poller';
import { fleet } from '../../nodes/lib/fleet';
import type { IedReading } from '../../nodes/lib/iec61850/readings';
import type { ModelNode } from '../../nodes/lib/iec61850/browse';
import { collect, helper, nextMessage, statusWhere } from '../support/node-red';
import { waitFor } from '../support/wait';
import { MmsTestServer } from '../support/iec61850/server';
import nodeFs from 'fs';
import nodeOs from 'os';
import nodePath from 'path';

let server: MmsTestServer;
/** The runtime's user dir: buffered report pollers keep their EntryIDs there. */
let userDir = '';

before(async () => {
  server = await new MmsTestServer().start();
  userDir = nodeFs.mkdtempSync(nodePath.join(nodeOs.tmpdir(), 'rtu-iec61850-'));
  helper.settings({ userDir });
  await new Promise<void>((resolve) => helper.startServer(resolve));
});
after(async () => {
  await new Promise<void>((resolve) => helper.stopServer(resolve));
  await server.stop();
  nodeFs.rmSync(userDir, { recursive: true, force: true });
});
afterEach(async () => {
  await helper.unload();
  await waitFor(() => server.connectionCount === 0, 'associations released after the flow stopped');
});

function ied(extra: Record<string, unknown> = {}) {
  return { id: 'ied', type: 'rtu-iec61850-ied', name: 'bay1', host: '127.0.0.1', port: server.port, timeout: 1000, reconnectMax: 2, ...extra };
}

function poller(id: string, extra: Record<string, unknown>) {
  // x/y make them flow nodes (Node-RED treats nodes without a position as config nodes).
  return { id, z: 'tab', x: 100, y: 100, type: 'rtu-iec61850-poller', name: id, ied: 'ied', interval: 0.1, wires: [[`${id}-out`]], ...extra };
}

function flow(...nodes: Record<string, unknown>[]) {
  const outs = nodes.filter((n) => n.type === 'rtu-iec61850-poller').map((n) => ({ id: `${n.id}-out`, z: 'tab', x: 300, y: 100, type: 'helper', wires: [] }));
  const hasIed = nodes.some((n) => n.type === 'rtu-iec61850-ied');
  return [{ id: 'tab', type: 'tab', label: 'iec61850' }, ...(hasIed ? [] : [ied()]), ...nodes, ...outs];
}

const isGood = (m: IedReading) => m.rtu.quality === 'good';
const ANIN1 = 'simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]';

interface SpiedNode {
  on(event: string, cb: (call: { args: unknown[] }) => void): void;
}

/** The test helper spies on the Node prototype: pick the calls made on this node. */
function lastStatus(id: string): { fill: string; text: string } {
  const node = helper.getNode(id) as unknown as { status: { getCalls(): Array<{ thisValue: unknown; args: Array<{ fill: string; text: string }> }> } };
  const calls = node.status.getCalls().filter((c) => c.thisValue === node);
  return calls[calls.length - 1].args[0];
}

function errorCalls(id: string): string[] {
  const node = helper.getNode(id) as unknown as { error: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> } };
  return node.error.getCalls().filter((c) => c.thisValue === node).map((c) => String(c.args[0]));
}

function errorsOf(id: string): string[] {
  const out: string[] = [];
  (helper.getNode(id) as unknown as SpiedNode).on('call:error', (call) => out.push(String((call.args[0] as Error)?.message ?? call.args[0])));
  return out;
}

test('polls data attributes from the IED and sends readings on the common contract', async () => {
  await helper.load(
    [iedNode, pollerNode],
    flow(poller('inv', { points: [{ reference: ANIN1, name: 'voltage', unit: 'V' }, { reference: 'ied1Inverter/MMXU1.TotW.mag.f [MX]' }, { reference: 'ied1Inverter/MMXU1.TotW.q [MX]' }] })),
  );
  const msg = await nextMessage<IedReading>('inv-out', isGood);
  assert.equal(msg.topic, 'inv');
  assert.ok(Math.abs((msg.payload.voltage as number) - 0.09) < 1e-6);
  assert.equal(msg.payload['MMXU1.TotW.mag.f'], 4210.5);
  assert.equal(msg.rtu.protocol, 'iec61850');
  assert.equal(msg.rtu.line, 'bay1');
  assert.equal(msg.rtu.units.voltage, 'V');
  assert.equal(msg.iec61850.references.voltage, ANIN1);
  assert.ok(fleet.get('inv'), 'the device is in the fleet while deployed');
  await statusWhere('inv', (s) => s.fill === 'green', 2000);
});

test('pollers on one IED share one association; a data set is read and flattened', async () => {
  const before = server.associations;
  await helper.load(
    [iedNode, pollerNode],
    flow(poller('a', { points: [{ reference: ANIN1 }] }), poller('b', { interval: 0.15, dataSet: 'simpleIOGenericIO/LLN0.Measurements' })),
  );
  const a = await nextMessage<IedReading>('a-out', isGood);
  const b = await nextMessage<IedReading>('b-out', isGood);
  assert.ok('GGIO1.AnIn1.mag.f' in a.payload);
  assert.deepEqual(Object.keys(b.payload).slice(0, 2), ['GGIO1.AnIn1.mag.f', 'GGIO1.AnIn1.q']);
  assert.equal(server.associations - before, 1);
});

test('an unknown reference is null with an error naming it, and the status says so', async () => {
  await helper.load([iedNode, pollerNode], flow(poller('p', { points: [{ reference: ANIN1 }, { reference: 'simpleIOGenericIO/GGIO1.AnIn7.mag.f [MX]', name: 'gone' }] })));
  const msg = await nextMessage<IedReading>('p-out');
  assert.equal(msg.payload.gone, null);
  assert.equal(msg.rtu.pointQuality?.gone, 'bad');
  assert.match(msg.rtu.error ?? '', /GGIO1\.AnIn7\.mag\.f \[MX\]: object-non-existent/);
  // Outside the editor the runtime has no catalogue loaded, so the text is the message key.
  await statusWhere('p', (s) => s.fill === 'yellow' && /1 of 2|status\.partial/.test(s.text ?? ''), 2000);
});

test('reports from an unbuffered control block arrive as readings', async () => {
  await helper.load(
    [iedNode, pollerNode],
    flow(poller('r', { interval: 0, report: true, controlBlock: 'simpleIOGenericIO/LLN0.EventsRCB01 [RP]', gi: true, triggers: ['dataChange', 'generalInterrogation'] })),
  );
  const gi = await nextMessage<IedReading>('r-out', (m) => m.iec61850.source === 'report');
  assert.equal(gi.iec61850.rptId, 'Events1');
  assert.equal(Object.keys(gi.payload).length, 4);
  const change = nextMessage<IedReading>('r-out', (m) => m.payload['GGIO1.SPCSO1.stVal'] === true);
  server.setValue('simpleIOGenericIO', 'GGIO1$ST$SPCSO1$stVal', { type: 'boolean', value: true });
  const msg = await change;
  assert.deepEqual(msg.iec61850.reasons?.['GGIO1.SPCSO1.stVal'], ['data-change']);
  server.setValue('simpleIOGenericIO', 'GGIO1$ST$SPCSO1$stVal', { type: 'boolean', value: false });
});

test('the IED going away gives bad readings and a red status; it comes back without a redeploy', async () => {
  await helper.load([iedNode, pollerNode], flow(poller('d', { points: [{ reference: ANIN1, name: 'v' }] })));
  await nextMessage<IedReading>('d-out', isGood);
  const red = statusWhere('d', (s) => s.fill === 'red', 3000);
  server.faults.rejectAssociation = true;
  server.dropConnections();
  const bad = await nextMessage<IedReading>('d-out', (m) => m.rtu.quality === 'bad', 3000);
  assert.equal(bad.payload.v, null);
  assert.match(bad.rtu.error ?? '', /bay1: not connected/);
  await red;
  server.faults.rejectAssociation = false;
  await nextMessage<IedReading>('d-out', isGood, 5000);
});

test('input: read on demand, write by reference, refused writes reach Catch with the reference', async () => {
  await helper.load([iedNode, pollerNode], flow(poller('w', { interval: 0, points: [{ reference: 'simpleIOGenericIO/GGIO1.NamPlt.vendor [DC]', name: 'vendor' }] })));
  const errors = errorsOf('w');
  const node = helper.getNode('w');
  const first = nextMessage<IedReading>('w-out');
  node.receive({ payload: 'read' });
  assert.equal((await first).payload.vendor, 'libiec61850.com');
  const written = nextMessage<IedReading>('w-out', (m) => m.payload.vendor === 'ACME');
  node.receive({ write: { vendor: 'ACME' } });
  await written;
  node.receive({ write: { [ANIN1]: 5 } });
  await waitFor(() => errors.length > 0, 'error from the refused write', 3000);
  assert.match(errors[0], /device "w": write simpleIOGenericIO\/GGIO1.AnIn1.mag.f \[MX\]: object-access-denied/);
  node.receive({ write: { vendor: 42 } });
  await waitFor(() => errors.length > 1, 'error from the wrong type', 3000);
  assert.match(errors[1], /write simpleIOGenericIO\/GGIO1.NamPlt.vendor \[DC\]: 42 is not text/);
  server.setValue('simpleIOGenericIO', 'GGIO1$DC$NamPlt$vendor', { type: 'visible-string', value: 'libiec61850.com' });
});

test('configuration errors name the point or field and show a red status', async () => {
  await helper.load(
    [iedNode, pollerNode],
    [
      { id: 'tab', type: 'tab', label: 'bad' },
      ied(),
      ied({ id: 'badied', remoteTsel: 'xyz' }),
      poller('c1', { points: [{ reference: 'GGIO1.AnIn1.mag.f' }] }),
      poller('c2', { ied: 'badied', points: [{ reference: ANIN1 }] }),
      { id: 'c1-out', z: 'tab', x: 300, y: 100, type: 'helper', wires: [] },
      { id: 'c2-out', z: 'tab', x: 300, y: 200, type: 'helper', wires: [] },
    ],
  );
  assert.equal(lastStatus('c1').fill, 'red');
  assert.equal(lastStatus('c2').fill, 'red');
  assert.match(errorCalls('c1').join('\n'), /device "c1", point 1: reference "GGIO1.AnIn1.mag.f" has no logical device/);
  assert.match(errorCalls('c2').join('\n'), /device "c2": IED "bay1": bay1: remote TSEL "xyz" is not hex octets/);
  assert.match(errorCalls('badied').join('\n'), /IED "bay1": bay1: remote TSEL "xyz"/);
});

test('the admin endpoint browses the live model for the editor', async () => {
  await helper.load([iedNode, pollerNode], flow(poller('x', { interval: 0, points: [{ reference: ANIN1 }] })));
  const res = await helper.request().get('/rtu-iec61850/browse/ied').expect(200);
  const body = res.body as { ied: string; model: ModelNode[] };
  assert.equal(body.ied, 'bay1');
  assert.deepEqual(body.model.map((ld) => ld.name), ['simpleIOGenericIO', 'ied1Inverter']);
  const ggio = body.model[0].children?.find((ln) => ln.name === 'GGIO1');
  const f = ggio?.children?.find((d) => d.name === 'AnIn1')?.children?.find((d) => d.name === 'mag')?.children?.[0];
  assert.equal(f?.reference, ANIN1);
  assert.equal(f?.type, 'float32');
  await helper.request().get('/rtu-iec61850/browse/nope').expect(404);
});

test('an IED without pollers can still be browsed, on a short association of its own', async () => {
  await helper.load([iedNode], [{ id: 'tab', type: 'tab', label: 'x' }, ied()]);
  const res = await helper.request().get('/rtu-iec61850/browse/ied?types=0').expect(200);
  assert.equal((res.body as { model: ModelNode[] }).model.length, 2);
  await waitFor(() => server.connectionCount === 0, 'browse association closed');
  const stopped = await new MmsTestServer().start();
  const port = stopped.port;
  await stopped.stop();
  await helper.unload();
  await helper.load([iedNode], [{ id: 'tab', type: 'tab', label: 'x' }, ied({ port })]);
  const failed = await helper.request().get('/rtu-iec61850/browse/ied').expect(502);
  assert.match((failed.body as { error: string }).error, /bay1: cannot connect to 127.0.0.1/);
});

test('the example flow deploys and reads the test server', async () => {
  const fs = await import('fs');
  const path = await import('path');
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'examples', 'rtu-iec61850-poller.json'))) dir = path.dirname(dir);
  const example = JSON.parse(fs.readFileSync(path.join(dir, 'examples', 'rtu-iec61850-poller.json'), 'utf8')) as Array<Record<string, unknown>>;
  const nodes = example
    .filter((n) => n.type !== 'inject' && n.type !== 'comment')
    .map((n) => {
      if (n.type === 'rtu-iec61850-ied') return { ...n, host: '127.0.0.1', port: server.port };
      if (n.type === 'debug') return { id: n.id, z: n.z, x: n.x, y: n.y, type: 'helper', wires: [] };
      return n;
    });
  await helper.load([iedNode, pollerNode], nodes);
  const [points, dataSet, reports] = ['rtu_iec_ex_debug1', 'rtu_iec_ex_debug2', 'rtu_iec_ex_debug3'].map((id) => collect<IedReading>(id));
  const buffered = collect<IedReading>('rtu_iec_ex_debug4');
  await waitFor(() => points.some(isGood) && dataSet.some(isGood) && reports.length > 0 && buffered.length > 0, 'readings from all four pollers', 4000);
  assert.match(buffered[0].iec61850.entryId ?? '', /^[0-9a-f]{16}$/);
  await waitFor(() => nodeFs.existsSync(nodePath.join(userDir, 'energy-rtu', 'iec61850-entry-ids.json')), 'EntryID kept in the user dir');
  assert.equal(points.find(isGood)?.rtu.units.an_in_1, 'V');
  assert.equal(Object.keys(dataSet.find(isGood)?.payload ?? {}).length, 8);
  assert.equal(reports[0].iec61850.rptId, 'Events1');
});

test('browse: a small max PDU size drops attribute types and the editor is told; a failed browse names the IED', async () => {
  const small = await new MmsTestServer({ maxPduSize: 1200, namesPerPage: 10 }).start();
  try {
    await helper.load([iedNode], [{ id: 'tab', type: 'tab', label: 'x' }, ied({ port: small.port, name: 'bay7' })]);
    const res = await helper.request().get('/rtu-iec61850/browse/ied').expect(200);
    const body = res.body as { model: ModelNode[]; warning?: string };
    assert.equal(body.model.length, 2, 'the model itself arrives');
    assert.match(body.warning ?? '', /^IED "bay7" \(127.0.0.1:\d+\): attribute types left out for \d+ logical nodes? \(max PDU size 1200\): simpleIOGenericIO\/GGIO1 \(/);
    const all = await helper.request().get('/rtu-iec61850/browse/ied').expect(200);
    assert.ok(all.body.warning);
    await helper.unload();
    await helper.load([iedNode], [{ id: 'tab', type: 'tab', label: 'x' }, ied({ port: server.port, name: 'bay7' })]);
    const full = await helper.request().get('/rtu-iec61850/browse/ied').expect(200);
    assert.equal((full.body as { warning?: string }).warning, undefined);
  } finally {
    await helper.unload();
    await small.stop();
  }
  const gone = await new MmsTestServer().start();
  const port = gone.port;
  await gone.stop();
  await helper.load([iedNode], [{ id: 'tab', type: 'tab', label: 'x' }, ied({ port, name: 'bay7' })]);
  const failed = await helper.request().get('/rtu-iec61850/browse/ied').expect(502);
  assert.match((failed.body as { error: string }).error, /^IED "bay7" \(127.0.0.1:\d+\): browse failed: bay7: cannot connect/);
});
