import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterCache } from '../../nodes/lib/cache';
import { checkDeviceMap, ModbusGateway, parseAllowEntry, WriteEvent, WriteRule } from '../../nodes/lib/gateway';
import { ModbusException, ModbusRequest } from '../../nodes/lib/modbus/pdu';
import { ModbusTimeoutError } from '../../nodes/lib/modbus/transport-errors';
import type { PointDef } from '../../nodes/lib/modbus/types';
import type { ReadingMessage } from '../../nodes/lib/reading';

const T0 = 1_000_000;

function cacheWith(): RegisterCache {
  const cache = new RegisterCache({ ttlMs: 10_000 });
  const reading: ReadingMessage = {
    topic: 'meter-a',
    payload: {},
    rtu: {
      device: 'meter-a', protocol: 'modbus', timestamp: T0, quality: 'good', latencyMs: 1, units: {}, seq: 1, model: 'test/model',
      raw: [
        { registerType: 'input', address: 0, values: [10, 11, 12, 13] },
        { registerType: 'holding', address: 100, values: [7, 8] },
        { registerType: 'coil', address: 0, values: [1, 0, 1] },
        { registerType: 'discrete', address: 5, values: [0, 1] },
      ],
    },
  };
  cache.update(reading);
  return cache;
}

function code(c: number) {
  return (e: unknown) => e instanceof ModbusException && e.code === c;
}

async function settle(v: unknown): Promise<unknown> {
  return v;
}

test('reads come from the cache at the device\'s own addresses under its unit id', () => {
  let now = T0 + 1000;
  const gw = new ModbusGateway({ cache: cacheWith(), devices: [{ device: 'meter-a', unitId: 7 }], now: () => now });
  const h = gw.handler;
  assert.deepEqual(Array.from(h(7, { fc: 4, address: 1, quantity: 3 }) as Uint16Array), [11, 12, 13]);
  assert.deepEqual(Array.from(h(7, { fc: 3, address: 100, quantity: 2 }) as Uint16Array), [7, 8]);
  assert.deepEqual(Array.from(h(7, { fc: 1, address: 0, quantity: 3 }) as Uint16Array), [1, 0, 1]);
  assert.deepEqual(Array.from(h(7, { fc: 2, address: 5, quantity: 2 }) as Uint16Array), [0, 1]);
  assert.throws(() => h(7, { fc: 4, address: 3, quantity: 2 }), code(0x02), 'register 4 never polled');
  assert.throws(() => h(7, { fc: 3, address: 0, quantity: 1 }), code(0x02));
  assert.throws(() => h(8, { fc: 4, address: 0, quantity: 1 }), code(0x0a), 'unit id not mapped');
  now = T0 + 10_001;
  assert.throws(() => h(7, { fc: 4, address: 0, quantity: 1 }), code(0x0b), 'older than the TTL');
  const s = gw.stats;
  assert.equal(s.reads, 7);
  assert.equal(s.unknown, 2);
  assert.equal(s.stale, 1);
});

test('a mapped device that has never answered gets 0B (nothing fresh for the unit), like a stale one', () => {
  const cache = new RegisterCache({ ttlMs: 10_000 });
  const gw = new ModbusGateway({ cache, devices: [{ device: 'meter-silent', unitId: 3 }], now: () => T0 });
  assert.throws(() => gw.handler(3, { fc: 3, address: 0, quantity: 2 }), code(0x0b), 'no reading at all');
  // Failed polls enter the device in the cache without any register.
  cache.update({
    topic: 'meter-silent',
    payload: {},
    rtu: { device: 'meter-silent', protocol: 'modbus', timestamp: T0, quality: 'bad', latencyMs: 0, units: {}, seq: 1, error: 'no answer within 1000 ms' },
  } as ReadingMessage);
  assert.throws(() => gw.handler(3, { fc: 4, address: 10, quantity: 1 }), code(0x0b), 'only failed polls');
  assert.equal(gw.stats.stale, 2);
  assert.equal(gw.stats.unknown, 0);
});

test('writes are refused with 01 unless enabled', () => {
  const events: WriteEvent[] = [];
  const cache = cacheWith();
  cache.setWriter('meter-a', async () => assert.fail('must not be called'));
  const gw = new ModbusGateway({ cache, devices: [{ device: 'meter-a', unitId: 7 }], allowWrites: [parseAllowEntry({ device: 'meter-a', target: 'holding:100' })] });
  gw.on('write', (e: WriteEvent) => events.push(e));
  for (const req of [{ fc: 6, address: 100, value: 1 }, { fc: 5, address: 0, value: true }, { fc: 16, address: 100, values: [1] }, { fc: 15, address: 0, values: [1] }] as ModbusRequest[]) {
    assert.throws(() => gw.handler(7, req), code(0x01));
  }
  assert.equal(events.length, 4);
  assert.match(events[0].error!, /writes are disabled/);
});

test('enabled writes pass through for allowed registers only, and failures map to exceptions', async () => {
  const cache = cacheWith();
  const carried: ModbusRequest[] = [];
  let behaviour: 'ok' | 'exception' | 'timeout' | 'boom' | 'hang' = 'ok';
  cache.setWriter('meter-a', (req) => {
    carried.push(req);
    if (behaviour === 'exception') return Promise.reject(new ModbusException(req.fc, 0x03));
    if (behaviour === 'timeout') return Promise.reject(new ModbusTimeoutError('no answer from unit 1'));
    if (behaviour === 'boom') return Promise.reject(new Error('port closed'));
    if (behaviour === 'hang') return new Promise(() => undefined);
    return Promise.resolve();
  });
  const points: PointDef[] = [
    { name: 'setpoint', registerType: 'holding', address: 200, dataType: 'float32', writable: true },
    { name: 'voltage', registerType: 'input', address: 0, dataType: 'float32' },
  ];
  const rules: WriteRule[] = [
    parseAllowEntry({ device: 'meter-a', target: 'holding:100-101' }),
    parseAllowEntry({ device: 'meter-a', target: 'coil:2' }),
    parseAllowEntry({ device: 'meter-a', target: 'setpoint' }),
    parseAllowEntry({ device: 'meter-a', target: 'voltage' }),
  ];
  const events: WriteEvent[] = [];
  const gw = new ModbusGateway({
    cache,
    devices: [{ device: 'meter-a', unitId: 7 }],
    writesEnabled: true,
    allowWrites: rules,
    pointsOf: (d) => (d === 'meter-a' ? points : undefined),
    writeTimeoutMs: 50,
  });
  gw.on('write', (e: WriteEvent) => events.push(e));
  assert.equal(await settle(gw.handler(7, { fc: 16, address: 100, values: [1, 2] })), undefined);
  assert.equal(await settle(gw.handler(7, { fc: 5, address: 2, value: true })), undefined);
  assert.equal(await settle(gw.handler(7, { fc: 16, address: 200, values: [0x4348, 0] })), undefined, 'point name resolved through the model');
  assert.deepEqual(carried.map((r) => r.address), [100, 2, 200]);
  assert.deepEqual(events.filter((e) => e.ok).map((e) => e.points), [['holding@100'], ['coil@2'], ['setpoint']]);
  assert.throws(() => gw.handler(7, { fc: 16, address: 101, values: [1, 2] }), code(0x02), 'register 102 not allowed');
  assert.throws(() => gw.handler(7, { fc: 5, address: 1, value: true }), code(0x02));
  assert.throws(() => gw.handler(7, { fc: 6, address: 0, value: 1 }), code(0x02), 'an input point is never writable');
  assert.match(events[events.length - 1].error!, /input and cannot be written/);
  behaviour = 'exception';
  await assert.rejects(settle(gw.handler(7, { fc: 6, address: 100, value: 1 })), code(0x03), 'the device\'s exception is passed on');
  behaviour = 'timeout';
  await assert.rejects(settle(gw.handler(7, { fc: 6, address: 100, value: 1 })), code(0x04), 'sent, unconfirmed: it may have taken effect, so not 0B');
  behaviour = 'boom';
  await assert.rejects(settle(gw.handler(7, { fc: 6, address: 100, value: 1 })), code(0x04));
  behaviour = 'hang';
  await assert.rejects(settle(gw.handler(7, { fc: 6, address: 100, value: 1 })), code(0x0b));
  assert.match(events[events.length - 1].error!, /not sent to meter-a within 50 ms \(line busy or down\); cancelled/);
  cache.removeWriter('meter-a', cache.writer('meter-a')!);
  assert.throws(() => gw.handler(7, { fc: 6, address: 100, value: 1 }), code(0x0a), 'no poller carries writes');
  assert.equal(gw.stats.writes, 7);
});

test('allow-list entries and device maps are checked with named errors', () => {
  assert.deepEqual(parseAllowEntry({ device: ' m ', target: 'holding:10-12' }), { device: 'm', registerType: 'holding', address: 10, quantity: 3 });
  assert.deepEqual(parseAllowEntry({ device: 'm', target: 'COIL:4' }), { device: 'm', registerType: 'coil', address: 4, quantity: 1 });
  assert.deepEqual(parseAllowEntry({ device: 'm', target: 'setpoint_kw' }), { device: 'm', point: 'setpoint_kw' });
  assert.throws(() => parseAllowEntry({ device: 'm', target: 'holding:12-10' }), /range "holding:12-10" must run upwards/);
  assert.throws(() => parseAllowEntry({ device: 'm', target: 'input:1' }), /"input:1" is neither a point name nor a range/);
  assert.throws(() => parseAllowEntry({ device: '', target: 'x' }), /device name is empty/);
  assert.throws(() => checkDeviceMap([{ device: 'a', unitId: 1 }, { device: 'b', unitId: 1 }]), /"b": unit id 1 is already used by "a"/);
  assert.throws(() => checkDeviceMap([{ device: 'a', unitId: 256 }]), /"a": unit id 256 outside 0\.\.255/);
});
