import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TpktFramer, encodeTpkt } from '../../nodes/lib/iec61850/tpkt';
import { decodeTpdu, encodeCr, encodeCc, encodeDr, Reassembler, segment, Tpdu } from '../../nodes/lib/iec61850/cotp';
import { DecodeError } from '../../nodes/lib/iec61850/errors';
import { CAPTURES, Direction, corruptions, loadCapture, prng } from '../support/iec61850/captures';

/** Every TPDU of one direction of a captured connection, fed to the framer in the given pieces. */
function tpdus(pieces: Buffer[]): Buffer[] {
  const framer = new TpktFramer();
  const out: Buffer[] = [];
  for (const p of pieces) out.push(...framer.push(p));
  assert.equal(framer.buffered, 0, 'no bytes left over at the end of the capture');
  return out;
}

function stream(name: string, conn: number, dir: Direction): Buffer[] {
  return loadCapture(name)[conn].chunks.filter((c) => c.dir === dir).map((c) => c.bytes);
}

test('every capture parses as a TPKT stream however the chunks are cut', () => {
  const rand = prng(1006);
  for (const name of CAPTURES) {
    loadCapture(name).forEach((_, conn) => {
      for (const dir of ['C->S', 'S->C'] as Direction[]) {
        const chunks = stream(name, conn, dir);
        const whole = Buffer.concat(chunks);
        const reference = tpdus(chunks);
        assert.ok(reference.length >= 2, `${name} ${dir}: TPDUs`);
        const bytes = [...whole].map((b) => Buffer.from([b]));
        assert.deepEqual(tpdus(bytes), reference, `${name} ${dir}: byte by byte`);
        const random: Buffer[] = [];
        for (let pos = 0; pos < whole.length; ) {
          const n = 1 + Math.floor(rand() * 300);
          random.push(whole.subarray(pos, pos + n));
          pos += n;
        }
        assert.deepEqual(tpdus(random), reference, `${name} ${dir}: random cuts`);
        assert.deepEqual(tpdus([whole]), reference, `${name} ${dir}: one chunk`);
      }
    });
  }
});

test('the report capture holds two TPKTs in one chunk (response + InformationReport)', () => {
  const s2c = stream('report_session.log', 0, 'S->C');
  const last = s2c[s2c.length - 1];
  assert.equal(new TpktFramer().push(last).length, 2);
});

test('COTP of the captures: CR/CC parameters, DT end-of-TSDU, CR re-encodes byte-for-byte', () => {
  for (const name of CAPTURES) {
    const c2s = tpdus(stream(name, 0, 'C->S')).map(decodeTpdu);
    const s2c = tpdus(stream(name, 0, 'S->C')).map(decodeTpdu);
    const cr = c2s[0] as Extract<Tpdu, { kind: 'CR' }>;
    const cc = s2c[0] as Extract<Tpdu, { kind: 'CC' }>;
    assert.equal(cr.kind, 'CR');
    assert.equal(cc.kind, 'CC');
    assert.equal(cr.tpduSize, 8192);
    assert.deepEqual([cr.dstRef, cr.srcRef], [0, 1]);
    assert.equal(cr.callingTsap?.toString('hex'), '0001');
    assert.equal(cr.calledTsap?.toString('hex'), '0001');
    assert.equal(cc.dstRef, cr.srcRef);
    const original = stream(name, 0, 'C->S')[0];
    const again = encodeTpkt(encodeCr({ srcRef: 1, dstRef: 0, tpduSize: 8192, callingTsap: Buffer.from([0, 1]), calledTsap: Buffer.from([0, 1]) }));
    assert.equal(again.toString('hex'), original.toString('hex'));
    const ccAgain = encodeTpkt(encodeCc({ srcRef: cc.srcRef, dstRef: cc.dstRef, tpduSize: 8192, callingTsap: cc.callingTsap, calledTsap: cc.calledTsap }));
    assert.equal(ccAgain.toString('hex'), stream(name, 0, 'S->C')[0].toString('hex'));
    for (const t of [...c2s.slice(1), ...s2c.slice(1)]) {
      assert.equal(t.kind, 'DT');
      if (t.kind === 'DT') assert.ok(t.eot);
    }
  }
});

test('segmentation splits a unit at the TPDU size and reassembly joins it back', () => {
  const rand = prng(8073);
  for (const size of [128, 256, 1024, 8192]) {
    for (const length of [0, 1, size - 4, size - 3, size - 2, size * 3, 7642]) {
      const unit = Buffer.from(Array.from({ length }, () => Math.floor(rand() * 256)));
      const parts = segment(unit, size);
      assert.ok(parts.every((p) => p.length <= size), `${length} in ${size}: every DT fits`);
      assert.equal(parts.length, Math.max(1, Math.ceil(length / (size - 3))));
      const joiner = new Reassembler(1 << 20);
      let whole: Buffer | undefined;
      parts.forEach((p, i) => {
        const t = decodeTpdu(p);
        assert.equal(t.kind, 'DT');
        if (t.kind !== 'DT') return;
        assert.equal(t.eot, i === parts.length - 1);
        whole = joiner.push(t.data, t.eot);
        if (i < parts.length - 1) assert.equal(whole, undefined);
      });
      assert.deepEqual(whole, unit);
    }
  }
  const small = new Reassembler(100);
  small.push(Buffer.alloc(60), false);
  assert.throws(() => small.push(Buffer.alloc(60), true), /exceeds 100/);
  assert.throws(() => segment(Buffer.alloc(1), 3), RangeError);
});

test('bad TPKT headers and TPDUs raise DecodeError', () => {
  assert.throws(() => new TpktFramer().push(Buffer.from('0400000702f080', 'hex')), /version 4/);
  assert.throws(() => new TpktFramer().push(Buffer.from('03000004', 'hex')), /below 7/);
  const partial = new TpktFramer();
  assert.deepEqual(partial.push(Buffer.from('0300', 'hex')), []);
  assert.deepEqual(partial.push(Buffer.from('000702f0', 'hex')), []);
  assert.equal(partial.push(Buffer.from('80', 'hex')).length, 1);
  assert.throws(() => decodeTpdu(Buffer.from('02', 'hex')), DecodeError);
  assert.throws(() => decodeTpdu(Buffer.from('05f080', 'hex')), /exceeds/);
  assert.throws(() => decodeTpdu(Buffer.from('0211', 'hex')), DecodeError);
  assert.throws(() => decodeTpdu(Buffer.from('06e0000000011000', 'hex').subarray(0, 7)), /class 1/);
  assert.throws(() => decodeTpdu(Buffer.from('08e00000000100c001', 'hex')), /runs past the header/);
  assert.throws(() => decodeTpdu(Buffer.from('09e00000000100c00105', 'hex')), /TPDU size code 5/);
  const dr = decodeTpdu(encodeDr(1, 2, 0x80));
  assert.deepEqual(dr, { kind: 'DR', dstRef: 1, srcRef: 2, reason: 0x80 });
});

test('fuzz: truncated and corrupted frames only ever raise DecodeError', () => {
  const rand = prng(2024);
  let attempts = 0;
  for (const name of CAPTURES) {
    const frames = [...stream(name, 0, 'C->S'), ...stream(name, 0, 'S->C')].slice(0, 6);
    for (const frame of frames) {
      for (const variant of corruptions(frame.subarray(0, 400), rand, 400)) {
        attempts++;
        try {
          const joiner = new Reassembler(65536);
          for (const t of new TpktFramer().push(variant)) {
            const d = decodeTpdu(t);
            if (d.kind === 'DT') joiner.push(d.data, d.eot);
          }
        } catch (err) {
          if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError on ${variant.toString('hex')}: ${String(err)}`);
        }
      }
    }
  }
  assert.ok(attempts > 5000);
});
