/**
 * Every fault class the line must survive, served by devices this project did not write:
 * pymodbus (Debian python3-pymodbus) over TCP and as an RTU device on a socat pty pair
 * (pymodbus frames, checks CRCs and encodes; the script only damages what pymodbus built),
 * and modbus-serial's ServerTCP for exceptions raised by a device's own logic.
 * Our own test peer shares the codec with the code under test; these do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerTCP } from 'modbus-serial';
import net from 'net';
import { LineOptions, ModbusLine } from '../../nodes/lib/modbus/line';
import { FrameError, ModbusException } from '../../nodes/lib/modbus/pdu';
import { BackoffError, CrcError, LinkError, ModbusTimeoutError } from '../../nodes/lib/modbus/transport-errors';
import { startPtyPair } from '../support/pty-pair';
import { startPyDevice } from '../support/pymodbus-peer';
import { rejection, waitFor } from '../support/wait';

const read = (address: number, quantity = 2) => ({ fc: 3 as const, address, quantity });

async function tcpLine(port: number, extra: Partial<LineOptions> = {}): Promise<ModbusLine> {
  const line = new ModbusLine({ name: 'py-tcp', transport: { kind: 'tcp', host: '127.0.0.1', port }, timeoutMs: 500, retries: 0, reconnect: { initialMs: 50, maxMs: 200 }, ...extra });
  line.start();
  await waitFor(() => line.connected, 'TCP connection to pymodbus');
  return line;
}

async function rtuBench(units: number[], extra: Partial<LineOptions> = {}) {
  const pair = await startPtyPair();
  const device = await startPyDevice({ serial: pair.devicePath, units, faults: true });
  const line = new ModbusLine({ name: 'py-rtu', transport: { kind: 'rtu', path: pair.clientPath, baudRate: 19200 }, timeoutMs: 300, retries: 0, ...extra });
  line.start();
  await waitFor(() => line.connected, 'serial port open');
  return {
    line,
    done: async () => {
      await line.stop();
      await device.stop();
      await pair.stop();
    },
  };
}

test('pymodbus over RTU: CRC errors, short frames, garbage and exceptions are told apart, and the line goes on', async () => {
  const b = await rtuBench([1, 2]);
  try {
    assert.deepEqual(await b.line.request(1, read(0)), [1000, 1001]);
    const crc = await rejection(b.line.request(1, read(90)));
    assert.ok(crc instanceof CrcError, `${crc.name}: ${crc.message}`);
    const short = await rejection(b.line.request(1, read(91)));
    assert.ok(short instanceof FrameError && !(short instanceof CrcError), `${short.name}: ${short.message}`);
    assert.deepEqual(await b.line.request(2, read(92)), [2092, 2093], 'garbage before a good answer is skipped');
    const exception = await rejection(b.line.request(1, read(98, 5)));
    assert.ok(exception instanceof ModbusException && exception.code === 0x02, `${exception.name}: ${exception.message}`);
    assert.equal(b.line.unitHealth(1).backingOff, false, 'a damaged answer is not a dead unit');
    // Garbage alone is no answer from anyone: unit 2 counts as silent, unit 1 is unaffected.
    const garbage = await rejection(b.line.request(2, read(93)));
    assert.ok(garbage instanceof ModbusTimeoutError, `${garbage.name}: ${garbage.message}`);
    assert.deepEqual(await b.line.request(1, read(10)), [1010, 1011], 'a clean answer after every fault');
    const stats = b.line.stats();
    assert.equal(stats.counters.crcErrors, 1);
    assert.ok(stats.garbageBytes >= 12, `garbage bytes ${stats.garbageBytes}`);
  } finally {
    await b.done();
  }
});

test('pymodbus over RTU: a silent unit times out and backs off while the others keep answering', async () => {
  const b = await rtuBench([1, 2], { unitBackoff: { initialMs: 60_000, maxMs: 60_000 } });
  try {
    const silent = await rejection(b.line.request(7, read(0)));
    assert.ok(silent instanceof ModbusTimeoutError, `${silent.name}: ${silent.message}`);
    assert.equal(b.line.unitHealth(7).backingOff, true);
    assert.ok((await rejection(b.line.request(7, read(0)))) instanceof BackoffError, 'skipped without touching the bus');
    assert.deepEqual(await b.line.request(1, read(0)), [1000, 1001]);
    assert.deepEqual(await b.line.request(2, read(0)), [2000, 2001]);
  } finally {
    await b.done();
  }
});

test('pymodbus over TCP: short answers, garbage, exceptions and a silent unit', async () => {
  const device = await startPyDevice({ tcp: true, units: [1], faults: true });
  const line = await tcpLine(device.port, { reconnectAfterTimeouts: 0 });
  try {
    const short = await rejection(line.request(1, read(91)));
    assert.ok(short instanceof FrameError, `${short.name}: ${short.message}`);
    assert.deepEqual(await line.request(1, read(92)), [1092, 1093], 'garbage before the answer is skipped, the stream resynchronises');
    const exception = await rejection(line.request(1, read(99, 2)));
    assert.ok(exception instanceof ModbusException && exception.code === 0x02, `${exception.name}: ${exception.message}`);
    const silent = await rejection(line.request(9, read(0)));
    assert.ok(silent instanceof ModbusTimeoutError, `${silent.name}: ${silent.message}`);
    assert.deepEqual(await line.request(1, read(20)), [1020, 1021]);
    assert.ok(line.stats().garbageBytes >= 6);
  } finally {
    await line.stop();
    await device.stop();
  }
});

test('pymodbus over TCP restarts: the line fails clearly meanwhile and reconnects by itself', async () => {
  const first = await startPyDevice({ tcp: true, units: [1] });
  const port = first.port;
  const line = await tcpLine(port);
  let second: Awaited<ReturnType<typeof startPyDevice>> | undefined;
  try {
    assert.deepEqual(await line.request(1, read(0)), [1000, 1001]);
    const lost = new Promise<void>((resolve) => line.once('disconnect', () => resolve()));
    await first.stop();
    await lost;
    const down = await rejection(line.request(1, read(0), { priority: 'poll' }));
    assert.ok(down instanceof LinkError, `${down.name}: ${down.message}`);
    const back = new Promise<void>((resolve) => line.once('connect', () => resolve()));
    second = await startPyDevice({ tcp: true, port, units: [1] });
    await back;
    assert.deepEqual(await line.request(1, read(4)), [1004, 1005]);
    assert.ok(line.stats().counters.reconnects >= 1);
  } finally {
    await line.stop();
    await second?.stop();
  }
});

test('modbus-serial ServerTCP: exceptions raised by the device\'s own logic reach the caller with their code', async () => {
  const server = new ServerTCP(
    {
      getHoldingRegister: (address: number) => {
        if (address === 5) throw Object.assign(new Error('busy'), { modbusErrorCode: 0x06 });
        if (address === 6) throw Object.assign(new Error('failure'), { modbusErrorCode: 0x04 });
        return address;
      },
      setRegister: () => {
        throw Object.assign(new Error('read-only'), { modbusErrorCode: 0x03 });
      },
    },
    { host: '127.0.0.1', port: 0, unitID: 255 },
  );
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  const port = ((server as unknown as { _server: net.Server })._server.address() as net.AddressInfo).port;
  const line = await tcpLine(port);
  try {
    for (const [request, code] of [[read(5, 1), 6], [read(6, 1), 4], [{ fc: 6 as const, address: 1, value: 1 }, 3]] as const) {
      const err = await rejection(line.request(1, request));
      assert.ok(err instanceof ModbusException && err.code === code, `${err.name}: ${err.message}`);
    }
    assert.deepEqual(await line.request(1, read(7, 2)), [7, 8]);
    assert.equal(line.unitHealth(1).backingOff, false, 'an exception is an answer: the unit is alive');
  } finally {
    await line.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
