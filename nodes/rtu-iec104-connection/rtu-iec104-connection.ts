/**
 * Config node owning one IEC 104 master connection to an outstation (with
 * redundant addresses). Client nodes `acquire()` it: the first one starts the
 * connection, the last `release()` stops it, so a redeploy frees the socket.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import type { ConnectionNode } from './connection-node';
import { health } from '../lib/health/registry';
import { masterHealth } from '../lib/iec104/health';
import { Iec104Master } from '../lib/iec104/master';
import { LinkFields, commonAddressFrom, endpointsFrom, linkFrom, sizesFrom } from '../lib/iec104/settings';

interface ConnectionConfig extends NodeDef, LinkFields {
  host?: string;
  port?: number | string;
  redundant?: string;
  commonAddress?: number | string;
  originator?: number | string;
  interrogation?: number | string;
  clockSync?: number | string;
  counter?: number | string;
  reconnectMax?: number | string;
}


const seconds = (field: string, v: unknown, dflt: number): number => {
  if (v === undefined || v === '' || v === null) return dflt * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${field} must be a number of seconds >= 0, got "${String(v)}"`);
  return n * 1000;
};

export = function register(RED: NodeAPI): void {
  function RtuIec104ConnectionNode(this: ConnectionNode, config: ConnectionConfig): void {
    RED.nodes.createNode(this, config);
    const users = new Set<string>();
    this.connectionName = config.name || `${config.host}:${config.port || 2404}`;
    const label = `IEC 104 connection "${this.connectionName}"`;
    let leaveHealth: (() => void) | undefined;
    try {
      const sizes = sizesFrom(config);
      const master = new Iec104Master({
        name: this.connectionName,
        endpoints: endpointsFrom(config.host, config.port, config.redundant),
        commonAddress: commonAddressFrom(config.commonAddress, sizes),
        originator: Number(config.originator || 0),
        sizes,
        link: linkFrom(config),
        interrogationMs: seconds('interrogation interval', config.interrogation, 0),
        clockSyncMs: seconds('clock sync interval', config.clockSync, 0),
        counterMs: seconds('counter interrogation interval', config.counter, 0),
        reconnectMaxMs: seconds('reconnect max', config.reconnectMax, 30),
      });
      master.on('state', (s: string) => this.debug(`${label}: ${s}`));
      master.on('closed', (reason: string) => this.warn(`${label}: ${reason}`));
      master.on('warning', (text: string) => this.warn(`${label}: ${text}`));
      this.master = master;
    } catch (err) {
      this.configError = `${label}: ${(err as Error).message}`;
      this.error(this.configError);
    }

    this.acquire = (userId) => {
      const master = this.master;
      if (!master) return undefined;
      if (users.size === 0) {
        leaveHealth = health.registerIec104(this.connectionName, () => masterHealth(master));
        master.start();
      }
      users.add(userId);
      return master;
    };

    this.release = async (userId) => {
      users.delete(userId);
      if (users.size === 0 && this.master) {
        leaveHealth?.();
        leaveHealth = undefined;
        await this.master.stop();
      }
    };

    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      leaveHealth?.();
      (this.master ? this.master.stop() : Promise.resolve()).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('rtu-iec104-connection', RtuIec104ConnectionNode);
};
