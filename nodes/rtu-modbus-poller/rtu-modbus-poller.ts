/**
 * One Modbus device on a line: a thin adapter over the shared device runtime (../shared/modbus-device). Emits one
 * reading per poll, reads on demand, writes named points, and enters the device
 * in the fleet (verification, dashboard) and the health registry.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { RegisterCache } from '../lib/cache';
import { fleet } from '../lib/fleet';
import type { ModbusLine } from '../lib/modbus/line';
import type { PointValue } from '../lib/reading';
import { deployLookup } from '../shared/deploy-value';
import { ModbusDeviceFields, prepareModbusDevice, readingStatus, runModbusDevice, RunningModbusDevice } from '../shared/modbus-device';
import { templatedText } from '../shared/status-text';
import { throttledStatus } from '../shared/node-status';
import { registryFromSettings, serveRegistry } from '../shared/registry-endpoint';
import { attachTestMode, shortText, status, writeRequest } from '../shared/runtime';
import type { LineConfigNode } from '../rtu-modbus-line/line-config';
import { DeviceConfigError, planForEditor, PollerFields, resolveDevice } from '../lib/modbus/poller-config';

type PollerConfig = NodeDef &
  ModbusDeviceFields & {
    line: string;
    cache?: string;
  };

/** What a cache config node offers (rtu-cache). */
interface CacheNode extends Node {
  cache?: Pick<RegisterCache, 'update' | 'setWriter' | 'removeWriter'>;
}

export = function register(RED: NodeAPI): void {
  const registry = registryFromSettings(RED);
  serveRegistry(RED, registry);
  const statusText = templatedText(RED._, 'rtu-modbus-poller.status');

  function RtuModbusPollerNode(this: Node, config: PollerConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const name = config.name || `device ${config.id}`;
    const where = `device "${name}"`;
    attachTestMode(RED);
    const owner = { id: node.id, type: 'rtu-modbus-poller' };
    const shown = throttledStatus(node);

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

    const line = lineNode.acquire(node.id) as ModbusLine;
    const { device: prepared, problems } = prepareModbusDevice(config, line, () => registry(false), deployLookup(RED, node), where);
    if (!prepared) {
      void lineNode.release(node.id);
      return fail(problems.join('\n'));
    }
    const cacheNode = config.cache ? (RED.nodes.getNode(config.cache) as CacheNode | null) : null;
    let running: RunningModbusDevice;
    try {
      running = runModbusDevice({
        name,
        owner,
        line,
        prepared,
        includeRaw: config.includeRaw !== false,
        bitWrites: config.bitWrites === 'mask' ? 'mask' : 'read-modify-write',
        cache: cacheNode?.cache,
        onReading: (reading) => {
          shown.set(readingStatus(reading, line, prepared.unitId, statusText));
          node.send(reading as unknown as NodeMessage);
        },
        onError: (err, brief, log) => {
          shown.set(status.error(shortText(brief)));
          if (log) node.error(err.message);
        },
        log: (level, text) => (level === 'warn' ? node.warn(text) : node.log(text)),
      });
    } catch (err) {
      void lineNode.release(node.id);
      return fail((err as Error).message);
    }
    node.log(`${where} unit ${prepared.unitId} on line "${line.name}": ${prepared.resolved.plan.summary}`);

    const polling = () => status.ok(RED._('rtu-modbus-poller.status.polling'));
    const onConnect = () => shown.set(polling());
    const onDisconnect = (err: Error) => shown.set(status.error(shortText(RED._('rtu-modbus-poller.status.disconnected', { error: err.message }))));
    line.on('connect', onConnect);
    line.on('disconnect', onDisconnect);
    shown.set(line.connected ? polling() : status.connecting(RED._('rtu-modbus-poller.status.waiting')));

    node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      const writes = writeRequest(msg) as Record<string, PointValue> | undefined;
      running.readNow(writes).then(
        () => done(),
        (err: Error) => {
          shown.set(status.error(shortText(err.message)));
          done(err);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      shown.stop();
      running.stop();
      line.off('connect', onConnect);
      line.off('disconnect', onDisconnect);
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
