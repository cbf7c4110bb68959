/**
 * Real peers for the publisher tests: an in-process aedes broker (MQTT 3.1.1) on an
 * ephemeral port that can be stopped and started again on the same port, a private
 * mosquitto (MQTT 5) when the binary is installed, and test certificates made by openssl.
 */
import { spawn, spawnSync, ChildProcess } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import tls from 'tls';
import { Aedes } from 'aedes';
import type { ReadingMessage } from '../../nodes/lib/reading';
import { listenLoopback } from '../support/loopback';

/** A reading message as a poller emits it. */
export function reading(device: string, seq: number, values: Record<string, number | string | boolean | null>, extra: Partial<ReadingMessage['rtu']> = {}): ReadingMessage {
  return {
    topic: device,
    payload: values,
    rtu: {
      device,
      line: 'line1',
      protocol: 'modbus',
      model: 'em24',
      unitId: 1,
      timestamp: Date.now(),
      quality: 'good',
      latencyMs: 12,
      units: Object.fromEntries(Object.keys(values).map((k) => [k, k.startsWith('power') ? 'W' : 'V'])),
      seq,
      ...extra,
    },
  };
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  clientId: string;
}

export interface BrokerOptions {
  port?: number;
  /** Accept only this user name and password. */
  credentials?: { username: string; password: string };
  tls?: { key: string; cert: string };
}

export interface TestBroker {
  port: number;
  received: ReceivedMessage[];
  /** Client ids that connected, in order. */
  connects: string[];
  aedes: Aedes;
  /** Closes every connection and the listener, as a crashed broker would. */
  stop(): Promise<void>;
  json<T = Record<string, unknown>>(topicPrefix?: string): Array<T & { topic: string }>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const received: ReceivedMessage[] = [];
  const connects: string[] = [];
  if (options.credentials) {
    const want = options.credentials;
    aedes.authenticate = (_client, username, password, done) => {
      const ok = username === want.username && !!password && password.toString() === want.password;
      if (ok) done(null, true);
      else done(Object.assign(new Error('bad credentials'), { returnCode: 4 }) as Parameters<typeof done>[0], false);
    };
  }
  aedes.on('client', (client) => connects.push(client.id));
  aedes.on('publish', (packet, client) => {
    if (!client) return; // the broker's own $SYS messages
    received.push({ topic: packet.topic, payload: Buffer.from(packet.payload), qos: packet.qos, retain: packet.retain, clientId: client.id });
  });
  const server = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, aedes.handle)
    : net.createServer(aedes.handle);
  const { port, sockets } = await listenLoopback(server, options.port);
  return {
    port,
    received,
    connects,
    aedes,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
    json<T>(topicPrefix = '') {
      return received
        .filter((m) => m.topic.startsWith(topicPrefix) && !m.topic.endsWith('/status'))
        .map((m) => ({ ...(JSON.parse(m.payload.toString()) as T), topic: m.topic }));
    },
  };
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections at host:port (within `ms`). */
export function listening(port: number, host = '127.0.0.1', ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export interface Mosquitto {
  port: number;
  stop(): Promise<void>;
}

/** A private mosquitto on a free port (MQTT 5 capable), anonymous or with one user. */
export async function startMosquitto(dir: string, user?: { username: string; password: string }): Promise<Mosquitto> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  // Without `user`, a mosquitto started as root switches to the "mosquitto" user and cannot read our temp files.
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest none', `user ${os.userInfo().username}`];
  if (user) {
    const pw = path.join(dir, 'passwd');
    fs.writeFileSync(pw, '');
    spawnSync('mosquitto_passwd', ['-b', pw, user.username, user.password]);
    fs.chmodSync(pw, 0o600);
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else {
    lines.push('allow_anonymous true');
  }
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  const end = Date.now() + 5000;
  while (!(await listening(port))) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface TestCerts {
  ca: string;
  serverKey: string;
  serverCert: string;
  clientKey: string;
  clientCert: string;
  /** The client key encrypted with passphrase "secret". */
  clientKeyEncrypted: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made by openssl. */
export function makeCerts(dir: string): TestCerts | undefined {
  if (!hasBinary('openssl')) return undefined;
  const run = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  fs.writeFileSync(path.join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=RTU test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=rtu-client');
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2');
  run('pkey', '-in', 'client.key', '-aes256', '-passout', 'pass:secret', '-out', 'client-enc.key');
  const read = (f: string): string => fs.readFileSync(path.join(dir, f), 'utf8');
  return {
    ca: read('ca.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
    clientKeyEncrypted: read('client-enc.key'),
  };
}

export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
