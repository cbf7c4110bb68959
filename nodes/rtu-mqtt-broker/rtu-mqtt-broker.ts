/**
 * Config node owning one MQTT broker connection. rtu-mqtt-out nodes `acquire()` it; the
 * first one connects, the last `release()` disconnects (with the close message), so a
 * redeploy never leaves a stale connection behind.
 */
import type { NodeAPI } from 'node-red';
import { MqttLink } from '../lib/publish/mqtt-link';
import { attachTestMode } from '../shared/runtime';
import { BrokerCredentials, linkOptions } from '../lib/publish/broker-config';
import type { BrokerConfig, BrokerConfigNode } from './broker-config';

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuMqttBrokerNode(this: BrokerConfigNode, config: BrokerConfig): void {
    RED.nodes.createNode(this, config);
    const users = new Set<string>();
    let link: MqttLink | undefined;
    // Status messages follow test mode: on the test prefix while it is on, never on the production topic.
    const onTestMode = (): void => void link?.testModeChanged();
    this.brokerLabel = config.name || `${config.tls ? 'mqtts' : 'mqtt'}://${config.host}:${config.port}`;
    try {
      this.linkSettings = { ...linkOptions(config, this.credentials ?? {}, this.id), isTestMode: () => testMode.enabled };
      link = new MqttLink(this.linkSettings);
      testMode.on('change', onTestMode);
      link.on('state', (state: string, error: string | null) => {
        if (state === 'connected') this.log(RED._('rtu-mqtt-broker.log.connected', { broker: link?.target ?? '' }));
        else if (state === 'failed' && error) this.error(error);
      });
    } catch (err) {
      this.configError = RED._('rtu-mqtt-broker.errors.config', { broker: this.brokerLabel, error: (err as Error).message });
      this.error(this.configError);
    }

    this.acquire = (userId) => {
      if (!link) return undefined;
      users.add(userId);
      link.start();
      return link;
    };

    this.release = async (userId) => {
      users.delete(userId);
      if (users.size === 0 && link) await link.stop();
    };

    this.on('close', (_removed: boolean, done: () => void) => {
      testMode.off('change', onTestMode);
      users.clear();
      (link ? link.stop() : Promise.resolve()).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType<BrokerConfigNode, BrokerConfig, unknown, BrokerCredentials>('rtu-mqtt-broker', RtuMqttBrokerNode, {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
      tlsKey: { type: 'password' },
      tlsPassphrase: { type: 'password' },
    },
  });
};
