/**
 * rtu-mqtt-out: readings to an MQTT broker through the durable queue. A thin adapter over
 * nodes/lib/publish/mqtt-publisher; the connection belongs to the rtu-mqtt-broker config node.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { MqttPreview, MqttPublisher } from '../lib/publish/mqtt-publisher';
import type { QoS } from '../lib/publish/mqtt-link';
import { topicTemplateProblem } from '../lib/publish/template';
import { deployLookup, DeployType, typedText } from '../shared/deploy-value';
import { attachTestMode, shortText, status } from '../shared/runtime';
import type { BrokerConfigNode } from '../rtu-mqtt-broker/broker-config';
import { attachPublisher, QueueConfig, queueSetup, readingInput, ShapingConfig, shapingFrom } from './publisher-node';

interface MqttOutConfig extends NodeDef, QueueConfig, ShapingConfig {
  broker?: string;
  topic?: string;
  /** Where the topic template and test prefix come from: typed (undefined in older flows), env or context. */
  topicType?: string;
  split?: string;
  qos?: number | string;
  retain?: boolean;
  testTopicPrefix?: string;
  testTopicPrefixType?: string;
  maxInFlight?: number | string;
}

const TOPIC_SOURCES: readonly DeployType[] = ['str', 'env', 'global', 'flow'];

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuMqttOutNode(this: Node, config: MqttOutConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `mqtt-out "${config.name || node.id}"`;
    let publisher: MqttPublisher | undefined;
    let broker: BrokerConfigNode | undefined;
    let detach: (() => void) | undefined;
    let configError: string | undefined;
    try {
      broker = RED.nodes.getNode(config.broker ?? '') as BrokerConfigNode | undefined;
      if (!broker) throw new Error(RED._('rtu-mqtt-out.errors.noBroker'));
      const split = config.split === 'point' ? 'point' : 'device';
      // Read once at deploy: one flow, a per-site topic. An empty prefix variable means no test topics.
      const lookup = deployLookup(RED, node);
      const topic = typedText({ field: 'topic template', value: config.topic, type: config.topicType, types: TOPIC_SOURCES }, lookup, true).trim();
      const problem = topicTemplateProblem(topic, split === 'point');
      if (problem) throw new Error(problem);
      const prefix = typedText({ field: 'test topic prefix', value: config.testTopicPrefix, type: config.testTopicPrefixType, types: TOPIC_SOURCES }, lookup, false).trim();
      if (/[+#]/.test(prefix)) throw new Error(`test topic prefix "${prefix}" contains a wildcard (+ or #)`);
      const link = broker.acquire(node.id);
      if (!link) throw new Error(broker.configError ?? 'broker not configured');
      const q = queueSetup(RED, node.id, config);
      const qos = Number(config.qos ?? 1);
      publisher = new MqttPublisher({
        owner: `rtu-mqtt-out ${config.name || node.id}`,
        queueDir: q.dir,
        queue: q.queue,
        maxRatePerS: q.maxRatePerS,
        link,
        topic,
        split,
        qos: ([0, 1, 2].includes(qos) ? qos : 1) as QoS,
        retain: !!config.retain,
        testTopicPrefix: prefix,
        testTarget: !!prefix,
        isTestMode: () => testMode.enabled,
        shaping: shapingFrom(config),
        maxInFlight: Number(config.maxInFlight) || 500,
      });
      detach = attachPublisher<MqttPreview>(RED, node, publisher, {
        type: 'rtu-mqtt-out',
        testMode,
        hasTestTarget: !!prefix,
        preview: (p) => ({ topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain }),
      });
      publisher.start().catch((err: Error) => node.error(`${label}: ${err.message}`));
    } catch (err) {
      configError = `${label}: ${(err as Error).message}`;
      node.error(configError);
      node.status(status.error(shortText((err as Error).message)));
      broker?.release(node.id).catch(() => undefined);
    }

    node.on('input', readingInput(() => publisher, () => configError, testMode));

    node.on('close', (_removed: boolean, done: () => void) => {
      const p = publisher;
      publisher = undefined;
      const stopping = p ? p.stop() : Promise.resolve();
      stopping
        .catch((err: Error) => node.warn(`${label}: ${err.message}`))
        .then(() => {
          detach?.();
          node.status({});
          return broker?.release(node.id);
        })
        .then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('rtu-mqtt-out', RtuMqttOutNode);
};
