/**
 * rtu-http-out: readings to an HTTP endpoint through the durable queue. A thin adapter over
 * nodes/lib/publish/http-publisher.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { HttpFormat, InfluxPrecision } from '../lib/publish/http-formats';
import { HttpAuth, HttpPreview, HttpPublisher } from '../lib/publish/http-publisher';
import { deployLookup, typedText } from '../shared/deploy-value';
import { attachTestMode, shortText, status } from '../shared/runtime';
import { attachPublisher, QueueConfig, queueSetup, readingInput, ShapingConfig, shapingFrom } from '../rtu-mqtt-out/publisher-node';
import { parseHeaderLines } from './headers';

interface HttpOutConfig extends NodeDef, QueueConfig, ShapingConfig {
  url?: string;
  /** Where the URLs come from: typed (undefined in older flows), an env variable or global context. */
  urlType?: string;
  testUrl?: string;
  testUrlType?: string;
  method?: string;
  format?: string;
  template?: string;
  templateJoin?: string;
  measurement?: string;
  precision?: string;
  contentType?: string;
  headers?: string;
  authType?: string;
  batchSize?: number | string;
  batchWait?: number | string;
  gzip?: boolean;
  timeout?: number | string;
  retryMax?: number | string;
  tlsCa?: string;
  tlsCert?: string;
  rejectUnauthorized?: boolean;
}

interface HttpCredentials {
  user?: string;
  password?: string;
  token?: string;
  secretHeaders?: string;
  tlsKey?: string;
  tlsPassphrase?: string;
}

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuHttpOutNode(this: Node<HttpCredentials>, config: HttpOutConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `http-out "${config.name || node.id}"`;
    const creds = node.credentials ?? {};
    let publisher: HttpPublisher | undefined;
    let detach: (() => void) | undefined;
    let configError: string | undefined;
    try {
      const q = queueSetup(RED, node.id, config);
      const authType = (['basic', 'bearer'].includes(String(config.authType)) ? config.authType : 'none') as HttpAuth['type'];
      // Read once at deploy: one flow, a per-site endpoint. An empty test URL variable means no test target.
      const lookup = deployLookup(RED, node);
      const testUrl = typedText({ field: 'test URL', value: config.testUrl, type: config.testUrlType, types: ['str', 'env', 'global'] }, lookup, false).trim();
      const url = typedText({ field: 'URL', value: config.url, type: config.urlType, types: ['str', 'env', 'global'] }, lookup, true).trim();
      if (!url) throw new Error(RED._('rtu-http-out.errors.noUrl'));
      const useTls = url.startsWith('https:') || testUrl.startsWith('https:');
      publisher = new HttpPublisher({
        owner: `rtu-http-out ${config.name || node.id}`,
        queueDir: q.dir,
        queue: q.queue,
        maxRatePerS: q.maxRatePerS,
        url,
        testUrl,
        testTarget: !!testUrl,
        isTestMode: () => testMode.enabled,
        method: config.method === 'PUT' ? 'PUT' : 'POST',
        headers: { ...parseHeaderLines(config.headers ?? '', 'headers'), ...parseHeaderLines(creds.secretHeaders ?? '', 'secret headers') },
        auth: { type: authType, username: creds.user, password: creds.password, token: creds.token },
        format: {
          format: (config.format || 'document') as HttpFormat,
          template: config.template,
          templateJoin: config.templateJoin === 'lines' ? 'lines' : 'array',
          measurement: config.measurement || undefined,
          precision: (config.precision || 'ms') as InfluxPrecision,
          contentType: config.contentType || undefined,
        },
        batchSize: Number(config.batchSize) || 100,
        batchWaitMs: Math.max(0, Number(config.batchWait ?? 5)) * 1000,
        gzip: !!config.gzip,
        timeoutMs: (Number(config.timeout) || 10) * 1000,
        retryMaxMs: (Number(config.retryMax) || 60) * 1000,
        tls: useTls
          ? { ca: config.tlsCa || undefined, cert: config.tlsCert || undefined, key: creds.tlsKey || undefined, passphrase: creds.tlsPassphrase || undefined, rejectUnauthorized: config.rejectUnauthorized !== false }
          : undefined,
        shaping: shapingFrom({ ...config, rbe: false }),
      });
      detach = attachPublisher<HttpPreview>(RED, node, publisher, {
        type: 'rtu-http-out',
        testMode,
        hasTestTarget: !!testUrl,
        preview: (p) => ({ topic: p.url || 'dry-run', payload: p.body, method: p.method, headers: { 'content-type': p.contentType } }),
      });
      publisher.start().catch((err: Error) => node.error(`${label}: ${err.message}`));
    } catch (err) {
      configError = `${label}: ${(err as Error).message}`;
      node.error(configError);
      node.status(status.error(shortText((err as Error).message)));
    }

    node.on('input', readingInput(() => publisher, () => configError, testMode));

    node.on('close', (_removed: boolean, done: () => void) => {
      const p = publisher;
      publisher = undefined;
      (p ? p.stop() : Promise.resolve())
        .catch((err: Error) => node.warn(`${label}: ${err.message}`))
        .then(() => {
          detach?.();
          node.status({});
        })
        .then(() => done(), () => done());
    });
  }

  RED.nodes.registerType<Node<HttpCredentials>, HttpOutConfig, unknown, HttpCredentials>('rtu-http-out', RtuHttpOutNode, {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
      secretHeaders: { type: 'password' },
      tlsKey: { type: 'password' },
      tlsPassphrase: { type: 'password' },
    },
  });
};
