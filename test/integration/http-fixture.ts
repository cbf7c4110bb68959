/** A real HTTP receiver on loopback for the publisher tests: records requests, answers as told, can be stopped and restarted on the same port. */
import http from 'http';
import https from 'https';
import zlib from 'zlib';
import { listenLoopback } from '../support/loopback';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Body after gzip decoding, as text. */
  body: string;
  at: number;
  /** The status it was answered with (undefined while unanswered). */
  status?: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (to test timeouts). */
  hang?: boolean;
}

export interface Receiver {
  port: number;
  url: string;
  requests: ReceivedRequest[];
  /** Decides the answer to each request (default 204). */
  answer: (req: ReceivedRequest, index: number) => Answer;
  stop(): Promise<void>;
  /** JSON bodies (arrays) concatenated, of requests that were answered 2xx. */
  accepted<T = Record<string, unknown>>(path?: string): T[];
}

export async function startReceiver(options: { port?: number; tls?: { key: string; cert: string } } = {}): Promise<Receiver> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = zlib.gunzipSync(raw);
      const rec: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw.toString('utf8'), at: Date.now() };
      receiver.requests.push(rec);
      const a = receiver.answer(rec, receiver.requests.length - 1);
      if (a.hang) return;
      rec.status = a.status;
      res.writeHead(a.status, a.headers ?? {});
      res.end(a.body ?? '');
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  const { port, sockets } = await listenLoopback(server, options.port);
  const receiver: Receiver = {
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests: [],
    answer: () => ({ status: 204 }),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    accepted<T>(path?: string): T[] {
      return receiver.requests
        .filter((r) => r.status !== undefined && r.status >= 200 && r.status < 300 && (!path || r.url.startsWith(path)))
        .flatMap((r) => JSON.parse(r.body) as T[]);
    },
  };
  return receiver;
}
