import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import cacheNode from '../../nodes/rtu-cache/rtu-cache';
import { fleet } from '../../nodes/lib/fleet';
import { startSimulator, RunningSimulator } from '../../nodes/lib/simulator/start';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { collect, helper, nextMessage, startServer, statusNowOrNext, statusWhere, stopServer } from '../support/node-red';

let sim: RunningSimulator;

before(async () => {
  sim = await startSimulator({ units: [1, 2, 3], deadUnitIds: [9] });
  await startServer();
});
after(async () => {
  await stopServer();
  await sim.close();
});
afterEach(async () => {
  await helper.unload();
});

function lineConfig(extra: Record<string, unknown> = {}) {
  return { id: 'line', type: 'rtu-modbus-line', name: 'sim line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 300, retries: 0, ...extra };
}

function poller(id: string, extra: Record<string, unknown>) {
  return { id, z: 'tab', type: 'rtu-modbus-poller', line: 'line', interval: 0.2, source: 'model', model: 'rtu/simulated-energy-meter', profile: 'basic_power', includeRaw: true, wires: [[`${id}-out`]], ...extra };
}

function flow(...nodes: Record<string, unknown>[]) {
  const outs = nodes.filter((n) => n.type === 'rtu-modbus-poller').map((n) => ({ id: `${n.id}-out`, z: 'tab', type: 'helper', wires: [] }));
  const line = nodes.find((n) => n.type === 'rtu-modbus-line') ? [] : [lineConfig()];
  return [{ id: 'tab', type: 'tab', label: 'pollers' }, ...line, ...nodes, ...outs];
}

/** Sets environment variables for one test, removing them afterwards. */
async function withEnv(vars: Record<string, string>, run: () => Promise<void>): Promise<void> {
  Object.assign(process.env, vars);
  try {
    await run();
  } finally {
    for (const k of Object.keys(vars)) delete process.env[k];
  }
}

function errorsOf(id: string): string[] {
  return ((helper.getNode(id) as unknown as { error: { getCalls(): Array<{ args: unknown[] }> } }).error.getCalls() ?? []).map((c) => String(c.args[0]));
}

const isGood = (m: ReadingMessage) => m.rtu.quality === 'good';

test('a poller reads the simulated meter by model and profile and emits named values with units', async () => {
  await helper.load([lineNode, pollerNode], flow(poller('pm1', { name: 'incomer', unitId: 1 })));
  const msg = await nextMessage<ReadingMessage>('pm1-out', isGood);
  assert.equal(msg.topic, 'incomer');
  assert.equal(msg.rtu.device, 'incomer');
  assert.equal(msg.rtu.line, 'sim line');
  assert.equal(msg.rtu.unitId, 1);
  assert.equal(msg.rtu.model, 'rtu/simulated-energy-meter');
  const v = msg.payload.voltage_l1_n as number;
  assert.ok(v > 200 && v < 260, `voltage_l1_n ${v} should be near 230 V`);
  assert.equal(msg.rtu.units.voltage_l1_n, 'V');
  assert.deepEqual(
    { ...msg.rtu.points?.voltage_l1_n, description: undefined },
    { registerType: 'input', address: 0, dataType: 'float32', description: undefined },
  );
  assert.ok(Array.isArray(msg.rtu.raw) && msg.rtu.raw.length > 0, 'raw blocks are included');
  assert.ok(msg.rtu.latencyMs >= 0);
  const next = await nextMessage<ReadingMessage>('pm1-out', (m) => isGood(m) && m.rtu.seq > msg.rtu.seq);
  assert.ok(next.rtu.timestamp >= msg.rtu.timestamp);
  assert.ok(fleet.get('incomer'), 'the device is in the fleet while deployed');
});

test('a dead unit on the shared line reports bad quality while the other unit keeps its rate', async () => {
  await helper.load(
    [lineNode, pollerNode],
    flow(poller('alive', { name: 'live meter', unitId: 2 }), poller('dead', { name: 'switched-off meter', unitId: 9 })),
  );
  const alive = collect<ReadingMessage>('alive-out');
  const bad = await nextMessage<ReadingMessage>('dead-out', (m) => m.rtu.quality === 'bad', 4000);
  assert.match(bad.rtu.error ?? '', /time|backoff|answer/i);
  assert.ok(Object.values(bad.payload).every((v) => v === null), 'a failed poll has no values');
  // The live unit keeps delivering next to the dead one (how much the dead unit costs it: npm run bench, modbus-dead-unit).
  const start = alive.length;
  await nextMessage<ReadingMessage>('dead-out', (m) => m.rtu.quality === 'bad', 4000);
  for (let waited = 0; alive.slice(start).filter(isGood).length < 6; waited += 50) {
    assert.ok(waited < 15000, 'six more good readings from the live unit');
    await new Promise((r) => setTimeout(r, 50));
  }
  await statusNowOrNext('dead', (s) => s.fill === 'red', 4000);
});

test('a point list with an impossible address gives a red status and an error naming the point and field', async () => {
  const points = [{ name: 'bad_point', registerType: 'holding', address: 70000, dataType: 'uint16' }];
  await helper.load([lineNode, pollerNode], flow(poller('cfg', { name: 'misconfigured', unitId: 1, source: 'points', points })));
  const node = helper.getNode('cfg') as unknown as { error: { args: unknown[][] } & ((...a: unknown[]) => void) };
  const calls = (node.error as unknown as { getCalls(): Array<{ args: unknown[] }> }).getCalls();
  const text = calls.map((c) => String(c.args[0])).join('\n');
  assert.match(text, /bad_point/);
  assert.match(text, /70000/);
});

test('an input message reads on demand; a write to a read-only point fails with a clear error', async () => {
  await helper.load([lineNode, pollerNode], flow(poller('pm', { name: 'meter', unitId: 3, interval: 60 })));
  const first = await nextMessage<ReadingMessage>('pm-out', isGood);
  const node = helper.getNode('pm') as unknown as { receive(m: unknown): void; on(e: string, cb: (a: unknown) => void): void };
  const onDemand = nextMessage<ReadingMessage>('pm-out', (m) => m.rtu.seq !== first.rtu.seq);
  node.receive({ payload: 'read' });
  const read = await onDemand;
  assert.equal(read.rtu.device, 'meter');
  const failed = new Promise<string>((resolve) => {
    node.on('call:error', (call) => resolve(String((call as { args: unknown[] }).args[0])));
  });
  node.receive({ write: { voltage_l1_n: 100 } });
  assert.match(await failed, /voltage_l1_n/);
});

test('"Bit writes: mask" writes bit points with FC22; a device without it says so', async () => {
  const points = [{ name: 'flag', registerType: 'holding', address: 0, dataType: 'bool', bit: 2, writable: true }];
  await helper.load([lineNode, pollerNode], flow(poller('pf', { name: 'flags', unitId: 1, interval: 60, source: 'points', points, bitWrites: 'mask' })));
  const node = helper.getNode('pf') as unknown as { receive(m: unknown): void; on(e: string, cb: (a: unknown) => void): void };
  const failed = new Promise<string>((resolve) => node.on('call:error', (call) => resolve(String((call as { args: unknown[] }).args[0]))));
  node.receive({ write: { flag: true } });
  // The simulator has no FC22: the node asked for it, and the refusal tells the user what to change.
  assert.match(await failed, /device "flags": write true to point "flag": .*exception 01 .*FC22.*does not support mask write/);
});

test('the editor plan preview merges the profile into the fewest reads', async () => {
  await helper.load([lineNode, pollerNode], flow(poller('pm', { name: 'meter', unitId: 1 })));
  const res = await helper
    .request()
    .post('/rtu/modbus-poller/plan')
    .send({ source: 'model', model: 'rtu/simulated-energy-meter', profile: 'all', maxGap: 10 })
    .expect(200);
  assert.match(res.body.summary, /^3 requests touching \d+ registers/);
  const bad = await helper.request().post('/rtu/modbus-poller/plan').send({ source: 'model', model: 'nobody/nothing', profile: 'x' }).expect(400);
  assert.match(bad.body.errors.join(' '), /nobody\/nothing/);
});

test('redeploying releases the TCP connection', async () => {
  await helper.load([lineNode, pollerNode], flow(poller('pm', { name: 'meter', unitId: 1 })));
  await nextMessage<ReadingMessage>('pm-out', isGood);
  assert.ok(sim.server.stats.clients >= 1);
  await helper.unload();
  const deadline = Date.now() + 3000;
  while (sim.server.stats.clients > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(sim.server.stats.clients, 0);
});

test('the example flow deploys and both of its pollers deliver readings', async () => {
  const simulatorNode = (await import('../../nodes/rtu-simulator/rtu-simulator')).default;
  const example = JSON.parse(
    (await import('fs')).readFileSync(require.resolve('../../../examples/rtu-modbus-poller.json'), 'utf8'),
  ) as Array<Record<string, unknown>>;
  // Core debug and inject nodes become test helpers, so the readings can be checked.
  const core = new Set(['debug', 'inject']);
  const flowNodes = example.map((n) => (core.has(String(n.type)) ? { id: n.id, z: n.z, type: 'helper', wires: [] } : n));
  await helper.load([lineNode, pollerNode, simulatorNode], flowNodes);
  const sdm = await nextMessage<ReadingMessage>('rtu_poll_ex_dbg1', isGood, 8000);
  assert.equal(sdm.rtu.model, 'eastron/sdm630');
  assert.ok((sdm.payload.voltage_l1_n as number) > 200);
  const list = await nextMessage<ReadingMessage>('rtu_poll_ex_dbg2', isGood, 8000);
  assert.deepEqual(Object.keys(list.payload).sort(), ['active_energy_import_total', 'current_l1', 'frequency', 'voltage_l1_n']);
  assert.equal(list.rtu.units.frequency, 'Hz');
});

test('the line takes host and port from environment variables at deploy; a flow without hostType/portType keeps its typed values', async () => {
  await withEnv({ RTU_TEST_LINE_HOST: '127.0.0.1', RTU_TEST_LINE_PORT: String(sim.port) }, async () => {
    await helper.load([lineNode, pollerNode], flow(lineConfig({ host: 'RTU_TEST_LINE_HOST', hostType: 'env', port: 'RTU_TEST_LINE_PORT', portType: 'env' }), poller('pe', { name: 'env meter', unitId: 1 })));
    const msg = await nextMessage<ReadingMessage>('pe-out', isGood);
    assert.equal(msg.rtu.line, 'sim line');
  });
  await helper.unload();
  const plain = lineConfig({ port: String(sim.port) });
  assert.equal('hostType' in plain || 'portType' in plain, false);
  await helper.load([lineNode, pollerNode], flow(plain, poller('pp', { name: 'plain meter', unitId: 1 })));
  await nextMessage<ReadingMessage>('pp-out', isGood);
});

test('a line port variable that is not a port: the line and its pollers say which variable held what', async () => {
  await withEnv({ RTU_TEST_LINE_PORT: '70000' }, async () => {
    await helper.load([lineNode, pollerNode], flow(lineConfig({ port: 'RTU_TEST_LINE_PORT', portType: 'env' }), poller('pb', { name: 'meter', unitId: 1 })));
  });
  const expected = 'line "sim line": port from env RTU_TEST_LINE_PORT is "70000" — not a whole number in 1..65535';
  assert.ok(errorsOf('line').includes(expected), errorsOf('line').join('\n'));
  assert.ok(errorsOf('pb').includes(`device "meter": ${expected}`), errorsOf('pb').join('\n'));
  await helper.unload();
  await helper.load([lineNode, pollerNode], flow(lineConfig({ host: 'RTU_TEST_LINE_UNSET', hostType: 'env' }), poller('pc', { name: 'meter', unitId: 1 })));
  assert.ok(errorsOf('line').includes('line "sim line": host from env RTU_TEST_LINE_UNSET is "" — empty'), errorsOf('line').join('\n'));
});

test('the unit id from an environment variable selects the unit; a bad one is named with what it held; flows without unitIdType keep the plain id', async () => {
  await withEnv({ RTU_TEST_UNIT: '3' }, async () => {
    await helper.load([lineNode, pollerNode], flow(poller('pu', { name: 'env unit', unitId: 'RTU_TEST_UNIT', unitIdType: 'env' })));
    assert.equal((await nextMessage<ReadingMessage>('pu-out', isGood)).rtu.unitId, 3);
  });
  await helper.unload();
  await withEnv({ RTU_TEST_UNIT: 'three' }, async () => {
    await helper.load([lineNode, pollerNode], flow(poller('pv', { name: 'bad unit', unitId: 'RTU_TEST_UNIT', unitIdType: 'env' })));
  });
  assert.ok(errorsOf('pv').includes('device "bad unit": unit id from env RTU_TEST_UNIT is "three" — not a whole number in 0..255'), errorsOf('pv').join('\n'));
  await helper.unload();
  const plain = poller('pw', { name: 'plain unit', unitId: '2' });
  assert.equal('unitIdType' in plain, false);
  await helper.load([lineNode, pollerNode], flow(plain));
  assert.equal((await nextMessage<ReadingMessage>('pw-out', isGood)).rtu.unitId, 2);
});

test('a bad interval is named in seconds, the unit of its field, and every bad field is reported at once', async () => {
  await helper.load([lineNode, pollerNode], flow(poller('px', { name: 'two bad', unitId: 300, interval: 'abc' })));
  const both = errorsOf('px').join('\n');
  assert.match(both, /device "two bad": unit id 300 is not a whole number in 0\.\.255 on line "sim line"/);
  assert.match(both, /device "two bad": poll interval "abc" s is not a number of seconds > 0/);
  assert.doesNotMatch(both, /NaN|ms/);
  await helper.unload();
  await helper.load([lineNode, pollerNode], flow(poller('py', { name: 'negative', unitId: 1, interval: -1 })));
  assert.ok(errorsOf('py').includes('device "negative": poll interval "-1" s is not a number of seconds > 0 (to poll without pause, tick "as fast as possible")'), errorsOf('py').join('\n'));
});

test('the line reports its health while pollers use it, and leaves the health registry on redeploy', async () => {
  const { health } = await import('../../nodes/lib/health/registry');
  await helper.load([lineNode, pollerNode], flow(poller('pa', { name: 'meter a', unitId: 1 }), poller('pb', { name: 'meter b', unitId: 2 })));
  await nextMessage<ReadingMessage>('pa-out', isGood);
  const line = health.snapshot().lines['sim line'];
  assert.ok(line, 'the line is in the health snapshot');
  assert.equal(line.connected, true);
  await helper.unload();
  assert.equal(health.snapshot().lines['sim line'], undefined);
});

test('a blank interval stops the poller at deploy with a clear error; polling flat out is ticked explicitly', async () => {
  await helper.load(
    [lineNode, pollerNode],
    flow(poller('blank', { name: 'no interval', unitId: 1, interval: '' }), poller('flat', { name: 'flat out', unitId: 2, interval: '', flatOut: true })),
  );
  await statusWhere('blank', (s) => s.fill === 'red');
  assert.match(errorsOf('blank').join('\n'), /device "no interval": no poll interval: enter it in seconds \(e\.g\. 1\), or tick "as fast as possible"/);
  assert.equal(fleet.list().some((d) => d.name === 'no interval'), false, 'the poller did not start');
  const flat = await nextMessage<ReadingMessage>('flat-out', isGood);
  assert.equal(flat.rtu.device, 'flat out');
  assert.equal(fleet.list().find((d) => d.name === 'flat out')?.intervalMs, 0);
});

test('thirty pollers on one line deploy without a MaxListenersExceededWarning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    const pollers = Array.from({ length: 30 }, (_, i) => poller(`p${i}`, { name: `meter ${i}`, unitId: 1 + (i % 3), interval: 1 }));
    await helper.load([lineNode, pollerNode], flow(...pollers));
    await Promise.all(pollers.map((p) => nextMessage<ReadingMessage>(`${p.id}-out`, isGood, 10000)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((w) => /MaxListeners/.test(w)), []);
  } finally {
    process.off('warning', onWarning);
  }
});

function logged(level: number): string[] {
  return (helper.log().args as Array<[{ level: number; msg: unknown }]>).filter(([e]) => e.level === level).map(([e]) => String(e.msg));
}

async function until(what: string, check: () => boolean, ms = 8000): Promise<void> {
  for (let waited = 0; !check(); waited += 50) {
    if (waited >= ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a cache that throws on update: the reading still goes out, and the failure reaches the node log and status', async () => {
  await helper.load(
    [lineNode, pollerNode, cacheNode],
    flow({ id: 'cache', type: 'rtu-cache', name: 'site cache', ttl: 60 }, poller('cached', { name: 'cached meter', unitId: 1, cache: 'cache' })),
  );
  const cache = (helper.getNode('cache') as unknown as { cache: { update(): void } }).cache;
  cache.update = () => {
    throw new Error('disk full');
  };
  const reading = await nextMessage<ReadingMessage>('cached-out', isGood, 5000);
  assert.equal(reading.rtu.device, 'cached meter');
  await statusNowOrNext('cached', (s) => s.fill === 'red' && /register cache refused the reading: disk full/.test(String(s.text)), 4000);
  // Logged once, not at every reading.
  await nextMessage<ReadingMessage>('cached-out', isGood, 5000);
  assert.equal(errorsOf('cached').filter((e) => /disk full/.test(e)).length, 1);
  await until('the node logs the cache failure', () => errorsOf('cached').some((e) => /device "cached meter": the register cache refused the reading: disk full/.test(e)));
});

test('a connected poller shows a green "polling" dot from its catalogue, then its readings', async () => {
  await helper.load([lineNode, pollerNode], flow(poller('green', { name: 'green meter', unitId: 3 })));
  // The test runtime has no catalogues loaded, so texts are the catalogue keys (test/unit/locale-keys checks they exist).
  const first = await statusNowOrNext('green', (s) => s.fill === 'green', 4000);
  assert.equal(first.shape, 'dot');
  assert.match(String(first.text), /^rtu-modbus-poller\.status\.(polling|ok)$/);
  await statusNowOrNext('green', (s) => s.text === 'rtu-modbus-poller.status.ok' && s.fill === 'green', 4000);
});

test("a unit's outage and its recovery reach the log once each: failing with the reason, offline, recovered after N s", async () => {
  await helper.load([lineNode, pollerNode], flow(poller('flaky', { name: 'flaky meter', unitId: 2 })));
  await nextMessage<ReadingMessage>('flaky-out', isGood, 5000);
  sim.simulator.setDead(2, true);
  try {
    await until('offline is logged', () => logged(30).some((m) => /device "flaky meter" \(unit 2 on line "sim line"\): offline after \d+ failed polls/.test(m)));
    const failing = logged(30).filter((m) => /flaky meter.*: failing: /.test(m));
    assert.equal(failing.length, 1, failing.join('\n'));
    assert.match(failing[0], /failing: .*(time|answer)/i);
  } finally {
    sim.simulator.setDead(2, false);
  }
  await until('recovery is logged', () => logged(40).some((m) => /device "flaky meter" .*: recovered after \d+ s \(\d+ failed polls?\)/.test(m)), 20000);
  assert.equal(logged(30).filter((m) => /flaky meter.*offline after/.test(m)).length, 1, 'offline is said once');
});
