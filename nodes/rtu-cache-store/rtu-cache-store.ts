/**
 * rtu-cache-store: puts the readings that arrive on its input into an rtu-cache
 * and passes them on; any other message is a question to the cache (one
 * device's latest values, all devices, or raw registers) answered on the output.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { answerQuery, queryOf, RegisterCache, valuesByDevice } from '../lib/cache';
import { isReadingMessage } from '../lib/reading';
import { shortText, status } from '../shared/runtime';

interface StoreConfig extends NodeDef {
  cache?: string;
}

interface CacheConfigNode extends Node {
  cache?: RegisterCache;
  configError?: string;
}

export = function register(RED: NodeAPI): void {
  function RtuCacheStoreNode(this: Node, config: StoreConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const where = `cache store "${config.name || node.id}"`;
    const cacheNode = config.cache ? (RED.nodes.getNode(config.cache) as CacheConfigNode | null) : null;
    const problem = !cacheNode ? RED._('rtu-cache-store.errors.noCache') : cacheNode.configError;
    if (problem || !cacheNode?.cache) {
      const text = `${where}: ${problem}`;
      node.error(text);
      node.status(status.error(shortText(problem ?? '')));
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(text)));
      return;
    }
    const cache = cacheNode.cache;

    let shown = 0;
    let pending: NodeJS.Timeout | undefined;
    const show = (): void => {
      if (pending) clearTimeout(pending);
      pending = undefined;
      shown = Date.now();
      const stale = cache.staleDevices(shown).length;
      const devices = cache.devices().length;
      const text = RED._('rtu-cache-store.status.devices', { devices, stale });
      node.status(devices === 0 ? status.idle(text) : stale ? status.warn(text) : status.ok(text));
    };
    // Status at most once a second however many readings arrive, and again as data ages.
    const onUpdate = (): void => {
      const wait = shown + 1000 - Date.now();
      if (wait <= 0) show();
      else pending ??= setTimeout(show, wait);
    };
    cache.on('update', onUpdate);
    cache.on('remove', show);
    const timer = setInterval(show, 5000);
    show();

    node.on('input', (msg: NodeMessage, send, done) => {
      try {
        if (isReadingMessage(msg)) {
          cache.update(msg);
          send(msg);
          return done();
        }
        const answer = answerQuery(cache, queryOf(msg as NodeMessage & { device?: unknown; registers?: unknown }));
        const out = msg as NodeMessage & Record<string, unknown>;
        if (answer.kind === 'all') {
          out.payload = valuesByDevice(answer.devices);
          out.devices = answer.devices;
        } else if (answer.kind === 'device') {
          const { values, ...meta } = answer.snapshot;
          out.topic = meta.device;
          out.payload = values;
          out.rtu = meta;
        } else {
          out.topic = answer.device;
          out.payload = answer.values;
        }
        send(out);
        done();
      } catch (err) {
        done(new Error(`${where}: ${(err as Error).message}`));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(timer);
      if (pending) clearTimeout(pending);
      cache.off('update', onUpdate);
      cache.off('remove', show);
      done();
    });
  }

  RED.nodes.registerType('rtu-cache-store', RtuCacheStoreNode);
};
