/**
 * Alternate access of data set members. The captures hold no data set with array
 * elements, so the vectors below are assembled by hand from the MMS ASN.1
 * (ISO 9506-2: listOfVariable entry = SEQUENCE { variableSpecification, alternateAccess [5] IMPLICIT }):
 *
 *   phsAHar(7):               A5 03 | 82 01 07                      selectAccess index [2] = 7
 *   phsAHar(10).cVal.mag.f:   A5 .. | A0 .. 81 01 0A                selectAlternateAccess { index [1] = 10,
 *                                     30 .. A0 .. 80 04 "cVal"        AlternateAccess { selectAlternateAccess { component [0] "cVal",
 *                                     30 .. A0 .. 80 03 "mag"          AlternateAccess { selectAlternateAccess { component [0] "mag",
 *                                     30 03 81 01 "f"                    AlternateAccess { selectAccess component [1] "f" } } } } } }
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ber from '../../nodes/lib/iec61850/ber';
import { DecodeError } from '../../nodes/lib/iec61850/errors';
import { decodeVariable, encodeVariable, VariableName } from '../../nodes/lib/iec61850/mms-names';
import { decodeResponse, encodeResponse } from '../../nodes/lib/iec61850/mms-services';
import { formatReference, fromObjectName, parseReference, toObjectName } from '../../nodes/lib/iec61850/reference';
import { selectType, selectValue } from '../../nodes/lib/iec61850/alternate-access';
import { TypeSpec } from '../../nodes/lib/iec61850/mms-types';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string): string => Buffer.from(s, 'latin1').toString('hex');
/** variableSpecification name [0] { domain-specific [1] { "ied1Inverter", "MHAI1$MX$HA$phsAHar" } } */
const NAME = `a0 25 a1 23 1a 0c ${text('ied1Inverter')} 1a 13 ${text('MHAI1$MX$HA$phsAHar')}`;
const ELEMENT_7 = hex(`30 2c ${NAME} a5 03 82 01 07`);
const COMPONENT = `a0 1b 81 01 0a 30 16 a0 14 80 04 ${text('cVal')} 30 0c a0 0a 80 03 ${text('mag')} 30 03 81 01 ${text('f')}`;
const ELEMENT_10_F = hex(`30 46 ${NAME} a5 1d ${COMPONENT}`);

const el7: VariableName = { scope: 'domain', domain: 'ied1Inverter', item: 'MHAI1$MX$HA$phsAHar', alternate: [{ kind: 'index', index: 7 }] };
const el10f: VariableName = {
  scope: 'domain',
  domain: 'ied1Inverter',
  item: 'MHAI1$MX$HA$phsAHar',
  alternate: [{ kind: 'index', index: 10 }, { kind: 'component', name: 'cVal' }, { kind: 'component', name: 'mag' }, { kind: 'component', name: 'f' }],
};

test('data set members with alternate access decode fully and encode byte for byte', () => {
  assert.deepEqual(decodeVariable(ber.readOne(ELEMENT_7)), el7);
  assert.deepEqual(decodeVariable(ber.readOne(ELEMENT_10_F)), el10f);
  assert.equal(encodeVariable(el7).toString('hex'), ELEMENT_7.toString('hex'));
  assert.equal(encodeVariable(el10f).toString('hex'), ELEMENT_10_F.toString('hex'));
  // A component path sent as one identifier joined with $ decodes to the same steps.
  const joined = hex(`30 3c ${NAME} a5 13 a0 11 81 01 0a 30 0c 81 0a ${text('cVal$mag$f')}`);
  assert.deepEqual(decodeVariable(ber.readOne(joined)), el10f);
  // Five members of one array variable keep five names in a GetNamedVariableListAttributes response.
  const members: VariableName[] = [3, 5, 7].map((index) => ({ ...el7, alternate: [{ kind: 'index', index }] }));
  members.push(el10f, { ...el10f, alternate: [{ kind: 'index', index: 11 }, ...(el10f.alternate ?? []).slice(1)] });
  const pdu = encodeResponse({ service: 'getNamedVariableListAttributes', deletable: false, variables: members });
  const back = decodeResponse(ber.readOne(pdu));
  assert.ok(back.service === 'getNamedVariableListAttributes');
  if (back.service !== 'getNamedVariableListAttributes') return;
  const refs = back.variables.map((v) => formatReference(fromObjectName(v) as never));
  assert.deepEqual(refs, [
    'ied1Inverter/MHAI1.HA.phsAHar(3) [MX]',
    'ied1Inverter/MHAI1.HA.phsAHar(5) [MX]',
    'ied1Inverter/MHAI1.HA.phsAHar(7) [MX]',
    'ied1Inverter/MHAI1.HA.phsAHar(10).cVal.mag.f [MX]',
    'ied1Inverter/MHAI1.HA.phsAHar(11).cVal.mag.f [MX]',
  ]);
  // Broken alternate access is a DecodeError, never a crash.
  for (let n = 2; n < ELEMENT_10_F.length; n++) {
    try {
      decodeVariable(ber.readOne(ELEMENT_10_F.subarray(0, n)));
    } catch (err) {
      assert.ok(err instanceof DecodeError, `${n}: ${(err as Error).message}`);
    }
  }
});

test('references with array elements map to a name plus alternate access, and select value and type', () => {
  const ref = parseReference('ied1Inverter/MHAI1.HA.phsAHar(10).cVal.mag.f [MX]');
  assert.deepEqual(toObjectName(ref), el10f);
  assert.deepEqual(toObjectName(parseReference('ied1Inverter/MHAI1.HA.phsAHar(7) [MX]')), el7);
  assert.throws(() => parseReference('LD/MHAI1.HA.phsAHar(x) [MX]'), /invalid name "phsAHar\(x\)"/);
  const cmv: TypeSpec = { type: 'structure', components: [{ name: 'cVal', spec: { type: 'structure', components: [{ name: 'mag', spec: { type: 'structure', components: [{ name: 'f', spec: { type: 'float', formatWidth: 32, exponentWidth: 8 } }] } }] } }] };
  const arr: TypeSpec = { type: 'array', count: 16, element: cmv };
  assert.deepEqual(selectType(arr, el10f.alternate ?? []), { type: 'float', formatWidth: 32, exponentWidth: 8 });
  assert.equal(selectType(cmv, el7.alternate ?? []), undefined);
  const value = { type: 'array' as const, value: Array.from({ length: 16 }, (_, i) => ({ type: 'structure' as const, value: [{ type: 'structure' as const, value: [{ type: 'structure' as const, value: [{ type: 'float' as const, value: i }] }] }] })) };
  assert.deepEqual(selectValue(value, arr, el10f.alternate ?? []), { type: 'float', value: 10 });
  assert.equal(selectValue(value, arr, [{ kind: 'index', index: 16 }]), undefined);
});
