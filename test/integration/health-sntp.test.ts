import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'dgram';
import type { AddressInfo } from 'net';
import { readNtpTime, sntpQuery, writeNtpTime } from '../../nodes/lib/health/sntp';
import { SystemSampler } from '../../nodes/lib/health/system';

interface ServerBehaviour {
  /** The server's clock is this far ahead of ours. */
  aheadMs?: number;
  /** Time spent "processing" between receive and transmit. */
  holdMs?: number;
  stratum?: number;
  kiss?: string;
  silent?: boolean;
  /** Answer with a wrong originate time first (a stray packet), then correctly. */
  strayFirst?: boolean;
  mode?: number;
}

/** A tiny SNTP server on 127.0.0.1 that answers the way RFC 4330 servers do. */
async function sntpServer(b: ServerBehaviour = {}): Promise<{ port: number; requests: Buffer[]; close: () => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const requests: Buffer[] = [];
  socket.on('message', (msg, peer) => {
    requests.push(msg);
    if (b.silent) return;
    const received = Date.now() + (b.aheadMs ?? 0);
    const answer = () => {
      const r = Buffer.alloc(48);
      r[0] = (0 << 6) | (((msg[0] >> 3) & 7) << 3) | (b.mode ?? 4);
      r[1] = b.kiss ? 0 : b.stratum ?? 2;
      r[2] = msg[2];
      r[3] = 0xec;
      if (b.kiss) r.write(b.kiss, 12, 'ascii');
      else r.write('GPS', 12, 'ascii');
      writeNtpTime(r, 16, received - 1000);
      msg.copy(r, 24, 40, 48); // originate = client's transmit
      writeNtpTime(r, 32, received);
      writeNtpTime(r, 40, Date.now() + (b.aheadMs ?? 0));
      return r;
    };
    setTimeout(() => {
      if (b.strayFirst) {
        const stray = answer();
        stray.writeUInt32BE(12345, 24);
        socket.send(stray, peer.port, peer.address);
      }
      socket.send(answer(), peer.port, peer.address);
    }, b.holdMs ?? 0);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

test('NTP timestamps round-trip through the 1900 epoch', () => {
  const buf = Buffer.alloc(8);
  const t = Date.UTC(2025, 5, 30, 23, 59, 59, 987);
  writeNtpTime(buf, 0, t);
  assert.ok(Math.abs(readNtpTime(buf, 0) - t) < 0.001);
  assert.equal(buf.readUInt32BE(0), Math.floor(t / 1000) + 2208988800);
});

test('offset and delay against a server whose clock is 1.5 s ahead', async () => {
  const server = await sntpServer({ aheadMs: 1500, holdMs: 40 });
  try {
    const r = await sntpQuery('127.0.0.1', { port: server.port, timeoutMs: 2000 });
    assert.ok(Math.abs(r.offsetMs - 1500) <= 15, `offset ${r.offsetMs} ms`);
    assert.ok(r.delayMs < 30, `delay ${r.delayMs} ms excludes the 40 ms the server held the answer`);
    assert.equal(r.stratum, 2);
    const req = server.requests[0];
    assert.equal(req.length, 48);
    assert.equal(req[0], 0x23, 'LI 0, version 4, mode 3');
  } finally {
    await server.close();
  }
  const behind = await sntpServer({ aheadMs: -250 });
  try {
    const r = await sntpQuery('127.0.0.1', { port: behind.port });
    assert.ok(Math.abs(r.offsetMs + 250) <= 15, `offset ${r.offsetMs} ms`);
  } finally {
    await behind.close();
  }
});

test('a stray answer is ignored; kiss-o-death, unsynchronised servers, wrong modes and silence are errors', async () => {
  const stray = await sntpServer({ strayFirst: true, aheadMs: 700 });
  try {
    const r = await sntpQuery('127.0.0.1', { port: stray.port });
    assert.ok(Math.abs(r.offsetMs - 700) <= 15);
  } finally {
    await stray.close();
  }
  const cases: [ServerBehaviour, RegExp][] = [
    [{ kiss: 'RATE' }, /NTP server 127\.0\.0\.1:\d+: server refused \(kiss-o'-death "RATE"\)/],
    [{ stratum: 16 }, /server clock is not synchronised/],
    [{ mode: 3 }, /answer has mode 3, expected 4/],
    [{ silent: true }, /no answer within 300 ms/],
  ];
  for (const [behaviour, expected] of cases) {
    const s = await sntpServer(behaviour);
    try {
      await assert.rejects(sntpQuery('127.0.0.1', { port: s.port, timeoutMs: 300 }), expected);
    } finally {
      await s.close();
    }
  }
});

test('the system sampler reports the clock offset, and keeps the last one with the error when the server goes quiet', async () => {
  const server = await sntpServer({ aheadMs: -3000 });
  const sampler = new SystemSampler({ ntpServer: `127.0.0.1:${server.port}`, ntpIntervalMs: 0, ntpTimeoutMs: 300 });
  try {
    const first = await sampler.sample();
    assert.ok(first.clock && first.clock.offsetMs !== null && Math.abs(first.clock.offsetMs + 3000) <= 15, JSON.stringify(first.clock));
    assert.equal(first.clock?.error, undefined);
    await server.close();
    const second = await sampler.sample(Date.now() + 1);
    assert.equal(second.clock?.offsetMs, first.clock?.offsetMs);
    assert.match(second.clock?.error ?? '', /no answer within 300 ms|ECONNREFUSED/);
  } finally {
    sampler.close();
  }
});
