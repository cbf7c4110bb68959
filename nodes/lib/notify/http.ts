/**
 * A small JSON POST over node's http/https, with a timeout and a private
 * keep-alive agent that the notifier destroys on close (no socket outlives a
 * redeploy).
 */
import http from 'http';
import https from 'https';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export class JsonPoster {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 2 });

  constructor(private readonly timeoutMs = 15000) {}

  post(url: URL, body: unknown): Promise<HttpReply> {
    const data = Buffer.from(JSON.stringify(body));
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: {
            'content-type': 'application/json',
            'content-length': data.length,
            'user-agent': 'node-red-energy-rtu',
          },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

export function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds (may be fractional) from a header, as ms; undefined when absent or not a number. */
export function headerSeconds(headers: http.IncomingHttpHeaders, name: string): number | undefined {
  const raw = headers[name];
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return raw !== undefined && Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/** Removes secrets (webhook tokens, bot tokens) from text shown to users. */
export function redact(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('***');
  return out;
}
