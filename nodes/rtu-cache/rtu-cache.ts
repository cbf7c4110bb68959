/**
 * rtu-cache: the register cache as a config node, shared by pollers, decoders,
 * cache stores, the gateway, health and the dashboard. Other nodes use the
 * engine object on `node.cache`. The same config node keeps its contents over
 * a redeploy, so the gateway keeps answering while pollers restart.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import { RegisterCache } from '../lib/cache';

interface CacheConfig extends NodeDef {
  ttl?: string | number;
}

interface CacheConfigNode extends Node {
  cache: RegisterCache;
  configError?: string;
}

const DEFAULT_TTL_S = 60;
/** By config node id: a redeployed cache config node takes over its predecessor's contents. */
const caches = new Map<string, RegisterCache>();

function ttlSeconds(raw: unknown): number {
  if (raw === '' || raw === undefined || raw === null) return DEFAULT_TTL_S;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0 || s > 31 * 24 * 3600) throw new Error(`TTL ${JSON.stringify(raw)} is not a number of seconds above 0`);
  return s;
}

export = function register(RED: NodeAPI): void {
  RED.httpAdmin.get('/rtu-cache/:id/devices', RED.auth.needsPermission('rtu-cache.read'), (req: Request, res: Response) => {
    const cache = caches.get(String(req.params.id));
    if (!cache) return void res.status(404).json({ error: `no deployed cache with id ${String(req.params.id)}` });
    res.json({ ttlMs: cache.ttlMs, devices: cache.snapshot() });
  });

  function RtuCacheNode(this: CacheConfigNode, config: CacheConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    let ttl = DEFAULT_TTL_S;
    try {
      ttl = ttlSeconds(config.ttl);
    } catch (err) {
      node.configError = `cache "${config.name || node.id}": ${(err as Error).message}`;
      node.error(node.configError);
    }
    let cache = caches.get(node.id);
    if (cache) cache.ttlMs = ttl * 1000;
    else caches.set(node.id, (cache = new RegisterCache({ ttlMs: ttl * 1000 })));
    node.cache = cache;

    node.on('close', (removed: boolean, done: () => void) => {
      if (removed) {
        cache?.clear();
        caches.delete(node.id);
      }
      done();
    });
  }

  RED.nodes.registerType('rtu-cache', RtuCacheNode);
};
