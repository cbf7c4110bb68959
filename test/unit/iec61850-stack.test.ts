import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as association from '../../nodes/lib/iec61850/association';
import { decodeAcse } from '../../nodes/lib/iec61850/acse';
import { AssociationError, DecodeError } from '../../nodes/lib/iec61850/errors';
import { decodeMms, defaultInitiate, encodeMms, MmsPdu } from '../../nodes/lib/iec61850/mms-pdu';
import * as pres from '../../nodes/lib/iec61850/presentation';
import * as session from '../../nodes/lib/iec61850/session';
import { CAPTURES, corruptions, prng } from '../support/iec61850/captures';
import { captureUnits, Unit } from '../support/iec61850/replay';

const CAPTURED_ADDRESS = {
  callingSsel: Buffer.from('0001', 'hex'),
  calledSsel: Buffer.from('0001', 'hex'),
  callingPsel: Buffer.from('00000001', 'hex'),
  calledPsel: Buffer.from('00000001', 'hex'),
  calledApTitle: '1.1.1.999.1',
  calledAeQualifier: 12,
  callingApTitle: '1.1.1.999',
  callingAeQualifier: 12,
};

function mmsOf(u: Unit): MmsPdu {
  assert.equal(u.spdu.kind, 'DATA', `line ${u.line}`);
  return association.decodeMmsData(u.spdu as Extract<session.Spdu, { kind: 'DATA' }>);
}

test('association of every capture decodes, and the request re-encodes byte-for-byte', () => {
  for (const name of CAPTURES) {
    const units = captureUnits(name);
    const connect = units[0];
    assert.equal(connect.spdu.kind, 'CONNECT');
    if (connect.spdu.kind !== 'CONNECT') continue;
    const request = association.decodeAssociateRequest(connect.spdu);
    assert.equal(request.callingApTitle, '1.1.1.999');
    assert.equal(request.calledApTitle, '1.1.1.999.1');
    assert.equal(request.calledAeQualifier, 12);
    assert.equal(request.initiate.maxPduSize, 65000);
    assert.equal(request.initiate.maxServOutstandingCalling, 5);
    assert.deepEqual(request.contexts.map((c) => [c.id, c.abstractSyntax]), [
      [1, pres.ACSE_ABSTRACT_SYNTAX],
      [3, pres.MMS_ABSTRACT_SYNTAX],
    ]);
    const again = association.encodeAssociateRequest({ ...CAPTURED_ADDRESS, initiate: defaultInitiate() });
    assert.equal(again.toString('hex'), connect.tsdu.toString('hex'), `${name}: CONNECT`);

    const accept = units[1];
    const response = association.decodeAssociateResponse(accept.spdu, 'capture');
    assert.equal(response.aare.result, 0);
    assert.equal(response.initiate.maxPduSize, 65000);
    assert.equal(response.initiate.maxServOutstandingCalled, 5);
    assert.equal(response.respondingPsel?.toString('hex'), '00000001');
    // The server side of our stack answers with the same octets as the captured server.
    const answer = association.encodeAssociateResponse({
      respondingSsel: Buffer.from('0001', 'hex'),
      respondingPsel: Buffer.from('00000001', 'hex'),
      contexts: request.contexts,
      result: 0,
      initiate: { kind: 'initiate-response', params: response.initiate },
    });
    assert.equal(answer.toString('hex'), accept.tsdu.toString('hex'), `${name}: ACCEPT`);
  }
});

test('every MMS PDU of the captures decodes and re-encodes to the captured octets', () => {
  let pdus = 0;
  for (const name of CAPTURES) {
    for (const u of captureUnits(name).slice(2)) {
      if (u.spdu.kind !== 'DATA') continue;
      const pdu = mmsOf(u);
      pdus++;
      assert.equal(association.encodeMmsData(pdu).toString('hex'), u.tsdu.toString('hex'), `${name} line ${u.line}: ${pdu.kind}`);
      if (u.dir === 'C->S') assert.ok(['confirmed-request', 'conclude-request'].includes(pdu.kind), `line ${u.line}`);
    }
  }
  assert.ok(pdus >= 25, `${pdus} PDUs`);
});

test('the captured conversations mean what the README says', () => {
  const full = captureUnits('full_sequence.log').slice(2).filter((u) => u.spdu.kind === 'DATA').map(mmsOf);
  const [domainsReq, domainsRes, varsReq, varsRes, vaaReq, vaaRes] = full;
  assert.deepEqual(domainsReq, {
    kind: 'confirmed-request',
    invokeId: 1,
    request: { service: 'getNameList', objectClass: 9, scope: { kind: 'vmd' }, continueAfter: undefined },
  });
  assert.deepEqual(domainsRes, {
    kind: 'confirmed-response',
    invokeId: 1,
    response: { service: 'getNameList', identifiers: ['simpleIOGenericIO'], moreFollows: false },
  });
  assert.equal(varsReq.kind === 'confirmed-request' && varsReq.request.service === 'getNameList' && varsReq.request.scope.kind, 'domain');
  assert.ok(varsRes.kind === 'confirmed-response' && varsRes.response.service === 'getNameList');
  if (varsRes.kind === 'confirmed-response' && varsRes.response.service === 'getNameList') {
    assert.equal(varsRes.response.identifiers.length, 304);
    assert.ok(varsRes.response.identifiers.includes('GGIO1$MX$AnIn1$mag$f'));
    assert.ok(varsRes.response.identifiers.includes('LLN0$RP$EventsRCB01$RptEna'));
  }
  assert.ok(vaaReq.kind === 'confirmed-request' && vaaReq.request.service === 'getVariableAccessAttributes');
  assert.ok(vaaRes.kind === 'confirmed-response' && vaaRes.response.service === 'getVariableAccessAttributes');
  if (vaaRes.kind === 'confirmed-response' && vaaRes.response.service === 'getVariableAccessAttributes') {
    assert.deepEqual(vaaRes.response.type, {
      type: 'structure',
      components: [
        {
          name: 'mag',
          spec: { type: 'structure', components: [{ name: 'f', spec: { type: 'float', formatWidth: 32, exponentWidth: 8 } }] },
        },
        { name: 'q', spec: { type: 'bit-string', size: -13 } },
        { name: 't', spec: { type: 'utc-time' } },
      ],
    });
  }
  const failure = full.find((p) => p.kind === 'confirmed-response' && p.response.service === 'read' && !p.response.results[0].ok);
  assert.ok(failure && failure.kind === 'confirmed-response' && failure.response.service === 'read');
  if (failure?.kind === 'confirmed-response' && failure.response.service === 'read') {
    assert.deepEqual(failure.response.results, [{ ok: false, error: 10 }]);
  }

  const report = captureUnits('report_session.log')
    .filter((u) => u.spdu.kind === 'DATA')
    .map(mmsOf)
    .find((p) => p.kind === 'information-report');
  assert.ok(report && report.kind === 'information-report');
  if (report?.kind === 'information-report') {
    assert.deepEqual(report.report.access, { kind: 'named-list', name: { scope: 'vmd', item: 'RPT' } });
    assert.equal(report.report.results.length, 15);
    assert.deepEqual(report.report.results[0], { ok: true, value: { type: 'visible-string', value: 'Events1' } });
  }
});

test('release: FINISH with RLRQ and DISCONNECT with RLRE re-encode as captured', () => {
  const units = captureUnits('full_sequence.log');
  const finish = units.find((u) => u.spdu.kind === 'FINISH');
  const disconnect = units.find((u) => u.spdu.kind === 'DISCONNECT');
  assert.ok(finish && disconnect);
  if (finish?.spdu.kind !== 'FINISH' || disconnect?.spdu.kind !== 'DISCONNECT') return;
  assert.deepEqual(association.decodeReleaseUnit(finish.spdu), { kind: 'RLRQ', reason: 0 });
  assert.deepEqual(association.decodeReleaseUnit(disconnect.spdu), { kind: 'RLRE', reason: undefined });
  assert.equal(association.encodeReleaseRequest().toString('hex'), finish.tsdu.toString('hex'));
  assert.equal(association.encodeReleaseResponse().toString('hex'), disconnect.tsdu.toString('hex'));
});

test('session lengths switch to the long form above 254 octets, both ways', () => {
  for (const size of [0, 10, 254, 255, 256, 1000, 65000]) {
    const userData = Buffer.alloc(size, 0x42);
    const cn = session.encodeConnect(Buffer.from([0, 1]), Buffer.from([0, 2]), userData);
    const decoded = session.decodeSpdu(cn);
    assert.equal(decoded.kind, 'CONNECT');
    if (decoded.kind === 'CONNECT') {
      assert.deepEqual(decoded.userData, userData);
      assert.deepEqual(decoded.calledSsel, Buffer.from([0, 2]));
    }
    if (size >= 255) assert.equal(cn[1], 0xff, `${size}: long-form SPDU length`);
    const ac = session.decodeSpdu(session.encodeAccept(Buffer.from([0, 2]), userData));
    assert.ok(ac.kind === 'ACCEPT' && ac.userData.equals(userData));
  }
  // A long-form length in a position where some IEDs use it even for short values.
  const longForm = Buffer.from('0dff0010 0506130100160102 3302000134020001'.replace(/ /g, ''), 'hex');
  const cn = session.decodeSpdu(longForm);
  assert.equal(cn.kind, 'CONNECT');
  assert.ok(cn.kind === 'CONNECT' && cn.calledSsel?.equals(Buffer.from([0, 1])));
  assert.equal(session.decodeSpdu(session.encodeAbort()).kind, 'ABORT');
  const rf = session.decodeSpdu(session.encodeRefuse(2, pres.encodeCpr(3)));
  assert.ok(rf.kind === 'REFUSE' && rf.reason === 2);
  assert.throws(() => association.decodeAssociateResponse(rf, 'ied1'), /ied1: session connect refused.*called presentation address unknown/);
});

test('a rejected association names the reason', () => {
  const rejected = association.encodeAssociateResponse({
    respondingSsel: Buffer.from([0, 1]),
    respondingPsel: Buffer.from([0, 0, 0, 1]),
    contexts: pres.DEFAULT_CONTEXTS,
    result: 1,
    diagnostic: 7,
  });
  assert.throws(() => association.decodeAssociateResponse(session.decodeSpdu(rejected), 'bay3'), /bay3: association rejected \(permanent\): called AP title not recognized/);
});

test('ACSE with password authentication round-trips', () => {
  const request = association.encodeAssociateRequest({ ...CAPTURED_ADDRESS, password: 'sécret', initiate: defaultInitiate(32000, 3) });
  const spdu = session.decodeSpdu(request);
  assert.ok(spdu.kind === 'CONNECT');
  if (spdu.kind !== 'CONNECT') return;
  const decoded = association.decodeAssociateRequest(spdu);
  assert.equal(decoded.password, 'sécret');
  assert.equal(decoded.initiate.maxPduSize, 32000);
  assert.equal(decoded.initiate.maxServOutstandingCalling, 3);
  const aarq = decodeAcse(pres.decodeCp(spdu.userData).userData[0].data);
  assert.equal(aarq.kind, 'AARQ');
});

test('MMS PDUs of every kind round-trip through encode and decode', () => {
  const pdus: MmsPdu[] = [
    { kind: 'confirmed-request', invokeId: 70000, request: { service: 'getNameList', objectClass: 0, scope: { kind: 'domain', domain: 'LD1' }, continueAfter: 'GGIO1$MX' } },
    { kind: 'confirmed-request', invokeId: 2, request: { service: 'identify' } },
    { kind: 'confirmed-request', invokeId: 3, request: { service: 'getNamedVariableListAttributes', name: { scope: 'domain', domain: 'LD1', item: 'LLN0$Events' } } },
    { kind: 'confirmed-response', invokeId: 2, response: { service: 'identify', vendor: 'v', model: 'm', revision: '1.0' } },
    {
      kind: 'confirmed-response',
      invokeId: 3,
      response: { service: 'getNamedVariableListAttributes', deletable: false, variables: [{ scope: 'domain', domain: 'LD1', item: 'GGIO1$ST$Ind1$stVal' }] },
    },
    { kind: 'confirmed-error', invokeId: 9, error: { errorClass: 'access', code: 2, additionalCode: undefined, description: undefined } },
    { kind: 'reject', invokeId: 4, problem: 'confirmed-request', code: 1 },
    { kind: 'conclude-request' },
    { kind: 'conclude-error', error: { errorClass: 'conclude', code: 1, additionalCode: undefined, description: undefined } },
    { kind: 'initiate-error', error: { errorClass: 'initiate', code: 0, additionalCode: 5, description: 'busy' } },
  ];
  for (const pdu of pdus) assert.deepEqual(decodeMms(encodeMms(pdu)), pdu, pdu.kind);
});

test('fuzz: truncated and corrupted session units only ever raise DecodeError', () => {
  const rand = prng(8327);
  let attempts = 0;
  for (const name of CAPTURES) {
    for (const u of captureUnits(name)) {
      const budget = u.tsdu.length > 2000 ? 30 : 300;
      for (const variant of corruptions(u.tsdu.subarray(0, 2000), rand, budget)) {
        attempts++;
        try {
          const spdu = session.decodeSpdu(variant);
          if (spdu.kind === 'DATA') association.decodeMmsData(spdu);
          else if (spdu.kind === 'CONNECT') association.decodeAssociateRequest(spdu);
          else if (spdu.kind === 'FINISH' || spdu.kind === 'DISCONNECT') association.decodeReleaseUnit(spdu);
          else association.decodeAssociateResponse(spdu, 'fuzz');
        } catch (err) {
          if (err instanceof DecodeError) continue;
          if (err instanceof AssociationError) continue;
          throw new Error(`${name} line ${u.line}: non-DecodeError on ${variant.toString('hex')}: ${String(err)}`);
        }
      }
    }
  }
  assert.ok(attempts > 10000, `${attempts} attempts`);
});
