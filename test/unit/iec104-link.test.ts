import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'net';
import { once } from 'events';
import { ApduReader, decodeApdu, encodeI, encodeS, encodeU } from '../../nodes/lib/iec104/apci';
import { DEFAULT_LINK, Iec104Link, LinkOptions } from '../../nodes/lib/iec104/link';
import { linkOverSocket } from '../../nodes/lib/iec104/socket-link';
import { loadFrames } from '../support/iec104/captures';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** A link whose transport records every write. */
function recording(role: 'master' | 'outstation', options: LinkOptions = DEFAULT_LINK) {
  const writes: Buffer[] = [];
  let closed = false;
  const link = new Iec104Link(role, { write: (b) => writes.push(Buffer.from(b)), close: () => (closed = true) }, options, `test ${role}`);
  return { link, writes, isClosed: () => closed, dispose: () => link.connectionLost('test over') };
}

function kinds(bytes: Buffer[]): string[] {
  const reader = new ApduReader();
  return bytes.flatMap((b) => reader.push(b)).map((f) => {
    const a = decodeApdu(f);
    return a.kind === 'I' ? `I${a.sendSeq}` : a.kind === 'S' ? `S${a.recvSeq}` : a.fn;
  });
}

// (In startdt_gi and negative the captured master sent I-frames of its own, which this one did not.)
// In flow_control_k_stall the captured outstation stalled at k before the master's w=20 was reached.
for (const name of ['flow_control.log', 'types.log']) {
  test(`master link against the captured outstation (${name}): STARTDT and its w acknowledgements byte for byte`, () => {
    const frames = loadFrames(name);
    const w = name === 'flow_control_k_stall.log' ? 20 : 8;
    const { link, writes, dispose } = recording('master', { ...DEFAULT_LINK, w });
    const asdus: Buffer[] = [];
    link.on('asdu', (a) => asdus.push(a));
    link.startDataTransfer();
    const fromOutstation = frames.filter((f) => f.dir === 'S->C' && !f.bytes.equals(encodeU('STOPDT_CON')) && !f.bytes.equals(encodeU('TESTFR_CON')));
    for (const f of fromOutstation) link.receive(f.bytes);
    // The captured master also sent S-frames on t2 and TESTFR on t3; here only the
    // acknowledgements due to w are compared, in order.
    const ours = kinds(writes);
    const theirs = frames.filter((f) => f.dir === 'C->S').map((f) => kinds([f.bytes])[0]);
    const everyW = theirs.filter((k, i) => i > 0 && k.startsWith('S') && Number(k.slice(1)) % w === 0);
    assert.equal(ours[0], 'STARTDT_ACT');
    assert.deepEqual(ours.slice(1), everyW.filter((k) => Number(k.slice(1)) <= fromOutstation.filter((f) => f.bytes[2] % 2 === 0).length));
    assert.equal(link.state, 'started');
    assert.equal(asdus.length, fromOutstation.filter((f) => decodeApdu(f.bytes).kind === 'I').length);
    dispose();
  });
}

test('master link: S-frame before STOPDT act goes out in one write, as the captured master does', () => {
  // negative.log ends with `680401001800680413000000`: S-frame N(R)=12, then STOPDT act.
  const frames = loadFrames('flow_control.log').filter((x) => x.dir === 'S->C');
  const { link, writes, dispose } = recording('master', { ...DEFAULT_LINK, w: 20 });
  link.startDataTransfer();
  for (const f of frames.slice(0, 13)) link.receive(f.bytes);
  assert.equal(link.stats.iReceived, 12);
  writes.length = 0;
  link.stopDataTransfer();
  assert.equal(writes.length, 1);
  assert.deepEqual(writes[0], hex('680401001800680413000000'));
  link.receive(hex('680423000000'));
  assert.equal(link.state, 'stopped');
  dispose();
});

for (const name of ['flow_control.log', 'flow_control_k_stall.log']) {
  test(`outstation link against the captured master (${name}): k=12 window, output byte for byte`, () => {
    const frames = loadFrames(name);
    const { link, writes, dispose } = recording('outstation');
    // The events queued before STARTDT, as the captured outstation had them.
    for (const f of frames.filter((x) => x.dir === 'S->C')) {
      const a = decodeApdu(f.bytes);
      if (a.kind === 'I') link.send(Buffer.from(a.asdu));
    }
    assert.equal(writes.length, 0, 'nothing is sent before STARTDT');
    const fromMaster = frames.filter((f) => f.dir === 'C->S');
    const perStep: string[][] = [];
    for (const f of fromMaster) {
      writes.length = 0;
      link.receive(f.bytes);
      perStep.push(kinds(writes));
    }
    // After STARTDT con: exactly k I-frames, then k more per acknowledgement of k.
    assert.deepEqual(perStep[0].slice(0, 1), ['STARTDT_CON']);
    assert.equal(perStep[0].length, 1 + 12);
    const out = Buffer.concat(frames.filter((f) => f.dir === 'S->C').map((f) => f.bytes));
    // Replay all of it again in one go and compare the whole output stream.
    const again = recording('outstation');
    for (const f of frames.filter((x) => x.dir === 'S->C')) {
      const a = decodeApdu(f.bytes);
      if (a.kind === 'I') again.link.send(Buffer.from(a.asdu));
    }
    const all: Buffer[] = [];
    for (const f of fromMaster) {
      again.writes.length = 0;
      again.link.receive(f.bytes);
      all.push(...again.writes);
    }
    assert.equal(Buffer.concat(all).toString('hex'), out.toString('hex'));
    assert.ok(link.stats.windowStalls >= 2);
    dispose();
    again.dispose();
  });
}

test('outstation link: TESTFR act is confirmed; sequence and acknowledgement errors close with a reason', () => {
  const a = recording('outstation');
  a.link.receive(encodeU('TESTFR_ACT'));
  assert.deepEqual(a.writes, [encodeU('TESTFR_CON')]);
  a.link.receive(encodeU('STARTDT_ACT'));
  a.link.receive(encodeI(1, 0, hex('64010603010000000014')));
  assert.equal(a.link.state, 'closed');
  assert.match(a.link.reason ?? '', /sequence error: received N\(S\)=1, expected 0/);
  assert.ok(a.isClosed());

  const b = recording('outstation');
  b.link.receive(encodeU('STARTDT_ACT'));
  b.link.receive(encodeS(3));
  assert.match(b.link.reason ?? '', /acknowledged N\(R\)=3/);

  const c = recording('outstation');
  c.link.receive(hex('6804070000006804'));
  c.link.receive(hex('43'));
  assert.equal(c.link.state, 'started');
  c.link.receive(hex('000000'));
  assert.deepEqual(kinds(c.writes), ['STARTDT_CON', 'TESTFR_CON']);
  assert.equal(c.link.state, 'started');
  c.link.receive(hex('6904'));
  assert.match(c.link.reason ?? '', /malformed frame: .*start octet 0x69/);
});

/** A connected socket pair on loopback. */
async function socketPair(): Promise<{ client: net.Socket; server: net.Socket; close: () => void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  const accepted = once(srv, 'connection');
  const client = net.connect(port, '127.0.0.1');
  const [[server]] = (await Promise.all([accepted, once(client, 'connect')])) as [[net.Socket], unknown];
  return { client, server, close: () => { client.destroy(); server.destroy(); srv.close(); } };
}

const FAST: LinkOptions = { k: 12, w: 8, t1: 300, t2: 100, t3: 200 };

test('t1: an outstation whose I-frames are never acknowledged closes the connection', async () => {
  const pair = await socketPair();
  const link = linkOverSocket('outstation', pair.server, FAST, 'master 1');
  const peerClosed = once(pair.client, 'close');
  pair.client.on('data', () => undefined); // a master that never acknowledges or answers
  pair.client.write(encodeU('STARTDT_ACT'));
  await once(link, 'started');
  link.send(hex('0b0103000100c80000010000'));
  const [reason] = (await once(link, 'closed')) as [string];
  assert.match(reason, /t1 expired: 1 I-frame\(s\) unacknowledged/);
  await peerClosed;
  pair.close();
});

test('t3 then t1: an idle master sends TESTFR act; the outstation confirms; silence closes on t1', async () => {
  const pair = await socketPair();
  const master = linkOverSocket('master', pair.client, FAST, 'outstation 1');
  const outstation = linkOverSocket('outstation', pair.server, { ...FAST, t3: 60000 }, 'master 1');
  master.startDataTransfer();
  await once(master, 'started');
  // Wait (bounded by t3 + t1) until the idle test went out and came back.
  for (let i = 0; i < 100 && outstation.stats.uReceived < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(master.stats.testFrames >= 1, 'TESTFR act on idle');
  assert.ok(outstation.stats.uSent >= 2, 'TESTFR con answered');
  assert.equal(master.state, 'started');
  // Now a peer that reads but never answers: TESTFR goes unanswered and t1 closes.
  pair.server.removeAllListeners('data');
  const [reason] = (await once(master, 'closed')) as [string];
  assert.match(reason, /t1 expired: no TESTFR con/);
  pair.close();
});

test('t2: fewer than w I-frames received are acknowledged by an S-frame after t2', async () => {
  const pair = await socketPair();
  const master = linkOverSocket('master', pair.client, FAST, 'outstation 1');
  const outstation = linkOverSocket('outstation', pair.server, FAST, 'master 1');
  master.startDataTransfer();
  await once(master, 'started');
  outstation.send(hex('0b0103000100c80000010000'));
  outstation.send(hex('0b0103000100c80000020000'));
  for (let i = 0; i < 100 && outstation.unacked > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(outstation.unacked, 0);
  assert.equal(master.stats.sSent, 1);
  assert.equal(master.stats.iReceived, 2);
  master.close('test done');
  await once(outstation, 'closed');
  pair.close();
});

test('k window over a socket: 5,000 ASDUs, k=12 never exceeded, none lost, in order', async () => {
  const pair = await socketPair();
  const master = linkOverSocket('master', pair.client, DEFAULT_LINK, 'outstation 1');
  const outstation = linkOverSocket('outstation', pair.server, DEFAULT_LINK, 'master 1');
  let maxUnacked = 0;
  const origSend = outstation.stats;
  const got: number[] = [];
  master.on('asdu', (a) => {
    got.push(a.readUInt16LE(9));
    maxUnacked = Math.max(maxUnacked, origSend.unacked);
  });
  master.startDataTransfer();
  await once(master, 'started');
  for (let i = 0; i < 5000; i++) {
    const asdu = hex('0b0103000100c80000000000');
    asdu.writeUInt16LE(i, 9);
    outstation.send(asdu);
  }
  for (let i = 0; i < 500 && got.length < 5000; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.length, 5000);
  assert.ok(got.every((v, i) => v === i));
  assert.ok(maxUnacked <= 12, `${maxUnacked} unacknowledged`);
  master.close('done');
  pair.close();
});
