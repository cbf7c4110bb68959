/**
 * rtu-gateway: a Modbus TCP server answering SCADA and HMIs from an rtu-cache,
 * each device under its own unit id at its own register addresses. Writes,
 * when enabled, pass through to the device's poller for allow-listed points.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Request, Response } from 'express';
import type { RegisterCache } from '../lib/cache';
import { fleet } from '../lib/fleet';
import { gatewaySettings, GatewayNodeFields, GatewaySettings, ModbusGateway, WriteEvent } from '../lib/gateway';
import { listenRetrying } from '../lib/modbus/server-tcp';
import { deployLookup, typedNumber, typedText } from '../shared/deploy-value';
import { registryFromSettings } from '../shared/registry-endpoint';
import { shortText, status } from '../shared/runtime';

type GatewayConfig = NodeDef & GatewayNodeFields & { cache?: string; hostType?: string; portType?: string };

/** Bind address and port, typed or from env (one flow, many sites); the engine checks the rest. */
function withSiteValues(config: GatewayConfig, lookup: ReturnType<typeof deployLookup>): GatewayNodeFields {
  const host = typedText({ field: 'bind address', value: config.host, type: config.hostType, types: ['str', 'env'] }, lookup, true);
  const port = typedNumber({ field: 'port', value: config.port, type: config.portType, types: ['num', 'env'] }, lookup, { min: 0, max: 65535 });
  return { ...config, host, port: port as GatewayNodeFields['port'] };
}

interface CacheConfigNode extends Node {
  cache?: RegisterCache;
  configError?: string;
}

interface GatewayNode extends Node {
  /** The running gateway, once it listens (tests read the port here). */
  gateway?: ModbusGateway;
}

const STATUS_MS = 2000;

export = function register(RED: NodeAPI): void {
  const registry = registryFromSettings(RED);
  // Device names for the editor's picker: every device a poller has deployed.
  RED.httpAdmin.get('/rtu-gateway/devices', RED.auth.needsPermission('rtu-gateway.read'), (_req: Request, res: Response) => {
    res.json(fleet.list().map((d) => ({ name: d.name, model: d.model, unitId: d.unitId, line: d.line })));
  });

  function RtuGatewayNode(this: GatewayNode, config: GatewayConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const where = `gateway "${config.name || node.id}"`;
    const cacheNode = config.cache ? (RED.nodes.getNode(config.cache) as CacheConfigNode | null) : null;
    let settings: GatewaySettings;
    try {
      if (!cacheNode?.cache) throw new Error(RED._('rtu-gateway.errors.noCache'));
      if (cacheNode.configError) throw new Error(cacheNode.configError);
      settings = gatewaySettings(withSiteValues(config, deployLookup(RED, node)));
    } catch (err) {
      node.error(`${where}: ${(err as Error).message}`);
      node.status(status.error(shortText((err as Error).message)));
      return;
    }
    const cache = cacheNode.cache;
    const gateway = new ModbusGateway({
      ...settings,
      cache,
      pointsOf: (device) => {
        const model = cache.device(device)?.model;
        return model ? registry(false).getModel(model)?.points : undefined;
      },
    });
    gateway.on('write', (e: WriteEvent) => {
      if (!e.ok || e.late) node.warn(`${where}: ${e.error}`);
      node.send({ topic: `write/${e.device}`, payload: e } as NodeMessage);
    });
    gateway.server.on('handlerError', (err: Error) => node.warn(`${where}: ${err.message}`));

    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let lastRequests = 0;
    let lastAt = Date.now();
    const show = (): void => {
      const stats = gateway.stats;
      const now = Date.now();
      const rate = Math.round(((stats.requests - lastRequests) * 1000) / Math.max(1, now - lastAt));
      lastRequests = stats.requests;
      lastAt = now;
      const port = gateway.server.address()?.port ?? settings.port;
      if (!settings.devices.length) return node.status(status.warn(RED._('rtu-gateway.status.unmapped', { port })));
      node.status(status.ok(RED._('rtu-gateway.status.serving', { port, clients: stats.clients, rate })));
    };
    node.status(status.connecting(RED._('rtu-gateway.status.starting')));
    const started = listenRetrying(() => gateway.listen()).then(
      (address) => {
        if (closed) return gateway.close();
        node.gateway = gateway;
        node.log(`${where}: ${settings.devices.length} devices on ${settings.host}:${address.port}, writes ${settings.writesEnabled ? 'enabled' : 'refused'}`);
        show();
        timer = setInterval(show, STATUS_MS);
      },
      (err: Error) => {
        node.error(`${where}: ${err.message}`);
        node.status(status.error(shortText(err.message)));
      },
    );

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (timer) clearInterval(timer);
      started
        .then(() => gateway.close())
        .catch(() => undefined)
        .then(() => {
          node.gateway = undefined;
          node.status(status.clear());
          done();
        });
    });
  }

  RED.nodes.registerType('rtu-gateway', RtuGatewayNode);
};
