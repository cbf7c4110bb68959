/**
 * Control encodings. The captures hold no control traffic, so these vectors are
 * assembled by hand from the structures of IEC 61850-8-1 clause 20 (Oper, LastApplError,
 * CommandTermination) and the MMS Data / Write ASN.1 (ISO 9506-2); TLV lengths are
 * counted by the small helper below, independent of the stack's BER encoder.
 *
 *   Write.request [5] { listOfVariable [0] { SEQ { name [0] { domain-specific [1] { LD, "LN$CO$DO$Oper" } } } },
 *                        listOfData [0] { Oper } }
 *   Oper = structure [2] { ctlVal boolean [3], origin structure [2] { orCat integer [5], orIdent octet-string [9] },
 *                          ctlNum unsigned [6], T utc-time [17] (8 octets), Test boolean [3], Check bit-string [4] (2 bits) }
 *   Check: bit 0 synchrocheck, bit 1 interlock-check → 2 bits = one octet, 6 unused: `84 02 06 xx`.
 *   LastApplError = structure { CntrlObj visible-string [10], Error integer, Origin { orCat, orIdent }, ctlNum unsigned, AddCause integer }
 *   CommandTermination- = InformationReport { listOfVariable { vmd "LastApplError", domain "LN$CO$DO$Oper" }, { LastApplError, Oper } }
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ber from '../../nodes/lib/iec61850/ber';
import { buildControlValue, ControlParameters, decodeControlReport, describeLastApplError } from '../../nodes/lib/iec61850/control';
import { decodeMms, encodeMms } from '../../nodes/lib/iec61850/mms-pdu';
import { encodeRequest } from '../../nodes/lib/iec61850/mms-services';
import { TypeSpec } from '../../nodes/lib/iec61850/mms-types';
import { parseControlObject } from '../../nodes/lib/iec61850/control-client';

/** A TLV with a definite length (short or 0x81/0x82 long form), from hex content. */
function tlv(tag: string, ...content: string[]): string {
  const body = content.join('').replace(/\s+/g, '');
  const n = body.length / 2;
  const len = n < 0x80 ? n.toString(16).padStart(2, '0') : n < 0x100 ? `81${n.toString(16).padStart(2, '0')}` : `82${n.toString(16).padStart(4, '0')}`;
  return `${tag}${len}${body}`;
}
const text = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

const OPER_TYPE: TypeSpec = {
  type: 'structure',
  components: [
    { name: 'ctlVal', spec: { type: 'boolean' } },
    { name: 'origin', spec: { type: 'structure', components: [{ name: 'orCat', spec: { type: 'integer', bits: 8 } }, { name: 'orIdent', spec: { type: 'octet-string', size: -64 } }] } },
    { name: 'ctlNum', spec: { type: 'unsigned', bits: 8 } },
    { name: 'T', spec: { type: 'utc-time' } },
    { name: 'Test', spec: { type: 'boolean' } },
    { name: 'Check', spec: { type: 'bit-string', size: 2 } },
  ],
};

const PARAMS: ControlParameters = {
  ctlVal: { type: 'boolean', value: true },
  orCat: 3,
  orIdent: Buffer.from('rtu'),
  ctlNum: 7,
  time: { seconds: 1795000000, fraction: 0x800000, quality: 0x0a },
  test: false,
  interlockCheck: true,
  synchroCheck: false,
};

const OPER_DATA = tlv('a2', '830101', tlv('a2', '850103', tlv('89', text('rtu'))), '860107', '91086afd86c08000000a', '830100', '84020640');

test('Oper is built from the object type and encodes as IEC 61850-8-1 lays it out', () => {
  const oper = buildControlValue(OPER_TYPE, PARAMS, 'Oper');
  const request = Buffer.from(encodeRequest({ service: 'write', access: { kind: 'list', variables: [{ scope: 'domain', domain: 'ied1Inverter', item: 'GGIO2$CO$SPCSO1$Oper' }] }, values: [oper] })).toString('hex');
  const expected = tlv('a5', tlv('a0', tlv('30', tlv('a0', tlv('a1', tlv('1a', text('ied1Inverter')), tlv('1a', text('GGIO2$CO$SPCSO1$Oper')))))), tlv('a0', OPER_DATA));
  assert.equal(request, expected);
  // Synchrocheck alone is bit 0; Cancel has no Check; an operTm component is sent as zero time.
  const sync = buildControlValue(OPER_TYPE, { ...PARAMS, interlockCheck: false, synchroCheck: true }, 'Oper');
  assert.deepEqual(sync.type === 'structure' && sync.value[5], { type: 'bit-string', value: [true, false] });
  const withOperTm: TypeSpec = { type: 'structure', components: [OPER_TYPE.type === 'structure' ? OPER_TYPE.components[0] : (undefined as never), { name: 'operTm', spec: { type: 'utc-time' } }] };
  assert.deepEqual(buildControlValue(withOperTm, PARAMS, 'SBOw'), { type: 'structure', value: [{ type: 'boolean', value: true }, { type: 'utc-time', value: { seconds: 0, fraction: 0, quality: 0 } }] });
  assert.throws(() => buildControlValue({ type: 'structure', components: [{ name: 'ctlVal', spec: { type: 'boolean' } }, { name: 'odd', spec: { type: 'boolean' } }] }, PARAMS, 'Oper'), /Oper has a component "odd"/);
});

/** An unconfirmed InformationReport PDU: A3 { A0 { listOfVariable [0] ... }, listOfAccessResult [0] { ... } }. */
const report = (variables: string, results: string): Buffer => Buffer.from(tlv('a3', tlv('a0', tlv('a0', variables), tlv('a0', results))), 'hex');
const operName = tlv('30', tlv('a0', tlv('a1', tlv('1a', text('ied1Inverter')), tlv('1a', text('GGIO2$CO$SPCSO4$Oper')))));
const lastApplErrorName = tlv('30', tlv('a0', tlv('80', text('LastApplError'))));
const LAST_APPL_ERROR = tlv('a2', tlv('8a', text('ied1Inverter/GGIO2$CO$SPCSO4$Oper')), '850101', tlv('a2', '850103', tlv('89', text('rtu'))), '860107', '85010a');

test('LastApplError and CommandTermination (positive and negative) decode from their 8-1 structures', () => {
  const alone = decodeMms(report(lastApplErrorName, LAST_APPL_ERROR));
  assert.ok(alone.kind === 'information-report');
  const c = alone.kind === 'information-report' ? decodeControlReport(alone.report) : undefined;
  assert.deepEqual(c, {
    kind: 'last-appl-error',
    error: { controlObject: 'ied1Inverter/GGIO2$CO$SPCSO4$Oper', error: 1, orCat: 3, orIdent: Buffer.from('rtu'), ctlNum: 7, addCause: 10 },
  });
  if (c?.kind === 'last-appl-error') assert.equal(describeLastApplError(c.error), 'Blocked-by-interlocking (AddCause 10, Unknown, ctlNum 7 from remote-control "rtu")');
  const positive = decodeMms(report(operName, OPER_DATA));
  assert.deepEqual(positive.kind === 'information-report' && decodeControlReport(positive.report), {
    kind: 'command-termination',
    controlObject: 'ied1Inverter/GGIO2$CO$SPCSO4$Oper',
    positive: true,
    oper: buildControlValue(OPER_TYPE, PARAMS, 'Oper'),
  });
  const negative = decodeMms(report(lastApplErrorName + operName, LAST_APPL_ERROR + OPER_DATA));
  const n = negative.kind === 'information-report' ? decodeControlReport(negative.report) : undefined;
  assert.ok(n?.kind === 'command-termination' && !n.positive && n.error.addCause === 10);
  // And the stack encodes the same octets for what it decoded.
  assert.equal(encodeMms(negative).toString('hex'), report(lastApplErrorName + operName, LAST_APPL_ERROR + OPER_DATA).toString('hex'));
  // Reports that are neither: undefined.
  const rpt = report(tlv('30', tlv('a0', tlv('80', text('RPT')))), '830100');
  const other = decodeMms(rpt);
  assert.equal(other.kind === 'information-report' && decodeControlReport(other.report), undefined);
  assert.equal(ber.readOne(rpt).tag, 3);
});

test('control objects are LD/LN.DO, FC CO implied', () => {
  assert.deepEqual(parseControlObject('ied1Inverter/GGIO2.SPCSO1'), { ld: 'ied1Inverter', ln: 'GGIO2', path: ['SPCSO1'], fc: 'CO' });
  assert.deepEqual(parseControlObject('ied1Inverter/GGIO2.SPCSO1 [CO]').path, ['SPCSO1']);
  assert.throws(() => parseControlObject('ied1Inverter/GGIO2.SPCSO1 [ST]'), /must have FC CO/);
  assert.throws(() => parseControlObject('ied1Inverter/GGIO2'), /names no data object/);
  assert.throws(() => parseControlObject('GGIO2.SPCSO1'), /has no logical device/);
});
