/**
 * The shipped 200-meter example in the real runtime: 12 simulator nodes stand in for
 * the RS485 lines, one device table polls every meter; the spare meter comes in and
 * a meter goes out at runtime without a redeploy. Prints the time to the first good
 * reading of all 200 and the process's memory (figures, not assertions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import simulatorNode from '../../nodes/rtu-simulator/rtu-simulator';
import lineNode from '../../nodes/rtu-modbus-line/rtu-modbus-line';
import fleetNode from '../../nodes/rtu-modbus-fleet/rtu-modbus-fleet';
import { fleet } from '../../nodes/lib/fleet';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { freePort } from '../support/e2e/peers';
import { collect, helper, useNodeRed } from '../support/node-red';
import { waitFor } from '../support/wait';

useNodeRed('rtu-fleet-site-');

type FlowNode = Record<string, unknown> & { id: string; type: string };

async function siteFlow(): Promise<FlowNode[]> {
  const file = path.resolve(__dirname, '..', '..', '..', 'examples', 'site-200-meters.json');
  const flow = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
  const ports = new Map<unknown, number>();
  for (const n of flow) if (n.type === 'rtu-simulator') ports.set(n.port, await freePort());
  return flow
    .filter((n) => n.type !== 'inject')
    .map((n) => {
      if (n.type === 'debug') return { id: n.id, z: n.z, type: 'helper', wires: [] };
      if (n.type === 'rtu-simulator' || n.type === 'rtu-modbus-line') return { ...n, port: ports.get(n.port) };
      return n;
    });
}

test('the 200-meter example: every meter of the table reads good; a spare comes in and a meter goes out at runtime', { timeout: 120_000 }, async () => {
  const flow = await siteFlow();
  const table = flow.find((n) => n.type === 'rtu-modbus-fleet') as FlowNode & { devices: Array<{ name: string }> };
  assert.equal(table.devices.length, 200);
  assert.equal(flow.filter((n) => n.type === 'rtu-modbus-line').length, 12);
  const started = Date.now();
  await helper.load([simulatorNode, lineNode, fleetNode], flow);
  const readings = collect<ReadingMessage>('rtu_site_out');
  const good = new Set<string>();
  await waitFor(() => {
    for (const m of readings.splice(0)) if (m.rtu.quality === 'good') good.add(m.topic as string);
    return good.size === 200;
  }, 'a good reading from each of the 200 meters', 60_000, 50);
  const ms = Date.now() - started;
  console.log(`# 200 meters on 12 lines: all read good ${ms} ms after load; rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);

  const node = helper.getNode(table.id) as unknown as { receive(m: unknown): void };
  node.receive({ topic: 'device/add', payload: { name: 'L12-M30', line: 'feeder 12', unitId: 30, model: 'rtu/simulated-energy-meter', profile: 'basic_power', interval: 5 } });
  await waitFor(() => readings.some((m) => m.topic === 'L12-M30' && m.rtu.quality === 'good'), 'the spare meter reads good');
  node.receive({ topic: 'device/disable', payload: 'L01-M01' });
  await waitFor(() => !fleet.get('L01-M01'), 'L01-M01 leaves the fleet');
  assert.equal(fleet.list().filter((d) => d.owner?.id === table.id).length, 200);
});
