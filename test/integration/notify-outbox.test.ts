import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { DiscordService } from '../../nodes/lib/notify/discord';
import { Notifier } from '../../nodes/lib/notify/notifier';
import { QueueOutbox } from '../../nodes/lib/notify/queue-outbox';
import type { AlertPayload } from '../../nodes/lib/alert/types';
import { DiscordReceiver, waitFor } from './notify-receivers';

function alertAt(i: number): AlertPayload {
  const device = `dev-${i}`;
  return {
    id: `${device}/power/p-high`, state: 'raised', severity: 'major', category: 'power', device, point: 'power',
    value: 150, limit: 100, unit: 'kW', rule: 'p-high', kind: 'high', timestamp: Date.now(), raisedAt: Date.now(),
    text: `${device} power 150 kW above high limit 100 kW`,
  };
}

function discord(receiver: DiscordReceiver, token: string): DiscordService {
  return new DiscordService({ webhookUrl: `1/${token}`, apiBase: `${receiver.base}/api`, style: 'text', minIntervalMs: 20, timeZone: 'UTC' });
}

/** How many times each device shows up across the accepted messages. */
function counts(receiver: DiscordReceiver, n: number): number[] {
  const text = receiver.messages.map((m) => m.text).join('\n');
  return Array.from({ length: n }, (_, i) => (text.match(new RegExp(`\\bdev-${i}\\b`, 'g')) ?? []).length);
}

test('revoked half way through a storm: after the redeploy the rest goes out, none twice', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-outbox-'));
  const receiver = await new DiscordReceiver().start();
  receiver.addWebhook('1', 'good-token');
  receiver.limit = 100;
  try {
    let outbox = await QueueOutbox.open(dir);
    const first = new Notifier(discord(receiver, 'good-token'), outbox, { groupWindowMs: 100, authRetryMs: 60000 }, {
      // The token is revoked right after the first message was accepted.
      onSent: () => receiver.webhooks.set('1', 'rotated-token'),
    });
    for (let i = 0; i < 400; i++) await first.notify({ alert: alertAt(i), test: false, at: Date.now() });
    await waitFor(() => first.currentStatus().phase === 'held', 5000, 'held after 401');
    assert.equal(receiver.messages.length, 1);
    const before = outbox.size();
    assert.ok(before > 0 && before < 400, `${before} still queued`);
    await first.close();

    outbox = await QueueOutbox.open(dir);
    assert.equal(outbox.size(), before, 'the queue came back from disk');
    const fixed = new Notifier(discord(receiver, 'rotated-token'), outbox, { groupWindowMs: 50 });
    fixed.start();
    await waitFor(() => outbox.size() === 0, 10000, 'drained after redeploy');
    await fixed.close();
    assert.deepEqual(counts(receiver, 400), Array(400).fill(1));
    assert.deepEqual(receiver.violations, []);
  } finally {
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 with notices queued: after the restart every one is delivered', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-outbox-kill-'));
  const receiver = await new DiscordReceiver().start();
  receiver.addWebhook('1', 'good-token');
  receiver.limit = 100;
  try {
    const outboxModule = require.resolve('../../nodes/lib/notify/queue-outbox');
    // The child queues 300 notices for a Discord that is down (nothing listens on its port), then waits to be killed.
    const script = `
      const { QueueOutbox } = require(${JSON.stringify(outboxModule)});
      (async () => {
        const outbox = await QueueOutbox.open(${JSON.stringify(dir)});
        for (let i = 0; i < 300; i++) {
          const device = 'dev-' + i;
          await outbox.push({ alert: { id: device + '/power/p-high', state: 'raised', severity: 'major', category: 'power', device, point: 'power', value: 150, limit: 100, unit: 'kW', rule: 'p-high', kind: 'high', timestamp: Date.now(), raisedAt: Date.now(), text: device + ' power high' }, test: false, at: Date.now() });
        }
        await outbox.queue.flush();
        process.stdout.write('queued\\n');
        setInterval(() => {}, 1000);
      })();
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('queued'), 8000, 'child queued');
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const outbox = await QueueOutbox.open(dir);
    assert.equal(outbox.size(), 300);
    const notifier = new Notifier(discord(receiver, 'good-token'), outbox, { groupWindowMs: 50 });
    notifier.start();
    await waitFor(() => outbox.size() === 0, 10000, 'drained after restart');
    await notifier.close();
    assert.deepEqual(counts(receiver, 300), Array(300).fill(1));
    assert.ok(receiver.messages.length <= 4, `${receiver.messages.length} messages`);
  } finally {
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
