/**
 * A real InfluxDB 1.x (Debian's `influxdb`, /usr/bin/influxd) started by a test on free
 * loopback ports with its own temporary directories. Installed by scripts/system-deps.sh:
 * when it cannot start, start() throws so the test fails loudly instead of skipping.
 */
import { ChildProcess, spawn } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { freePort } from './loopback';

export interface Influxd {
  url: string;
  query(db: string, q: string): Promise<InfluxSeries[]>;
  stop(): Promise<void>;
}

export interface InfluxSeries {
  name: string;
  columns: string[];
  values: unknown[][];
  tags?: Record<string, string>;
}

const BINARY = process.env.INFLUXD ?? '/usr/bin/influxd';

export async function startInfluxd(): Promise<Influxd> {
  if (!fs.existsSync(BINARY)) throw new Error(`${BINARY} not found: run scripts/system-deps.sh (Debian package influxdb)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtu-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const config = path.join(dir, 'influxd.conf');
  fs.writeFileSync(config, [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${path.join(dir, 'meta')}"`,
    '[data]',
    `  dir = "${path.join(dir, 'data')}"`,
    `  wal-dir = "${path.join(dir, 'wal')}"`,
    '  query-log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    '[logging]',
    '  level = "warn"',
    '',
  ].join('\n'));
  let output = '';
  const child: ChildProcess = spawn(BINARY, ['-config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited: number | string | null = null;
  const exit = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exited = code ?? signal;
    resolve();
  }));
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async (): Promise<void> => {
    if (exited === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) {
      await stop();
      throw new Error(`influxd exited (${exited}) before answering: ${output.slice(-2000)}`);
    }
    const ok = await fetch(`${url}/ping`).then((r) => r.status === 204, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`influxd did not answer on ${url} within 30 s: ${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const query = async (db: string, q: string): Promise<InfluxSeries[]> => {
    const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q }).toString(),
    });
    const body = (await res.json()) as { results?: Array<{ series?: InfluxSeries[]; error?: string }>; error?: string };
    const first = body.results?.[0];
    if (!res.ok || body.error || first?.error) throw new Error(`influxd query ${q}: ${res.status} ${body.error ?? first?.error}`);
    return first?.series ?? [];
  };
  return { url, query, stop };
}
