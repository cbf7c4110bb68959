import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApduReader, decodeApdu, encodeApdu, encodeI, encodeS, encodeU } from '../../nodes/lib/iec104/apci';
import { Asdu, AsduSizes, InformationObject, decodeAsdu, encodeAsdu, maxObjects } from '../../nodes/lib/iec104/asdu';
import { Cp56Time, cp56FromDate, cp56Iso, cp56ToDate, decodeCp56, encodeCp56 } from '../../nodes/lib/iec104/cp56';
import { Iec104DecodeError, Iec104EncodeError } from '../../nodes/lib/iec104/errors';
import { T, TYPES } from '../../nodes/lib/iec104/types';
import { CAPTURES, ExpectedAsdu, ExpectedObject, corruptions, loadExpectedTypes, loadFrames, prng } from '../support/iec104/captures';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('every APDU of every capture decodes and re-encodes byte for byte', () => {
  let total = 0;
  let iFrames = 0;
  for (const name of CAPTURES) {
    const frames = loadFrames(name);
    assert.ok(frames.length > 0, name);
    const nextSeq: Record<string, number> = { 'C->S': 0, 'S->C': 0 };
    for (const f of frames) {
      const apdu = decodeApdu(f.bytes);
      assert.deepEqual(encodeApdu(apdu), f.bytes, `${name}:${f.line} APCI`);
      if (apdu.kind === 'I') {
        assert.equal(apdu.sendSeq, nextSeq[f.dir]++, `${name}:${f.line} N(S) runs without gaps`);
        const asdu = decodeAsdu(apdu.asdu);
        assert.deepEqual(encodeAsdu(asdu).toString('hex'), apdu.asdu.toString('hex'), `${name}:${f.line} ASDU ${asdu.typeId}`);
        assert.deepEqual(encodeI(apdu.sendSeq, apdu.recvSeq, encodeAsdu(asdu)), f.bytes);
        iFrames++;
      }
      total++;
    }
  }
  // Frame counts from the vectors' README (I + S + U per direction, all files).
  assert.equal(iFrames, 7 + 27 + 31 + 40 + 30 + 12 + 12);
  assert.equal(total, 7 + 2 + 2 + 27 + 2 + 4 + 3 + 31 + 3 + 5 + 2 + 40 + 2 + 3 + 2 + 30 + 2 + 12 + 1 + 2 + 12 + 2);
});

test('frame counts per kind and direction match the vectors README', () => {
  const expected: Record<string, number[]> = {
    'startdt_gi.log': [7, 2, 2, 27, 0, 2],
    'types.log': [0, 4, 3, 31, 0, 3],
    'flow_control.log': [0, 5, 2, 40, 0, 2],
    'flow_control_k_stall.log': [0, 3, 2, 30, 0, 2],
    'negative.log': [12, 1, 2, 12, 0, 2],
  };
  for (const name of CAPTURES) {
    const counts = [0, 0, 0, 0, 0, 0];
    for (const f of loadFrames(name)) {
      const k = decodeApdu(f.bytes).kind;
      counts[(f.dir === 'C->S' ? 0 : 3) + (k === 'I' ? 0 : k === 'S' ? 1 : 2)]++;
    }
    assert.deepEqual(counts, expected[name], name);
  }
});

test('APCI facts from the captures: control fields, S and U frames', () => {
  const i = decodeApdu(hex('680e0400020064010703010000000014'));
  assert.deepEqual({ kind: i.kind, ns: i.kind === 'I' && i.sendSeq, nr: i.kind === 'I' && i.recvSeq }, { kind: 'I', ns: 2, nr: 1 });
  assert.deepEqual(decodeApdu(hex('680401001000')), { kind: 'S', recvSeq: 8 });
  assert.deepEqual(encodeS(8), hex('680401001000'));
  const u: Array<[string, Parameters<typeof encodeU>[0]]> = [
    ['07', 'STARTDT_ACT'], ['0b', 'STARTDT_CON'], ['13', 'STOPDT_ACT'], ['23', 'STOPDT_CON'], ['43', 'TESTFR_ACT'], ['83', 'TESTFR_CON'],
  ];
  for (const [code, fn] of u) {
    assert.deepEqual(encodeU(fn), hex(`6804${code}000000`));
    assert.deepEqual(decodeApdu(hex(`6804${code}000000`)), { kind: 'U', fn });
  }
  // Sequence numbers wrap at 2^15.
  const wrapped = decodeApdu(encodeI(32767, 32767, hex('64010603010000000014')));
  assert.equal(wrapped.kind === 'I' && wrapped.sendSeq, 32767);
});

test('GI act worked example: header fields with 2-octet COT and CA, 3-octet IOA', () => {
  const apdu = decodeApdu(hex('680e0000040064010603010000000014'));
  assert.equal(apdu.kind, 'I');
  const asdu = decodeAsdu(apdu.kind === 'I' ? apdu.asdu : Buffer.alloc(0));
  assert.deepEqual(
    { ...asdu, objects: undefined },
    { typeId: 100, sq: false, cot: 6, negative: false, test: false, originator: 3, commonAddress: 1, objects: undefined },
  );
  assert.deepEqual(asdu.objects, [{ ioa: 0, qualifier: 20 }]);
});

function expectTime(t: Cp56Time | undefined, e: ExpectedObject['time'], where: string): void {
  if (!e) return assert.equal(t, undefined, where);
  assert.ok(t, where);
  assert.equal(cp56Iso(t), e.iso, `${where} time`);
  assert.equal(t.dayOfWeek, e.dayOfWeek, `${where} day of week`);
  assert.equal(t.summerTime, e.summerTime, `${where} SU`);
  assert.equal(t.invalid, e.invalid, `${where} IV`);
  assert.equal(t.substituted, e.substituted, `${where} substituted`);
}

test('types.log: the 31 ASDUs decode to the values in types-expected.json', () => {
  const expected = loadExpectedTypes();
  const asdus = loadFrames('types.log')
    .map((f) => decodeApdu(f.bytes))
    .flatMap((a) => (a.kind === 'I' ? [a.asdu] : []));
  assert.equal(asdus.length, 31);
  assert.equal(expected.length, 31);
  asdus.forEach((bytes, n) => {
    const e = expected[n];
    const a = decodeAsdu(bytes);
    const where = `#${n} ${e.typeName}`;
    assert.equal(bytes.toString('hex'), e.asduHex, where);
    assert.equal(TYPES.get(a.typeId)?.name, e.typeName, where);
    assert.equal(a.sq, e.sq === 1, `${where} SQ`);
    assert.deepEqual([a.cot, a.negative, a.test, a.originator, a.commonAddress], [e.cot, e.negative, e.test, e.originatorAddress, e.commonAddress], where);
    assert.equal(a.objects.length, e.objects.length, where);
    a.objects.forEach((o, k) => {
      const x = e.objects[k];
      const at = `${where} IOA ${x.ioa}`;
      assert.equal(o.ioa, x.ioa, at);
      if (x.raw !== undefined) {
        assert.equal(o.raw, x.raw, `${at} raw`);
        assert.ok(Math.abs((o.value as number) - (x.apiValue as number)) <= 1 / 32768, `${at} normalized ${o.value} vs ${x.apiValue}`);
      } else if (x.float32Hex) {
        const b = Buffer.alloc(4);
        b.writeFloatBE(o.value as number);
        assert.equal(b.toString('hex'), x.float32Hex, `${at} float`);
      } else if (x.coi !== undefined) {
        assert.equal(o.qualifier, x.coi | (x.afterParameterChange ? 0x80 : 0), `${at} COI`);
        assert.equal((o.qualifier as number) & 0x7f, x.cause, `${at} cause of initialisation`);
      } else {
        assert.equal(o.value, x.value, `${at} value`);
      }
      if (x.transient !== undefined) assert.equal(o.transient, x.transient, `${at} transient`);
      if (x.qualityByteFlags) {
        const q = x.qualityByteFlags;
        assert.deepEqual(o.quality, { iv: q.IV, nt: q.NT, sb: q.SB, bl: q.BL, ov: q.OV }, `${at} quality`);
      }
      if (x.sequenceNumber !== undefined) {
        assert.deepEqual([o.sequence, o.carry, o.adjusted, o.quality?.iv], [x.sequenceNumber, x.carry, x.adjusted, x.invalid], `${at} BCR`);
      }
      expectTime(o.time, x.time, at);
    });
  });
});

/** Builds an ASDU from the expected API values only (not from decoded bytes). */
function fromExpected(e: ExpectedAsdu): Asdu {
  const objects = e.objects.map((x): InformationObject => {
    const o: InformationObject = { ioa: x.ioa };
    if (x.apiValue !== undefined) o.value = x.apiValue;
    else if (x.value !== undefined) o.value = x.value;
    if (x.coi !== undefined) o.qualifier = (x.cause ?? 0) | (x.afterParameterChange ? 0x80 : 0);
    if (x.transient !== undefined) o.transient = x.transient;
    const q = x.qualityByteFlags;
    if (q) o.quality = { iv: q.IV, nt: q.NT, sb: q.SB, bl: q.BL, ov: q.OV };
    if (x.sequenceNumber !== undefined) {
      o.sequence = x.sequenceNumber;
      o.carry = x.carry;
      o.adjusted = x.adjusted;
      o.quality = { iv: !!x.invalid, nt: false, sb: false, bl: false, ov: false };
    }
    if (x.time) {
      const d = new Date(`${x.time.iso}Z`);
      o.time = { ...cp56FromDate(d), dayOfWeek: x.time.dayOfWeek, summerTime: x.time.summerTime, invalid: x.time.invalid };
    }
    return o;
  });
  return {
    typeId: e.typeId, sq: e.sq === 1, cot: e.cot, negative: e.negative, test: e.test,
    originator: e.originatorAddress, commonAddress: e.commonAddress, objects,
  };
}

test('types-expected.json: encoding the sent values gives the captured ASDU and element octets', () => {
  for (const [n, e] of loadExpectedTypes().entries()) {
    const asdu = fromExpected(e);
    assert.equal(encodeAsdu(asdu).toString('hex'), e.asduHex, `#${n} ${e.typeName}`);
    for (const [k, x] of e.objects.entries()) {
      const single = encodeAsdu({ ...asdu, sq: false, objects: [asdu.objects[k]] });
      assert.equal(single.subarray(6 + 3).toString('hex'), x.encodedHex, `#${n} ${e.typeName} IOA ${x.ioa} element`);
    }
  }
});

test('CP56Time2a: the README examples, IV/SU/day of week, and Date conversion', () => {
  const a = decodeCp56(hex('b58f190eaf0318'), 0);
  assert.equal(cp56Iso(a), '2024-03-15T14:25:36.789');
  assert.deepEqual([a.dayOfWeek, a.summerTime, a.invalid], [5, false, false]);
  const b = decodeCp56(hex('00000080210718'), 0);
  assert.equal(cp56Iso(b), '2024-07-01T00:00:00.000');
  assert.deepEqual([b.dayOfWeek, b.summerTime], [1, true]);
  const c = decodeCp56(hex('b58f990e0f0318'), 0);
  assert.deepEqual([cp56Iso(c), c.invalid, c.dayOfWeek], ['2024-03-15T14:25:36.789', true, 0]);
  for (const t of [a, b, c]) {
    const out = Buffer.alloc(7);
    encodeCp56(t, out, 0);
    assert.deepEqual(decodeCp56(out, 0), t);
  }
  // Clock sync sent by the reference client: 2024-05-17 10:30:15.250, Friday.
  const sync = cp56FromDate(new Date('2024-05-17T10:30:15.250Z'));
  const out = Buffer.alloc(7);
  encodeCp56(sync, out, 0);
  assert.equal(out.toString('hex'), '923b1e0ab10518');
  assert.equal(cp56ToDate(sync).toISOString(), '2024-05-17T10:30:15.250Z');
  assert.throws(() => decodeCp56(hex('b58f19'), 0), Iec104DecodeError);
});

test('control direction: commands from the captures decode to their fields', () => {
  const frames = loadFrames('startdt_gi.log').filter((f) => f.dir === 'C->S');
  const asdus = frames.map((f) => decodeApdu(f.bytes)).flatMap((a) => (a.kind === 'I' ? [decodeAsdu(a.asdu)] : []));
  const byType = new Map(asdus.map((a) => [a.typeId, a]));
  const sc = asdus.filter((a) => a.typeId === T.C_SC_NA_1);
  assert.deepEqual(sc.map((a) => a.objects[0]), [
    { ioa: 5000, value: true, qualifier: 0, select: true },
    { ioa: 5000, value: true, qualifier: 0, select: false },
  ]);
  assert.deepEqual(byType.get(T.C_SE_NC_1)?.objects, [{ ioa: 6000, value: 12.5, qualifier: 0, select: false }]);
  assert.equal(cp56Iso(byType.get(T.C_CS_NA_1)!.objects[0].time!), '2024-05-17T10:30:15.250');
  const ts = byType.get(T.C_TS_TA_1)!.objects[0];
  assert.equal(ts.tsc, 0x4938);
  assert.equal(cp56Iso(ts.time!), '2024-05-17T10:30:20.000');
  assert.equal(byType.get(T.C_CI_NA_1)?.objects[0].qualifier, 5);
});

test('negative.log: reply COT octets (cause, P/N) and the echo of an unknown type', () => {
  const replies = loadFrames('negative.log')
    .filter((f) => f.dir === 'S->C')
    .map((f) => decodeApdu(f.bytes))
    .flatMap((a) => (a.kind === 'I' ? [decodeAsdu(a.asdu)] : []));
  assert.deepEqual(
    replies.map((a) => [a.cot, a.negative]),
    [[7, false], [47, false], [44, true], [44, true], [46, true], [46, true], [47, true], [45, true], [7, true], [44, true], [44, true], [44, true]],
  );
  const unknown = replies[replies.length - 1];
  assert.equal(unknown.typeId, 53);
  assert.deepEqual(unknown.unknownBody, hex('581b0001'));
  assert.equal(encodeAsdu(unknown).toString('hex'), '35016c030100581b0001');
});

test('configurable sizes: COT 1, CA 1, IOA 1 and 2 octets round-trip; values that do not fit are refused', () => {
  const asdu: Asdu = {
    typeId: T.M_ME_NC_1, sq: false, cot: 3, negative: false, test: true, originator: 0, commonAddress: 7,
    objects: [{ ioa: 200, value: 1.5, quality: { iv: true, nt: false, sb: false, bl: false, ov: true } }],
  };
  const sizes: AsduSizes[] = [{ cot: 1, ca: 1, ioa: 1 }, { cot: 1, ca: 2, ioa: 2 }, { cot: 2, ca: 1, ioa: 3 }];
  for (const s of sizes) {
    const bytes = encodeAsdu(asdu, s);
    assert.equal(bytes.length, 2 + s.cot + s.ca + s.ioa + 5);
    assert.deepEqual(decodeAsdu(bytes, s), asdu);
  }
  assert.equal(encodeAsdu(asdu, { cot: 1, ca: 1, ioa: 1 }).toString('hex'), '0d0183' + '07' + 'c8' + '0000c03f81');
  assert.throws(() => encodeAsdu({ ...asdu, objects: [{ ...asdu.objects[0], ioa: 256 }] }, { cot: 1, ca: 1, ioa: 1 }), Iec104EncodeError);
  assert.throws(() => encodeAsdu({ ...asdu, commonAddress: 300 }, { cot: 1, ca: 1, ioa: 1 }), Iec104EncodeError);
  assert.throws(() => encodeAsdu({ ...asdu, typeId: T.M_SP_NA_1, sq: true, objects: [{ ioa: 1, value: true }, { ioa: 3, value: true }] }), /consecutive/);
  assert.throws(() => encodeAsdu({ ...asdu, typeId: T.M_ME_NB_1, objects: [{ ioa: 1, value: 40000 }] }), /outside/);
  assert.equal(maxObjects(TYPES.get(T.M_SP_NA_1)!, true, { cot: 2, ca: 2, ioa: 3 }), 127);
  assert.equal(maxObjects(TYPES.get(T.M_ME_NC_1)!, false, { cot: 2, ca: 2, ioa: 3 }), 30);
});

test('every command type round-trips, time-tagged variants included', () => {
  const time = cp56FromDate(new Date('2026-01-02T03:04:05.678Z'));
  const cases: Array<[number, InformationObject]> = [
    [T.C_SC_NA_1, { ioa: 1, value: false, qualifier: 1, select: true }],
    [T.C_DC_NA_1, { ioa: 2, value: 2, qualifier: 2, select: false }],
    [T.C_RC_NA_1, { ioa: 3, value: 1, qualifier: 0, select: true }],
    [T.C_SE_NA_1, { ioa: 4, raw: -8192, value: -0.25, qualifier: 0, select: false }],
    [T.C_SE_NB_1, { ioa: 5, value: -1234, qualifier: 0, select: true }],
    [T.C_SE_NC_1, { ioa: 6, value: 49.5, qualifier: 0, select: false }],
    [T.C_SC_TA_1, { ioa: 7, value: true, qualifier: 0, select: false, time }],
    [T.C_DC_TA_1, { ioa: 8, value: 1, qualifier: 0, select: false, time }],
    [T.C_RC_TA_1, { ioa: 9, value: 2, qualifier: 0, select: false, time }],
    [T.C_SE_TA_1, { ioa: 10, raw: 16384, value: 0.5, qualifier: 0, select: false, time }],
    [T.C_SE_TB_1, { ioa: 11, value: 77, qualifier: 0, select: false, time }],
    [T.C_SE_TC_1, { ioa: 12, value: -2.5, qualifier: 0, select: false, time }],
    [T.C_IC_NA_1, { ioa: 0, qualifier: 21 }],
    [T.C_CI_NA_1, { ioa: 0, qualifier: 0x45 }],
    [T.C_RD_NA_1, { ioa: 110 }],
    [T.C_CS_NA_1, { ioa: 0, time }],
    [T.C_TS_TA_1, { ioa: 0, tsc: 0x4938, time }],
  ];
  for (const [typeId, o] of cases) {
    const asdu: Asdu = { typeId, sq: false, cot: 6, negative: false, test: false, originator: 3, commonAddress: 1, objects: [o] };
    assert.deepEqual(decodeAsdu(encodeAsdu(asdu)), asdu, TYPES.get(typeId)?.name);
  }
});

test('fuzz: truncated and corrupted frames of every capture throw only Iec104DecodeError', () => {
  const rand = prng(104);
  let tried = 0;
  let rejected = 0;
  const sizes: AsduSizes[] = [{ cot: 2, ca: 2, ioa: 3 }, { cot: 1, ca: 1, ioa: 1 }, { cot: 1, ca: 2, ioa: 2 }];
  for (const name of CAPTURES) {
    for (const f of loadFrames(name)) {
      for (const bad of corruptions(f.bytes, rand, 40)) {
        tried++;
        try {
          const apdu = decodeApdu(bad);
          if (apdu.kind === 'I') for (const s of sizes) decodeAsdu(apdu.asdu, s);
        } catch (err) {
          if (!(err instanceof Iec104DecodeError)) throw new Error(`${name}:${f.line} ${bad.toString('hex')}: ${String(err)}`);
          rejected++;
        }
        try {
          new ApduReader().push(bad);
        } catch (err) {
          if (!(err instanceof Iec104DecodeError)) throw err;
        }
      }
    }
  }
  assert.ok(tried > 10000, `${tried} variants`);
  assert.ok(rejected > tried / 4, `${rejected} of ${tried} rejected`);
});

test('APDU reader: split anywhere, several per chunk, and a bad start octet is a typed error', () => {
  const stream = Buffer.concat(loadFrames('flow_control.log').filter((f) => f.dir === 'S->C').map((f) => f.bytes));
  const rand = prng(7);
  const reader = new ApduReader();
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + Math.floor(rand() * 40);
    out.push(...reader.push(stream.subarray(at, at + n)));
    at += n;
  }
  assert.equal(out.length, 42);
  assert.deepEqual(Buffer.concat(out), stream);
  assert.equal(reader.buffered, 0);
  assert.throws(() => new ApduReader().push(hex('69040700000')), Iec104DecodeError);
  assert.throws(() => new ApduReader().push(hex('6803070000')), /length 3/);
  assert.throws(() => decodeApdu(hex('6804070000')), Iec104DecodeError);
  assert.throws(() => decodeApdu(hex('68040f000000')), /not a known function/);
});
