import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ber from '../../nodes/lib/iec61850/ber';
import { DecodeError } from '../../nodes/lib/iec61850/errors';
import { binaryTimeFromMs, binaryTimeToMs, decodeData, encodeData, MmsValue, timeQuality, utcTimeFromMs, utcTimeToMicros, utcTimeToMs } from '../../nodes/lib/iec61850/mms-data';
import { decodeTypeSpec, encodeTypeSpec, TypeSpec } from '../../nodes/lib/iec61850/mms-types';
import { decodeMms } from '../../nodes/lib/iec61850/mms-pdu';
import * as pres from '../../nodes/lib/iec61850/presentation';
import { corruptions, prng } from '../support/iec61850/captures';
import { captureUnits } from '../support/iec61850/replay';

const roundTrip = (v: MmsValue): MmsValue => decodeData(ber.readOne(encodeData(v)));

test('MMS data of every type round-trips', () => {
  const values: MmsValue[] = [
    { type: 'boolean', value: true },
    { type: 'boolean', value: false },
    { type: 'integer', value: -5 },
    { type: 'integer', value: 2147483647 },
    { type: 'integer', value: -(2n ** 63n) },
    { type: 'integer', value: 2n ** 63n - 1n },
    { type: 'unsigned', value: 4294967295 },
    { type: 'unsigned', value: 2n ** 64n - 1n },
    { type: 'float', value: 0.5 },
    { type: 'float', value: -1234.5 },
    { type: 'float', value: Math.PI, double: true },
    { type: 'float', value: Infinity, double: true },
    { type: 'bit-string', value: [false, true, false, false, false, false, false, false, false, false, false, false, true] },
    { type: 'bit-string', value: [] },
    { type: 'octet-string', value: Buffer.from('0102ff', 'hex') },
    { type: 'visible-string', value: 'libiec61850.com' },
    { type: 'mms-string', value: 'Umspannwerk Süd – Feld 3' },
    { type: 'utc-time', value: { seconds: 1795000000, fraction: 0x800000, quality: 0x8a } },
    { type: 'binary-time', value: { msOfDay: 16886992, days: 15665 } },
    { type: 'binary-time', value: { msOfDay: 1000 } },
    { type: 'bcd', value: 1234 },
    { type: 'oid', value: '1.0.9506.2.1' },
    { type: 'generalized-time', value: '20260101120000Z' },
    { type: 'boolean-array', value: [true, false, true] },
    { type: 'array', value: [{ type: 'integer', value: 1 }, { type: 'integer', value: 2 }] },
    {
      type: 'structure',
      value: [
        { type: 'structure', value: [{ type: 'float', value: 1.5 }] },
        { type: 'bit-string', value: new Array(13).fill(false) },
        { type: 'utc-time', value: { seconds: 0, fraction: 0, quality: 0 } },
      ],
    },
  ];
  for (const v of values) assert.deepEqual(roundTrip(v), v, v.type);
  // Floats of both widths on the wire: exponent width 8 then 4 octets, or 11 then 8 octets.
  assert.equal(encodeData({ type: 'float', value: 0.5 }).toString('hex'), '8705083f000000');
  assert.equal(encodeData({ type: 'float', value: 0.5, double: true }).toString('hex'), '87090b3fe0000000000000');
  assert.equal(encodeData({ type: 'boolean', value: true }).toString('hex'), '830101');
});

test('captured values decode: float, quality, UTC time and binary time', () => {
  const f = decodeData(ber.readOne(Buffer.from('8705083db8a6ec', 'hex')));
  assert.equal(f.type, 'float');
  assert.ok(f.type === 'float' && Math.abs(f.value - 0.09016) < 1e-4);
  const t = decodeData(ber.readOne(Buffer.from('8c060101a8d03d31', 'hex')));
  assert.ok(t.type === 'binary-time');
  if (t.type === 'binary-time') assert.equal(new Date(binaryTimeToMs(t.value)).toISOString(), '2026-11-21T04:41:25.968Z');
  assert.throws(() => decodeData(ber.readOne(Buffer.from('870509000000', 'hex').subarray(0, 6))), DecodeError);
  assert.throws(() => decodeData(ber.readOne(Buffer.from('8705090000000000', 'hex').subarray(0, 7))), /single float with exponent width 9/);
  assert.throws(() => decodeData(ber.readOne(Buffer.from('910400000000', 'hex'))), /utc-time of 4 octets/);
  assert.throws(() => decodeData(ber.readOne(Buffer.from('a3020101', 'hex'))), /should be primitive/);
  assert.throws(() => decodeData(ber.readOne(Buffer.from('880100', 'hex'))), /not an MMS type/);
});

test('time helpers: UTC fraction, time quality, days since 1984', () => {
  const ms = Date.UTC(2026, 10, 21, 8, 30, 15, 250);
  const utc = utcTimeFromMs(ms, 0x8a);
  assert.equal(utc.fraction, 0x400000);
  assert.equal(utcTimeToMs(utc), ms);
  assert.deepEqual(timeQuality(0xea), { leapSecondsKnown: true, clockFailure: true, clockNotSynchronized: true, accuracy: 10 });
  const bt = binaryTimeFromMs(ms);
  assert.equal(binaryTimeToMs(bt), ms);
  assert.equal(binaryTimeFromMs(Date.UTC(1984, 0, 2)).days, 1);
});

test('type specifications round-trip; the captured one re-encodes byte-for-byte', () => {
  const captured = Buffer.from('a231a12f301a80036d6167a113a211a10f300d800166a108a7060201200201083008800171a1038401f33007800174a1029100', 'hex');
  const spec = decodeTypeSpec(ber.readOne(captured));
  assert.equal(encodeTypeSpec(spec).toString('hex'), captured.toString('hex'));
  const specs: TypeSpec[] = [
    { type: 'array', count: 16, element: { type: 'integer', bits: 64 } },
    { type: 'octet-string', size: -64 },
    { type: 'visible-string', size: 255 },
    { type: 'mms-string', size: -255 },
    { type: 'binary-time', withDate: true },
    { type: 'unsigned', bits: 32 },
    { type: 'float', formatWidth: 64, exponentWidth: 11 },
    { type: 'named', domain: 'LD', item: 'T1' },
    { type: 'named', item: 'T2' },
    { type: 'bcd', digits: 4 },
    { type: 'oid' },
    { type: 'generalized-time' },
    { type: 'boolean' },
  ];
  for (const s of specs) assert.deepEqual(decodeTypeSpec(ber.readOne(encodeTypeSpec(s))), s);
});

test('hostile nesting is refused, not a stack overflow', () => {
  let deep = encodeData({ type: 'integer', value: 1 });
  for (let i = 0; i < 200; i++) deep = ber.tlv(ber.CONTEXT, true, 2, deep);
  assert.throws(() => decodeData(ber.readOne(deep)), /nested deeper/);
  let deepType = encodeTypeSpec({ type: 'boolean' });
  for (let i = 0; i < 200; i++) deepType = ber.ctxC(1, ber.ctx(1, Buffer.from([1])), ber.ctxC(2, deepType));
  assert.throws(() => decodeTypeSpec(ber.readOne(deepType)), /nested deeper/);
});

test('fuzz: corrupted MMS PDUs of the captures only ever raise DecodeError', () => {
  const rand = prng(9506);
  let attempts = 0;
  for (const u of captureUnits('report_session.log').concat(captureUnits('full_sequence.log'))) {
    if (u.spdu.kind !== 'DATA') continue;
    const pdu = pres.decodeData(u.spdu.userData)[0].data;
    for (const variant of corruptions(pdu.subarray(0, 1500), rand, pdu.length > 1500 ? 50 : 600)) {
      attempts++;
      try {
        decodeMms(variant);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError on ${variant.toString('hex')}: ${String(err)}`);
      }
    }
  }
  assert.ok(attempts > 10000, `${attempts} attempts`);
});

test('UtcTime decodes to the nearest millisecond; the full fraction and flags stay available', () => {
  // The captured read of LLN0$ST$Mod carries a UtcTime: it re-encodes byte-for-byte.
  const mod = captureUnits('full_sequence.log').find((u) => u.dir === 'S->C' && u.tsdu.includes(Buffer.from('91080000000000000000', 'hex')));
  assert.ok(mod, 'the capture holds the UtcTime of LLN0$ST$Mod');
  const captured = Buffer.from('91080000000000000000', 'hex');
  const zero = decodeData(ber.readOne(captured));
  assert.deepEqual(zero, { type: 'utc-time', value: { seconds: 0, fraction: 0, quality: 0 } });
  assert.equal(encodeData(zero).toString('hex'), captured.toString('hex'));
  // Servers truncate milliseconds into the binary fraction (fraction = floor(ms * 2^24 / 1000)).
  const sent = (ms: number): Buffer => {
    const b = Buffer.from('9108000000000000000a', 'hex');
    b.writeUInt32BE(1795000000, 2);
    b.writeUIntBE(Math.floor((ms * 0x1000000) / 1000), 6, 3);
    return b;
  };
  for (const ms of [1, 125, 499, 701, 998, 999]) {
    const v = decodeData(ber.readOne(sent(ms)));
    assert.ok(v.type === 'utc-time');
    if (v.type === 'utc-time') assert.equal(utcTimeToMs(v.value) - 1795000000 * 1000, ms, `.${ms} s`);
  }
  // .701 s: fraction 0xB374BC on the wire, 701000 µs (to the microsecond the fraction resolves).
  assert.equal(sent(701).toString('hex'), '91086afd86c0b374bc0a');
  const v = decodeData(ber.readOne(sent(701)));
  if (v.type === 'utc-time') assert.equal(utcTimeToMicros(v.value), 1795000000 * 1_000_000 + 701000);
  assert.equal(utcTimeToMicros({ seconds: 0, fraction: 1, quality: 0 }), 0);
  assert.equal(utcTimeToMicros({ seconds: 0, fraction: 0x800000, quality: 0 }), 500000);
});
