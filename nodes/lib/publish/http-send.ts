/** One HTTP request with a hard timeout, on Node's own http/https (no extra dependency). */
import http from 'http';
import https from 'https';

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The start of the response body (for error reports). */
  body: string;
}

export interface HttpRequest {
  url: URL;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  agent: http.Agent;
}

const BODY_KEEP = 2048;

export function sendRequest(req: HttpRequest): Promise<HttpAnswer> {
  const lib = req.url.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const r = lib.request(
      req.url,
      { method: req.method, headers: { ...req.headers, 'content-length': String(req.body.length) }, agent: req.agent },
      (res) => {
        let kept = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (kept.length < BODY_KEEP) kept += chunk.slice(0, BODY_KEEP - kept.length);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: kept }));
        res.on('error', reject);
      },
    );
    r.setTimeout(req.timeoutMs, () => r.destroy(Object.assign(new Error(`no answer within ${req.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** The URL without user info, query secrets shown as "…", for status and logs. */
export function safeUrl(url: URL): string {
  const copy = new URL(url.toString());
  copy.username = '';
  copy.password = '';
  for (const key of [...copy.searchParams.keys()]) {
    if (/token|key|secret|password|auth|sig/i.test(key)) copy.searchParams.set(key, '…');
  }
  return copy.toString();
}
