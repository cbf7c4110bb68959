/**
 * rtu-sparkplug: a Sparkplug B edge node over the readings of the flow. Takes the broker's
 * address, TLS and credentials from an rtu-mqtt-broker config node but opens its own session
 * (clean, with the NDEATH as a will that changes with every connect: nodes/lib/sparkplug).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { fleet } from '../lib/fleet';
import { DurableQueue } from '../lib/queue/durable-queue';
import { registerQueue } from '../lib/queue/registry';
import { isReadingMessage } from '../lib/reading';
import { CommandEvent, EdgeState, NODE_METRICS, nodeHealthReader, SparkplugEdgeNode, sparkplugSettings, SparkplugSettings, StoredEvent } from '../lib/sparkplug';
import { deployLookup, typedText } from '../shared/deploy-value';
import { attachTestMode, shortText, status, userDirPath } from '../shared/runtime';
import type { BrokerConfigNode } from '../rtu-mqtt-broker/broker-config';

type SparkplugConfig = NodeDef & {
  broker?: string;
  groupId?: string;
  groupIdType?: string;
  edgeNodeId?: string;
  edgeNodeIdType?: string;
  primaryHostId?: string;
  primaryHostIdType?: string;
  clientId?: string;
  deadbands?: string;
  writesEnabled?: boolean;
  allowWrites?: string;
  healthInterval?: string | number;
  queueSizeMb?: string | number;
};

interface SparkplugNode extends Node {
  /** The running edge node (tests read its state here). */
  edge?: SparkplugEdgeNode;
}

function settingsOf(RED: NodeAPI, node: Node, config: SparkplugConfig): SparkplugSettings {
  const lookup = deployLookup(RED, node);
  const text = (field: string, value: unknown, type: unknown, required: boolean) => typedText({ field, value, type, types: ['str', 'env'] }, lookup, required);
  return sparkplugSettings({
    groupId: text('group id', config.groupId, config.groupIdType, true),
    edgeNodeId: text('edge node id', config.edgeNodeId, config.edgeNodeIdType, true),
    primaryHostId: text('primary host id', config.primaryHostId, config.primaryHostIdType, false),
    deadbands: config.deadbands,
    writesEnabled: config.writesEnabled,
    allowWrites: config.allowWrites,
    healthInterval: config.healthInterval,
  });
}

export = function register(RED: NodeAPI): void {
  function RtuSparkplugNode(this: SparkplugNode, config: SparkplugConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const where = `sparkplug "${config.name || node.id}"`;
    const testMode = attachTestMode(RED);
    const fail = (text: string): void => {
      node.error(`${where}: ${text}`);
      node.status(status.error(shortText(text)));
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(`${where}: ${text}`)));
    };

    const broker = config.broker ? (RED.nodes.getNode(config.broker) as BrokerConfigNode | null) : null;
    if (!broker) return fail(RED._('rtu-sparkplug.errors.noBroker'));
    if (broker.configError || !broker.linkSettings) return fail(broker.configError ?? RED._('rtu-sparkplug.errors.noBroker'));
    let settings: SparkplugSettings;
    try {
      settings = settingsOf(RED, node, config);
    } catch (err) {
      return fail((err as Error).message);
    }
    const sizeMb = Number(config.queueSizeMb || 64);
    if (!(sizeMb > 0)) return fail(`queue size "${config.queueSizeMb}" MB must be more than 0`);
    const link = broker.linkSettings;
    const clientId = (config.clientId ?? '').trim() || `spb-${settings.groupId}-${settings.edgeNodeId}`.replace(/[^\w.-]/g, '_').slice(0, 64);
    const dir = userDirPath(RED, 'rtu-queues', node.id);

    let closed = false;
    let edge: SparkplugEdgeNode | undefined;
    let leaveQueue = (): void => undefined;
    let statusTimer: NodeJS.Timeout | undefined;
    let lastState: EdgeState = 'connecting';
    let lastError: string | null = null;
    // The latest refused input or command, shown for a while so the status says what went wrong.
    let problem: { text: string; at: number } | undefined;
    const PROBLEM_SHOWN_MS = 10_000;

    const show = (): void => {
      if (!edge) return;
      const s = edge.stats();
      const depth = queue?.depth ?? 0;
      if (problem && Date.now() - problem.at < PROBLEM_SHOWN_MS) node.status(status.warn(shortText(problem.text)));
      else if (lastState === 'online') node.status((testMode.enabled ? status.test : status.ok)(RED._('rtu-sparkplug.status.online', { devices: s.devices, queued: depth })));
      else if (lastState === 'waiting for host') node.status(status.warn(RED._('rtu-sparkplug.status.waitingHost', { queued: depth })));
      else if (lastState === 'down') node.status(status.error(shortText(RED._('rtu-sparkplug.status.down', { queued: depth, error: lastError ?? '' }))));
      else node.status(status.connecting(RED._('rtu-sparkplug.status.connecting')));
    };

    let queue: DurableQueue<StoredEvent> | undefined;
    node.status(status.connecting(RED._('rtu-sparkplug.status.connecting')));
    const opened = DurableQueue.open<StoredEvent>(dir, { maxBytes: Math.round(sizeMb * 1024 * 1024), owner: `rtu-sparkplug ${node.id}` }).then((q) => {
      queue = q;
      if (closed) return;
      leaveQueue = registerQueue({ owner: `rtu-sparkplug ${config.name || node.id}`, dir, stats: () => q.stats() });
      q.on('drop', (e: { count: number; reason: string }) => node.warn(`${where}: ${e.count} stored messages dropped (${e.reason})`));
      edge = new SparkplugEdgeNode({
        ids: { groupId: settings.groupId, edgeNodeId: settings.edgeNodeId },
        primaryHostId: settings.primaryHostId,
        connection: { ...link, clientId },
        queue: q,
        deadbands: settings.deadbands,
        bdSeqFile: `${dir}.bdseq.json`,
        nodeMetrics: { defs: NODE_METRICS, read: nodeHealthReader(() => q.depth, () => testMode.enabled), intervalMs: settings.healthIntervalMs },
        writeRefusal: (device, point) => {
          if (!settings.writesEnabled) return 'writes are disabled on this node';
          if (!settings.allowed(device, point)) return 'not on the write allow-list';
          if (!fleet.get(device)?.write) return 'no poller carries writes for this device';
          return undefined;
        },
        write: async (device, values) => {
          const target = fleet.get(device);
          if (!target?.write) throw new Error('no poller carries writes for this device');
          await target.write(values);
        },
        testMode: () => testMode.enabled,
      });
      node.edge = edge;
      edge.on('state', (state: EdgeState, error: string | null) => {
        lastState = state;
        lastError = error;
        if (state === 'online') node.log(`${where}: online at ${edge?.target} as ${settings.groupId}/${settings.edgeNodeId}, bdSeq ${edge?.stats().bdSeq}`);
        show();
      });
      edge.on('log', (level: 'info' | 'warn' | 'error', text: string) => {
        if (level === 'info') return node.log(`${where}: ${text}`);
        if (level === 'warn') node.warn(`${where}: ${text}`);
        else node.error(`${where}: ${text}`);
        problem = { text, at: Date.now() };
        show();
      });
      edge.on('command', (e: CommandEvent) => node.send({ topic: e.kind === 'write' ? `write/${e.device}` : 'rebirth', payload: e } as NodeMessage));
      edge.start();
      statusTimer = setInterval(show, 2000);
    });
    opened.catch((err: Error) => fail(err.message));
    const onTestMode = (): void => edge?.publishNodeData();
    testMode.on('change', onTestMode);

    node.on('input', (msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => {
      if (!isReadingMessage(msg)) return done(new Error(`${where}: ${RED._('rtu-sparkplug.errors.notReading')}`));
      opened
        .then(() => {
          if (!edge || !queue) throw new Error(RED._('rtu-sparkplug.errors.closed'));
          // Stored readings are acknowledged once on disk: a Complete node then means "kept".
          return edge.add(msg) === 'stored' ? queue.flush().catch(() => undefined) : undefined;
        })
        .then(
          () => done(),
          (err: Error) => {
            problem = { text: err.message, at: Date.now() };
            show();
            done(new Error(`${where}: ${err.message}`));
          },
        );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      testMode.off('change', onTestMode);
      if (statusTimer) clearInterval(statusTimer);
      opened
        .catch(() => undefined)
        .then(() => edge?.stop())
        .then(() => queue?.close())
        .catch(() => undefined)
        .then(() => {
          leaveQueue();
          node.edge = undefined;
          node.status(status.clear());
          done();
        });
    });
  }

  RED.nodes.registerType('rtu-sparkplug', RtuSparkplugNode);
};
