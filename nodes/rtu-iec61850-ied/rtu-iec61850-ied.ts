/**
 * Config node owning one IED association. Pollers `acquire()` it; the first one
 * connects, the last `release()` concludes and releases, so a redeploy frees the
 * association. Also serves the editor's model browser.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { IedLink } from '../lib/iec61850/ied-link';
import { health } from '../lib/health/registry';
import { IedCredentials, IedNodeConfig, iedOptionsFrom, reconnectMaxMs } from '../lib/iec61850/ied-config';
import type { IedConfigNode } from './ied-config';

export = function register(RED: NodeAPI): void {
  function RtuIec61850IedNode(this: IedConfigNode, config: NodeDef & IedNodeConfig) {
    RED.nodes.createNode(this, config);
    const users = new Set<string>();
    this.iedName = config.name || `${config.host}:${config.port || 102}`;
    let leaveHealth: (() => void) | undefined;

    try {
      const options = iedOptionsFrom(config, this.credentials, this.iedName);
      const link = new IedLink(options, { reconnectMaxMs: reconnectMaxMs(config) });
      const label = `IED "${this.iedName}" (${options.host}:${options.port})`;
      link.on('connected', (client) => {
        const n = client.connection.negotiated;
        this.log(`${label}: associated (max PDU ${n.maxPduSize}, ${n.maxOutstanding} outstanding, TPDU ${n.tpduSize})`);
      });
      link.on('disconnected', (err) => this.warn(`${label}: association lost: ${err.message}`));
      link.on('state', (state, detail) => {
        if (state === 'waiting') this.debug(`${label}: ${detail ?? 'not connected'}; retrying`);
      });
      link.on('warning', (text) => this.debug(text));
      this.link = link;
    } catch (err) {
      this.configError = `IED "${this.iedName}": ${(err as Error).message}`;
      this.error(this.configError);
    }

    this.acquire = (userId) => {
      const link = this.link;
      if (!link) return undefined;
      if (users.size === 0) leaveHealth = health.registerLine(this.iedName, () => linkHealth(link));
      users.add(userId);
      link.register(userId);
      return link;
    };

    this.release = async (userId) => {
      users.delete(userId);
      if (users.size === 0) {
        leaveHealth?.();
        leaveHealth = undefined;
      }
      await this.link?.deregister(userId);
    };

    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      leaveHealth?.();
      const stopping = this.link ? this.link.stop() : Promise.resolve();
      stopping.then(
        () => done(),
        (err: Error) => {
          this.warn(`IED "${this.iedName}": ${err.message}`);
          done();
        },
      );
    });
  }

  function linkHealth(link: IedLink) {
    const s = link.stats();
    return {
      connected: s.connected,
      state: s.state,
      queueDepth: s.queueDepth,
      inFlight: s.inFlight,
      requestsPerSec: s.requestsPerSec,
      devices: s.users,
      lastError: s.lastError,
    };
  }

  RED.nodes.registerType<IedConfigNode, NodeDef & IedNodeConfig, unknown, IedCredentials>('rtu-iec61850-ied', RtuIec61850IedNode, {
    credentials: { password: { type: 'password' } },
  });

  RED.httpAdmin.get('/rtu-iec61850/browse/:id', RED.auth.needsPermission('rtu-iec61850-ied.read'), (req, res) => {
    const node = RED.nodes.getNode(String(req.params.id)) as IedConfigNode | null;
    if (!node || node.type !== 'rtu-iec61850-ied') {
      res.status(404).json({ error: 'IED not deployed: deploy the IED configuration first, then browse' });
      return;
    }
    if (!node.link) {
      res.status(400).json({ error: node.configError ?? 'IED configuration is invalid' });
      return;
    }
    const types = req.query.types !== '0';
    const untyped: string[] = [];
    const where = `IED "${node.iedName}" (${node.link.ied.host}:${node.link.ied.port})`;
    node.link.withClient(async (client) => ({ model: await client.browse({ types, untyped }), maxPdu: client.connection.negotiated.maxPduSize })).then(
      ({ model, maxPdu: n }) => {
        const warning = untyped.length
          ? `${where}: attribute types left out for ${untyped.length} logical node${untyped.length > 1 ? 's' : ''}${n ? ` (max PDU size ${n})` : ''}: ${untyped.slice(0, 5).join('; ')}${untyped.length > 5 ? '; …' : ''}. A larger max PDU size in the IED configuration may bring them.`
          : undefined;
        res.json({ ied: node.iedName, model, ...(warning ? { warning } : {}) });
      },
      (err: Error) => res.status(502).json({ error: `${where}: browse failed: ${err.message}` }),
    );
  });
};
