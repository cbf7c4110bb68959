/**
 * rtu-iec104-server: an IEC 60870-5-104 outstation serving the points of a
 * point table to SCADA masters, from an rtu-cache and/or from readings wired
 * in. Commands reach devices through the writer their poller registered on the
 * cache; the node's output carries one message per command.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { RegisterCache } from '../lib/cache';
import { health } from '../lib/health/registry';
import { modbusWriteFor } from '../lib/iec104/device-write';
import { outstationHealth } from '../lib/iec104/health';
import { Iec104Outstation } from '../lib/iec104/outstation';
import type { CommandEvent } from '../lib/iec104/outstation-commands';
import { parsePointTable } from '../lib/iec104/point-table';
import { LinkFields, commonAddressFrom, groupsFrom, linkFrom, pointRowsFrom, sizesFrom } from '../lib/iec104/settings';
import { isReadingMessage } from '../lib/reading';
import { registryFromSettings } from '../shared/registry-endpoint';
import { attachTestMode, shortText, status } from '../shared/runtime';

interface ServerConfig extends NodeDef, LinkFields {
  cache?: string;
  host?: string;
  port?: number | string;
  commonAddress?: number | string;
  points?: string;
  allowCommands?: boolean;
  selectTimeout?: number | string;
  commandTimeout?: number | string;
  eventBuffer?: number | string;
  cyclic?: number | string;
  background?: number | string;
  groups?: string;
}

interface CacheConfigNode extends Node {
  cache?: RegisterCache;
}

interface ServerNode extends Node {
  outstation?: Iec104Outstation;
  port?: number;
}

const STALE_CHECK_MS = 5000;

const seconds = (field: string, v: unknown, dflt: number): number => {
  if (v === undefined || v === '' || v === null) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${field} must be a number of seconds >= 0, got "${String(v)}"`);
  return n * 1000;
};

export = function register(RED: NodeAPI): void {
  const registry = registryFromSettings(RED);
  const testMode = attachTestMode(RED);

  function RtuIec104ServerNode(this: ServerNode, config: ServerConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const where = `IEC 104 server "${config.name || node.id}"`;
    const cacheNode = config.cache ? (RED.nodes.getNode(config.cache) as CacheConfigNode | null) : null;
    const cache = cacheNode?.cache;
    let outstation: Iec104Outstation;
    try {
      const sizes = sizesFrom(config);
      const eventBuffer = Number(config.eventBuffer || 10000);
      if (!Number.isInteger(eventBuffer) || eventBuffer < 1) throw new Error(`event buffer must be a whole number >= 1, got "${config.eventBuffer}"`);
      outstation = new Iec104Outstation({
        name: where,
        commonAddress: commonAddressFrom(config.commonAddress, sizes),
        sizes,
        link: linkFrom(config),
        points: parsePointTable(pointRowsFrom(config.points), sizes.ioa),
        allowCommands: !!config.allowCommands,
        selectTimeoutMs: seconds('select timeout', config.selectTimeout, 10),
        commandTimeoutMs: seconds('command timeout', config.commandTimeout, 10),
        eventBufferSize: eventBuffer,
        cyclicMs: seconds('cyclic interval', config.cyclic, 0),
        backgroundMs: seconds('background scan interval', config.background, 0),
        redundancyGroups: groupsFrom(config.groups),
        testMode: () => testMode.enabled,
        write: async (device, point, value) => {
          const writer = cache?.writer(device);
          if (!writer) throw new Error(`no poller carries writes for ${device}`);
          const model = cache?.device(device)?.model;
          const points = model ? registry(false).getModel(model)?.points : undefined;
          await writer(modbusWriteFor(device, point, value, points));
        },
      });
    } catch (err) {
      node.error(`${where}: ${(err as Error).message}`);
      node.status(status.error(shortText((err as Error).message)));
      return;
    }
    node.outstation = outstation;

    outstation.on('pointError', (err: Error) => node.warn(`${where}: ${err.message}`));
    outstation.on('connection', (c: { remote: string }) => node.log(`${where}: master ${c.remote} connected`));
    outstation.on('disconnect', (d: { remote: string; reason: string; error: boolean }) => {
      if (d.error) node.warn(`${where}: master ${d.remote}: ${d.reason}`);
      else node.log(`${where}: master ${d.remote}: ${d.reason}`);
    });
    outstation.on('switchover', (s: { group: string; from: string; to: string }) => node.log(`${where}: group ${s.group}: ${s.to} active (was ${s.from})`));
    outstation.on('clock', (c: { remote: string; offsetMs: number }) => node.log(`${where}: clock sync from ${c.remote}: master is ${c.offsetMs} ms ahead; RTU clock unchanged`));
    outstation.on('command', (e: CommandEvent) => {
      if (!e.ok) node.warn(`${where}: ${e.action} ${e.type} IOA ${e.ioa}${e.device ? ` (${e.device}.${e.point})` : ''} from ${e.remote}: ${e.error}`);
      node.send({ topic: `iec104/command/${e.device ?? e.ioa}`, payload: e } as NodeMessage);
    });

    const fromCache = (device: string): void => {
      const snap = cache?.device(device);
      if (snap) outstation.update(device, snap.values, { quality: snap.quality, pointQuality: snap.pointQuality, timestamp: snap.valuesTimestamp || snap.timestamp });
    };
    const onCacheUpdate = (device: string) => fromCache(device);
    if (cache) {
      cache.on('update', onCacheUpdate);
      for (const d of cache.devices()) fromCache(d);
    }
    // Data that ages past the cache TTL turns not-topical (NT) without a new reading.
    const staleTimer = cache ? setInterval(() => cache.staleDevices().forEach(fromCache), STALE_CHECK_MS) : undefined;

    const leaveHealth = health.registerIec104(config.name || node.id, () => outstationHealth(outstation));
    const show = (): void => {
      const s = outstation.stats();
      const masters = s.connections.length;
      const active = s.connections.filter((c) => c.active).length;
      const dropped = s.connections.reduce((sum, c) => sum + c.dropped, 0);
      const port = node.port ?? '';
      let st: ReturnType<typeof status.ok>;
      if (!masters) st = status.idle(RED._('rtu-iec104-server.status.listening', { port }));
      else if (dropped) st = status.warn(RED._('rtu-iec104-server.status.dropped', { port, masters, dropped }));
      else if (active) st = status.ok(RED._('rtu-iec104-server.status.serving', { port, masters, active }));
      else st = status.connecting(RED._('rtu-iec104-server.status.serving', { port, masters, active }));
      node.status(testMode.enabled ? status.test(RED._('rtu-iec104-server.status.testMode', { text: st.text ?? '' })) : st);
    };
    const statusTimer = setInterval(show, 2000);
    outstation.on('connection', show);
    outstation.on('disconnect', show);

    const port = Number(config.port ?? 2404);
    node.status(status.connecting(RED._('rtu-iec104-server.status.starting', { port })));
    outstation.listen(port, config.host || '0.0.0.0').then(
      (p) => {
        node.port = p;
        show();
      },
      (err: Error) => {
        node.error(`${where}: cannot listen on ${config.host || '0.0.0.0'}:${port}: ${err.message}`);
        node.status(status.error(shortText(err.message)));
      },
    );

    node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      if (!isReadingMessage(msg)) {
        done(new Error(`${where}: input is not a reading (needs msg.rtu.device and msg.payload)`));
        return;
      }
      outstation.update(msg.rtu.device, msg.payload, { quality: msg.rtu.quality, pointQuality: msg.rtu.pointQuality, timestamp: msg.rtu.timestamp });
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      if (staleTimer) clearInterval(staleTimer);
      cache?.off('update', onCacheUpdate);
      leaveHealth();
      outstation.close().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('rtu-iec104-server', RtuIec104ServerNode);
};
