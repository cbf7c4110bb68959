/**
 * A device name is one device: two pollers with the same name (a copied poller
 * keeps its name) must not replace each other in the fleet, health, dashboard
 * and cache writers. The second one is refused at deploy, naming both nodes.
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import pollerNode from '../../nodes/rtu-modbus-poller/rtu-modbus-poller';
import { fleet } from '../../nodes/lib/fleet';
import { health } from '../../nodes/lib/health/registry';
import { startSimulator, RunningSimulator } from '../../nodes/lib/simulator/start';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { helper, nextMessage, startServer, stopServer } from '../support/node-red';

let sim: RunningSimulator;

before(async () => {
  sim = await startSimulator({ units: [1, 2] });
  await startServer();
});
after(async () => {
  await stopServer();
  await sim.close();
});
afterEach(async () => {
  await helper.unload();
});

function poller(id: string, unitId: number) {
  return { id, z: 'tab', type: 'rtu-modbus-poller', name: 'incomer', line: 'line', unitId, interval: 0.2, source: 'model', model: 'rtu/simulated-energy-meter', profile: 'basic_power', includeRaw: true, wires: [[`${id}-out`]] };
}

function errorsOf(id: string): string[] {
  return ((helper.getNode(id) as unknown as { error: { getCalls(): Array<{ args: unknown[] }> } }).error.getCalls() ?? []).map((c) => String(c.args[0]));
}

test('a second poller with the same device name is refused at deploy with an error naming both nodes', async () => {
  await helper.load(
    [lineNode, pollerNode],
    [
      { id: 'tab', type: 'tab', label: 'pollers' },
      { id: 'line', type: 'rtu-modbus-line', name: 'sim line', transport: 'tcp', host: '127.0.0.1', port: sim.port, timeout: 300, retries: 0 },
      poller('first', 1),
      poller('copy', 2),
      { id: 'first-out', z: 'tab', type: 'helper', wires: [] },
      { id: 'copy-out', z: 'tab', type: 'helper', wires: [] },
    ],
  );
  const reading = await nextMessage<ReadingMessage>('first-out', (m) => m.rtu.quality === 'good');
  assert.equal(reading.rtu.unitId, 1);
  // The helper spies on Node.prototype.error: these are the errors of every node of the flow.
  const errors = errorsOf('copy');
  assert.equal(errors.length, 1, `errors: ${JSON.stringify(errors)}`);
  assert.match(errors[0], /device name "incomer" is used by two nodes: rtu-modbus-poller first and rtu-modbus-poller copy/);
  assert.equal(fleet.get('incomer')?.unitId, 1, 'the fleet keeps the first device');
  assert.equal(fleet.list().filter((d) => d.name === 'incomer').length, 1);
  assert.ok(health.snapshot().devices.incomer, 'health keeps the first device');
});
