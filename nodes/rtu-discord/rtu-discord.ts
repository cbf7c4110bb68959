/**
 * rtu-discord: alert notifications to a Discord channel through a webhook.
 * A thin adapter over nodes/lib/notify.
 */
import type { NodeAPI } from 'node-red';
import { DiscordService } from '../lib/notify/discord';
import { CommonNotifyConfig, formatSettings, registerNotifierNode } from '../shared/notifier-node';

interface DiscordNodeConfig extends CommonNotifyConfig {
  apiBase?: string;
  style?: 'embed' | 'text';
  username?: string;
}

interface DiscordCredentials {
  webhookUrl?: string;
  testWebhookUrl?: string;
}

export = function register(RED: NodeAPI): void {
  registerNotifierNode<DiscordNodeConfig, DiscordCredentials>(RED, {
    type: 'rtu-discord',
    kind: 'discord',
    credentials: {
      webhookUrl: { type: 'password' },
      testWebhookUrl: { type: 'password' },
    },
    missing: (_config, creds) => (creds.webhookUrl ? undefined : RED._('rtu-discord.errors.noWebhook')),
    service(config, creds) {
      return new DiscordService({
        webhookUrl: creds.webhookUrl,
        testWebhookUrl: creds.testWebhookUrl || undefined,
        apiBase: config.apiBase || undefined,
        style: config.style === 'text' ? 'text' : 'embed',
        username: config.username || undefined,
        ...formatSettings(config),
      });
    },
  });
};
