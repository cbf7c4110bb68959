/** Servers on 127.0.0.1 for tests and benchmarks: ephemeral ports and sockets that can be cut at once. */
import net from 'net';

/** A port that was free a moment ago (for configs that need the port before deploy). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Listens on 127.0.0.1 (an ephemeral port unless one is given) and tracks the open
 * sockets, so that stopping can destroy them rather than wait for clients to leave.
 */
export async function listenLoopback(server: net.Server, port = 0): Promise<{ port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as net.AddressInfo).port, sockets };
}
