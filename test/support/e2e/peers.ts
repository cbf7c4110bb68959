/**
 * The RTU's peers on loopback, started by the test: an MQTT broker (aedes),
 * an HTTP receiver, and free ports for the simulator and the gateway.
 */
import { Aedes } from 'aedes';
import http from 'http';
import net from 'net';
import zlib from 'zlib';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Broker {
  port: number;
  messages: Array<{ topic: string; payload: string; at: number }>;
  stop(): Promise<void>;
}

export async function startBroker(): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const messages: Broker['messages'] = [];
  aedes.on('publish', (packet, client) => {
    if (client) messages.push({ topic: packet.topic, payload: Buffer.from(packet.payload).toString(), at: Date.now() });
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer(aedes.handle);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    messages,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

export interface Receiver {
  url: string;
  posts: Array<{ path: string; body: string; at: number }>;
  stop(): Promise<void>;
}

/** Accepts every POST with 200 and keeps the (gunzipped) body. */
export async function startReceiver(): Promise<Receiver> {
  const posts: Receiver['posts'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      posts.push({ path: req.url ?? '', body: body.toString(), at: Date.now() });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
