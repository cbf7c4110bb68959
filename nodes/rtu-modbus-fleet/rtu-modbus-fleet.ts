/**
 * Many Modbus devices from one device table: a thin adapter over the device
 * table (./device-table) and the shared device runtime. Each enabled row runs
 * like a poller node's device; messages and the admin API change the table
 * while it runs, and the changes are kept in the user dir.
 *
 *   msg.topic device/add | device/update   msg.payload: the row (update: the name and the fields to change)
 *   msg.topic device/enable | device/disable | device/remove   msg.payload: the device name
 *   msg.topic device/clear-overrides        back to the flow's table
 *   msg.topic device/read                   msg.payload: the name; msg.write: points to write first
 *
 *   GET    /rtu/fleet/:node/devices          the table, the runtime changes and each device's state
 *   GET    /rtu/fleet/:node/devices/:name
 *   POST   /rtu/fleet/:node/devices          add (body: the row)
 *   PUT    /rtu/fleet/:node/devices/:name    update (body: the fields to change)
 *   DELETE /rtu/fleet/:node/devices/:name    remove
 *   DELETE /rtu/fleet/:node/overrides        clear the runtime changes
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Request, Response } from 'express';
import type { RegisterCache } from '../lib/cache';
import { checkedTable, FleetChange, FleetRow, FleetTableError, describeProblem, TableContext } from '../lib/fleet-table';
import type { PointValue } from '../lib/reading';
import { deployLookup } from '../shared/deploy-value';
import { registryFromSettings, serveRegistry } from '../shared/registry-endpoint';
import { attachTestMode, shortText, status, userDirPath, writeRequest } from '../shared/runtime';
import type { LineConfigNode } from '../rtu-modbus-line/line-config';
import { DeviceSet } from './device-set';
import { ChangeRefused, DeviceTable } from './device-table';
import { OverlayFile } from './overlay-file';
import { serveTableTools } from './table-tools';

type FleetConfig = NodeDef & {
  devices?: unknown;
  includeRaw?: boolean;
  bitWrites?: string;
  cache?: string;
};

interface CacheNode extends Node {
  cache?: Pick<RegisterCache, 'update' | 'setWriter' | 'removeWriter'>;
}

/** What the admin routes reach on a deployed node. */
interface FleetNode extends Node {
  fleetTable?: DeviceTable;
  fleetProblem?: string;
}

const TOPIC = /^device\/(add|update|enable|disable|remove|clear-overrides|read)$/;

function nameOf(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload && typeof payload === 'object' && typeof (payload as { name?: unknown }).name === 'string') return (payload as { name: string }).name;
  throw new ChangeRefused([`msg.payload must be the device name (or an object with "name"), got ${JSON.stringify(payload)}`]);
}

export = function register(RED: NodeAPI): void {
  const registry = registryFromSettings(RED);
  serveRegistry(RED, registry);

  /** The names of the deployed rtu-modbus-line nodes, and their nodes. */
  function deployedLines(): Map<string, string> {
    const lines = new Map<string, string>();
    RED.nodes.eachNode((n: { id: string; type: string; name?: string; d?: boolean }) => {
      if (n.type === 'rtu-modbus-line' && !n.d) lines.set(n.name || `line ${n.id}`, n.id);
    });
    return lines;
  }

  function tableContext(): TableContext {
    const reg = registry(false);
    return {
      lines: new Set(deployedLines().keys()),
      profileProblem(model, profile) {
        try {
          reg.profilePoints(model, profile);
          return undefined;
        } catch (err) {
          return (err as Error).message;
        }
      },
    };
  }

  function RtuModbusFleetNode(this: FleetNode, config: FleetConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    attachTestMode(RED);
    const owner = { id: node.id, type: 'rtu-modbus-fleet' };

    const fail = (text: string) => {
      node.fleetProblem = text;
      node.status(status.error(shortText(RED._('rtu-modbus-fleet.status.invalid'))));
      node.error(text);
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(text)));
    };

    let base: FleetRow[];
    try {
      base = checkedTable(config.devices ?? [], tableContext());
    } catch (err) {
      const problems = err instanceof FleetTableError ? err.problems.map(describeProblem) : [(err as Error).message];
      return fail(`device table: ${problems.join('\n')}`);
    }

    const cacheNode = config.cache ? (RED.nodes.getNode(config.cache) as CacheNode | null) : null;
    let statusTimer: NodeJS.Timeout | undefined;
    let lastStatus = '';
    const showStatus = () => {
      statusTimer = undefined;
      const c = devices.counts();
      const text = RED._('rtu-modbus-fleet.status.devices', { devices: c.devices, online: c.online });
      const detail = c.failed ? ` · ${RED._('rtu-modbus-fleet.status.failed', { failed: c.failed })}` : c.disabled ? ` · ${RED._('rtu-modbus-fleet.status.disabled', { disabled: c.disabled })}` : '';
      const shape = c.failed || c.offline ? status.warn : c.running && c.online === c.running ? status.ok : status.connecting;
      const next = shape(text + detail);
      const key = `${next.fill}|${next.text}`;
      if (key === lastStatus) return;
      lastStatus = key;
      node.status(next);
    };
    // Many devices read every second: the status follows at most twice a second.
    const statusSoon = () => {
      if (!statusTimer) statusTimer = setTimeout(showStatus, 500);
    };

    const devices = new DeviceSet({
      owner,
      lineNode: (name) => {
        const id = deployedLines().get(name);
        return id ? ((RED.nodes.getNode(id) as LineConfigNode | null) ?? undefined) : undefined;
      },
      registry: () => registry(false),
      lookup: deployLookup(RED, node),
      includeRaw: config.includeRaw !== false,
      bitWrites: config.bitWrites === 'mask' ? 'mask' : 'read-modify-write',
      cache: cacheNode?.cache,
      onReading: (reading) => {
        node.send(reading as unknown as NodeMessage);
        statusSoon();
      },
      onError: (err) => node.error(err.message),
      log: (level, text) => (level === 'warn' ? node.warn(text) : node.log(text)),
    });
    const file = new OverlayFile(userDirPath(RED, 'rtu-fleet', `${node.id}.json`));
    const stored = file.load();
    if (stored.problem) node.warn(`runtime changes not read, starting from the flow's table: ${stored.problem}`);
    const table = new DeviceTable(base, file, devices, tableContext, stored.overlay);
    node.fleetTable = table;
    for (const problem of table.start()) node.warn(problem);
    showStatus();
    node.log(`${devices.counts().running} of ${base.length} devices started${stored.overlay.rows.length || stored.overlay.removed.length ? ' (with runtime changes)' : ''}`);

    const changeFromMessage = (msg: NodeMessage): FleetChange | 'clear' => {
      const op = TOPIC.exec(String(msg.topic ?? ''))?.[1];
      if (!op || op === 'read') throw new ChangeRefused([`unknown msg.topic "${String(msg.topic ?? '')}"; use device/add, device/update, device/enable, device/disable, device/remove, device/clear-overrides or device/read`]);
      if (op === 'clear-overrides') return 'clear';
      if (op === 'add') return { op, row: msg.payload };
      if (op === 'update') return { op, name: nameOf(msg.payload), row: msg.payload };
      return { op: op as 'enable' | 'disable' | 'remove', name: nameOf(msg.payload) };
    };

    node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      try {
        if (msg.topic === 'device/read') {
          const writes = writeRequest(msg) as Record<string, PointValue> | undefined;
          devices.readNow(nameOf(msg.payload), writes).then(() => done(), done);
          return;
        }
        const change = changeFromMessage(msg);
        if (change === 'clear') table.clear();
        else table.change(change);
        showStatus();
        done();
      } catch (err) {
        done(err as Error);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      if (statusTimer) clearTimeout(statusTimer);
      node.fleetTable = undefined;
      devices.stopAll().then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('rtu-modbus-fleet', RtuModbusFleetNode);

  const read = RED.auth.needsPermission('rtu-modbus-fleet.read');
  const write = RED.auth.needsPermission('rtu-modbus-fleet.write');

  /** The deployed node's table, or an answer saying why there is none. */
  function tableOf(req: Request, res: Response): DeviceTable | undefined {
    const node = RED.nodes.getNode(String(req.params.node)) as FleetNode | null;
    if (node?.fleetTable) return node.fleetTable;
    if (node?.fleetProblem) res.status(409).json({ error: node.fleetProblem });
    else res.status(404).json({ error: `no deployed rtu-modbus-fleet node "${String(req.params.node)}"` });
    return undefined;
  }

  function changeRoute(req: Request, res: Response, change: (table: DeviceTable) => FleetChange | 'clear', created = false): void {
    const table = tableOf(req, res);
    if (!table) return;
    try {
      const c = change(table);
      if (c === 'clear') table.clear();
      else table.change(c);
      res.status(created ? 201 : 200).json(table.view());
    } catch (err) {
      if (err instanceof ChangeRefused) res.status(400).json({ error: err.message, problems: err.problems });
      else res.status(500).json({ error: (err as Error).message });
    }
  }

  RED.httpAdmin.get('/rtu/fleet/:node/devices', read, (req: Request, res: Response) => {
    const table = tableOf(req, res);
    if (table) res.json(table.view());
  });
  RED.httpAdmin.get('/rtu/fleet/:node/devices/:name', read, (req: Request, res: Response) => {
    const table = tableOf(req, res);
    if (!table) return;
    const device = table.view().devices.find((d) => d.name === req.params.name);
    if (device) res.json(device);
    else res.status(404).json({ error: `there is no device "${String(req.params.name)}" in the table` });
  });
  RED.httpAdmin.post('/rtu/fleet/:node/devices', write, (req: Request, res: Response) => changeRoute(req, res, () => ({ op: 'add', row: req.body }), true));
  RED.httpAdmin.put('/rtu/fleet/:node/devices/:name', write, (req: Request, res: Response) =>
    changeRoute(req, res, () => ({ op: 'update', name: String(req.params.name), row: req.body })),
  );
  RED.httpAdmin.delete('/rtu/fleet/:node/devices/:name', write, (req: Request, res: Response) =>
    changeRoute(req, res, () => ({ op: 'remove', name: String(req.params.name) })),
  );
  RED.httpAdmin.delete('/rtu/fleet/:node/overrides', write, (req: Request, res: Response) => changeRoute(req, res, () => 'clear'));

  serveTableTools(RED, () => registry(false));
};
