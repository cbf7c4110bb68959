import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import alertNode from '../../nodes/rtu-alert/rtu-alert';
import discordNode from '../../nodes/rtu-discord/rtu-discord';
import telegramNode from '../../nodes/rtu-telegram/rtu-telegram';
import healthNode from '../../nodes/rtu-health/rtu-health';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { helper, nextMessage, useNodeRed } from '../support/node-red';

const OURS = new Set(['rtu-alert', 'rtu-discord', 'rtu-telegram', 'rtu-health']);
const examples = path.resolve(__dirname, '../../../examples');

useNodeRed('rtu-examples-');

type FlowNode = Record<string, unknown> & { id: string; type: string; wires?: string[][] };

/** The example with core nodes (inject, debug, function, comment) stood in for by helper nodes. */
function load(name: string): FlowNode[] {
  const flow = JSON.parse(fs.readFileSync(path.join(examples, name), 'utf8')) as FlowNode[];
  return flow.map((n) => (n.type === 'tab' || OURS.has(n.type) ? n : { id: n.id, z: n.z, type: 'helper', wires: n.wires ?? [] }));
}

/** Errors and warnings (up to `level`: 20 errors, 30 warnings too) our nodes logged, the runtime's own notices left aside. */
function errorsLogged(level = 30): string[] {
  return (helper.log().args as Array<[{ level?: number; msg?: unknown }]>)
    .filter((a) => (a[0]?.level ?? 99) <= level)
    .map((a) => String(a[0]?.msg))
    .filter((m) => /^(alert|discord|telegram|health) "/.test(m));
}

test('the alert example deploys with valid rules and raises from its recorded readings', async () => {
  await helper.load([alertNode], load('rtu-alert.json'));
  assert.deepEqual(errorsLogged(), []);
  const node = helper.getNode('rtu_al_ex_alert') as { receive(m: unknown): void };
  const alert = nextMessage<{ payload: AlertPayload }>('rtu_al_ex_debug');
  node.receive({ topic: 'meter-1', payload: { voltage_l1: 231, frequency: 49.62, power_total: 4400, energy_import: 1 } });
  assert.equal((await alert).payload.rule, 'f-band');
});

test('the notifier examples deploy with no error; the missing credentials are a warning', async () => {
  for (const [file, type, key] of [
    ['rtu-discord.json', discordNode, 'rtu-discord.errors.noWebhook'],
    ['rtu-telegram.json', telegramNode, 'rtu-telegram.errors.noToken'],
  ] as const) {
    await helper.load([alertNode, type], load(file));
    assert.deepEqual(errorsLogged(20), []);
    const warnings = errorsLogged(30);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.ok(warnings[0].includes(key), warnings[0]);
    await helper.unload();
  }
});

test('the health example deploys; its threshold rules are valid', async () => {
  await helper.load([alertNode, healthNode], load('rtu-health.json'));
  await nextMessage('rtu_he_ex_snap');
  assert.deepEqual(errorsLogged(), []);
});
