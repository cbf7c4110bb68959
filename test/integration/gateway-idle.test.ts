/**
 * Idle clients must not lock SCADA out of the gateway. With the node's default settings
 * (32 clients, idle timeout on), 32 connections that never send anything do not keep
 * modbus-serial (an independent master) from reading: the longest-idle client makes room.
 * Idle clients are also closed after the idle timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'net';
import ModbusRTU from 'modbus-serial';
import { RegisterCache } from '../../nodes/lib/cache';
import { gatewaySettings, ModbusGateway } from '../../nodes/lib/gateway';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { waitFor } from '../support/wait';

function cacheWithMeter(): RegisterCache {
  const cache = new RegisterCache({ ttlMs: 600_000 });
  const reading: ReadingMessage = {
    topic: 'meter-a', payload: {},
    rtu: { device: 'meter-a', protocol: 'modbus', timestamp: Date.now(), quality: 'good', latencyMs: 1, units: {}, seq: 1, raw: [{ registerType: 'holding', address: 0, values: [231, 232, 233] }] },
  };
  cache.update(reading);
  return cache;
}

async function idleClient(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return { socket, closed };
}

test('default gateway: 32 idle clients do not lock out a new SCADA client; the longest-idle one is closed for it', async (t) => {
  const settings = gatewaySettings({ devices: [{ device: 'meter-a', unitId: 1 }] });
  assert.equal(settings.maxConnections, 32);
  assert.equal(settings.idleTimeoutMs, 60_000, 'the idle timeout is on by default');
  const gateway = new ModbusGateway({ ...settings, cache: cacheWithMeter(), host: '127.0.0.1', port: 0 });
  const { port } = await gateway.listen();
  const idle: Array<Awaited<ReturnType<typeof idleClient>>> = [];
  t.after(async () => {
    for (const c of idle) c.socket.destroy();
    await gateway.close();
  });
  for (let i = 0; i < 32; i++) {
    idle.push(await idleClient(port));
    await waitFor(() => gateway.stats.clients === i + 1, `client ${i + 1} to be accepted`);
  }
  // The first idle client gets some traffic, so the second is now the longest idle.
  idle[0].socket.write(Buffer.from([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1]));
  await new Promise<void>((resolve) => idle[0].socket.once('data', () => resolve()));

  const scada = new ModbusRTU();
  t.after(() => new Promise<void>((r) => scada.close(() => r())));
  await scada.connectTCP('127.0.0.1', { port });
  scada.setID(1);
  scada.setTimeout(2000);
  const answer = await scada.readHoldingRegisters(0, 3);
  assert.deepEqual(answer.data, [231, 232, 233]);
  await idle[1].closed;
  assert.equal(gateway.stats.evicted, 1);
  assert.equal(gateway.stats.rejected, 0);
  assert.equal(idle[0].socket.destroyed, false, 'the client that spoke last is kept');
});

test('a client that sends nothing for the idle timeout is disconnected; one that polls stays', async (t) => {
  const settings = gatewaySettings({ devices: [{ device: 'meter-a', unitId: 1 }], idleTimeout: 0.3 });
  const gateway = new ModbusGateway({ ...settings, cache: cacheWithMeter(), host: '127.0.0.1', port: 0 });
  const { port } = await gateway.listen();
  const silent = await idleClient(port);
  const scada = new ModbusRTU();
  t.after(async () => {
    silent.socket.destroy();
    await new Promise<void>((r) => scada.close(() => r()));
    await gateway.close();
  });
  await scada.connectTCP('127.0.0.1', { port });
  scada.setID(1);
  let polls = 0;
  let silentClosed = false;
  void silent.closed.then(() => (silentClosed = true));
  while (!silentClosed) {
    assert.deepEqual((await scada.readHoldingRegisters(0, 1)).data, [231]);
    polls++;
    if (polls > 500) throw new Error('the silent client was never closed');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(scada.isOpen, 'the polling client is still connected');
  assert.deepEqual((await scada.readHoldingRegisters(1, 2)).data, [232, 233]);
});
