/** What the rtu-mqtt-broker config node is to Node-RED and to the nodes that publish through it. */
import type { Node, NodeDef } from 'node-red';
import type { BrokerCredentials, BrokerFields } from '../lib/publish/broker-config';
import type { MqttLink, MqttLinkOptions } from '../lib/publish/mqtt-link';

export type BrokerConfig = NodeDef & BrokerFields;

export interface BrokerConfigNode extends Node<BrokerCredentials> {
  brokerLabel: string;
  configError?: string;
  /** The checked connection settings, for nodes that open a session of their own (rtu-sparkplug). */
  linkSettings?: MqttLinkOptions;
  acquire(userId: string): MqttLink | undefined;
  release(userId: string): Promise<void>;
}
