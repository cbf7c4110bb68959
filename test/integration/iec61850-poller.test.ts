import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IedLink } from '../../nodes/lib/iec61850/ied-link';
import { IedPoller, PollerConfigError } from '../../nodes/lib/iec61850/ied-poller';
import { resolveIedOptions } from '../../nodes/lib/iec61850/options';
import { IedReading } from '../../nodes/lib/iec61850/readings';
import { MmsTestServer } from '../support/iec61850/server';
import { BASE_TIME } from '../support/iec61850/model';
import { utcTimeFromMs } from '../../nodes/lib/iec61850/mms-data';
import { EntryIdStore } from '../../nodes/lib/iec61850/entry-ids';
import { parseReference } from '../../nodes/lib/iec61850/reference';
import fs from 'fs';
import os from 'os';
import path from 'path';

function link(server: MmsTestServer, extra: Partial<{ reconnectMinMs: number; reconnectMaxMs: number }> = {}): IedLink {
  return new IedLink(resolveIedOptions({ name: 'ied1', host: '127.0.0.1', port: server.port, timeoutMs: 1000 }), {
    reconnectMinMs: 30,
    reconnectMaxMs: 200,
    ...extra,
  });
}

async function waitFor(cond: () => boolean, what: string, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function connected(l: IedLink): Promise<void> {
  await waitFor(() => !!l.client, 'association');
}

const quality = (...on: number[]) => ({ type: 'bit-string' as const, value: Array.from({ length: 13 }, (_, i) => on.includes(i)) });

test('polls references into a reading: values, per-point quality from q, IED timestamp, errors naming the reference', async () => {
  const server = await new MmsTestServer().start();
  const l = link(server);
  l.register('p1');
  try {
    await connected(l);
    const poller = new IedPoller({
      device: 'io1',
      link: l,
      intervalMs: 0,
      points: [
        { reference: 'simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]', name: 'anIn1', unit: 'V' },
        { reference: 'simpleIOGenericIO/GGIO1.AnIn1.q [MX]', name: 'anIn1_q' },
        { reference: 'simpleIOGenericIO/GGIO1.AnIn2.mag.f [MX]' },
        { reference: 'simpleIOGenericIO/GGIO1.AnIn2.q [MX]' },
        { reference: 'simpleIOGenericIO/GGIO1.AnIn3 [MX]', name: 'anIn3' },
        { reference: 'ied1Inverter/MMTR1.TotWh.actVal [ST]', name: 'energy' },
        { reference: 'simpleIOGenericIO/GGIO1.AnIn9.mag.f [MX]', name: 'missing' },
      ],
    });
    const newer = BASE_TIME + 60_000;
    server.setValue('simpleIOGenericIO', 'GGIO1$MX$AnIn2$q', quality(0, 1, 7));
    server.setValue('simpleIOGenericIO', 'GGIO1$MX$AnIn3$q', quality(1));
    server.setValue('simpleIOGenericIO', 'GGIO1$MX$AnIn3$t', { type: 'utc-time', value: utcTimeFromMs(newer) });
    const r = await poller.readNow();
    assert.equal(r.topic, 'io1');
    assert.ok(Math.abs((r.payload.anIn1 as number) - 0.09) < 1e-6);
    assert.equal(r.payload.anIn1_q, 0);
    assert.ok(Math.abs((r.payload['GGIO1.AnIn2.mag.f'] as number) - 1.5) < 1e-6);
    assert.equal(r.payload['anIn3.mag.f'], -3.25);
    assert.equal(r.payload['anIn3.t'], newer);
    assert.equal(r.payload.energy, '9007199254740999');
    assert.equal(r.payload.missing, null);
    assert.deepEqual(r.rtu.pointQuality, { 'GGIO1.AnIn2.mag.f': 'stale', 'anIn3.mag.f': 'bad', missing: 'bad' });
    assert.equal(r.rtu.quality, 'good');
    assert.equal(r.rtu.timestamp, newer, 'the newest t read is the IED timestamp');
    assert.equal(r.rtu.protocol, 'iec61850');
    assert.equal(r.rtu.line, 'ied1');
    assert.deepEqual(r.rtu.units, { anIn1: 'V' });
    assert.match(r.rtu.error ?? '', /^device "io1": read simpleIOGenericIO\/GGIO1.AnIn9.mag.f \[MX\]: object-non-existent/);
    assert.equal(r.iec61850.references['anIn3.mag.f'], 'simpleIOGenericIO/GGIO1.AnIn3.mag.f [MX]');
    assert.equal(r.iec61850.references.anIn1, 'simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]');
    assert.deepEqual(Object.keys(r.payload).slice(0, 3), ['anIn1', 'anIn1_q', 'GGIO1.AnIn2.mag.f']);
  } finally {
    await l.deregister('p1');
    await server.stop();
  }
});

test('reads a data set of whole data objects, named by member and component', async () => {
  const server = await new MmsTestServer().start();
  const l = link(server);
  l.register('p1');
  try {
    await connected(l);
    const poller = new IedPoller({ device: 'io1', link: l, intervalMs: 0, dataSet: 'simpleIOGenericIO/LLN0.Events2' });
    const r = await poller.readNow();
    assert.deepEqual(Object.keys(r.payload).slice(0, 6), [
      'GGIO1.SPCSO1.stVal', 'GGIO1.SPCSO1.q', 'GGIO1.SPCSO1.t', 'GGIO1.SPCSO1.origin.orCat', 'GGIO1.SPCSO1.origin.orIdent', 'GGIO1.SPCSO1.ctlNum',
    ]);
    assert.equal(r.payload['GGIO1.SPCSO4.stVal'], false);
    assert.equal(r.rtu.quality, 'good');
    assert.equal(r.iec61850.references['GGIO1.SPCSO2.stVal'], 'simpleIOGenericIO/GGIO1.SPCSO2.stVal [ST]');
    const missing = new IedPoller({ device: 'io1', link: l, intervalMs: 0, dataSet: 'simpleIOGenericIO/LLN0.Nope' });
    const bad = await missing.readNow();
    assert.equal(bad.rtu.quality, 'bad');
    assert.match(bad.rtu.error ?? '', /getNamedVariableListAttributes simpleIOGenericIO\/LLN0\$Nope: definition error 1/);
  } finally {
    await l.deregister('p1');
    await server.stop();
  }
});

test('bad configuration lists every problem with device and point', () => {
  const server = { port: 1 } as MmsTestServer;
  const l = link(server);
  assert.throws(
    () => new IedPoller({ device: 'io1', link: l, intervalMs: 1000, points: [{ reference: 'GGIO1.AnIn1' }, { reference: 'LD/LN0.A.b [QQ]' }], report: { controlBlock: 'LD/LLN0.X [ST]' } }),
    (e: unknown) =>
      e instanceof PollerConfigError &&
      e.problems.length === 3 &&
      /device "io1", point 1: reference "GGIO1.AnIn1" has no logical device/.test(e.problems[0]) &&
      /point 2: .*unknown functional constraint "QQ"/.test(e.problems[1]) &&
      /device "io1", report: report control block/.test(e.problems[2]),
  );
  assert.throws(() => new IedPoller({ device: 'io1', link: l, intervalMs: 1000 }), /nothing to read/);
  assert.throws(
    () => new IedPoller({ device: 'io1', link: l, intervalMs: 1000, points: [{ reference: 'a/b.c.d [MX]', name: 'x' }, { reference: 'a/b.c.e [MX]', name: 'x' }] }),
    /point name "x" is used twice/,
  );
});

test('reports become readings; the RCB is enabled again after the association comes back', async () => {
  const server = await new MmsTestServer().start();
  const l = link(server);
  l.register('p1');
  const readings: IedReading[] = [];
  const poller = new IedPoller({
    device: 'io1',
    link: l,
    intervalMs: 0,
    report: { controlBlock: 'simpleIOGenericIO/LLN0.EventsRCB01 [RP]', generalInterrogation: true, triggers: { dataChange: true, generalInterrogation: true } },
  });
  poller.on('reading', (r) => readings.push(r));
  try {
    poller.start();
    await waitFor(() => readings.length >= 1, 'GI report reading');
    const gi = readings[0];
    assert.equal(gi.iec61850.source, 'report');
    assert.equal(gi.iec61850.rptId, 'Events1');
    assert.deepEqual(gi.payload, { 'GGIO1.SPCSO1.stVal': false, 'GGIO1.SPCSO2.stVal': false, 'GGIO1.SPCSO3.stVal': false, 'GGIO1.SPCSO4.stVal': false });
    assert.deepEqual(gi.iec61850.reasons?.['GGIO1.SPCSO1.stVal'], ['general-interrogation']);
    assert.equal(poller.reportEnabled, true);
    server.setValue('simpleIOGenericIO', 'GGIO1$ST$SPCSO3$stVal', { type: 'boolean', value: true });
    await waitFor(() => readings.some((r) => r.payload['GGIO1.SPCSO3.stVal'] === true && Object.keys(r.payload).length === 1), 'data-change reading');

    const before = server.associations;
    const count = readings.length;
    server.dropConnections();
    await waitFor(() => server.associations > before && !!l.client, 'reassociation');
    await waitFor(() => readings.slice(count).some((r) => r.iec61850.reasons?.['GGIO1.SPCSO1.stVal']?.includes('general-interrogation')), 'GI after re-enable');
    assert.equal(poller.reportEnabled, true);
    await poller.stop();
    await waitFor(() => server.log.filter((x) => x.includes('RptEna')).length >= 3, 'disable written');
  } finally {
    await poller.stop();
    await l.deregister('p1');
    await server.stop();
  }
});

test('one association is shared by every poller; disconnect, backoff, reconnect without redeploy', async () => {
  const server = await new MmsTestServer().start();
  const port = server.port;
  const l = link(server, { reconnectMinMs: 20, reconnectMaxMs: 160 });
  const states: Array<[string, number]> = [];
  l.on('state', (s) => states.push([s, Date.now()]));
  const a = new IedPoller({ device: 'a', link: l, intervalMs: 25, points: [{ reference: 'simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]', name: 'v' }] });
  const b = new IedPoller({ device: 'b', link: l, intervalMs: 25, points: [{ reference: 'simpleIOGenericIO/GGIO1.AnIn2.mag.f [MX]', name: 'v' }] });
  const got: IedReading[] = [];
  a.on('reading', (r) => got.push(r));
  b.on('reading', (r) => got.push(r));
  l.register('a');
  l.register('b');
  a.start();
  b.start();
  try {
    await waitFor(() => got.filter((r) => r.rtu.quality === 'good').length >= 4, 'good readings from both');
    assert.equal(server.associations, 1);
    assert.ok(got.some((r) => r.topic === 'a') && got.some((r) => r.topic === 'b'));

    const stoppedAt = states.length;
    await server.stop();
    await waitFor(() => got.some((r) => r.rtu.quality === 'bad'), 'bad reading while the IED is away');
    const bad = got.find((r) => r.rtu.quality === 'bad') as IedReading;
    assert.match(bad.rtu.error ?? '', /ied1: not connected/);
    assert.equal(bad.payload.v, null);
    await waitFor(() => states.slice(stoppedAt).filter(([s]) => s === 'waiting').length >= 5, 'several retries');
    const waits = states.slice(stoppedAt).filter(([s]) => s === 'connecting').map(([, t]) => t);
    const gaps = waits.slice(1).map((t, i) => t - waits[i]);
    assert.ok(gaps[gaps.length - 1] > gaps[0], `retry gaps grow: ${gaps.join(', ')}`);
    assert.ok(a.stats().polls.failed > 0);

    const revived = await new MmsTestServer().start(port);
    try {
      const n = got.length;
      await waitFor(() => got.slice(n).filter((r) => r.rtu.quality === 'good').length >= 2, 'good readings after the IED is back', 5000);
      assert.equal(revived.associations, 1);
      assert.equal(l.stats().connected, true);
      await a.stop();
      await l.deregister('a');
      assert.equal(l.state, 'connected', 'still one user');
      await b.stop();
      await l.deregister('b');
      assert.equal(l.state, 'idle');
      await waitFor(() => revived.connectionCount === 0, 'association released');
      assert.ok(revived.log.length > 0);
    } finally {
      await revived.stop();
    }
  } finally {
    await a.stop();
    await b.stop();
    await l.stop();
    await server.stop();
  }
});

test('a rejected association is retried with backoff and the reason is kept for status', async () => {
  const server = await new MmsTestServer().start();
  server.faults.rejectAssociation = true;
  const l = link(server);
  l.register('p1');
  try {
    await waitFor(() => l.state === 'waiting', 'first refusal');
    assert.match(l.describeOutage(), /ied1: not connected \(waiting, retry in \d+ s\): ied1: association rejected \(permanent\): no reason given/);
    server.faults.rejectAssociation = false;
    await connected(l);
    assert.equal(l.stats().associations, 1);
  } finally {
    await l.deregister('p1');
    await server.stop();
  }
});

test('a link stopped and started again while connecting keeps exactly one association', async () => {
  const server = await new MmsTestServer({ responseDelayMs: 0 }).start();
  const l = link(server);
  try {
    l.register('a');
    await l.deregister('a');
    l.register('b');
    await connected(l);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.connectionCount, 1);
    assert.equal(l.stats().users, 1);
  } finally {
    await l.deregister('b');
    await waitFor(() => server.connectionCount === 0, 'released');
    await server.stop();
  }
});

test('data set members that name array elements stay apart: read, poll and report by full reference', async () => {
  const server = await new MmsTestServer().start();
  const l = link(server);
  l.register('p1');
  const readings: IedReading[] = [];
  const poller = new IedPoller({
    device: 'pq1',
    link: l,
    intervalMs: 0,
    dataSet: 'ied1Inverter/LLN0.Harmonics',
    points: [{ reference: 'ied1Inverter/MHAI1.HA.phsAHar(12).cVal.mag.f [MX]', name: 'h12' }],
    report: { controlBlock: 'ied1Inverter/LLN0.HarmonicsRCB01 [RP]', generalInterrogation: true, triggers: { generalInterrogation: true } },
  });
  poller.on('reading', (r) => readings.push(r));
  try {
    await connected(l);
    const r = await poller.readNow();
    assert.equal(r.rtu.error, undefined);
    assert.equal(r.payload.h12, 12.5);
    for (const n of [3, 5, 7]) {
      assert.equal(r.payload[`MHAI1.HA.phsAHar(${n}).cVal.mag.f`], n + 0.5, `element ${n}`);
      assert.equal(r.payload[`MHAI1.HA.phsAHar(${n}).t`], BASE_TIME + n);
      assert.equal(r.iec61850.references[`MHAI1.HA.phsAHar(${n}).q`], `ied1Inverter/MHAI1.HA.phsAHar(${n}).q [MX]`);
    }
    assert.equal(r.payload['MHAI1.HA.phsAHar(10).cVal.mag.f'], 10.5);
    assert.equal(r.payload['MHAI1.HA.phsAHar(11).cVal.mag.f'], 11.5);
    assert.equal(Object.keys(r.payload).length, 1 + 3 * 3 + 2);
    // Quality stays with its own element.
    const harmonics = server.store.read('ied1Inverter', 'MHAI1$MX$HA$phsAHar');
    assert.ok(typeof harmonics !== 'number' && harmonics.type === 'array');
    if (typeof harmonics !== 'number' && harmonics.type === 'array') {
      const five = harmonics.value[5];
      if (five.type === 'structure') five.value[1] = quality(1);
    }
    const again = await poller.readNow();
    assert.deepEqual(again.rtu.pointQuality, { 'MHAI1.HA.phsAHar(5).cVal.mag.f': 'bad' });
    poller.start();
    await waitFor(() => readings.some((x) => x.iec61850.source === 'report'), 'GI report');
    const rep = readings.find((x) => x.iec61850.source === 'report') as IedReading;
    assert.equal(rep.payload['MHAI1.HA.phsAHar(7).cVal.mag.f'], 7.5);
    assert.equal(rep.payload['MHAI1.HA.phsAHar(11).cVal.mag.f'], 11.5);
    assert.equal(Object.keys(rep.payload).length, 3 * 3 + 2);
  } finally {
    await poller.stop();
    await l.deregister('p1');
    await server.stop();
  }
});

test('a buffered report control block resumes after reconnect and restart: EntryID kept, nothing delivered twice', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-entry-'));
  const file = path.join(dir, 'entry-ids.json');
  const server = await new MmsTestServer().start();
  const cb = 'simpleIOGenericIO/LLN0.EventsBRCB01 [BR]';
  const set = (i: number, on: boolean) => server.setValue('simpleIOGenericIO', `GGIO1$ST$SPCSO${i}$stVal`, { type: 'boolean', value: on });
  const opened: Array<{ p?: IedPoller; l?: IedLink }> = [];
  const run = (l: IedLink, readings: IedReading[]) => {
    opened.push({ l });
    const p = new IedPoller({ device: 'bay', link: l, intervalMs: 0, entryIds: new EntryIdStore(file), report: { controlBlock: cb, triggers: { dataChange: true, generalInterrogation: true } } });
    p.on('reading', (r) => readings.push(r));
    p.start();
    opened.push({ p });
    return p;
  };
  const changes = (rs: IedReading[]) => rs.filter((r) => r.iec61850.reasons && Object.values(r.iec61850.reasons).some((x) => x.includes('data-change')));
  const l1 = link(server);
  l1.register('p1');
  const first: IedReading[] = [];
  const p1 = run(l1, first);
  try {
    // Entries buffered before the first enable of this client are purged; a GI gives the present state.
    await waitFor(() => first.length >= 1, 'GI after purge');
    assert.ok(Object.values(first[0].iec61850.reasons ?? {}).every((x) => x.includes('general-interrogation')));
    assert.match(first[0].iec61850.entryId ?? '', /^[0-9a-f]{16}$/);
    assert.ok(server.log.some((x) => x.endsWith('EventsBRCB01$PurgeBuf')));
    set(1, true);
    await waitFor(() => changes(first).length === 1, 'data change');
    // Association lost: the IED buffers what happens meanwhile.
    server.dropConnections();
    set(2, true);
    set(3, true);
    await waitFor(() => changes(first).length === 3, 'buffered entries after reconnect');
    assert.deepEqual(changes(first).map((r) => Object.keys(r.payload)), [['GGIO1.SPCSO1.stVal'], ['GGIO1.SPCSO2.stVal'], ['GGIO1.SPCSO3.stVal']]);
    assert.ok(server.log.some((x) => x.endsWith('EventsBRCB01$EntryID')), 'EntryID written before RptEna');
    const ids = first.map((r) => r.iec61850.entryId);
    assert.equal(new Set(ids).size, ids.length, 'no entry twice');
    await p1.stop();
    await l1.deregister('p1');
    // While the runtime is down the IED keeps buffering; a restart resumes from the file.
    set(4, true);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.values(stored), [ids[ids.length - 1]]);
    server.reports.repeatResumedEntry = true;
    const l2 = link(server);
    l2.register('p2');
    const second: IedReading[] = [];
    const p2 = run(l2, second);
    await waitFor(() => changes(second).length >= 1, 'entry buffered during the restart');
    await p2.stop();
    assert.deepEqual(second.map((r) => Object.keys(r.payload)), [['GGIO1.SPCSO4.stVal']], 'only the new entry; the resent one is dropped');
    await l2.deregister('p2');
    // An EntryID the IED no longer has: purge and GI instead of a refusal loop.
    fs.writeFileSync(file, JSON.stringify({ [Object.keys(stored)[0]]: 'ffffffffffffffff' }));
    const l3 = link(server);
    l3.register('p3');
    const third: IedReading[] = [];
    const p3 = run(l3, third);
    const notices: string[] = [];
    p3.on('report-notice', (t) => notices.push(t));
    await waitFor(() => third.length >= 1, 'GI after refused EntryID');
    assert.ok(Object.values(third[0].iec61850.reasons ?? {}).every((x) => x.includes('general-interrogation')));
    assert.deepEqual(third[0].payload, { 'GGIO1.SPCSO1.stVal': true, 'GGIO1.SPCSO2.stVal': true, 'GGIO1.SPCSO3.stVal': true, 'GGIO1.SPCSO4.stVal': true });
    await waitFor(() => notices.length > 0, 'notice');
    assert.match(notices[0], /device "bay": report simpleIOGenericIO\/LLN0.EventsBRCB01 \[BR\]: EntryID ffffffffffffffff no longer buffered by the IED; buffer purged/);
    await p3.stop();
    await l3.deregister('p3');
  } finally {
    for (const o of opened) await (o.p?.stop() ?? o.l?.stop());
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two report control blocks with one RptID: each poller gets only its own block reports', async () => {
  const server = await new MmsTestServer().start();
  // Indexed instances of one block share their RptID in real models.
  server.store.set('simpleIOGenericIO', 'LLN0$RP$EventsIndexed01$RptID', { type: 'visible-string', value: 'Events1' });
  const l = link(server);
  l.register('p');
  const a: IedReading[] = [];
  const b: IedReading[] = [];
  const pa = new IedPoller({ device: 'a', link: l, intervalMs: 0, report: { controlBlock: 'simpleIOGenericIO/LLN0.EventsRCB01 [RP]', triggers: { dataChange: true } } });
  const pb = new IedPoller({ device: 'b', link: l, intervalMs: 0, report: { controlBlock: 'simpleIOGenericIO/LLN0.EventsIndexed01 [RP]', triggers: { dataChange: true } } });
  pa.on('reading', (r) => a.push(r));
  pb.on('reading', (r) => b.push(r));
  try {
    pa.start();
    pb.start();
    await waitFor(() => pa.reportEnabled && pb.reportEnabled, 'both enabled');
    server.setValue('simpleIOGenericIO', 'GGIO1$ST$SPCSO2$stVal', { type: 'boolean', value: true });
    await waitFor(() => a.length >= 1 && b.length >= 1, 'one report per block');
    // Reports and answers share one TCP stream: once this answer is in, every report sent before it is too.
    await l.client?.readValue(parseReference('simpleIOGenericIO/GGIO1.SPCSO2.stVal [ST]'));
    assert.equal(a.length, 1, 'poller a: its block only');
    assert.equal(b.length, 1, 'poller b: its block only');
    assert.notEqual(a[0].iec61850.rptId, b[0].iec61850.rptId);
  } finally {
    await pa.stop();
    await pb.stop();
    await l.deregister('p');
    await server.stop();
  }
});
