/**
 * A dead unit on a shared line, against pymodbus (Debian python3-pymodbus, an
 * implementation this project did not write) over Modbus TCP and over Modbus
 * RTU at 9600 baud on a socat pty pair. pymodbus serves units 1 and 2; unit 3
 * never answers. Every bound below is derived from the line's configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import path from 'path';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import type { TransportConfig } from '../../nodes/lib/modbus/transport-types';
import type { PointDef } from '../../nodes/lib/modbus/types';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { startPtyPair } from '../support/pty-pair';
import { waitFor } from '../support/wait';

const SCRIPT = path.join(__dirname, '..', '..', '..', 'test', 'support', 'pymodbus-server.py');

interface Pymodbus {
  port?: number;
  stop(): Promise<void>;
}

/** Starts the pymodbus server script and waits for its "ready" line. */
function startPymodbus(args: string[]): Promise<Pymodbus> {
  const child: ChildProcess = spawn('/usr/bin/python3', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`pymodbus did not start within 10 s: ${err || out}`));
    }, 10000);
    child.stderr?.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.stdout?.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const m = /ready(?: (\d+))?/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: m[1] ? Number(m[1]) : undefined, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pymodbus exited with ${code}: ${err}`));
    });
  });
}

// two planned reads per poll (holding 0..1, input 10)
const points: PointDef[] = [
  { name: 'a', registerType: 'holding', address: 0, dataType: 'uint16' },
  { name: 'b', registerType: 'holding', address: 1, dataType: 'uint16' },
  { name: 'c', registerType: 'input', address: 10, dataType: 'uint16' },
];

const INTERVAL_MS = 500;
const TIMEOUT_MS = 800;
const RETRIES = 2;

async function deadUnitOnSharedLine(transport: TransportConfig): Promise<void> {
  const line = new ModbusLine({
    name: 'shared',
    transport,
    timeoutMs: TIMEOUT_MS,
    retries: RETRIES,
    unitBackoff: { initialMs: 1000, maxMs: 3000 },
  });
  const disconnects: string[] = [];
  let firstBackoffAt = Infinity;
  line.once('unit-backoff', () => (firstBackoffAt = Date.now()));
  line.on('disconnect', (err: Error) => disconnects.push(err.message));
  const devices = [1, 2, 3].map((unitId) => new DevicePoller({ name: `m${unitId}`, line, unitId, intervalMs: INTERVAL_MS, points }));
  const readings = new Map<number, ReadingMessage[]>(devices.map((d) => [d.unitId, []]));
  for (const d of devices) d.on('reading', (m: ReadingMessage) => readings.get(d.unitId)?.push(m));
  line.start();
  try {
    for (const d of devices) d.start();
    // the first failure takes every attempt; wait for three probes after it and a dozen healthy cycles
    await waitFor(
      () => line.unitHealth(3).failures >= 4 && Math.min(readings.get(1)!.length, readings.get(2)!.length) >= 12,
      'four failures of the dead unit and a dozen readings of each healthy one',
      40000,
    );
    for (const d of devices) d.stop();
    await waitFor(() => line.stats().activePolls === 0, 'the last polls settled');

    assert.deepEqual(disconnects, [], 'the connection was never dropped');
    assert.equal(line.stats().counters.disconnects, 0);
    assert.equal(line.stats().counters.reconnects, 0);

    // Once the dead unit is known (its first request took every attempt), a cycle of a healthy unit
    // is late by at most one probe of it (one timeout, no retries) and the polls of the other
    // units: bound = 2 x interval + timeout.
    const bound = 2 * INTERVAL_MS + TIMEOUT_MS;
    const startOf = (m: ReadingMessage) => m.rtu.timestamp - m.rtu.latencyMs;
    const worstGap = (list: ReadingMessage[], at: (m: ReadingMessage) => number) =>
      list.slice(1).reduce((worst, m, i) => Math.max(worst, at(m) - at(list[i])), 0);
    for (const unit of [1, 2]) {
      const list = readings.get(unit)!;
      assert.ok(list.every((m) => m.rtu.quality === 'good'), `unit ${unit}: ${list.find((m) => m.rtu.quality !== 'good')?.rtu.error}`);
      const gap = worstGap(list.filter((m) => m.rtu.timestamp >= firstBackoffAt), startOf);
      assert.ok(gap <= bound, `unit ${unit}: worst gap between polls ${gap} ms > ${bound} ms`);
    }
    // the dead unit reports on its own schedule: a bad reading at least every interval + one timeout
    const dead = readings.get(3)!;
    assert.ok(dead.every((m) => m.rtu.quality === 'bad' && Object.values(m.payload).every((v) => v === null)));
    const deadGap = worstGap(dead.filter((m) => m.rtu.timestamp >= firstBackoffAt), (m) => m.rtu.timestamp);
    assert.ok(deadGap <= bound, `dead unit: worst gap between readings ${deadGap} ms > ${bound} ms`);
    assert.ok(dead.some((m) => /unit 3 is not answering/.test(m.rtu.error ?? '')), 'readings from the backoff, without the bus');
    // each probe after the first failure is one attempt: timeouts = failures + the first request's retries
    const failures = line.unitHealth(3).failures;
    assert.equal(line.stats().counters.timeouts, failures + RETRIES, `${line.stats().counters.timeouts} timeouts for ${failures} failures`);
  } finally {
    for (const d of devices) d.stop();
    await line.stop();
  }
}

test('pymodbus over TCP: a silent unit neither drops the connection nor costs the others cycles, and reports at its interval', async () => {
  const server = await startPymodbus(['tcp', '1,2']);
  try {
    await deadUnitOnSharedLine({ kind: 'tcp', host: '127.0.0.1', port: server.port as number });
  } finally {
    await server.stop();
  }
});

test('pymodbus over RTU at 9600 baud on a pty pair: the same with a silent unit on the bus', async () => {
  const pair = await startPtyPair();
  const server = await startPymodbus(['rtu', '1,2', pair.devicePath, '9600']);
  try {
    await deadUnitOnSharedLine({ kind: 'rtu', path: pair.clientPath, baudRate: 9600 });
  } finally {
    await server.stop();
    await pair.stop();
  }
});
