import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ber from '../../nodes/lib/iec61850/ber';
import { DecodeError } from '../../nodes/lib/iec61850/errors';
import { corruptions, prng } from '../support/iec61850/captures';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Walks every element and decodes each primitive in every way the stack does. */
function walk(buf: Buffer): number {
  let count = 0;
  for (const t of ber.children(buf)) {
    count++;
    if (t.constructed) {
      count += walk(t.value);
    } else if (t.value.length) {
      ber.decodeInt(t);
      ber.uintFromBytes(t.value, 'x');
      ber.decodeBits(t);
    }
  }
  return count;
}

test('integers encode minimally and decode back, beyond 2^53 as BigInt', () => {
  const cases: Array<[number | bigint, string]> = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '0080'],
    [255, '00ff'],
    [256, '0100'],
    [-1, 'ff'],
    [-128, '80'],
    [-129, 'ff7f'],
    [5000, '1388'],
    [65000, '00fde8'],
    [2 ** 31 - 1, '7fffffff'],
    [-(2 ** 31), '80000000'],
    [Number.MAX_SAFE_INTEGER, '1fffffffffffff'],
    [2n ** 63n - 1n, '7fffffffffffffff'],
    [-(2n ** 63n), '8000000000000000'],
    [2n ** 64n - 1n, '00ffffffffffffffff'],
  ];
  for (const [value, bytes] of cases) {
    assert.equal(ber.intBytes(value).toString('hex'), bytes, `encode ${value}`);
    const decoded = ber.decodeInt(ber.readOne(ber.int(value)));
    assert.equal(typeof decoded, typeof value === 'bigint' ? 'bigint' : 'number', `type of ${value}`);
    assert.equal(BigInt(decoded), BigInt(value), `decode ${value}`);
  }
  // Unsigned values some IEDs send without the sign pad are read as magnitudes.
  assert.equal(ber.uintFromBytes(hex('ffffffff'), 'u'), 0xffffffff);
  assert.equal(ber.uintFromBytes(hex('ffffffffffffffff'), 'u'), 2n ** 64n - 1n);
  // Non-minimal encodings are accepted.
  assert.equal(ber.intFromBytes(hex('000001'), 'i'), 1);
});

test('lengths: short, long form up to 4 octets, and indefinite with nesting', () => {
  for (const n of [0, 1, 127, 128, 255, 256, 7630, 65535, 70000]) {
    const encoded = ber.tlv(ber.UNIVERSAL, false, ber.U.octetString, Buffer.alloc(n, 0x5a));
    const t = ber.readOne(encoded);
    assert.equal(t.value.length, n);
    assert.equal(t.end, encoded.length);
  }
  assert.equal(ber.encodeLength(127).toString('hex'), '7f');
  assert.equal(ber.encodeLength(128).toString('hex'), '8180');
  assert.equal(ber.encodeLength(7634).toString('hex'), '821dd2');

  // SEQUENCE (indefinite) { INTEGER 5, [1] (indefinite) { BOOLEAN TRUE }, VisibleString "ab" }
  const indefinite = hex('3080 020105 a180 0101ff 0000 1a026162 0000');
  const t = ber.readOne(indefinite);
  const [i, inner, s] = ber.children(t);
  assert.equal(ber.decodeInt(i), 5);
  assert.equal(ber.decodeBool(ber.children(inner)[0]), true);
  assert.equal(ber.decodeVisible(s), 'ab');
  assert.equal(t.end, indefinite.length);
  assert.throws(() => ber.readOne(hex('3080 020105')), DecodeError);
  assert.throws(() => ber.readOne(hex('0280 0000')), /indefinite length on a primitive/);
});

test('high tag numbers and classes round-trip', () => {
  for (const tag of [0, 30, 31, 72, 127, 128, 16383, 70000]) {
    for (const cls of [ber.UNIVERSAL, ber.APPLICATION, ber.CONTEXT, ber.PRIVATE]) {
      const t = ber.readOne(ber.tlv(cls, true, tag, ber.int(1)));
      assert.deepEqual([t.cls, t.tag, t.constructed], [cls, tag, true]);
    }
  }
  assert.equal(ber.tlv(ber.CONTEXT, true, 30, Buffer.alloc(0)).toString('hex'), 'be00');
  assert.equal(ber.tlv(ber.CONTEXT, true, 72, Buffer.alloc(0)).toString('hex'), 'bf4800');
});

test('object identifiers of the MMS association encode as captured', () => {
  const cases: Array<[string, string]> = [
    ['1.0.9506.2.3', '28ca220203'],
    ['1.0.9506.2.1', '28ca220201'],
    ['2.2.1.0.1', '52010001'],
    ['2.1.1', '5101'],
    ['1.1.1.999.1', '2901876701'],
    ['1.1.1.999', '29018767'],
    ['2.999.3', '883703'],
  ];
  for (const [dotted, bytes] of cases) {
    assert.equal(ber.oidBytes(dotted).toString('hex'), bytes);
    assert.equal(ber.decodeOid(ber.readOne(ber.oid(dotted))), dotted);
  }
  assert.throws(() => ber.oidBytes('1'), RangeError);
  assert.throws(() => ber.oidBytes('1.x.3'), RangeError);
  assert.throws(() => ber.decodeOid(ber.readOne(hex('060229 87'.replace(' ', '')))), DecodeError);
});

test('bit strings keep their bit count (TrgOps, OptFlds, quality)', () => {
  const trgOps = [false, false, false, true, true, true];
  assert.equal(ber.bitBytes(trgOps).toString('hex'), '021c');
  assert.deepEqual(ber.decodeBits(ber.readOne(hex('8402021c'))), trgOps);
  const optFlds = ber.decodeBits(ber.readOne(hex('8403067880')));
  assert.equal(optFlds.length, 10);
  assert.deepEqual(optFlds.map((b, i) => (b ? i : -1)).filter((i) => i >= 0), [1, 2, 3, 4, 8]);
  assert.equal(ber.decodeBits(ber.readOne(hex('840100'))).length, 0);
  assert.throws(() => ber.decodeBits(ber.readOne(hex('840108'))), DecodeError);
  assert.throws(() => ber.decodeBits(ber.readOne(hex('84020900'))), DecodeError);
});

test('malformed elements raise DecodeError naming the problem', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /missing identifier/],
    ['30', /missing length/],
    ['3005 0201', /runs past the end/],
    ['1f', /truncated high tag/],
    ['1fffffffff7f00', /tag number too large/],
    ['0285', /length of 5 octets/],
    ['0282 01', /truncated length/],
    ['020100 00', /after the element/],
  ];
  for (const [bytes, re] of bad) assert.throws(() => ber.readOne(hex(bytes)), (e: unknown) => e instanceof DecodeError && re.test(e.message), bytes);
  assert.throws(() => ber.decodeInt(ber.readOne(hex('0200'))), /no content/);
  assert.throws(() => ber.children(ber.readOne(hex('020101'))), /should be constructed/);
  // Deep indefinite nesting is refused instead of exhausting the stack.
  const deep = Buffer.concat([Buffer.alloc(200, 0).map((_, i) => (i % 2 ? 0x80 : 0x30)), Buffer.alloc(200, 0)]);
  assert.throws(() => ber.readOne(deep), /nesting deeper/);
});

test('fuzz: truncated and corrupted BER only ever raises DecodeError', () => {
  const rand = prng(61850);
  // An AARE user-information block and a read response from the captures, plus an indefinite form.
  const frames = [
    hex('a9268003 00fde8 810105 820105 83010a a416800101 810305f100 820c03ee1c000000000000000118'),
    hex('3015020103a010a10e020101a409a1078705083db8a6ec'),
    hex('3080 020105 a180 0101ff 0000 1a026162 0000'),
  ];
  let attempts = 0;
  for (const frame of frames) {
    for (const variant of corruptions(frame, rand, 3000)) {
      attempts++;
      try {
        walk(variant);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError on ${variant.toString('hex')}: ${String(err)}`);
      }
    }
  }
  assert.ok(attempts > 9000);
});
