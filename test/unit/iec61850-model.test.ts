import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import * as association from '../../nodes/lib/iec61850/association';
import { buildLogicalDevice, ModelNode } from '../../nodes/lib/iec61850/browse';
import { DecodeError } from '../../nodes/lib/iec61850/errors';
import { resolveIedOptions } from '../../nodes/lib/iec61850/options';
import {
  defaultPointName,
  formatReference,
  mmsItem,
  parseControlBlockReference,
  parseDataSetReference,
  parseReference,
} from '../../nodes/lib/iec61850/reference';
import { decodeReport } from '../../nodes/lib/iec61850/report';
import { decodeQuality, flatten, fromPointValue, readingQuality, toPointValue } from '../../nodes/lib/iec61850/values';
import { MmsPdu } from '../../nodes/lib/iec61850/mms-pdu';
import { MmsValue } from '../../nodes/lib/iec61850/mms-data';
import { TypeSpec } from '../../nodes/lib/iec61850/mms-types';
import { buildReading, leavesOf } from '../../nodes/lib/iec61850/readings';
import { fixturesDir } from '../support/iec61850/captures';
import { captureUnits } from '../support/iec61850/replay';

function capturedPdus(name: string): MmsPdu[] {
  return captureUnits(name).flatMap((u) => (u.spdu.kind === 'DATA' ? [association.decodeMmsData(u.spdu)] : []));
}

test('references map to MMS names as IEC 61850-8-1 says', () => {
  const r = parseReference('ied1Inverter/MMXU1.TotW.mag.f [MX]');
  assert.deepEqual(r, { ld: 'ied1Inverter', ln: 'MMXU1', path: ['TotW', 'mag', 'f'], fc: 'MX' });
  assert.equal(mmsItem(r), 'MMXU1$MX$TotW$mag$f');
  assert.equal(formatReference(r), 'ied1Inverter/MMXU1.TotW.mag.f [MX]');
  assert.equal(defaultPointName(r), 'MMXU1.TotW.mag.f');
  assert.deepEqual(parseReference('simpleIOGenericIO/GGIO1$MX$AnIn1$mag$f'), parseReference('simpleIOGenericIO/GGIO1.AnIn1.mag.f[mx]'));
  assert.deepEqual(parseReference(' LD/GGIO1.AnIn1 (MX) ').path, ['AnIn1']);
  const bad: Array<[string, RegExp]> = [
    ['GGIO1.AnIn1.mag.f [MX]', /has no logical device/],
    ['LD/GGIO1.AnIn1.mag.f', /has no functional constraint/],
    ['LD/GGIO1.AnIn1.mag.f [XX]', /unknown functional constraint "XX"/],
    ['LD/GGIO1..f [MX]', /empty name/],
    ['LD/GGIO1.An In1 [MX]', /invalid name "An In1"/],
    ['LD/GGIO1$MX$A [ST]', /mixes MMS form/],
    [`LD/GGIO1.${'x'.repeat(70)} [MX]`, /longer than 64/],
  ];
  for (const [text, re] of bad) {
    assert.throws(() => parseReference(text), (e: unknown) => e instanceof RangeError && re.test(e.message) && e.message.includes(text.trim()), text);
  }
  assert.deepEqual(parseDataSetReference('simpleIOGenericIO/LLN0.Events'), { ld: 'simpleIOGenericIO', item: 'LLN0$Events' });
  assert.throws(() => parseDataSetReference('LLN0.Events'), /is not LD\/LN.Name/);
  assert.deepEqual(parseControlBlockReference('simpleIOGenericIO/LLN0.EventsRCB01 [RP]'), { ld: 'simpleIOGenericIO', ln: 'LLN0', name: 'EventsRCB01', fc: 'RP' });
  assert.deepEqual(parseControlBlockReference('simpleIOGenericIO/LLN0$BR$EventsBRCB01').fc, 'BR');
  assert.throws(() => parseControlBlockReference('LD/LLN0.X [ST]'), /is not LD\/LN.Name \[RP\]/);
});

test('the captured report decodes: RptID, options, sequence, time, data set, inclusion, values, reasons', () => {
  const pdu = capturedPdus('report_session.log').find((p) => p.kind === 'information-report');
  assert.ok(pdu && pdu.kind === 'information-report');
  if (pdu?.kind !== 'information-report') return;
  const report = decodeReport(pdu.report);
  assert.equal(report.rptId, 'Events1');
  assert.equal(report.seqNum, 0);
  assert.equal(report.dataSet, 'simpleIOGenericIO/LLN0$Events');
  assert.equal(report.confRev, 1);
  assert.equal(new Date(report.timeOfEntry as number).toISOString(), '2026-11-21T04:41:25.968Z');
  assert.deepEqual(report.entries.map((e) => e.index), [0, 1, 2, 3]);
  assert.deepEqual(report.entries[0], { index: 0, value: { type: 'boolean', value: false }, reasons: ['general-interrogation'] });
  // Truncated reports are decode errors, not crashes.
  for (let n = 0; n < pdu.report.results.length; n++) {
    assert.throws(() => decodeReport({ ...pdu.report, results: pdu.report.results.slice(0, n) }), DecodeError);
  }
});

/** LD → LN → DO → DA lines of model-basic-io.txt, as paths. */
function modelFilePaths(): string[] {
  const text = fs.readFileSync(path.join(fixturesDir(), 'model-basic-io.txt'), 'utf8');
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\s*)(LD|LN|DO|DA): (\S+)/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 2;
    stack.length = depth;
    stack[depth] = m[3];
    out.push(stack.join('/'));
  }
  return out.sort();
}

function treePaths(node: ModelNode, prefix = ''): string[] {
  const here = prefix ? `${prefix}/${node.name}` : node.name;
  if (node.kind === 'dataset' || node.kind === 'rcb') return [];
  return [here, ...(node.children ?? []).flatMap((c) => treePaths(c, here))];
}

test('the captured name list builds the model of model-basic-io.txt', () => {
  const pdus = capturedPdus('full_sequence.log');
  const names = pdus.find((p) => p.kind === 'confirmed-response' && p.response.service === 'getNameList' && p.response.identifiers.length > 100);
  assert.ok(names?.kind === 'confirmed-response' && names.response.service === 'getNameList');
  if (names?.kind !== 'confirmed-response' || names.response.service !== 'getNameList') return;
  const tree = buildLogicalDevice('simpleIOGenericIO', names.response.identifiers, ['LLN0$Events', 'LLN0$Events2', 'LLN0$Measurements']);
  // The model file lists each DA once under its DO, whatever its FC; the tree keeps one node per FC.
  const unique = [...new Set(treePaths(tree))].sort();
  assert.deepEqual(unique, modelFilePaths());
  const lln0 = tree.children?.find((c) => c.name === 'LLN0');
  assert.deepEqual(lln0?.children?.filter((c) => c.kind === 'rcb').map((c) => c.name).sort(), [
    'EventsBRCB01', 'EventsBRCBPreConf01', 'EventsIndexed01', 'EventsIndexed02', 'EventsIndexed03',
    'EventsRCB01', 'EventsRCBPreConf01', 'Measurements01', 'Measurements02', 'Measurements03',
  ]);
  assert.equal(lln0?.children?.find((c) => c.name === 'Measurements' && c.kind === 'dataset')?.reference, 'simpleIOGenericIO/LLN0.Measurements');
});

test('values become reading values; quality maps onto good / stale / bad', () => {
  assert.equal(toPointValue({ type: 'integer', value: 2n ** 53n + 7n }), '9007199254740999');
  assert.equal(toPointValue({ type: 'integer', value: 2n ** 40n }), 2 ** 40);
  assert.equal(toPointValue({ type: 'float', value: NaN }), null);
  assert.equal(toPointValue({ type: 'bit-string', value: [true, false, true] }), 5);
  assert.equal(toPointValue({ type: 'octet-string', value: Buffer.from([1, 0xab]) }), '01ab');
  assert.equal(toPointValue({ type: 'utc-time', value: { seconds: 1_700_000_000, fraction: 0x800000, quality: 0 } }), 1_700_000_000_500);
  const q = (...on: number[]): boolean[] => Array.from({ length: 13 }, (_, i) => on.includes(i));
  assert.equal(readingQuality(q()), 'good');
  assert.equal(readingQuality(q(1)), 'bad');
  assert.equal(readingQuality(q(0, 1, 7)), 'stale');
  assert.deepEqual(decodeQuality(q(0, 1, 7, 10, 11)), { validity: 'questionable', details: ['oldData'], substituted: true, test: true, operatorBlocked: false });
  const flat = flatten(
    'AnIn1',
    { type: 'structure', value: [{ type: 'structure', value: [{ type: 'float', value: 1 }] }, { type: 'bit-string', value: q() }] },
    { type: 'structure', components: [{ name: 'mag', spec: { type: 'structure', components: [{ name: 'f', spec: { type: 'float', formatWidth: 32, exponentWidth: 8 } }] } }, { name: 'q', spec: { type: 'bit-string', size: 13 } }] },
  );
  assert.deepEqual(flat.map((f) => f.name), ['AnIn1.mag.f', 'AnIn1.q']);
  assert.deepEqual(flatten('x', { type: 'structure', value: [{ type: 'boolean', value: true }] }).map((f) => f.name), ['x.0']);
});

test('IED options: defaults of the usual client, and clear errors for bad fields', () => {
  const o = resolveIedOptions({ host: '10.0.0.5', name: 'bay1' });
  assert.equal(o.port, 102);
  assert.equal(o.selectors.remotePsel.toString('hex'), '00000001');
  assert.equal(resolveIedOptions({ host: 'h', remoteTsel: '00 02' }).selectors.remoteTsel.toString('hex'), '0002');
  assert.equal(resolveIedOptions({ host: 'h', calledApTitle: '' }).calledApTitle, '');
  assert.throws(() => resolveIedOptions({ host: 'h', name: 'bay1', remoteTsel: '0x1' }), /bay1: remote TSEL "0x1" is not hex octets/);
  assert.throws(() => resolveIedOptions({ host: 'h', name: 'bay1', tpduSize: 1000 }), /bay1: TPDU size 1000 is not one of 128/);
  assert.throws(() => resolveIedOptions({ host: 'h', name: 'bay1', calledApTitle: '1.x' }), /bay1: called AP-title "1.x"/);
  assert.throws(() => resolveIedOptions({ host: 'h', name: 'bay1', port: 0 }), /bay1: port 0 is outside 1..65535/);
  assert.throws(() => resolveIedOptions({ host: '' }), /host is empty/);
});

test('values from a flow are converted to the attribute type, or refused naming the reference', () => {
  const r = 'LD/LN0.X.y [CF]';
  assert.deepEqual(fromPointValue({ type: 'integer', bits: 64 }, '9223372036854775807', r), { type: 'integer', value: 2n ** 63n - 1n });
  assert.deepEqual(fromPointValue({ type: 'unsigned', bits: 8 }, 255, r), { type: 'unsigned', value: 255 });
  assert.deepEqual(fromPointValue({ type: 'float', formatWidth: 64, exponentWidth: 11 }, '2.5', r), { type: 'float', value: 2.5, double: true });
  assert.deepEqual(fromPointValue({ type: 'boolean' }, 'true', r), { type: 'boolean', value: true });
  assert.deepEqual(fromPointValue({ type: 'bit-string', size: 6 }, 5, r), { type: 'bit-string', value: [true, false, true, false, false, false] });
  assert.deepEqual(fromPointValue({ type: 'octet-string', size: 8 }, '0aff', r), { type: 'octet-string', value: Buffer.from([10, 255]) });
  assert.throws(() => fromPointValue({ type: 'unsigned', bits: 8 }, 256, r), /write LD\/LN0.X.y \[CF\]: 256 is outside 0..255 \(uint8\)/);
  assert.throws(() => fromPointValue({ type: 'integer', bits: 32 }, 1.5, r), /1.5 is not a whole number/);
  assert.throws(() => fromPointValue({ type: 'visible-string', size: -3 }, 'long', r), /longer than 3 characters/);
  assert.throws(() => fromPointValue({ type: 'boolean' }, 'maybe', r), /"maybe" is not a boolean/);
  assert.throws(() => fromPointValue({ type: 'structure', components: [] }, 1, r), /cannot be written to a structure/);
});

test('a reading carries each UtcTime in full: microseconds, fraction, ClockNotSynchronized and leap-second flags', () => {
  const fraction = Math.floor((701 * 0x1000000) / 1000);
  const ref = parseReference('LD/GGIO1.AnIn1 [MX]');
  const value: MmsValue = {
    type: 'structure',
    value: [
      { type: 'structure', value: [{ type: 'float', value: 1 }] },
      { type: 'bit-string', value: new Array(13).fill(false) },
      // Leap seconds known (0x80), clock not synchronized (0x20), 10 significant bits.
      { type: 'utc-time', value: { seconds: 1_795_000_000, fraction, quality: 0xaa } },
    ],
  };
  const type: TypeSpec = {
    type: 'structure',
    components: [
      { name: 'mag', spec: { type: 'structure', components: [{ name: 'f', spec: { type: 'float', formatWidth: 32, exponentWidth: 8 } }] } },
      { name: 'q', spec: { type: 'bit-string', size: -13 } },
      { name: 't', spec: { type: 'utc-time' } },
    ],
  };
  const msg = buildReading({ device: 'd', ied: 'i', leaves: leavesOf('AnIn1', ref, value, type), references: {}, units: {}, seq: 0, started: 0, finished: 0, test: false, errors: [] });
  assert.equal(msg.rtu.timestamp, 1_795_000_000_701);
  assert.equal(msg.payload['AnIn1.t'], 1_795_000_000_701);
  assert.deepEqual(msg.iec61850.times?.['AnIn1.t'], {
    micros: 1_795_000_000_701_000,
    fraction,
    leapSecondsKnown: true,
    clockFailure: false,
    clockNotSynchronized: true,
    accuracy: 10,
  });
});
