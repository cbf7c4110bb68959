/** The rtu-mqtt-broker form and its credentials, and how they become MQTT link options. */
import type { MqttLinkOptions, QoS } from './mqtt-link';

export interface BrokerFields {
  host?: string;
  port?: number | string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
  protocolVersion?: number | string;
  clientId?: string;
  keepalive?: number | string;
  cleanSession?: boolean;
  sessionExpiry?: number | string;
  statusTopic?: string;
  onlinePayload?: string;
  offlinePayload?: string;
  statusQos?: number | string;
  statusRetain?: boolean;
  /** Prefix of the status topic while test mode is on (default `test/`); empty: no status messages then. */
  statusTestPrefix?: string;
}

export interface BrokerCredentials {
  user?: string;
  password?: string;
  tlsKey?: string;
  tlsPassphrase?: string;
}

/** Throws an Error naming the field at fault. `nodeId` makes the default client id. */
export function linkOptions(config: BrokerFields, creds: BrokerCredentials, nodeId: string): MqttLinkOptions {
  const host = String(config.host ?? '').trim();
  if (!host) throw new Error('broker host is empty');
  const port = Number(config.port || (config.tls ? 8883 : 1883));
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`broker port "${config.port}" is not a port number (1-65535)`);
  const version = Number(config.protocolVersion ?? 4);
  if (version !== 4 && version !== 5) throw new Error(`MQTT version "${config.protocolVersion}" must be 4 (3.1.1) or 5`);
  const keepalive = Number(config.keepalive ?? 60);
  if (!(keepalive >= 0 && keepalive <= 65535)) throw new Error(`keepalive "${config.keepalive}" must be 0-65535 s`);
  const qos = Number(config.statusQos ?? 1);
  const options: MqttLinkOptions = {
    host,
    port,
    tls: !!config.tls,
    protocolVersion: version,
    // A fixed id per config node: a broker keeps a persistent session per client id.
    clientId: (config.clientId || '').trim() || `rtu-${nodeId.replace(/[^A-Za-z0-9]/g, '')}`,
    keepaliveS: keepalive,
    clean: config.cleanSession !== false,
    sessionExpiryS: Number(config.sessionExpiry) || 3600,
    username: creds.user || undefined,
    password: creds.password || undefined,
  };
  if (config.tls) {
    options.tlsMaterial = {
      ca: config.tlsCa || undefined,
      cert: config.tlsCert || undefined,
      key: creds.tlsKey || undefined,
      passphrase: creds.tlsPassphrase || undefined,
      rejectUnauthorized: config.rejectUnauthorized !== false,
      servername: config.servername || undefined,
    };
  }
  const topic = (config.statusTopic ?? '').trim();
  if (topic) {
    if (/[+#]/.test(topic)) throw new Error(`status topic "${topic}" contains a wildcard (+ or #)`);
    options.status = {
      topic,
      online: config.onlinePayload ?? 'online',
      offline: config.offlinePayload ?? 'offline',
      qos: ([0, 1, 2].includes(qos) ? qos : 1) as QoS,
      retain: config.statusRetain !== false,
      testPrefix: config.statusTestPrefix ?? 'test/',
    };
    if (/[+#]/.test(options.status.testPrefix ?? '')) throw new Error(`status test prefix "${config.statusTestPrefix}" contains a wildcard (+ or #)`);
  }
  return options;
}
