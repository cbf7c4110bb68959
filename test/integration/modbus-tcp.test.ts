import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'net';
import { ServerTCP } from 'modbus-serial';
import { ModbusLine, LineOptions, PollContext } from '../../nodes/lib/modbus/line';
import { FrameError, ModbusException, encodeResponse } from '../../nodes/lib/modbus/pdu';
import { BackoffError, LinkError, ModbusTimeoutError } from '../../nodes/lib/modbus/transport-errors';
import { TcpPeer, defaultRegister, mbapFrame } from '../support/modbus-peer';
import { rejection, sleep, waitFor } from '../support/wait';

function tcpLine(port: number, extra: Partial<LineOptions> = {}): ModbusLine {
  const line = new ModbusLine({
    name: 'tcp-test',
    transport: { kind: 'tcp', host: '127.0.0.1', port },
    timeoutMs: 300,
    retries: 0,
    reconnect: { initialMs: 50, maxMs: 200 },
    ...extra,
  });
  line.start();
  return line;
}

async function startModbusSerialServer(): Promise<{ server: ServerTCP; port: number; holding: number[]; coils: boolean[] }> {
  const holding = Array.from({ length: 200 }, (_, i) => (i * 3 + 1) & 0xffff);
  const coils = Array.from({ length: 64 }, (_, i) => i % 3 === 0);
  const server = new ServerTCP(
    {
      getHoldingRegister: (addr: number) => {
        if (addr >= holding.length) throw Object.assign(new Error('no such register'), { modbusErrorCode: 2 });
        return holding[addr];
      },
      getInputRegister: (addr: number) => 0x8000 + addr,
      getCoil: (addr: number) => coils[addr],
      getDiscreteInput: (addr: number) => addr % 2 === 1,
      setRegister: (addr: number, value: number) => {
        holding[addr] = value;
      },
      setCoil: (addr: number, value: boolean) => {
        coils[addr] = value;
      },
    },
    { host: '127.0.0.1', port: 0, unitID: 255 },
  );
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  const port = ((server as unknown as { _server: net.Server })._server.address() as net.AddressInfo).port;
  return { server, port, holding, coils };
}

test('interop with modbus-serial ServerTCP: every read and write function', async () => {
  const { server, port, holding, coils } = await startModbusSerialServer();
  const line = tcpLine(port);
  try {
    assert.deepEqual(await line.request(1, { fc: 3, address: 10, quantity: 5 }), holding.slice(10, 15));
    assert.deepEqual(await line.request(1, { fc: 4, address: 0, quantity: 3 }), [0x8000, 0x8001, 0x8002]);
    assert.deepEqual(await line.request(1, { fc: 1, address: 0, quantity: 10 }), coils.slice(0, 10).map(Number));
    assert.deepEqual(await line.request(1, { fc: 2, address: 0, quantity: 4 }), [0, 1, 0, 1]);
    assert.deepEqual(await line.request(1, { fc: 6, address: 20, value: 0xbeef }), []);
    assert.deepEqual(await line.request(1, { fc: 16, address: 30, values: [1, 2, 3] }), []);
    assert.deepEqual(await line.request(1, { fc: 5, address: 1, value: true }), []);
    assert.deepEqual(await line.request(1, { fc: 15, address: 40, values: [1, 0, 1] }), []);
    assert.equal(holding[20], 0xbeef);
    assert.deepEqual(holding.slice(30, 33), [1, 2, 3]);
    assert.equal(coils[1], true);
    assert.deepEqual(coils.slice(40, 43), [true, false, true]);
    // a read the server refuses comes back as an exception with its code
    const err = await rejection(line.request(1, { fc: 3, address: 190, quantity: 20 }));
    assert.ok(err instanceof ModbusException, err.message);
    assert.equal(err.code, 2);
    const stats = line.stats();
    assert.equal(stats.connected, true);
    assert.equal(stats.counters.ok, 8);
  } finally {
    await line.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('exception answers 02, 04 and 0B are surfaced with their code and do not back the unit off', async () => {
  const codes: Record<number, number> = { 100: 0x02, 200: 0x04, 300: 0x0b };
  const peer = await TcpPeer.start({
    framing: 'mbap',
    script: (r) => ('quantity' in r.request && codes[r.request.address] ? { exception: codes[r.request.address] } : undefined),
  });
  const line = tcpLine(peer.port, { retries: 2 });
  try {
    for (const [address, code] of Object.entries(codes)) {
      const err = await rejection(line.request(5, { fc: 3, address: Number(address), quantity: 2 }));
      assert.ok(err instanceof ModbusException, err.message);
      assert.equal(err.code, code);
      assert.match(err.message, new RegExp(`line "tcp-test" unit 5 FC3 @${address} x2: exception ${code.toString(16).padStart(2, '0')}`));
    }
    assert.equal(peer.requests.length, 3, 'exceptions are not retried');
    assert.equal(line.unitHealth(5).backingOff, false);
    assert.deepEqual(await line.request(5, { fc: 3, address: 1, quantity: 2 }), [5001, 5002]);
    assert.equal(line.stats().counters.exceptions, 3);
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('short and malformed answers are clear frame errors; the line goes on', async () => {
  const req = { fc: 3 as const, address: 0, quantity: 4 };
  const good = encodeResponse(req, [1, 2, 3, 4]);
  const peer = await TcpPeer.start({
    framing: 'mbap',
    script: (r) => {
      if (!('quantity' in r.request)) return undefined;
      switch (r.request.address) {
        case 1: // PDU shorter than four registers
          return { pdu: good.subarray(0, 6) };
        case 2: // byte count lies
          return { pdu: Buffer.concat([Buffer.from([3, 7]), good.subarray(2)]) };
        case 3: // wrong function code
          return { pdu: Buffer.concat([Buffer.from([4]), good.subarray(1)]) };
        case 4: // MBAP announces 11 bytes, only 5 come
          return { raw: mbapFrame(r.tid, r.unitId, good).subarray(0, 12) };
        default:
          return undefined;
      }
    },
  });
  const line = tcpLine(peer.port, { timeoutMs: 200 });
  try {
    for (const address of [1, 2, 3, 4]) {
      const err = await rejection(line.request(1, { fc: 3, address, quantity: 4 }));
      assert.ok(err instanceof FrameError, `${address}: ${err.name} ${err.message}`);
      assert.match(err.message, new RegExp(`unit 1 FC3 @${address} x4`));
    }
    assert.deepEqual(await line.request(1, { fc: 3, address: 0, quantity: 2 }), [1000, 1001]);
    assert.equal(line.unitHealth(1).backingOff, false, 'a malformed answer is not a dead unit');
    assert.equal(line.stats().counters.frameErrors, 4);
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('garbage before an answer is skipped and the stream resynchronises', async () => {
  const peer = await TcpPeer.start({
    framing: 'mbap',
    script: (r) => {
      if (r.index % 2 === 1) return undefined;
      const answer = mbapFrame(r.tid, r.unitId, encodeResponse(r.request, [defaultRegister(r.unitId, 0)]));
      return { raw: Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00]), answer]) };
    },
  });
  const line = tcpLine(peer.port);
  try {
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(await line.request(2, { fc: 3, address: 0, quantity: 1 }), [2000]);
    }
    assert.ok(line.stats().garbageBytes >= 27, `garbage counted: ${line.stats().garbageBytes}`);
    assert.equal(peer.connections, 1, 'no reconnect needed');
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('pipelining: answers in reverse order are matched by transaction id', async () => {
  let inFlightAtPeer = 0;
  let maxInFlightAtPeer = 0;
  const peer = await TcpPeer.start({
    framing: 'mbap',
    script: (r) => {
      inFlightAtPeer++;
      maxInFlightAtPeer = Math.max(maxInFlightAtPeer, inFlightAtPeer);
      const address = 'quantity' in r.request ? r.request.address : 0;
      // later requests are answered sooner
      const delayMs = 5 + (8 - (address % 8)) * 15;
      setTimeout(() => inFlightAtPeer--, delayMs);
      return { delayMs, then: 'normal' };
    },
  });
  const line = tcpLine(peer.port, { maxOutstanding: 8, timeoutMs: 1000 });
  try {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => line.request(3, { fc: 3, address: i, quantity: 2 }, { priority: 'poll' })),
    );
    results.forEach((values, i) => assert.deepEqual(values, [3000 + i, 3001 + i]));
    assert.equal(maxInFlightAtPeer, 8, 'eight requests in flight at once');
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('a late answer to a timed-out request is dropped, not given to the next request', async () => {
  const peer = await TcpPeer.start({
    framing: 'mbap',
    script: (r) => (r.index === 0 ? { delayMs: 250, then: 'normal' } : undefined),
  });
  const line = tcpLine(peer.port, { timeoutMs: 150, unitBackoff: { initialMs: 50, maxMs: 50 } });
  try {
    const err = await rejection(line.request(1, { fc: 3, address: 7, quantity: 1 }));
    assert.ok(err instanceof ModbusTimeoutError, err.message);
    assert.match(err.message, /line "tcp-test" unit 1 FC3 @7 x1: no answer within 150 ms/);
    await waitFor(() => line.stats().lateResponses === 1, 'the late answer');
    assert.deepEqual(await line.request(1, { fc: 3, address: 8, quantity: 1 }), [1008]);
    assert.equal(line.stats().lateResponses, 1);
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('a silent unit on a TCP gateway backs off; another unit keeps answering', async () => {
  const peer = await TcpPeer.start({ framing: 'mbap', script: (r) => (r.unitId === 9 ? 'silent' : undefined) });
  const line = tcpLine(peer.port, {
    timeoutMs: 100,
    retries: 1,
    unitBackoff: { initialMs: 400, maxMs: 1000, jitter: 0 },
    reconnectAfterTimeouts: 0,
  });
  const events: string[] = [];
  line.on('unit-backoff', (u) => events.push(`backoff ${u.unitId} ${u.backoffMs}`));
  try {
    const first = await rejection(line.request(9, { fc: 3, address: 0, quantity: 1 }));
    assert.ok(first instanceof ModbusTimeoutError, first.message);
    assert.equal(peer.countFor(9), 2, 'tried twice (one retry)');
    const skipped = await rejection(line.request(9, { fc: 3, address: 0, quantity: 1 }));
    assert.ok(skipped instanceof BackoffError, skipped.message);
    assert.match(skipped.message, /unit 9 is not answering \(1 timed-out request\); next try in 0\.\d s/);
    assert.equal(peer.countFor(9), 2, 'not sent while backing off');
    assert.deepEqual(await line.request(1, { fc: 3, address: 0, quantity: 1 }), [1000]);
    await sleep(420);
    await rejection(line.request(9, { fc: 3, address: 0, quantity: 1 }));
    assert.equal(peer.countFor(9), 3, 'probed again after the backoff, with one attempt');
    assert.deepEqual(events, ['backoff 9 400', 'backoff 9 800']);
    assert.equal(line.unitHealth(9).backingOff, true);
    // the unit comes back: any answer resets its backoff
    peer.script = undefined;
    await sleep(820);
    assert.deepEqual(await line.request(9, { fc: 3, address: 0, quantity: 1 }), [9000]);
    assert.equal(line.unitHealth(9).failures, 0);
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('a TCP server that restarts mid-run: in-flight requests fail clearly, the line reconnects by itself', async () => {
  const peer = await TcpPeer.start({ framing: 'mbap' });
  const line = tcpLine(peer.port, { timeoutMs: 300 });
  let disconnects = 0;
  let connects = 0;
  line.on('disconnect', () => disconnects++);
  line.on('connect', () => connects++);
  try {
    await waitFor(() => line.connected, 'first connect');
    // one request stays in flight (the peer holds its answer) when the server goes down
    peer.script = () => ({ delayMs: 1000, then: 'normal' });
    const inFlight = rejection(line.request(1, { fc: 3, address: 0, quantity: 1 }));
    await waitFor(() => peer.requests.length === 1, 'request reached the peer');
    await peer.stop();
    const err = await inFlight;
    assert.ok(err instanceof LinkError, err.message);
    assert.match(err.message, /line "tcp-test" unit 1 FC3 @0 x1: connection to 127\.0\.0\.1:\d+ lost/);
    await waitFor(() => disconnects === 1, 'disconnect event');
    // an on-demand request made while down waits for the reconnect
    const queued = line.request(1, { fc: 3, address: 5, quantity: 1 });
    await sleep(300);
    assert.equal(line.connected, false);
    peer.script = undefined;
    await peer.listen();
    assert.deepEqual(await queued, [1005]);
    assert.equal(connects, 2);
    assert.ok(line.stats().counters.reconnects >= 1);
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('a half-open connection (peer stops answering everyone) is dropped and reopened', async () => {
  const peer = await TcpPeer.start({ framing: 'mbap' });
  const line = tcpLine(peer.port, { timeoutMs: 80, retries: 0, reconnectAfterTimeouts: 3 });
  try {
    assert.deepEqual(await line.request(1, { fc: 3, address: 0, quantity: 1 }), [1000]);
    peer.script = (r) => (r.index < 4 ? 'silent' : undefined);
    for (let unit = 1; unit <= 3; unit++) await rejection(line.request(unit, { fc: 3, address: 0, quantity: 1 }));
    await waitFor(() => peer.connections === 2, 'second connection');
    assert.deepEqual(await line.request(4, { fc: 3, address: 1, quantity: 1 }), [4001]);
  } finally {
    await line.stop();
    await peer.stop();
  }
});

test('stop() fails queued requests, closes the socket, and bad settings are refused clearly', async () => {
  const peer = await TcpPeer.start({ framing: 'mbap', script: () => ({ delayMs: 200, then: 'normal' }) });
  const line = tcpLine(peer.port);
  await waitFor(() => line.connected, 'connect');
  const a = rejection(line.request(1, { fc: 3, address: 0, quantity: 1 }));
  const b = rejection(line.request(1, { fc: 3, address: 1, quantity: 1 }));
  await line.stop();
  assert.ok((await a) instanceof LinkError);
  assert.match((await b).message, /line "tcp-test" unit 1 FC3 @1 x1: line "tcp-test" stopped/);
  await waitFor(() => peer.requests.length === 1, 'only the first reached the peer');
  await sleep(20);
  assert.equal(line.stats().state, 'stopped');
  await peer.stop();
  assert.throws(
    () => new ModbusLine({ name: 'bad', transport: { kind: 'tcp', host: 'x', port: 70000 } }),
    /line "bad": tcp x:70000: port 70000 is not in 1..65535/,
  );
  assert.throws(() => new ModbusLine({ name: 'bad2', transport: { kind: 'tcp', host: 'x', port: 1 }, timeoutMs: 0 }), /timeoutMs 0/);
  const idle = new ModbusLine({ name: 'idle', transport: { kind: 'tcp', host: '127.0.0.1', port: 1 } });
  assert.match((await rejection(idle.request(1, { fc: 3, address: 0, quantity: 200 }))).message, /quantity 200 outside 1\.\.125/);
  assert.match((await rejection(idle.request(300, { fc: 3, address: 0, quantity: 1 }))).message, /unit id 300/);
});

/** A device reading `blocks` requests per poll, counting good and failed polls. */
function pollingDevice(name: string, unitId: number, intervalMs: number, blocks = 1) {
  const dev = {
    name,
    unitId,
    intervalMs,
    ok: 0,
    failed: 0,
    errors: [] as string[],
    poll: async (ctx: PollContext) => {
      const results = await Promise.allSettled(Array.from({ length: blocks }, (_, i) => ctx.request({ fc: 3, address: i * 10, quantity: 2 })));
      const bad = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) {
        dev.failed++;
        dev.errors.push((bad.reason as Error).message);
      } else dev.ok++;
    },
  };
  return dev;
}

for (const variant of [
  { label: 'two retries', retries: 2, maxOutstanding: 1, blocks: 1 },
  { label: 'four requests pipelined', retries: 0, maxOutstanding: 4, blocks: 4 },
]) {
  test(`a silent unit behind a TCP gateway (${variant.label}) never drops the connection of the answering units`, async () => {
    const peer = await TcpPeer.start({ framing: 'mbap', script: (r) => (r.unitId === 3 ? 'silent' : undefined) });
    const line = tcpLine(peer.port, {
      timeoutMs: 80,
      retries: variant.retries,
      maxOutstanding: variant.maxOutstanding,
      unitBackoff: { initialMs: 150, maxMs: 150, jitter: 0 },
    });
    const disconnects: string[] = [];
    line.on('disconnect', (err: Error) => disconnects.push(err.message));
    const live = [pollingDevice('m1', 1, 40, variant.blocks), pollingDevice('m2', 2, 40, variant.blocks)];
    const dead = pollingDevice('m3', 3, 40, variant.blocks);
    const regs = [...live, dead].map((d) => line.addDevice(d));
    try {
      // the first failure takes every attempt; then at least four probes after backoffs
      const firstFailure = variant.retries + 1 > variant.blocks ? variant.retries + 1 : variant.blocks;
      await waitFor(() => peer.countFor(3) >= firstFailure + 4, 'the dead unit tried repeatedly', 10000);
      assert.deepEqual(disconnects, [], 'the connection was never dropped');
      assert.equal(peer.connections, 1);
      for (const d of live) {
        assert.equal(d.failed, 0, `${d.name}: ${d.errors[0]}`);
        assert.ok(d.ok > 0);
      }
      assert.equal(dead.ok, 0);
      assert.equal(line.stats().counters.disconnects, 0);
    } finally {
      for (const r of regs) r.remove();
      await line.stop();
      await peer.stop();
    }
  });
}

test('a unit that is backing off is probed with one attempt, not with every retry', async () => {
  const peer = await TcpPeer.start({ framing: 'mbap', script: (r) => (r.unitId === 3 ? 'silent' : undefined) });
  const line = tcpLine(peer.port, { timeoutMs: 60, retries: 2, unitBackoff: { initialMs: 100, maxMs: 100, jitter: 0 } });
  const dead = pollingDevice('m3', 3, 50);
  const reg = line.addDevice(dead);
  try {
    await waitFor(() => line.unitHealth(3).failures >= 5, 'five failed probes', 10000);
    reg.remove();
    await waitFor(() => line.stats().inFlight === 0 && line.stats().activePolls === 0, 'the last probe settled');
    const failures = line.unitHealth(3).failures;
    // the first request took its three attempts; each probe after it one
    assert.equal(peer.countFor(3), 3 + (failures - 1), `${peer.countFor(3)} requests for ${failures} failures`);
    assert.equal(line.stats().counters.retries, 2);
  } finally {
    await line.stop();
    await peer.stop();
  }
});
