/** rtu-iec61850-control in the real Node-RED runtime, against the project's MMS test server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import iedNode from '../../nodes/rtu-iec61850-ied/rtu-iec61850-ied';
import controlNode from '../../nodes/rtu-iec61850-control/rtu-iec61850-control';
import { testMode } from '../../nodes/lib/test-mode';
import { caughtErrors, coreNode, helper, helperNodes, nextMessage, useNodeRed } from '../support/node-red';
import { waitFor } from '../support/wait';
import { MmsTestServer } from '../support/iec61850/server';

let server: MmsTestServer;
before(async () => {
  server = await new MmsTestServer().start();
});
after(async () => {
  await server.stop();
});
useNodeRed('rtu-iec-control-');

interface ControlOut {
  payload: unknown;
  topic: string;
  control: {
    outcome: string;
    ied: string;
    object: string;
    ctlModel?: string;
    steps?: string[];
    durationMs: number;
    error?: string;
    addCause?: number;
    addCauseText?: string;
    wouldSend?: string;
  };
}

const catchNode = coreNode('common/25-catch.js');

function flow(object: string, extra: Record<string, unknown> = {}): Array<Record<string, unknown>> {
  return [
    { id: 'tab', type: 'tab', label: 'control' },
    { id: 'ied', type: 'rtu-iec61850-ied', name: 'bay1', host: '127.0.0.1', port: server.port, timeout: 1000, reconnectMax: 2 },
    { id: 'ctl', z: 'tab', x: 100, y: 100, type: 'rtu-iec61850-control', name: 'ctl', ied: 'ied', object, orCat: 3, orIdent: 'node-red', interlockCheck: true, timeout: 2, wires: [['out']], ...extra },
    ...helperNodes('tab', 'out'),
    ...caughtErrors('tab'),
  ];
}

const stVal = (item: string): unknown => {
  const v = server.store.read('ied1Inverter', item);
  return typeof v === 'number' ? v : v.value;
};

test('a message in operates the object in its control model; the result comes out with outcome, steps and time', async () => {
  await helper.load([iedNode, controlNode, catchNode], flow('ied1Inverter/GGIO2.SPCSO4'));
  const ctl = helper.getNode('ctl');
  ctl.receive({ payload: true });
  const r = await nextMessage<ControlOut>('out');
  assert.equal(r.payload, true);
  assert.equal(r.topic, 'ied1Inverter/GGIO2.SPCSO4');
  assert.equal(r.control.outcome, 'success', r.control.error);
  assert.equal(r.control.ctlModel, 'sbo-with-enhanced-security');
  assert.deepEqual(r.control.steps, ['read ctlModel', 'SBOw', 'Oper', 'CommandTermination+']);
  assert.ok(r.control.durationMs >= 0);
  assert.equal(stVal('GGIO2$ST$SPCSO4$stVal'), true);
  ctl.receive({ payload: 17, object: 'ied1Inverter/GGIO2.ISCSO1' });
  const sp = await nextMessage<ControlOut>('out', (m) => m.topic === 'ied1Inverter/GGIO2.ISCSO1');
  assert.equal(sp.control.outcome, 'success');
  assert.equal(stVal('GGIO2$ST$ISCSO1$stVal'), 17);
});

test('a refused control: result with AddCause, the error to Catch naming IED and object, red status', async () => {
  server.controls.interlocked.add('ied1Inverter/GGIO2.SPCSO1');
  try {
    await helper.load([iedNode, controlNode, catchNode], flow('ied1Inverter/GGIO2.SPCSO1'));
    helper.getNode('ctl').receive({ payload: true });
    const r = await nextMessage<ControlOut>('out');
    assert.equal(r.control.outcome, 'failed');
    assert.equal(r.control.addCause, 10);
    assert.equal(r.control.addCauseText, 'Blocked-by-interlocking');
    const caught = await nextMessage<{ error: { message: string } }>('caught');
    assert.match(caught.error.message, /^(Error: )?IED "bay1": control ied1Inverter\/GGIO2.SPCSO1: Oper refused .*Blocked-by-interlocking \(AddCause 10/);
    helper.getNode('ctl').receive({ payload: 'half' });
    const bad = await nextMessage<{ error: { message: string } }>('caught', (m) => /half/.test(m.error.message));
    assert.match(bad.error.message, /IED "bay1": control ied1Inverter\/GGIO2.SPCSO1: ctlVal "half" does not fit/);
    helper.getNode('ctl').receive({});
    const empty = await nextMessage<{ error: { message: string } }>('caught', (m) => /no ctlVal/.test(m.error.message));
    assert.match(empty.error.message, /control "ctl": IED "bay1": control ied1Inverter\/GGIO2.SPCSO1: msg.payload holds no ctlVal/);
  } finally {
    server.controls.interlocked.clear();
  }
});

test('test mode: a dry run, nothing sent, the message says what would have been', async () => {
  await helper.load([iedNode, controlNode, catchNode], flow('ied1Inverter/GGIO2.SPCSO3'));
  const before = server.controls.log.length;
  const writes = server.log.length;
  testMode.set(true, 'test');
  try {
    helper.getNode('ctl').receive({ payload: true });
    const r = await nextMessage<ControlOut>('out');
    assert.equal(r.control.outcome, 'dry-run');
    assert.match(r.control.wouldSend ?? '', /would operate with ctlVal true on ied1Inverter\/GGIO2.SPCSO3 .*orCat 3, orIdent "node-red", Test false, interlock check; nothing sent/);
    assert.equal(server.controls.log.length, before);
    assert.ok(server.log.slice(writes).every((l) => !l.startsWith('write')), 'nothing written');
  } finally {
    testMode.set(false, 'test');
  }
});

test('a bad control object in the configuration is a red status naming it', async () => {
  await helper.load([iedNode, controlNode, catchNode], flow('GGIO2.SPCSO1'));
  helper.getNode('ctl').receive({ payload: true });
  const caught = await nextMessage<{ error: { message: string } }>('caught');
  assert.match(caught.error.message, /control "ctl": reference "GGIO2.SPCSO1 \[CO\]" has no logical device/);
});

test('the control example flow deploys and operates the test server', async () => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'examples', 'rtu-iec61850-control.json'))) dir = path.dirname(dir);
  const example = JSON.parse(fs.readFileSync(path.join(dir, 'examples', 'rtu-iec61850-control.json'), 'utf8')) as Array<Record<string, unknown>>;
  const nodes = example
    .filter((n) => n.type !== 'inject' && n.type !== 'comment')
    .map((n) => {
      if (n.type === 'rtu-iec61850-ied') return { ...n, host: '127.0.0.1', port: server.port };
      if (n.type === 'debug') return { id: n.id, z: n.z, x: n.x, y: n.y, type: 'helper', wires: [] };
      return n;
    });
  await helper.load([iedNode, controlNode, catchNode], nodes);
  helper.getNode('rtu_iecc_ex_control').receive({ payload: true });
  const r = await nextMessage<ControlOut>('rtu_iecc_ex_result');
  assert.equal(r.control.outcome, 'success', r.control.error);
  await waitFor(() => server.store.read('simpleIOGenericIO', 'GGIO1$ST$SPCSO1$stVal') !== undefined, 'state');
  const v = server.store.read('simpleIOGenericIO', 'GGIO1$ST$SPCSO1$stVal');
  assert.ok(typeof v !== 'number' && v.value === true);
});
