/**
 * SCADA writes through the gateway to a device served by modbus-serial's ServerTCP,
 * over a real line: what SCADA is told must match what the device does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import ModbusRTU from 'modbus-serial';
import { RegisterCache } from '../../nodes/lib/cache';
import { ModbusGateway, parseAllowEntry, WriteEvent } from '../../nodes/lib/gateway';
import { DevicePoller } from '../../nodes/lib/modbus/device-poller';
import { ModbusLine } from '../../nodes/lib/modbus/line';
import type { PointDef } from '../../nodes/lib/modbus/types';
import { SerialPeer, startSerialPeer } from '../support/modbus-serial-peer';
import { RequestCancelledError } from '../../nodes/lib/modbus/transport-errors';
import { rejection, waitFor } from '../support/wait';

let peer: SerialPeer;
let line: ModbusLine;
let device: DevicePoller;
let cache: RegisterCache;
let gateway: ModbusGateway;
let scada: ModbusRTU;
const events: WriteEvent[] = [];

const POINTS: PointDef[] = Array.from({ length: 40 }, (_, i) => ({ name: `h${i}`, registerType: 'holding', address: i, dataType: 'uint16', writable: true }));

before(async () => {
  peer = await startSerialPeer();
  // One request at a time, and a long line timeout: only the gateway's own write timeout runs out.
  line = new ModbusLine({ name: 'field', transport: { kind: 'tcp', host: '127.0.0.1', port: peer.port }, timeoutMs: 10_000, retries: 0 });
  line.start();
  await new Promise<void>((resolve) => line.once('connect', () => resolve()));
  device = new DevicePoller({ name: 'pcs', line, unitId: 1, intervalMs: 1000, points: POINTS, includeRaw: true });
  cache = new RegisterCache({ ttlMs: 600_000 });
  cache.update(await device.readNow());
  cache.setWriter('pcs', (req, options) => device.carry(req, options));
  gateway = new ModbusGateway({
    cache,
    devices: [{ device: 'pcs', unitId: 5 }],
    host: '127.0.0.1',
    port: 0,
    writesEnabled: true,
    allowWrites: [parseAllowEntry({ device: 'pcs', target: 'holding:0-39' })],
    writeTimeoutMs: 200,
  });
  gateway.on('write', (e: WriteEvent) => events.push(e));
  const address = await gateway.listen();
  scada = new ModbusRTU();
  await scada.connectTCP('127.0.0.1', { port: address.port });
  scada.setID(5);
  scada.setTimeout(5000);
});

after(async () => {
  scada?.close(() => undefined);
  await gateway?.close();
  await line?.stop();
  await peer?.close();
});

async function scadaWrite(address: number, value: number): Promise<number | 'ok'> {
  try {
    await scada.writeRegister(address, value);
    return 'ok';
  } catch (err) {
    const code = (err as { modbusCode?: number }).modbusCode;
    if (code === undefined) throw err;
    return code;
  }
}

const lineIdle = () => {
  const s = line.stats();
  return s.queueDepth === 0 && s.inFlight === 0;
};

test('a write still queued when the gateway gives up is answered 0B and never reaches the device', async () => {
  const busy = peer.holdRead(39);
  const reading = line.request(1, { fc: 3, address: 39, quantity: 1 });
  await busy.reached;
  // The line is now busy; the write queues behind the read until the gateway gives up on it.
  assert.equal(await scadaWrite(10, 999), 0x0b);
  busy.release();
  await reading;
  await waitFor(lineIdle, 'the line to drain');
  assert.equal(peer.holding[10], 1010, 'the device never executed the write SCADA was told had failed');
  assert.deepEqual(peer.writes, []);
  assert.deepEqual((await scada.readHoldingRegisters(10, 1)).data, [1010]);
  assert.equal(events.at(-1)?.sent, false);
});

test('a write sent but not confirmed in time is answered 04, and its late confirmation is reported and cached', async () => {
  const slow = peer.holdWrite(20);
  const late = new Promise<WriteEvent>((resolve) => gateway.on('write', (e: WriteEvent) => e.late && resolve(e)));
  const answer = scadaWrite(20, 777);
  await slow.reached;
  assert.equal(await answer, 0x04, 'the device has the write: it may still take effect, so not "no answer" (0B)');
  slow.release();
  const event = await late;
  assert.equal(event.ok, true);
  assert.match(event.error ?? '', /confirmed after SCADA had been answered/);
  assert.equal(peer.holding[20], 777);
  assert.deepEqual((await scada.readHoldingRegisters(20, 1)).data, [777], 'the confirmed value is in the cache');
});

test('a confirmed write updates the cache at once', async () => {
  await scada.writeRegisters(30, [5, 6]);
  assert.deepEqual(peer.holding.slice(30, 32), [5, 6]);
  assert.deepEqual((await scada.readHoldingRegisters(30, 2)).data, [5, 6], 'SCADA reads what it wrote, not the value of the last poll');
});

test('a cancelled request is never sent again: no retry after its signal fired', async () => {
  const retrying = new ModbusLine({ name: 'retrying', transport: { kind: 'tcp', host: '127.0.0.1', port: peer.port }, timeoutMs: 100, retries: 3, reconnectAfterTimeouts: 0 });
  retrying.start();
  await waitFor(() => retrying.connected, 'connect');
  const slow = peer.holdRead(38);
  const controller = new AbortController();
  let sends = 0;
  try {
    const err = await rejection(retrying.request(1, { fc: 3, address: 38, quantity: 1 }, { signal: controller.signal, onSend: () => (sends++, controller.abort()) }));
    assert.ok(err instanceof RequestCancelledError, `${err.name}: ${err.message}`);
    assert.equal(sends, 1, 'the first attempt timed out; its three retries were never sent');
    assert.equal(retrying.stats().counters.requests, 1);
  } finally {
    slow.release();
    await retrying.stop();
  }
});
