import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { AssociationError, DataAccessError, IedTimeoutError } from '../../nodes/lib/iec61850/errors';
import { IedClient } from '../../nodes/lib/iec61850/ied-client';
import { MmsConnection } from '../../nodes/lib/iec61850/mms-connection';
import { IedOptions, resolveIedOptions } from '../../nodes/lib/iec61850/options';
import { parseControlBlockReference, parseDataSetReference, parseReference } from '../../nodes/lib/iec61850/reference';
import { Report } from '../../nodes/lib/iec61850/report';
import { ModelNode } from '../../nodes/lib/iec61850/browse';
import { MmsTestServer, ServerOptions } from '../support/iec61850/server';
import { largeModel } from '../support/iec61850/model';
import { applyDialect } from '../support/iec61850/dialect';
import * as association from '../../nodes/lib/iec61850/association';
import * as session from '../../nodes/lib/iec61850/session';
import type { MmsPdu } from '../../nodes/lib/iec61850/mms-pdu';
import { captureUnits } from '../support/iec61850/replay';

const ref = parseReference;

async function connect(server: MmsTestServer, o: Partial<IedOptions> = {}): Promise<IedClient> {
  const conn = await MmsConnection.open(resolveIedOptions({ name: 'ied1', host: '127.0.0.1', port: server.port, timeoutMs: 2000, ...o }));
  return new IedClient(conn);
}

async function withServer<T>(options: ServerOptions, fn: (s: MmsTestServer) => Promise<T>): Promise<T> {
  const s = await new MmsTestServer(options).start();
  try {
    return await fn(s);
  } finally {
    await s.stop();
  }
}

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let server: MmsTestServer;
let client: IedClient;

before(async () => {
  server = await new MmsTestServer().start();
  client = await connect(server);
});

after(async () => {
  await client.connection.close();
  await server.stop();
});

test('associates and negotiates PDU size, outstanding requests and TPDU size', async () => {
  const n = client.connection.negotiated;
  assert.equal(n.maxPduSize, 65000);
  assert.equal(n.maxOutstanding, 5);
  assert.equal(n.tpduSize, 8192);
  assert.deepEqual(await client.identify(), { vendor: 'energy-rtu', model: 'MMS test server', revision: '1' });
});

test('browses logical devices, nodes, data objects, attributes with FC and type', async () => {
  const model = await client.browse({ types: true });
  assert.deepEqual(model.map((ld) => ld.name), ['simpleIOGenericIO', 'ied1Inverter']);
  const io = model[0];
  assert.deepEqual(io.children?.map((ln) => ln.name), ['GGIO1', 'LLN0', 'LPHD1']);
  const ggio = io.children?.find((ln) => ln.name === 'GGIO1') as ModelNode;
  const anIn1 = ggio.children?.find((d) => d.name === 'AnIn1') as ModelNode;
  assert.equal(anIn1.kind, 'do');
  const mag = anIn1.children?.find((d) => d.name === 'mag');
  const f = mag?.children?.find((d) => d.name === 'f');
  assert.deepEqual(f, { name: 'f', kind: 'da', fc: 'MX', type: 'float32', reference: 'simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]' });
  assert.equal(anIn1.children?.find((d) => d.name === 'q')?.type, 'quality');
  const mod = ggio.children?.find((d) => d.name === 'Mod') as ModelNode;
  assert.deepEqual(mod.children?.map((a) => `${a.name} [${a.fc}]`).sort(), ['ctlModel [CF]', 'q [ST]', 'stVal [ST]', 't [ST]']);
  const lln0 = io.children?.find((ln) => ln.name === 'LLN0') as ModelNode;
  assert.deepEqual(lln0.children?.filter((c) => c.kind === 'dataset').map((c) => c.reference), [
    'simpleIOGenericIO/LLN0.Events',
    'simpleIOGenericIO/LLN0.Events2',
    'simpleIOGenericIO/LLN0.Measurements',
  ]);
  assert.ok(lln0.children?.some((c) => c.kind === 'rcb' && c.reference === 'simpleIOGenericIO/LLN0.EventsRCB01 [RP]'));
  const mmtr = model[1].children?.find((ln) => ln.name === 'MMTR1');
  assert.equal(mmtr?.children?.[1]?.children?.find((a) => a.name === 'actVal')?.type, 'int64');
});

test('reads single and multiple references, all MMS types', async () => {
  const f = await client.readValue(ref('simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]'));
  assert.ok(f.type === 'float' && Math.abs(f.value - 0.09) < 1e-6);
  const out = await client.read([
    ref('ied1Inverter/MMTR1.TotWh.actVal [ST]'),
    ref('ied1Inverter/MMXU1.TotPF.mag.f [MX]'),
    ref('ied1Inverter/LLN0.NamPlt.dU [DC]'),
    ref('simpleIOGenericIO/GGIO1.Ind2.stVal [ST]'),
    ref('simpleIOGenericIO/GGIO1.AnIn1 [MX]'),
  ]);
  assert.ok(out.every((o) => o.ok));
  const values = out.map((o) => (o.ok ? o.value : undefined));
  assert.deepEqual(values[0], { type: 'integer', value: 2n ** 53n + 7n });
  assert.deepEqual(values[1], { type: 'float', value: 0.98765432101, double: true });
  assert.deepEqual(values[2], { type: 'mms-string', value: 'Wechselrichter Süd' });
  assert.deepEqual(values[3], { type: 'boolean', value: true });
  assert.equal(values[4]?.type, 'structure');
});

test('an unknown reference fails alone, with an error naming it', async () => {
  const out = await client.read([ref('simpleIOGenericIO/GGIO1.AnIn9.mag.f [MX]'), ref('simpleIOGenericIO/GGIO1.AnIn2.mag.f [MX]')]);
  assert.equal(out[0].ok, false);
  assert.ok(!out[0].ok && out[0].error instanceof DataAccessError);
  assert.match(String(!out[0].ok && out[0].error.message), /read simpleIOGenericIO\/GGIO1\.AnIn9\.mag\.f \[MX\]: object-non-existent \(DataAccessError 10\)/);
  assert.equal(out[1].ok, true);
  await assert.rejects(client.readValue(ref('nosuchLD/GGIO1.AnIn1.mag.f [MX]')), /nosuchLD\/GGIO1.AnIn1.mag.f \[MX\]: object-non-existent/);
  await assert.rejects(client.typeOfReference(ref('simpleIOGenericIO/XXXX1.A.b [MX]')), /getVariableAccessAttributes simpleIOGenericIO\/XXXX1.A.b \[MX\]: definition error 1/);
});

test('reads a data set and its directory', async () => {
  const ds = parseDataSetReference('simpleIOGenericIO/LLN0.Measurements');
  const members = await client.dataSetDirectory(ds);
  assert.equal(members.length, 8);
  assert.deepEqual(members[0], { scope: 'domain', domain: 'simpleIOGenericIO', item: 'GGIO1$MX$AnIn1$mag$f' });
  const results = await client.readDataSet(ds);
  assert.equal(results.length, 8);
  assert.ok(results[6].ok && results[6].value.type === 'float' && Math.abs(results[6].value.value - 230.1) < 1e-3);
  assert.ok(results[7].ok && results[7].value.type === 'bit-string');
  assert.ok(server.log.includes('read simpleIOGenericIO/LLN0$Measurements'));
});

test('writes, and refuses with the reason named', async () => {
  const vendor = ref('simpleIOGenericIO/GGIO1.NamPlt.vendor [DC]');
  await client.write(vendor, { type: 'visible-string', value: 'rtu' });
  assert.deepEqual(await client.readValue(vendor), { type: 'visible-string', value: 'rtu' });
  await assert.rejects(client.write(ref('simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]'), { type: 'float', value: 1 }), /write simpleIOGenericIO\/GGIO1.AnIn1.mag.f \[MX\]: object-access-denied/);
  await assert.rejects(client.write(vendor, { type: 'integer', value: 1 }), /type-inconsistent/);
});

test('reports: enable with GI, data change, integrity, disable', async () => {
  const reports: Report[] = [];
  const onReport = (r: Report): void => void reports.push(r);
  client.on('report', onReport);
  try {
    const cb = parseControlBlockReference('simpleIOGenericIO/LLN0.EventsRCB01 [RP]');
    const sub = await client.enableReport(cb, { generalInterrogation: true, triggers: { dataChange: true, integrity: true, generalInterrogation: true }, integrityPeriodMs: 80 });
    assert.equal(sub.rptId, 'Events1');
    assert.deepEqual(sub.dataSet, { ld: 'simpleIOGenericIO', item: 'LLN0$Events' });
    assert.equal(sub.members.length, 4);
    await waitFor(() => reports.some((r) => r.entries[0]?.reasons?.includes('general-interrogation')), 'GI report');
    const gi = reports.find((r) => r.entries[0]?.reasons?.includes('general-interrogation')) as Report;
    assert.equal(gi.rptId, 'Events1');
    assert.equal(gi.dataSet, 'simpleIOGenericIO/LLN0$Events');
    assert.equal(gi.entries.length, 4);
    server.setValue('simpleIOGenericIO', 'GGIO1$ST$SPCSO2$stVal', { type: 'boolean', value: true });
    await waitFor(() => reports.some((r) => r.entries.length === 1 && r.entries[0].index === 1), 'data-change report');
    const change = reports.find((r) => r.entries.length === 1) as Report;
    assert.deepEqual(change.entries[0], { index: 1, value: { type: 'boolean', value: true }, reasons: ['data-change'] });
    await waitFor(() => reports.filter((r) => r.entries[0]?.reasons?.includes('integrity')).length >= 2, 'integrity reports');
    // A second client may not take a control block the first one holds.
    const other = await connect(server);
    await assert.rejects(other.enableReport(cb), /EventsRCB01.RptEna \[RP\]: object-access-denied/);
    await other.connection.close();
    await client.disableReport(cb);
    const count = reports.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(reports.length <= count + 1, 'no reports after disable');
  } finally {
    client.removeListener('report', onReport);
  }
});

test('name lists page with continueAfter and large answers are segmented at a small TPDU size', async () => {
  await withServer({ model: largeModel(40), namesPerPage: 25, tpduSize: 128 }, async (s) => {
    const c = await connect(s);
    assert.equal(c.connection.negotiated.tpduSize, 128);
    const names = await c.variableNames('bigLD');
    assert.equal(names.length, 40 * 21);
    assert.equal(new Set(names).size, names.length);
    assert.ok(s.log.filter((l) => l.includes('after')).length >= 28);
    const tree = await c.browse({ types: true });
    assert.equal(tree[0].children?.length, 40);
    await c.connection.close();
  });
});

test('never more requests in flight than negotiated; the rest queue', async () => {
  await withServer({ maxOutstanding: 2, responseDelayMs: 10 }, async (s) => {
    const c = await connect(s, { maxOutstanding: 10 });
    assert.equal(c.connection.negotiated.maxOutstanding, 2);
    const reads = Array.from({ length: 20 }, (_, i) => c.readValue(ref(`simpleIOGenericIO/GGIO1.AnIn${1 + (i % 4)}.mag.f [MX]`)));
    assert.equal(c.connection.load.inFlight, 2);
    assert.equal(c.connection.load.queued, 18);
    const values = await Promise.all(reads);
    assert.equal(values.length, 20);
    assert.equal(s.peakInFlight, 2);
    await c.connection.close();
  });
});

test('refused associations say why', async () => {
  await withServer({ expect: { tsel: '0002' } }, async (s) => {
    await assert.rejects(connect(s), /ied1: transport connection refused.*TSAP/);
    const c = await connect(s, { remoteTsel: '0002' });
    await c.connection.close();
  });
  await withServer({ expect: { ssel: '0002' } }, async (s) => {
    await assert.rejects(connect(s), (e: unknown) => e instanceof AssociationError && /session connect refused: session selector unknown/.test(e.message));
  });
  await withServer({ expect: { psel: '00000002' } }, async (s) => {
    await assert.rejects(connect(s), /presentation: called presentation address unknown/);
  });
  await withServer({ expect: { apTitle: '1.3.9999.13' } }, async (s) => {
    await assert.rejects(connect(s), /association rejected \(permanent\): called AP title not recognized/);
    const c = await connect(s, { calledApTitle: '1.3.9999.13' });
    await c.connection.close();
  });
  await withServer({ expect: { password: 'top secret' } }, async (s) => {
    await assert.rejects(connect(s), /authentication required/);
    await assert.rejects(connect(s, { password: 'wrong' }), /authentication failure; a password was sent and may be wrong/);
    const c = await connect(s, { password: 'top secret' });
    await c.connection.close();
  });
  await withServer({}, async (s) => {
    s.faults.rejectAssociation = true;
    await assert.rejects(connect(s), /rejected \(permanent\): no reason given; check AP-title/);
    // An IED that gives no reason when the password is wrong: the message still points at the password.
    await assert.rejects(connect(s, { password: 'maybe' }), /ied1: association rejected \(permanent\): no reason given; a password was sent and may be wrong/);
  });
  await assert.rejects(connect({ port: 1 } as MmsTestServer), /ied1: cannot connect to 127.0.0.1:1/);
});

test('a server that closes mid-response, sends garbage or corrupt PDUs, or goes silent: the request fails clearly', async () => {
  await withServer({}, async (s) => {
    const anIn = ref('simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]');
    const cases: Array<[keyof MmsTestServer['faults'], RegExp]> = [
      ['closeMidResponse', /ied1: connection closed by the peer/],
      ['garbage', /ied1: malformed frame: tpkt: version 71/],
      ['corruptPdu', /ied1: malformed frame: (ber|mms)/],
    ];
    for (const [fault, message] of cases) {
      const c = await connect(s);
      const closed = new Promise<Error | undefined>((resolve) => c.connection.on('close', resolve));
      s.faults[fault] = true;
      await assert.rejects(c.readValue(anIn), message, fault);
      assert.match(String((await closed)?.message), message);
      assert.equal(c.connection.isOpen, false);
      await assert.rejects(c.readValue(anIn), /not connected/);
    }
    const c = await connect(s, { timeoutMs: 150 });
    s.faults.silent = true;
    await assert.rejects(c.readValue(anIn), (e: unknown) => e instanceof IedTimeoutError && /no answer to read simpleIOGenericIO\/GGIO1.AnIn1.mag.f \[MX\] within 150 ms/.test(e.message));
    await waitFor(() => s.connectionCount === 0, 'server side closed');
  });
});

test('conclude and release end the association cleanly', async () => {
  await withServer({}, async (s) => {
    const c = await connect(s);
    await c.readValue(ref('simpleIOGenericIO/GGIO1.AnIn1.mag.f [MX]'));
    await c.connection.close();
    await waitFor(() => s.connectionCount === 0, 'server connection closed');
    assert.equal(c.connection.isOpen, false);
  });
});

test('answers that overtake each other are matched to their requests by invoke id', async () => {
  await withServer({ responseJitterMs: 15 }, async (s) => {
    const c = await connect(s);
    const expected = [0.09, 1.5, -3.25, 230.1];
    const reads = Array.from({ length: 24 }, (_, i) => c.readValue(ref(`simpleIOGenericIO/GGIO1.AnIn${1 + (i % 4)}.mag.f [MX]`)));
    const values = await Promise.all(reads);
    values.forEach((v, i) => assert.ok(v.type === 'float' && Math.abs(v.value - expected[i % 4]) < 1e-3, `read ${i}`));
    const order = s.answerOrder.slice(-24);
    assert.notDeepEqual(order, [...order].sort((a, b) => a - b), 'the server really answered out of order');
    await c.connection.close();
  });
});

test('an IED using indefinite BER lengths and long-form session lengths is understood', async () => {
  const unit = applyDialect(association.encodeMmsData({ kind: 'confirmed-response', invokeId: 1, response: { service: 'read', results: [{ ok: true, value: { type: 'boolean', value: true } }] } }), {
    indefiniteLengths: true,
    longSessionLengths: true,
  });
  assert.equal(unit.subarray(0, 8).toString('hex'), '01ff000001ff0000');
  assert.equal(unit.subarray(8, 10).toString('hex'), '6180', 'presentation data with an indefinite length');
  await withServer({ dialect: { indefiniteLengths: true, longSessionLengths: true } }, async (s) => {
    const c = await connect(s);
    const model = await c.browse({ types: true });
    assert.equal(model[0].children?.find((ln) => ln.name === 'GGIO1')?.children?.find((d) => d.name === 'AnIn1')?.children?.[0]?.children?.[0]?.type, 'float32');
    const v = await c.readValue(ref('simpleIOGenericIO/GGIO1.AnIn4.mag.f [MX]'));
    assert.ok(v.type === 'float' && Math.abs(v.value - 230.1) < 1e-3);
    assert.equal((await c.readDataSet(parseDataSetReference('simpleIOGenericIO/LLN0.Events'))).length, 4);
    const reports: Report[] = [];
    c.on('report', (r) => reports.push(r));
    await c.enableReport(parseControlBlockReference('simpleIOGenericIO/LLN0.EventsRCB01 [RP]'), { generalInterrogation: true });
    await waitFor(() => reports.length > 0, 'report in indefinite form');
    assert.equal(reports[0].entries.length, 4);
    await c.connection.close();
  });
});

test('the requests of the client are the captured client\'s, octet for octet', async () => {
  const captured = [...captureUnits('full_sequence.log'), ...captureUnits('report_session.log')].filter((u) => u.dir === 'C->S' && u.spdu.kind === 'DATA');
  const capturedHex = new Set(captured.map((u) => u.tsdu.toString('hex')));
  await withServer({}, async (s) => {
    const c = await connect(s);
    const io = 'simpleIOGenericIO';
    await c.logicalDevices();
    await c.variableNames(io);
    await c.typeOf({ scope: 'domain', domain: io, item: 'GGIO1$MX$AnIn1' });
    await c.readValue(ref(`${io}/GGIO1.AnIn1.mag.f [MX]`));
    await c.write(ref(`${io}/GGIO1.NamPlt.vendor [DC]`), { type: 'visible-string', value: 'libiec61850.com' });
    await c.readDataSet(parseDataSetReference(`${io}/LLN0.Events`));
    const cb = parseControlBlockReference(`${io}/LLN0.EventsRCB01 [RP]`);
    await c.enableReport(cb, { triggers: { dataUpdate: true, integrity: true, generalInterrogation: true }, integrityPeriodMs: 5000, generalInterrogation: true });
    await c.connection.conclude();
    // Same requests, renumbered as the captured client numbered them: every one must be a captured unit.
    const ours = s.requestUnits.map((u) => association.decodeMmsData(session.decodeSpdu(u) as Extract<session.Spdu, { kind: 'DATA' }>));
    const isCaptured = (pdu: MmsPdu): boolean => {
      if (pdu.kind !== 'confirmed-request') return capturedHex.has(association.encodeMmsData(pdu).toString('hex'));
      return Array.from({ length: 8 }, (_, id) => association.encodeMmsData({ ...pdu, invokeId: id + 1 }).toString('hex')).some((h) => capturedHex.has(h));
    };
    const describe = (p: MmsPdu): string =>
      p.kind !== 'confirmed-request'
        ? p.kind
        : `${p.request.service} ${'name' in p.request ? p.request.name.item : 'access' in p.request && p.request.access.kind === 'list' ? p.request.access.variables.map((v) => v.item).join('+') : ''}`.trim();
    // Where our client differs from the captured one, it is in what it asks before enabling a report:
    // the RCB's RptID and DatSet, the data set directory and its members' types (to name report values).
    assert.deepEqual(ours.filter((p) => !isCaptured(p)).map(describe), [
      'read LLN0$RP$EventsRCB01$RptID+LLN0$RP$EventsRCB01$DatSet',
      'getNamedVariableListAttributes LLN0$Events',
      'getVariableAccessAttributes GGIO1$ST$SPCSO1$stVal',
      'getVariableAccessAttributes GGIO1$ST$SPCSO2$stVal',
      'getVariableAccessAttributes GGIO1$ST$SPCSO3$stVal',
      'getVariableAccessAttributes GGIO1$ST$SPCSO4$stVal',
    ]);
    assert.equal(ours.filter(isCaptured).length, 9);
    c.connection.destroy();
  });
});

test('DatSet of a report control block is set where the IED allows it, refused clearly where not', async () => {
  await withServer({}, async (s) => {
    const c = await connect(s);
    try {
      const cb = parseControlBlockReference('simpleIOGenericIO/LLN0.EventsRCB01 [RP]');
      const sub = await c.enableReport(cb, { dataSet: 'simpleIOGenericIO/LLN0$Measurements' });
      assert.deepEqual(sub.dataSet, { ld: 'simpleIOGenericIO', item: 'LLN0$Measurements' });
      assert.equal(sub.members.length, 8);
      await c.disableReport(cb);
      await assert.rejects(c.enableReport(cb, { dataSet: 'simpleIOGenericIO/LLN0$NoSuch' }), /write simpleIOGenericIO\/LLN0.EventsRCB01.DatSet \[RP\]: object-value-invalid/);
      s.reports.fixedAttributes.add('DatSet');
      await assert.rejects(c.enableReport(cb, { dataSet: 'simpleIOGenericIO/LLN0$Events' }), /write simpleIOGenericIO\/LLN0.EventsRCB01.DatSet \[RP\]: object-access-denied/);
    } finally {
      await c.connection.close();
    }
  });
});

test('two blocks with one RptID: a unique RptID is written, or the clash is refused naming both blocks', async () => {
  await withServer({}, async (s) => {
    s.store.set('simpleIOGenericIO', 'LLN0$RP$EventsIndexed01$RptID', { type: 'visible-string', value: 'Events1' });
    const c = await connect(s);
    try {
      const a = await c.enableReport(parseControlBlockReference('simpleIOGenericIO/LLN0.EventsRCB01 [RP]'));
      const b = await c.enableReport(parseControlBlockReference('simpleIOGenericIO/LLN0.EventsIndexed01 [RP]'));
      assert.equal(a.rptId, 'Events1');
      assert.equal(b.rptId, 'simpleIOGenericIO/LLN0$RP$EventsIndexed01');
      await c.disableReport(b.controlBlock);
      s.store.set('simpleIOGenericIO', 'LLN0$RP$EventsIndexed01$RptID', { type: 'visible-string', value: 'Events1' });
      s.reports.fixedAttributes.add('RptID');
      await assert.rejects(
        c.enableReport(parseControlBlockReference('simpleIOGenericIO/LLN0.EventsIndexed01 [RP]')),
        /ied1: simpleIOGenericIO\/LLN0.EventsIndexed01 \[RP\] and simpleIOGenericIO\/LLN0.EventsRCB01 \[RP\] both report with RptID "Events1".*refused a unique RptID/,
      );
    } finally {
      await c.connection.close();
    }
  });
});
