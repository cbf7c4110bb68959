import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IedLink } from '../../nodes/lib/iec61850/ied-link';
import { resolveIedOptions } from '../../nodes/lib/iec61850/options';
import { ControlError, ControlRequest, ControlResult, operate } from '../../nodes/lib/iec61850/control-client';
import { buildControlValue, decodeControlReport, LastApplError } from '../../nodes/lib/iec61850/control';
import { MmsTestServer } from '../support/iec61850/server';
import { CAUSE } from '../support/iec61850/controls';

let server: MmsTestServer;
let link: IedLink;

async function waitFor(cond: () => boolean, what: string, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function newLink(): IedLink {
  return new IedLink(resolveIedOptions({ name: 'bay1', host: '127.0.0.1', port: server.port, timeoutMs: 1000 }), { reconnectMinMs: 30, reconnectMaxMs: 200 });
}

before(async () => {
  server = await new MmsTestServer().start();
  link = newLink();
  link.register('t');
  await waitFor(() => !!link.client, 'association');
});
after(async () => {
  await link.deregister('t');
  await server.stop();
});

const req = (object: string, value: unknown, extra: Partial<ControlRequest> = {}): ControlRequest => ({
  object: `ied1Inverter/GGIO2.${object}`,
  value,
  orCat: 3,
  orIdent: 'node-red',
  test: false,
  interlockCheck: false,
  synchroCheck: false,
  terminationTimeoutMs: 2000,
  ...extra,
});

const stVal = (name: string): unknown => {
  const v = server.store.read('ied1Inverter', `GGIO2$ST$${name}$stVal`);
  return typeof v === 'number' ? v : v.value;
};

async function refused(p: Promise<ControlResult>): Promise<ControlResult> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ControlError, String(err));
    return err.result;
  }
  throw new Error('the control succeeded');
}

test('the four control models, each in its sequence', async () => {
  const direct = await operate(link, req('SPCSO1', true));
  assert.deepEqual([direct.ok, direct.ctlModel, direct.steps], [true, 'direct-with-normal-security', ['read ctlModel', 'Oper']]);
  assert.equal(stVal('SPCSO1'), true);
  const sbo = await operate(link, req('SPCSO2', true));
  assert.deepEqual([sbo.ctlModel, sbo.steps], ['sbo-with-normal-security', ['read ctlModel', 'read SBO', 'Oper']]);
  assert.equal(stVal('SPCSO2'), true);
  const enhanced = await operate(link, req('SPCSO3', true));
  assert.deepEqual([enhanced.ctlModel, enhanced.steps], ['direct-with-enhanced-security', ['read ctlModel', 'Oper', 'CommandTermination+']]);
  const sboE = await operate(link, req('SPCSO4', true, { interlockCheck: true }));
  assert.deepEqual([sboE.ctlModel, sboE.steps], ['sbo-with-enhanced-security', ['read ctlModel', 'SBOw', 'Oper', 'CommandTermination+']]);
  assert.equal(stVal('SPCSO4'), true);
  assert.equal((sboE.ctlNum as number) - (enhanced.ctlNum as number), 1, 'ctlNum incremented per command');
  const setPoint = await operate(link, req('ISCSO1', 42));
  assert.ok(setPoint.ok);
  assert.equal(stVal('ISCSO1'), 42);
  // Cancel of a selection: select with SBOw by hand, then cancel through the client.
  const cancelled = await refused(operate(link, req('SPCSO4', false, { cancel: true })));
  assert.equal(cancelled.addCause, CAUSE.notSelected, 'Cancel without a selection is refused');
});

test('refusals carry LastApplError: blocked by interlocking, negative CommandTermination, select timeout, already selected', async () => {
  server.controls.interlocked.add('ied1Inverter/GGIO2.SPCSO4');
  try {
    const r = await refused(operate(link, req('SPCSO4', false, { interlockCheck: true })));
    assert.equal(r.addCause, CAUSE.blockedByInterlocking);
    assert.equal(r.addCauseText, 'Blocked-by-interlocking');
    assert.match(r.error ?? '', /^IED "bay1": control ied1Inverter\/GGIO2.SPCSO4: SBOw refused \(object-access-denied.*\): Blocked-by-interlocking \(AddCause 10, Unknown, ctlNum \d+ from remote-control "node-red"\)$/);
    assert.deepEqual(r.steps, ['read ctlModel', 'SBOw']);
  } finally {
    server.controls.interlocked.clear();
  }
  server.controls.failExecution.set('ied1Inverter/GGIO2.SPCSO3', CAUSE.blockedByProcess);
  try {
    const r = await refused(operate(link, req('SPCSO3', false)));
    assert.deepEqual(r.steps, ['read ctlModel', 'Oper', 'CommandTermination-']);
    assert.equal(r.addCause, CAUSE.blockedByProcess);
    assert.match(r.error ?? '', /CommandTermination negative: Blocked-by-process/);
  } finally {
    server.controls.failExecution.clear();
  }
  // Select timeout: SBO read selects, the select expires before Oper arrives.
  server.store.set('ied1Inverter', 'GGIO2$CF$SPCSO2$sboTimeout', { type: 'unsigned', value: 1 });
  const client = link.client;
  assert.ok(client);
  if (!client) return;
  const reports: LastApplError[] = [];
  client.on('information-report', (x) => {
    const c = decodeControlReport(x);
    if (c?.kind === 'last-appl-error') reports.push(c.error);
  });
  const sbo = await client.readValue({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO2', 'SBO'] });
  assert.deepEqual(sbo, { type: 'visible-string', value: 'ied1Inverter/GGIO2$CO$SPCSO2' });
  await waitFor(() => !server.controls.isSelected('ied1Inverter/GGIO2.SPCSO2'), 'select timeout');
  const type = await client.typeOfReference({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO2', 'Oper'] });
  const params = { ctlVal: { type: 'boolean' as const, value: false }, orCat: 3, orIdent: Buffer.from('x'), ctlNum: 9, time: { seconds: 0, fraction: 0, quality: 0 }, test: false, interlockCheck: false, synchroCheck: false };
  await assert.rejects(client.write({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO2', 'Oper'] }, buildControlValue(type, params, 'Oper')), /object-access-denied/);
  assert.equal(reports.at(-1)?.addCause, CAUSE.notSelected, 'Oper after the select timed out: Object-not-selected');
  server.store.set('ied1Inverter', 'GGIO2$CF$SPCSO2$sboTimeout', { type: 'unsigned', value: 30_000 });
  // Wrong ctlNum: SBOw with one ctlNum, Oper with another.
  const sbow = await client.typeOfReference({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO4', 'SBOw'] });
  await client.write({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO4', 'SBOw'] }, buildControlValue(sbow, params, 'SBOw'));
  const oper4 = await client.typeOfReference({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO4', 'Oper'] });
  await assert.rejects(client.write({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO4', 'Oper'] }, buildControlValue(oper4, { ...params, ctlNum: 10 }, 'Oper')), /object-access-denied/);
  assert.equal(reports.at(-1)?.addCause, CAUSE.inconsistent, 'wrong ctlNum: Inconsistent-parameters');
  // Another client holds the selection: our select is refused.
  const other = newLink();
  other.register('o');
  try {
    await waitFor(() => !!other.client, 'second association');
    await other.client?.write({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO4', 'SBOw'] }, buildControlValue(sbow, params, 'SBOw'));
    const r = await refused(operate(link, req('SPCSO4', true)));
    assert.equal(r.addCause, CAUSE.alreadySelected);
    await other.client?.readValue({ ld: 'ied1Inverter', ln: 'GGIO2', fc: 'CO', path: ['SPCSO2', 'SBO'] });
    const busy = await refused(operate(link, req('SPCSO2', true)));
    assert.match(busy.error ?? '', /select refused \(SBO read empty\)/);
  } finally {
    await other.deregister('o');
  }
});

test('bad input: unknown object, status-only object, ctlVal of the wrong type, no CommandTermination, association lost', async () => {
  const unknown = await refused(operate(link, req('NoSuch1', true)));
  assert.match(unknown.error ?? '', /^IED "bay1": control ied1Inverter\/GGIO2.NoSuch1: no such control object/);
  const statusOnly = await refused(operate(link, req('SPCSO5', true)));
  assert.match(statusOnly.error ?? '', /^IED "bay1": control ied1Inverter\/GGIO2.SPCSO5: the object is status-only \(ctlModel 0\)/);
  const wrongType = await refused(operate(link, req('SPCSO1', 'maybe')));
  assert.match(wrongType.error ?? '', /^IED "bay1": control ied1Inverter\/GGIO2.SPCSO1: ctlVal "maybe" does not fit \("maybe" is not a boolean\)/);
  const tooBig = await refused(operate(link, req('ISCSO1', 2 ** 40)));
  assert.match(tooBig.error ?? '', /ctlVal 1099511627776 does not fit/);
  const badRef = await refused(operate(link, req('SPCSO1', true, { object: 'GGIO2.SPCSO1' })));
  assert.match(badRef.error ?? '', /control GGIO2.SPCSO1: reference "GGIO2.SPCSO1 \[CO\]" has no logical device/);
  server.controls.terminationDelayMs = Infinity;
  try {
    const silent = await refused(operate(link, req('SPCSO3', true, { terminationTimeoutMs: 50 })));
    assert.match(silent.error ?? '', /no CommandTermination within 50 ms/);
    const opers = (): number => server.controls.log.filter((x) => x.startsWith('Oper ied1Inverter/GGIO2.SPCSO3')).length;
    const before = opers();
    const pending = operate(link, req('SPCSO3', true));
    await waitFor(() => opers() > before, 'Oper received');
    server.dropConnections();
    const lost = await refused(pending);
    assert.match(lost.error ?? '', /association lost before the CommandTermination/);
  } finally {
    server.controls.terminationDelayMs = 5;
  }
  await waitFor(() => !!link.client, 'reassociation');
  const down = newLink();
  const outage = await refused(operate(down, req('SPCSO1', true)));
  assert.match(outage.error ?? '', /^IED "bay1": control ied1Inverter\/GGIO2.SPCSO1: bay1: not connected/);
});
