import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'events';
import { decodeApdu, encodeS } from '../../nodes/lib/iec104/apci';
import { Asdu, encodeAsdu } from '../../nodes/lib/iec104/asdu';
import { NegativeConfirmError } from '../../nodes/lib/iec104/master';
import { readingsFromAsdu } from '../../nodes/lib/iec104/master-readings';
import { CommandEvent } from '../../nodes/lib/iec104/outstation-commands';
import { parsePointTable } from '../../nodes/lib/iec104/point-table';
import { T } from '../../nodes/lib/iec104/types';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { loadFrames } from '../support/iec104/captures';
import { RawClient, ROWS, master, startOutstation, until } from '../support/iec104/rig';

const masterTable = parsePointTable(ROWS);

function collect(m: ReturnType<typeof master>): { asdus: Asdu[]; readings: ReadingMessage[] } {
  const out = { asdus: [] as Asdu[], readings: [] as ReadingMessage[] };
  const seq = new Map<string, number>();
  m.on('asdu', (a: Asdu) => {
    out.asdus.push(a);
    out.readings.push(...readingsFromAsdu(a, masterTable, { line: 'test', seq }).readings);
  });
  return out;
}

const latest = (readings: ReadingMessage[], device: string, point: string) =>
  [...readings].reverse().find((r) => r.topic === device && point in r.payload);

test('general and group interrogation: values, IV for never-read points, NT for stale data, act-term', async () => {
  const rig = await startOutstation();
  rig.outstation.update('meter1', { voltage: 230.5, power: 4200, current: 12, breaker: true, energy: 1000 }, { quality: 'good' });
  rig.outstation.update('meter2', { state: true }, { quality: 'stale', timestamp: Date.parse('2026-01-02T03:04:05Z') });
  const m = master(rig.port, { interrogateOnStart: false });
  const got = collect(m);
  m.start();
  await once(m, 'state').then(() => until(() => m.state === 'started', 'STARTDT'));
  const before = got.asdus.length;
  await m.interrogate();
  const gi = got.asdus.slice(before).filter((a) => a.cot === 20);
  assert.deepEqual(gi.flatMap((a) => a.objects.map((o) => o.ioa)).sort((a, b) => a - b), [100, 101, 102, 200, 201]);
  assert.ok(gi.every((a) => a.typeId !== T.M_IT_NA_1), 'counters are not part of GI');
  assert.equal(latest(got.readings, 'meter1', 'voltage')?.payload.voltage, 230.5);
  assert.equal(latest(got.readings, 'meter1', 'breaker')?.payload.breaker, true);
  const m2 = latest(got.readings, 'meter2', 'state');
  assert.equal(m2?.payload.state, 2);
  assert.equal(m2?.rtu.quality, 'stale');
  // Group 2 holds only the current.
  const at = got.asdus.length;
  await m.interrogate(22);
  assert.deepEqual(got.asdus.slice(at).flatMap((a) => a.objects.map((o) => o.ioa)), [102]);
  assert.equal(got.asdus[at].cot, 22);
  // A point never read goes out invalid.
  const fresh = await startOutstation();
  const m3 = master(fresh.port, { interrogateOnStart: false });
  const got3 = collect(m3);
  m3.start();
  await until(() => m3.state === 'started', 'STARTDT');
  await m3.interrogate();
  assert.equal(latest(got3.readings, 'meter1', 'voltage')?.rtu.quality, 'bad');
  await Promise.all([m.stop(), m3.stop()]);
  await Promise.all([rig.outstation.close(), fresh.outstation.close()]);
});

test('spontaneous data with deadband, quality changes, and the time tag of TB types', async () => {
  const rig = await startOutstation();
  const m = master(rig.port, { interrogateOnStart: false });
  const got = collect(m);
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  rig.outstation.update('meter1', { voltage: 230 }, { quality: 'good' });
  await until(() => got.asdus.some((a) => a.cot === 3 && a.objects[0].ioa === 100), 'first voltage');
  rig.outstation.update('meter1', { voltage: 230.5 }, { quality: 'good' }); // inside the deadband
  rig.outstation.update('meter1', { voltage: 231.2 }, { quality: 'good' });
  await until(() => got.asdus.filter((a) => a.cot === 3 && a.objects[0].ioa === 100).length === 2, 'second voltage');
  const sent = got.asdus.filter((a) => a.cot === 3 && a.objects[0].ioa === 100).map((a) => Math.round((a.objects[0].value as number) * 10) / 10);
  assert.deepEqual(sent, [230, 231.2]);
  rig.outstation.update('meter1', {}, { quality: 'bad' });
  await until(() => got.asdus.some((a) => a.cot === 3 && a.objects.some((o) => o.ioa === 100 && o.quality?.iv)), 'IV on bad data');
  const stamp = Date.parse('2026-03-04T05:06:07.089Z');
  rig.outstation.update('meter2', { state: false }, { quality: 'good', timestamp: stamp });
  await until(() => !!latest(got.readings, 'meter2', 'state'), 'time-tagged point');
  const r = latest(got.readings, 'meter2', 'state');
  assert.equal(r?.rtu.timestamp, stamp);
  assert.equal(r?.payload.state, 1);
  await m.stop();
  await rig.outstation.close();
});

test('every command type reaches the device; act-con only after the device confirmed, then act-term', async () => {
  const rig = await startOutstation();
  const m = master(rig.port, { interrogateOnStart: false });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  await m.command({ ioa: 5000, type: 'C_SC_NA_1', value: true });
  await m.command({ ioa: 5001, type: 'C_DC_NA_1', value: 1, sbo: true });
  await m.command({ ioa: 5002, type: 'C_RC_NA_1', value: 2 });
  await m.command({ ioa: 5003, type: 'C_SE_NA_1', value: 0.5 });
  await m.command({ ioa: 5004, type: 'C_SE_NB_1', value: -1234 });
  await m.command({ ioa: 5005, type: 'C_SE_NC_1', value: 12.5, sbo: true });
  await m.command({ ioa: 5006, type: 'C_SC_TA_1', value: false });
  assert.deepEqual(rig.writes.map((w) => [w.point, w.value]), [
    ['relay', true], ['switch', false], ['tap', 1], ['limit_norm', 0.5], ['limit_scaled', -1234], ['limit_kw', 12.5], ['relay_timed', false],
  ]);
  // Held write: the command stays unconfirmed until the device confirms.
  const release = rig.holdWrites();
  let settled = false;
  const pending = m.command({ ioa: 5000, type: 'C_SC_NA_1', value: false }).then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(settled, false, 'no act-con before the device confirmed');
  release();
  await pending;
  assert.deepEqual(rig.writes[rig.writes.length - 1], { device: 'meter1', point: 'relay', value: false });
  await m.stop();
  await rig.outstation.close();
});

test('select before operate: execute without select, select timeout, cancel, and a failing device', async () => {
  const rig = await startOutstation({ selectTimeoutMs: 150 });
  const events: CommandEvent[] = [];
  rig.outstation.on('command', (e: CommandEvent) => events.push(e));
  const m = master(rig.port, { interrogateOnStart: false });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  const cmd = { ioa: 5005, type: 'C_SE_NC_1', value: 7.5 };
  await assert.rejects(m.command(cmd), (e: Error) => e instanceof NegativeConfirmError && e.cot === 7);
  assert.match(events[events.length - 1].error ?? '', /execute without a valid select/);
  // Select, then let it expire.
  await assert.rejects(
    (async () => {
      await (m as unknown as { request: (t: number, o: object, c: number, s: number[]) => Promise<Asdu> }).request(T.C_SE_NC_1, { ioa: 5005, value: 7.5, qualifier: 0, select: true }, 6, [7]);
      await until(() => events.some((e) => e.action === 'select-timeout'), 'select timeout');
      await m.command(cmd);
    })(),
    NegativeConfirmError,
  );
  // Select, cancel, execute: refused.
  await (m as unknown as { request: (t: number, o: object, c: number, s: number[]) => Promise<Asdu> }).request(T.C_SE_NC_1, { ioa: 5005, value: 7.5, qualifier: 0, select: true }, 6, [7]);
  await m.cancel({ ...cmd, sbo: true });
  await assert.rejects(m.command(cmd), NegativeConfirmError);
  assert.deepEqual(rig.writes, []);
  // A device that fails the write: negative act-con.
  const failing = await startOutstation({ write: async () => Promise.reject(new Error('device said no')) });
  const m2 = master(failing.port, { interrogateOnStart: false });
  const fe: CommandEvent[] = [];
  failing.outstation.on('command', (e: CommandEvent) => fe.push(e));
  m2.start();
  await until(() => m2.state === 'started', 'STARTDT');
  await assert.rejects(m2.command({ ioa: 5000, type: 'C_SC_NA_1', value: true }), (e: Error) => e instanceof NegativeConfirmError && e.cot === 7);
  assert.equal(fe[0].error, 'device said no');
  await Promise.all([m.stop(), m2.stop()]);
  await Promise.all([rig.outstation.close(), failing.outstation.close()]);
});

test('negative confirms: unknown type 44 (type not served, wrong type for the IOA, monitor type), unknown COT 45, unknown CA 46, unknown IOA 47; read-only refuses', async () => {
  const rig = await startOutstation();
  const m = master(rig.port, { interrogateOnStart: false });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  const cause = (cot: number) => (e: Error) => e instanceof NegativeConfirmError && e.cot === cot;
  await assert.rejects(m.command({ ioa: 4999, type: 'C_SC_NA_1', value: true }), cause(47));
  await assert.rejects(m.command({ ioa: 5000, type: 'C_SE_NC_1', value: 1 }), cause(44));
  await assert.rejects(m.read(4999), cause(47));
  const wrongCa = master(rig.port, { interrogateOnStart: false, commonAddress: 2 });
  wrongCa.start();
  await until(() => wrongCa.state === 'started', 'STARTDT');
  await assert.rejects(wrongCa.interrogate(), cause(46));
  await assert.rejects(wrongCa.command({ ioa: 5000, type: 'C_SC_NA_1', value: true }), cause(46));
  // Raw: each request is echoed with only the COT octet changed, P/N set.
  const raw = new RawClient(rig.port);
  await raw.ready();
  raw.u('STARTDT_ACT');
  const probes: Array<[string, string]> = [
    ['64010303010000000014', '64016d03010000000014'], // GI with COT 3 → 45
    ['350106030100581b0001', '35016c030100581b0001'], // undefined type 53 → 44
    ['2d010303010088130001', '2d016d03010088130001'], // C_SC_NA_1 with COT 3 → 45
    ['2d010603020088130001', '2d016e03020088130001'], // C_SC_NA_1 to CA 2 → 46
    ['2d010603010087130001', '2d016f03010087130001'], // C_SC_NA_1 at unknown IOA 4999 → 47
    ['01010603010064000001', '01016c03010064000001'], // M_SP_NA_1 (monitor direction) from a master → 44
    ['3201060301008813000000803f00', '32016c0301008813000000803f00'], // C_SE_NC_1 1.0 at the C_SC_NA_1 IOA 5000 → 44
  ];
  for (const [request] of probes) raw.send(Buffer.from(request, 'hex'));
  await until(() => raw.asdus().length >= probes.length, 'a reply per probe');
  assert.deepEqual(raw.received.filter((r) => r.asdu).map((r) => r.bytes.toString('hex')), probes.map(([, reply]) => reply));
  // A table without set-points: a set-point command is of a type this outstation does not accept at all.
  const switchesOnly = await startOutstation({}, ROWS.filter((r) => !r.type.startsWith('C_SE')));
  const m3 = master(switchesOnly.port, { interrogateOnStart: false });
  m3.start();
  await until(() => m3.state === 'started', 'STARTDT');
  await assert.rejects(m3.command({ ioa: 5005, type: 'C_SE_NC_1', value: 1 }), cause(44));
  await assert.rejects(m3.command({ ioa: 4999, type: 'C_SC_NA_1', value: true }), cause(47));
  const readOnly = await startOutstation({ allowCommands: false });
  const m2 = master(readOnly.port, { interrogateOnStart: false });
  m2.start();
  await until(() => m2.state === 'started', 'STARTDT');
  await assert.rejects(m2.command({ ioa: 5000, type: 'C_SC_NA_1', value: true }), cause(7));
  assert.deepEqual(readOnly.writes, []);
  assert.deepEqual(rig.writes, []);
  raw.close();
  await Promise.all([m.stop(), m2.stop(), m3.stop(), wrongCa.stop()]);
  await Promise.all([rig.outstation.close(), readOnly.outstation.close(), switchesOnly.outstation.close()]);
});

test('test mode: a command is confirmed and terminated without a device write', async () => {
  const rig = await startOutstation({ testMode: () => true });
  const events: CommandEvent[] = [];
  rig.outstation.on('command', (e: CommandEvent) => events.push(e));
  const m = master(rig.port, { interrogateOnStart: false });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  await m.command({ ioa: 5000, type: 'C_SC_NA_1', value: true });
  assert.deepEqual(rig.writes, []);
  assert.equal(events[0].dryRun, true);
  await m.stop();
  await rig.outstation.close();
});

test('counter interrogation with freeze and reset, clock sync offset without changing the clock, read', async () => {
  const rig = await startOutstation();
  const m = master(rig.port, { interrogateOnStart: false });
  const got = collect(m);
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  rig.outstation.update('meter1', { energy: 1500 }, { quality: 'good' });
  await m.counterInterrogate(5 | (1 << 6)); // freeze without reset
  const first = got.asdus.filter((a) => a.cot === 37).pop();
  assert.deepEqual([first?.objects[0].value, first?.objects[0].sequence], [1500, 1]);
  await m.counterInterrogate(5 | (2 << 6)); // freeze with reset
  rig.outstation.update('meter1', { energy: 1600 }, { quality: 'good' });
  await m.counterInterrogate(5 | (1 << 6));
  assert.deepEqual(got.asdus.filter((a) => a.cot === 37).map((a) => a.objects[0].value), [1500, 1500, 100]);
  let setCalled = false;
  const clockEvents: Array<{ offsetMs: number; set: boolean }> = [];
  rig.outstation.on('clock', (e) => clockEvents.push(e));
  void setCalled;
  await m.clockSync();
  assert.equal(clockEvents.length, 1);
  assert.equal(clockEvents[0].set, false);
  assert.ok(Math.abs(clockEvents[0].offsetMs) < 5000);
  assert.ok(rig.outstation.stats().clockOffsetMs !== undefined);
  const read = await m.read(101);
  assert.equal(read.cot, 5);
  await assert.rejects(m.read(999), (e: Error) => e instanceof NegativeConfirmError && e.cot === 47);
  await m.stop();
  await rig.outstation.close();
  // Allowed: the clock setter is called with the master's time.
  const dates: Date[] = [];
  const allowed = await startOutstation({ allowClockSet: true, setClock: (d) => dates.push(d) });
  const m2 = master(allowed.port, { interrogateOnStart: false });
  m2.start();
  await until(() => m2.state === 'started', 'STARTDT');
  await m2.clockSync();
  assert.equal(dates.length, 1);
  await m2.stop();
  await allowed.outstation.close();
  setCalled = true;
});

test('k window: with no acknowledgement the outstation stops after k I-frames, and resumes on an S-frame', async () => {
  const rig = await startOutstation({ link: { k: 12, w: 8, t1: 15000, t2: 10000, t3: 20000 } });
  const raw = new RawClient(rig.port);
  await raw.ready();
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON'), 'STARTDT con');
  for (let i = 0; i < 100; i++) {
    rig.outstation.update('meter1', { power: i, breaker: i % 2 === 0 }, { quality: 'good' });
  }
  await until(() => raw.asdus().length >= 12, '12 I-frames');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(raw.asdus().length, 12, 'sending stopped at k');
  assert.equal(rig.outstation.stats().connections[0].unacked, 12);
  raw.ack();
  await until(() => raw.asdus().length >= 24, '12 more after the S-frame');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(raw.asdus().length, 24);
  raw.close();
  await rig.outstation.close();
});

test('event buffer bound: events beyond it are dropped and counted; what is kept goes out after STARTDT', async () => {
  const rig = await startOutstation({ eventBufferSize: 10 }, [{ device: 'd', point: 'p', ioa: 1, type: 'M_ME_NB_1' }]);
  const raw = new RawClient(rig.port);
  await raw.ready();
  await until(() => rig.outstation.stats().connections.length === 1, 'connection');
  for (let i = 0; i < 50; i++) rig.outstation.update('d', { p: i }, { quality: 'good' });
  const s = rig.outstation.stats().connections[0];
  assert.deepEqual([s.buffered, s.dropped], [10, 40]);
  raw.u('STARTDT_ACT');
  await until(() => raw.asdus().flatMap((a) => a.objects).length >= 10, 'kept events');
  const values = raw.asdus().flatMap((a) => a.objects.map((o) => o.value));
  assert.deepEqual(values, [40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
  raw.close();
  await rig.outstation.close();
});

test('t1 expiry at the outstation closes the connection; the master reconnects by itself', async () => {
  // The master acknowledges only after 50 frames or 5 s; the outstation waits 300 ms.
  const rig = await startOutstation({ link: { k: 12, w: 8, t1: 300, t2: 200, t3: 20000 } });
  const reasons: string[] = [];
  rig.outstation.on('disconnect', (d) => reasons.push(d.reason));
  const m = master(rig.port, { interrogateOnStart: false, link: { k: 12, w: 50, t1: 15000, t2: 5000, t3: 20000 } });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  rig.outstation.update('meter1', { power: 1 }, { quality: 'good' });
  await until(() => reasons.length === 1, 't1 close');
  assert.match(reasons[0], /t1 expired: 1 I-frame/);
  await until(() => m.stats().connects === 2 && m.state === 'started', 'reconnect');
  assert.equal(m.stats().disconnects, 1);
  await m.stop();
  await rig.outstation.close();
});

test('TESTFR on idle keeps the connection; STOPDT stops data until STARTDT', async () => {
  const rig = await startOutstation();
  const m = master(rig.port, { interrogateOnStart: false, link: { k: 12, w: 8, t1: 1000, t2: 100, t3: 100 } });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  await until(() => (m as unknown as { link: { stats: { testFrames: number } } }).link.stats.testFrames >= 2, 'two idle tests');
  assert.equal(m.state, 'started');
  await m.stop();
  const raw = new RawClient(rig.port);
  await raw.ready();
  raw.u('STARTDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STARTDT_CON'), 'STARTDT con');
  raw.u('STOPDT_ACT');
  await until(() => raw.received.some((r) => r.kind === 'STOPDT_CON'), 'STOPDT con');
  rig.outstation.update('meter1', { power: 77 }, { quality: 'good' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(raw.asdus().length, 0, 'no data while stopped');
  raw.u('STARTDT_ACT');
  await until(() => raw.asdus().some((a) => a.objects[0].value === 77), 'data after STARTDT');
  raw.close();
  await rig.outstation.close();
});

test('a master that disconnects mid-command: the write completes, nothing crashes, others are served', async () => {
  const rig = await startOutstation();
  const events: CommandEvent[] = [];
  rig.outstation.on('command', (e: CommandEvent) => events.push(e));
  const release = rig.holdWrites();
  const m = master(rig.port, { interrogateOnStart: false });
  m.start();
  await until(() => m.state === 'started', 'STARTDT');
  const pending = m.command({ ioa: 5000, type: 'C_SC_NA_1', value: true }).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 50));
  await m.stop();
  assert.match(String(await pending), /connection closed/);
  release();
  await until(() => events.length === 1, 'command finished');
  assert.equal(events[0].ok, true);
  const other = master(rig.port, { interrogateOnStart: false });
  other.start();
  await until(() => other.state === 'started', 'STARTDT');
  await other.interrogate();
  await other.stop();
  await rig.outstation.close();
});

test('redundancy group: the connection that sent STARTDT last gets the data; the other stops', async () => {
  const rig = await startOutstation({ redundancyGroups: [{ name: 'scada', hosts: ['127.0.0.1'] }] });
  const switches: unknown[] = [];
  rig.outstation.on('switchover', (s) => switches.push(s));
  const a = master(rig.port, { interrogateOnStart: false });
  const b = master(rig.port, { interrogateOnStart: false });
  const gotA = collect(a);
  const gotB = collect(b);
  a.start();
  await until(() => a.state === 'started', 'A started');
  rig.outstation.update('meter1', { power: 1 }, { quality: 'good' });
  await until(() => gotA.asdus.length === 1, 'A gets data');
  b.start();
  await until(() => b.state === 'started' && switches.length === 1, 'B takes over');
  rig.outstation.update('meter1', { power: 2 }, { quality: 'good' });
  await until(() => gotB.asdus.length === 1, 'B gets data');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(gotA.asdus.length, 1, 'A no longer gets data');
  const st = rig.outstation.stats().connections;
  assert.deepEqual(st.map((c) => c.active).sort(), [false, true]);
  await Promise.all([a.stop(), b.stop()]);
  await rig.outstation.close();
});

test('redundancy switch-over: events not acknowledged on the old connection go again on the new one, in order, none lost', async () => {
  const rig = await startOutstation({ redundancyGroups: [{ name: 'scada', hosts: ['127.0.0.1'] }] }, [{ device: 'd', point: 'p', ioa: 1, type: 'M_ME_NB_1' }]);
  let value = 0;
  const events = (n: number) => {
    for (let i = 0; i < n; i++) rig.outstation.update('d', { p: value++ }, { quality: 'good' });
  };
  const values = (c: RawClient) => c.asdus().map((a) => a.objects[0].value);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  // A gets 12 (k), acknowledges 5, gets 5 more, then dies with 12 unacknowledged.
  const a = new RawClient(rig.port);
  await a.ready();
  a.u('STARTDT_ACT');
  await until(() => a.received.some((r) => r.kind === 'STARTDT_CON'), 'A started');
  events(20);
  await until(() => values(a).length === 12, 'A: k frames');
  a.socket.write(encodeS(5));
  await until(() => values(a).length === 17, 'A: 5 more after its acknowledgement');
  assert.deepEqual(values(a), range(0, 17));
  a.close();
  await until(() => rig.outstation.stats().connections.length === 0, 'A gone');
  events(3); // 20..22 while no master is active
  // B starts: the 12 A left unacknowledged, then what was buffered, then new events.
  const b = new RawClient(rig.port);
  await b.ready();
  b.u('STARTDT_ACT');
  await until(() => values(b).length === 12, 'B: k frames');
  b.ack();
  await until(() => values(b).length === 18, 'B: the rest');
  assert.deepEqual(values(b), range(5, 23));
  events(4); // 23..26
  await until(() => values(b).length === 22, 'B: new events');
  b.socket.write(encodeS(20)); // B acknowledges up to 24 and leaves 25, 26 unacknowledged
  // C starts while B is still connected: a switch-over; B's unacknowledged events go to C, B gets nothing more.
  const c = new RawClient(rig.port);
  await c.ready();
  c.u('STARTDT_ACT');
  await until(() => values(c).length === 2, 'C: B\'s unacknowledged events');
  events(2); // 27, 28
  await until(() => values(c).length === 4, 'C: new events');
  assert.deepEqual(values(c), [25, 26, 27, 28]);
  assert.equal(values(b).length, 22, 'B gets nothing after the switch-over');
  c.ack();
  await until(() => rig.outstation.stats().connections.find((x) => x.active)?.unacked === 0, 'C acknowledged');
  a.close();
  b.close();
  c.close();
  await rig.outstation.close();
});

test('redundant master connections: the second address takes over when the first fails', async () => {
  const one = await startOutstation();
  const two = await startOutstation();
  const m = master(one.port, { interrogateOnStart: false, endpoints: [{ host: '127.0.0.1', port: one.port }, { host: '127.0.0.1', port: two.port }] });
  m.start();
  await until(() => m.state === 'started', 'first');
  assert.equal(m.stats().endpoint, `127.0.0.1:${one.port}`);
  await one.outstation.close();
  await until(() => m.state === 'started' && m.stats().endpoint === `127.0.0.1:${two.port}`, 'second');
  await m.stop();
  await two.outstation.close();
});

test('malformed frames close only that connection, with the reason; another master keeps working', async () => {
  const rig = await startOutstation();
  const reasons: string[] = [];
  rig.outstation.on('disconnect', (d) => reasons.push(d.reason));
  const good = master(rig.port, { interrogateOnStart: false });
  const got = collect(good);
  good.start();
  await until(() => good.state === 'started', 'STARTDT');
  const bad = new RawClient(rig.port);
  await bad.ready();
  bad.u('STARTDT_ACT');
  bad.send(Buffer.from('0d0203000100', 'hex')); // float ASDU truncated after its header
  await until(() => bad.closed, 'bad connection closed');
  const bad2 = new RawClient(rig.port);
  await bad2.ready();
  bad2.socket.write(Buffer.from('6904070000', 'hex'));
  await until(() => bad2.closed, 'second bad connection closed');
  assert.match(reasons[0], /malformed ASDU 0d0203000100: .*needs/);
  assert.match(reasons[1], /malformed frame: .*start octet 0x69/);
  assert.equal(rig.outstation.stats().malformed, 1);
  rig.outstation.update('meter1', { power: 5 }, { quality: 'good' });
  await until(() => got.asdus.some((a) => a.objects[0].value === 5), 'good master still served');
  await good.stop();
  await rig.outstation.close();
});

test('the captured reference master requests, replayed against this outstation', async () => {
  // The ASDUs come from the reference client (startdt_gi.log, negative.log); only the APCI is this client's.
  const rig = await startOutstation({}, [...ROWS, { device: 'meter1', point: 'ref_relay', ioa: 5000 + 1000, type: 'C_SE_NC_1' }].filter((r) => r.ioa !== 5000).concat([{ device: 'meter1', point: 'ref_switch', ioa: 5000, type: 'C_SC_NA_1', sbo: true }]));
  const raw = new RawClient(rig.port);
  await raw.ready();
  raw.u('STARTDT_ACT');
  const requests = ['startdt_gi.log', 'negative.log'].flatMap((f) =>
    loadFrames(f).filter((x) => x.dir === 'C->S').map((x) => decodeApdu(x.bytes)).flatMap((a) => (a.kind === 'I' ? [Buffer.from(a.asdu)] : [])),
  );
  assert.equal(requests.length, 19);
  const replies: Asdu[][] = [];
  for (const req of requests) {
    const before = raw.asdus().length;
    raw.send(req);
    await until(() => raw.asdus().slice(before).some((a) => a.typeId === req[0] && [7, 9, 10, 44, 45, 46, 47].includes(a.cot) || (req[0] === 102 && a.cot === 5)), `reply to type ${req[0]}`);
    await new Promise((r) => setTimeout(r, 20));
    replies.push(raw.asdus().slice(before));
    raw.ack();
  }
  const cots = replies.map((r) => r.filter((a) => a.typeId >= 45).map((a) => `${a.cot}${a.negative ? '-' : ''}`).join(','));
  assert.deepEqual(cots, [
    '7,10', // GI
    '7', // clock sync
    '7', // select C_SC 5000
    '7,10', // execute
    '7,10', // C_SE_NC_1 6000 12.5
    '7,10', // counter interrogation
    '7', // test command
    '7-', // negative.log baseline: execute without select, refused here because this table makes IOA 5000 select-before-operate
    '47-', // unknown IOA 4999
    '44-', // C_SE_NA_1 at 6000: mapped as C_SE_NC_1, so the type is wrong for it (the reference: 44, type not served)
    '7,10', // C_SE_NC_1 6000 1.0
    '46-', '46-', // CA 2
    '47-', // GI with IOA 1
    '45-', // GI with COT 3
    '7,10', // group 1 interrogation
    '', // read IOA 110: not mapped → 47
    '7,10', // counter interrogation
    '44-', // type 53
  ].map((x, i) => (i === 16 ? '47-' : x)));
  raw.close();
  await rig.outstation.close();
});
