import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { ServerSerial } from 'modbus-serial';
import { ModbusLine, LineOptions, PollContext, PolledDevice } from '../../nodes/lib/modbus/line';
import { FrameError, ModbusException, encodeResponse } from '../../nodes/lib/modbus/pdu';
import { CrcError, LinkError, ModbusTimeoutError } from '../../nodes/lib/modbus/transport-errors';
import { startPtyPair, PtyPair } from '../support/pty-pair';
import { SerialPeer, TcpPeer, defaultRegister, rtuFrame } from '../support/modbus-peer';
import { rejection, sleep, waitFor } from '../support/wait';

function rtuLine(devicePath: string, extra: Partial<LineOptions> = {}): ModbusLine {
  const line = new ModbusLine({
    name: 'rs485',
    transport: { kind: 'rtu', path: devicePath, baudRate: 115200 },
    timeoutMs: 150,
    retries: 0,
    reconnect: { initialMs: 50, maxMs: 200 },
    ...extra,
  });
  line.start();
  return line;
}

interface Bench {
  pair: PtyPair;
  peer: SerialPeer;
  line: ModbusLine;
  done(): Promise<void>;
}

async function setup(units: number[], lineOptions: Partial<LineOptions> = {}): Promise<Bench> {
  const pair = await startPtyPair();
  const peer = await SerialPeer.open(pair.devicePath, { framing: 'rtu', units });
  const line = rtuLine(pair.clientPath, lineOptions);
  await waitFor(() => line.connected, 'serial port open');
  return {
    pair,
    peer,
    line,
    done: async () => {
      await line.stop();
      await peer.stop();
      await pair.stop();
    },
  };
}

/** A device that reads ten registers per poll and counts its successes. */
function counter(name: string, unitId: number, intervalMs = 0): PolledDevice & { ok: number; failed: number } {
  const dev = {
    name,
    unitId,
    intervalMs,
    ok: 0,
    failed: 0,
    poll: async (ctx: PollContext) => {
      try {
        const words = await ctx.request({ fc: 3, address: 0, quantity: 10 });
        assert.equal(words[9], defaultRegister(unitId, 9));
        dev.ok++;
      } catch {
        dev.failed++;
      }
    },
  };
  return dev;
}

test('interop with modbus-serial ServerSerial over a pty pair', async () => {
  const pair = await startPtyPair();
  const holding = Array.from({ length: 50 }, (_, i) => 100 + i);
  const server = new ServerSerial(
    {
      getHoldingRegister: (addr: number) => holding[addr],
      getInputRegister: (addr: number) => 7000 + addr,
      setRegister: (addr: number, value: number) => {
        holding[addr] = value;
      },
    },
    // `interval` (the server's inter-frame silence) is missing from modbus-serial's typings
    { path: pair.devicePath, baudRate: 115200, unitID: 17, interval: 10 } as ConstructorParameters<typeof ServerSerial>[1],
  );
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  const line = rtuLine(pair.clientPath, { timeoutMs: 500 });
  try {
    assert.deepEqual(await line.request(17, { fc: 3, address: 5, quantity: 4 }), [105, 106, 107, 108]);
    assert.deepEqual(await line.request(17, { fc: 4, address: 1, quantity: 2 }), [7001, 7002]);
    assert.deepEqual(await line.request(17, { fc: 16, address: 0, values: [11, 12] }), []);
    assert.deepEqual(holding.slice(0, 2), [11, 12]);
    const silent = await rejection(line.request(18, { fc: 3, address: 0, quantity: 1 }, { timeoutMs: 100 }));
    assert.ok(silent instanceof ModbusTimeoutError, 'another unit id gets no answer on RTU');
  } finally {
    await line.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pair.stop();
  }
});

test('a unit that never answers does not slow the live units on a shared RTU line', async () => {
  const b = await setup([1, 2, 3], {
    timeoutMs: 100,
    retries: 1,
    unitBackoff: { initialMs: 1000, maxMs: 60000 },
  });
  const regs: { remove(): void }[] = [];
  try {
    const live = [counter('m1', 1), counter('m2', 2), counter('m3', 3)];
    const measure = async (ms: number): Promise<number> => {
      const before = live.reduce((n, d) => n + d.ok, 0);
      await sleep(ms);
      return (live.reduce((n, d) => n + d.ok, 0) - before) / (ms / 1000);
    };
    for (const d of live) regs.push(b.line.addDevice(d));
    await sleep(200);
    const alone = await measure(2500);
    const dead = counter('m4', 4);
    regs.push(b.line.addDevice(dead));
    const withDead = await measure(2500);
    assert.ok(alone > 50, `live units polled ${alone.toFixed(0)}/s`);
    assert.ok(withDead > alone * 0.5, `live units: ${alone.toFixed(0)} polls/s alone, ${withDead.toFixed(0)}/s beside a dead unit`);
    assert.equal(dead.ok, 0);
    assert.ok(dead.failed >= 2 && dead.failed <= 4, `dead unit probed ${dead.failed} times in 2.5 s with backoff 1 s, 2 s`);
    assert.ok(b.line.unitHealth(4).backingOff);
    for (const d of live) assert.equal(d.failed, 0, `${d.name} never failed`);
    const perDevice = live.map((d) => d.ok);
    assert.ok(Math.min(...perDevice) > Math.max(...perDevice) * 0.8, `fair share: ${perDevice.join(', ')}`);
    console.log(`# RTU pty: live units ${alone.toFixed(0)} polls/s alone, ${withDead.toFixed(0)} polls/s beside a dead unit`);
  } finally {
    for (const r of regs) r.remove();
    await b.done();
  }
});

test('CRC errors and garbage on the line: clear errors, retries recover, the line goes on', async () => {
  const b = await setup([1, 2]);
  try {
    const req = { fc: 3 as const, address: 0, quantity: 4 };
    b.peer.script = (r) => {
      const frame = rtuFrame(r.unitId, b.peer.answer(r.request, r.unitId));
      if (r.index % 3 === 0) {
        const bad = Buffer.from(frame);
        bad[4] ^= 0x40;
        return { raw: bad };
      }
      if (r.index % 3 === 1) return { raw: Buffer.concat([Buffer.from([0xff, 0x00, 0x13, 0x37]), frame, Buffer.from([0x99])]) };
      return 'normal';
    };
    const err = await rejection(b.line.request(1, req));
    assert.ok(err instanceof CrcError, `${err.name}: ${err.message}`);
    assert.match(err.message, /line "rs485" unit 1 FC3 @0 x4: CRC mismatch in the answer/);
    assert.deepEqual(await b.line.request(1, req), [1000, 1001, 1002, 1003], 'garbage around a good frame is skipped');
    assert.deepEqual(await b.line.request(2, req), [2000, 2001, 2002, 2003]);
    // with one retry every request succeeds although a third of the answers are damaged
    for (let i = 0; i < 9; i++) assert.deepEqual(await b.line.request(2, req, { retries: 1 }), [2000, 2001, 2002, 2003]);
    // noise out of turn, between requests
    b.peer.script = undefined;
    b.peer.inject(Buffer.from([0x01, 0x03, 0x02, 0xaa]));
    await sleep(20);
    assert.deepEqual(await b.line.request(1, req), [1000, 1001, 1002, 1003]);
    const stats = b.line.stats();
    assert.ok(stats.counters.crcErrors >= 4, `crc errors ${stats.counters.crcErrors}`);
    assert.ok(stats.garbageBytes > 10, `garbage ${stats.garbageBytes}`);
    assert.equal(b.line.unitHealth(1).backingOff, false, 'a damaged answer is not a dead unit');
  } finally {
    await b.done();
  }
});

test('short frames, exceptions and broadcasts on RTU', async () => {
  const b = await setup([5]);
  try {
    b.peer.script = (r) => {
      if ('quantity' in r.request && r.request.address === 1) {
        return { raw: rtuFrame(5, encodeResponse(r.request, [1, 2, 3, 4])).subarray(0, 7) };
      }
      if ('quantity' in r.request && r.request.address === 2) return { exception: 2 };
      return undefined;
    };
    const short = await rejection(b.line.request(5, { fc: 3, address: 1, quantity: 4 }));
    assert.ok(short instanceof FrameError && !(short instanceof CrcError), `${short.name}: ${short.message}`);
    assert.match(short.message, /short answer: 7 of 13 bytes/);
    const exc = await rejection(b.line.request(5, { fc: 3, address: 2, quantity: 4 }));
    assert.ok(exc instanceof ModbusException);
    assert.equal(exc.code, 2);
    assert.deepEqual(await b.line.request(0, { fc: 6, address: 9, value: 77 }), [], 'broadcast completes without an answer');
    assert.deepEqual(await b.line.request(5, { fc: 3, address: 9, quantity: 1 }), [77]);
    assert.match((await rejection(b.line.request(0, { fc: 3, address: 0, quantity: 1 }))).message, /broadcast/);
  } finally {
    await b.done();
  }
});

test('the adapter disappears and comes back on the same (symlinked) path: the line reconnects', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-line-'));
  const link = path.join(dir, 'ttyRS485');
  let pair = await startPtyPair({ link });
  let peer = await SerialPeer.open(pair.devicePath, { framing: 'rtu', units: [1] });
  const line = rtuLine(link, { timeoutMs: 100 });
  const dev = counter('m1', 1, 20);
  const reg = line.addDevice(dev);
  let disconnects = 0;
  line.on('disconnect', () => disconnects++);
  try {
    await waitFor(() => dev.ok >= 5, 'polls before the unplug');
    await peer.stop();
    await pair.stop();
    await waitFor(() => disconnects === 1, 'the line notices the port is gone', 3000);
    assert.equal(line.connected, false);
    // Offline polls of a fast device are spaced at most once a second: wait up to two of them.
    const failedBefore = dev.failed;
    await waitFor(() => dev.failed > failedBefore, 'polls during the outage report failure instead of hanging', 2500);
    const lost = await rejection(line.request(1, { fc: 3, address: 0, quantity: 1 }, { priority: 'poll' }));
    assert.ok(lost instanceof LinkError, lost.message);
    assert.match(lost.message, /not connected \((cannot open )?serial port .*ttyRS485/);
    pair = await startPtyPair({ link });
    peer = await SerialPeer.open(pair.devicePath, { framing: 'rtu', units: [1] });
    const okBefore = dev.ok;
    await waitFor(() => dev.ok >= okBefore + 5, 'polls after the adapter is back', 5000);
    assert.equal(line.connected, true);
  } finally {
    reg.remove();
    await line.stop();
    await peer.stop();
    await pair.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stop() releases the serial port: a new line opens the same path at once', async () => {
  const b = await setup([1]);
  try {
    assert.deepEqual(await b.line.request(1, { fc: 3, address: 0, quantity: 1 }), [1000]);
    const second = rtuLine(b.pair.clientPath);
    await sleep(100);
    assert.equal(second.connected, false, 'the port is locked while the first line holds it');
    await second.stop();
    await b.line.stop();
    const third = rtuLine(b.pair.clientPath);
    try {
      await waitFor(() => third.connected, 'reopen after stop', 1000);
      assert.deepEqual(await third.request(1, { fc: 3, address: 1, quantity: 1 }), [1001]);
    } finally {
      await third.stop();
    }
  } finally {
    await b.done();
  }
});

test('Modbus RTU over TCP (serial-to-Ethernet converter)', async () => {
  const peer = await TcpPeer.start({
    framing: 'rtu',
    units: [3],
    script: (r) => ('quantity' in r.request && r.request.address === 99 ? { raw: Buffer.from([3, 3, 2, 0, 1, 0, 0]) } : undefined),
  });
  const line = new ModbusLine({
    name: 'converter',
    transport: { kind: 'rtu-tcp', host: '127.0.0.1', port: peer.port },
    timeoutMs: 150,
    retries: 0,
  });
  line.start();
  try {
    assert.deepEqual(await line.request(3, { fc: 4, address: 10, quantity: 3 }), [3010, 3011, 3012]);
    assert.deepEqual(await line.request(3, { fc: 6, address: 4, value: 5 }), []);
    assert.deepEqual(await line.request(3, { fc: 3, address: 4, quantity: 1 }), [5]);
    assert.ok((await rejection(line.request(3, { fc: 3, address: 99, quantity: 1 }))) instanceof CrcError);
    assert.ok((await rejection(line.request(4, { fc: 3, address: 0, quantity: 1 }))) instanceof ModbusTimeoutError);
    assert.equal(line.stats().kind, 'rtu-tcp');
  } finally {
    await line.stop();
    await peer.stop();
  }
});
