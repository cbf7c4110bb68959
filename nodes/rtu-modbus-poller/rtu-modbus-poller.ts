/**
 * One Modbus device on a line: a thin adapter over DevicePoller. Emits one
 * reading per poll, reads on demand, writes named points, and enters the device
 * in the fleet (verification, dashboard) and the health registry.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { DeviceWriter, RegisterCache } from '../lib/cache';
import { fleet } from '../lib/fleet';
import { health } from '../lib/health/registry';
import { deviceHealthInput } from '../lib/modbus/health-input';
import { pollIntervalMs } from '../lib/modbus/poll-interval';
import type { ModbusLine } from '../lib/modbus/line';
import type { PointValue, ReadingMessage } from '../lib/reading';
import { deployLookup, typedNumber } from '../shared/deploy-value';
import { registryFromSettings, serveRegistry } from '../shared/registry-endpoint';
import { attachTestMode, shortText, status, writeRequest } from '../shared/runtime';
import type { LineConfigNode } from '../rtu-modbus-line/line-config';
import { DeviceConfigError, planForEditor, PollerFields, ResolvedDevice, resolveDevice } from '../lib/modbus/poller-config';
import { DevicePoller, unitIdProblem } from '../lib/modbus/device-poller';

type PollerConfig = NodeDef &
  PollerFields & {
    line: string;
    unitId: string | number;
    /** 'env': the unit id is read from an environment variable at deploy; undefined in older flows. */
    unitIdType?: string;
    interval: string | number;
    /** Poll as fast as the line allows (the interval is ignored); undefined in older flows. */
    flatOut?: boolean;
    includeRaw?: boolean;
    /** 'mask' writes bit points with FC22; anything else (older flows: undefined) by read-modify-write. */
    bitWrites?: string;
    cache?: string;
  };

/** What a cache config node offers (rtu-cache). */
interface CacheNode extends Node {
  cache?: Pick<RegisterCache, 'update' | 'setWriter' | 'removeWriter'>;
}

export = function register(RED: NodeAPI): void {
  const registry = registryFromSettings(RED);
  serveRegistry(RED, registry);

  function RtuModbusPollerNode(this: Node, config: PollerConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const name = config.name || `device ${config.id}`;
    const where = `device "${name}"`;
    attachTestMode(RED);
    const owner = { id: node.id, type: 'rtu-modbus-poller' };

    const fail = (text: string) => {
      node.status(status.error(shortText(text)));
      node.error(text);
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(text)));
    };

    const duplicate = fleet.clash(name, owner);
    if (duplicate) return fail(duplicate.message);
    const lineNode = RED.nodes.getNode(config.line) as LineConfigNode | null;
    if (!lineNode) return fail(`${where}: no Modbus line is configured`);
    if (lineNode.configError) return fail(`${where}: ${lineNode.configError}`);

    // Every bad field is named at once, not one per deploy; the unit id range depends on the line.
    const line = lineNode.acquire(node.id) as ModbusLine;
    const problems: string[] = [];
    let resolved: ResolvedDevice | undefined;
    try {
      resolved = resolveDevice(config, () => registry(false), where);
    } catch (err) {
      problems.push(...(err instanceof DeviceConfigError ? err.problems : [(err as Error).message]));
    }
    let unitId = 0;
    try {
      unitId = Number(typedNumber({ field: 'unit id', value: config.unitId, type: config.unitIdType, types: ['num', 'env'] }, deployLookup(RED, node), { min: 0, max: 255 }));
      const wrong = unitIdProblem(unitId, line, where);
      if (wrong) problems.push(wrong);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
    let intervalMs = 0;
    try {
      intervalMs = pollIntervalMs(config, where);
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (problems.length || !resolved) {
      void lineNode.release(node.id);
      return fail(problems.join('\n'));
    }
    let device: DevicePoller;
    try {
      device = new DevicePoller({
        name,
        line,
        unitId,
        intervalMs,
        points: resolved.points,
        plan: resolved.planOptions,
        model: resolved.model,
        profile: resolved.profile,
        includeRaw: config.includeRaw !== false,
        bitWrites: config.bitWrites === 'mask' ? 'mask' : 'read-modify-write',
      });
    } catch (err) {
      void lineNode.release(node.id);
      return fail((err as Error).message);
    }
    node.log(`${where} unit ${unitId} on line "${line.name}": ${resolved.plan.summary}`);

    const cacheNode = config.cache ? (RED.nodes.getNode(config.cache) as CacheNode | null) : null;
    // Writes that SCADA sends through the gateway reach the device through its own line.
    const writer: DeviceWriter = (req, options) => device.carry(req, options);
    cacheNode?.cache?.setWriter(name, writer);
    let last: ReadingMessage | undefined;

    const showReading = (reading: ReadingMessage) => {
      const meta = reading.rtu;
      const count = Object.keys(reading.payload).length;
      const bad = Object.keys(meta.pointQuality ?? {}).length;
      if (meta.quality === 'bad') {
        const unit = line.unitHealth(device.unitId);
        if (unit.backingOff && unit.retryAt) {
          const seconds = Math.max(1, Math.round((unit.retryAt - Date.now()) / 1000));
          node.status(status.error(`no answer: retry in ${seconds} s`));
        } else node.status(status.error(shortText(`failed: ${meta.error ?? 'no values'}`)));
      } else if (bad > 0) node.status(status.warn(`${bad} of ${count} points failed`));
      else node.status((meta.test ? status.test : status.ok)(`${count} values, ${meta.latencyMs} ms`));
    };

    const emit = (reading: ReadingMessage) => {
      last = reading;
      showReading(reading);
      if (cacheNode?.cache) cacheNode.cache.update(reading);
      node.send(reading as unknown as NodeMessage);
    };
    device.on('reading', emit);

    const onConnect = () => node.status(status.connecting('connected, polling'));
    const onDisconnect = (err: Error) => node.status(status.error(shortText(`line disconnected: ${err.message}`)));
    line.on('connect', onConnect);
    line.on('disconnect', onDisconnect);
    node.status(line.connected ? status.ok('polling') : status.connecting('connecting'));

    const leaveFleet = fleet.register({
      name,
      protocol: 'modbus',
      line: line.name,
      model: resolved.model,
      profile: resolved.profile,
      unitId: device.unitId,
      intervalMs,
      planSummary: resolved.plan.summary,
      points: resolved.points.map((p) => ({ name: p.name, unit: p.unit })),
      readOnce: () => device.readNow(),
      lastReading: () => last,
      write: (values) => device.writeMany(values).then(() => device.readNow()).then(emit),
      owner,
    });
    const leaveHealth = health.registerDevice(name, () => deviceHealthInput(device.stats()));
    device.start();

    node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      const writes = writeRequest(msg);
      const action = writes ? device.writeMany(writes as Record<string, PointValue>).then(() => device.readNow()) : device.readNow();
      action.then(
        (reading) => {
          emit(reading);
          done();
        },
        (err: Error) => {
          node.status(status.error(shortText(err.message)));
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      device.stop();
      device.removeAllListeners('reading');
      line.off('connect', onConnect);
      line.off('disconnect', onDisconnect);
      cacheNode?.cache?.removeWriter(name, writer);
      leaveFleet();
      leaveHealth();
      lineNode.release(node.id).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('rtu-modbus-poller', RtuModbusPollerNode);

  RED.httpAdmin.post('/rtu/modbus-poller/plan', RED.auth.needsPermission('rtu-modbus-poller.read'), (req, res) => {
    try {
      const device = resolveDevice(req.body as PollerFields, () => registry(false), 'plan preview');
      res.json(planForEditor(device.plan));
    } catch (err) {
      const errors = err instanceof DeviceConfigError ? err.problems : [(err as Error).message];
      res.status(400).json({ errors });
    }
  });
};
