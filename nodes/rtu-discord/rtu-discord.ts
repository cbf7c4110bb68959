/**
 * rtu-discord: alert notifications to a Discord channel through a webhook.
 * A thin adapter over nodes/lib/notify.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { DiscordService } from '../lib/notify/discord';
import { NotifierRunner } from '../lib/notify/runner';
import { attachTestMode, shortText, status } from '../shared/runtime';
import { CommonNotifyConfig, minSeverity, notifierOptions, queueDir, runnerHooks, states } from './notify-config';

interface DiscordNodeConfig extends NodeDef, CommonNotifyConfig {
  apiBase?: string;
  style?: 'embed' | 'text';
  username?: string;
}

interface DiscordCredentials {
  webhookUrl?: string;
  testWebhookUrl?: string;
}

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuDiscordNode(this: Node<DiscordCredentials>, config: DiscordNodeConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `discord "${config.name || node.id}"`;
    const creds = node.credentials ?? {};
    let runner: NotifierRunner | undefined;
    let configError: string | undefined;
    try {
      if (!creds.webhookUrl) throw new Error(RED._('rtu-discord.errors.noWebhook'));
      const service = new DiscordService({
        webhookUrl: creds.webhookUrl,
        testWebhookUrl: creds.testWebhookUrl || undefined,
        apiBase: config.apiBase || undefined,
        style: config.style === 'text' ? 'text' : 'embed',
        username: config.username || undefined,
        template: config.template || undefined,
        title: config.title || undefined,
        timeZone: config.timeZone || undefined,
      });
      runner = new NotifierRunner(
        service,
        {
          label,
          queueDir: queueDir(RED, 'rtu-discord', node.id, config),
          notifier: notifierOptions(config),
          states: states(config),
          minSeverity: minSeverity(config),
          testMode,
        },
        runnerHooks(RED, 'rtu-discord', node),
      );
    } catch (err) {
      configError = `${label}: ${(err as Error).message}`;
      node.error(configError);
      node.status(status.error(shortText((err as Error).message)));
    }

    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      if (!runner) return done(new Error(configError));
      runner.accept(msg).then(
        (problem) => done(problem ? new Error(problem) : undefined),
        (err: Error) => done(err),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (!runner) return done();
      runner.close(removed).then(done, done);
    });
  }

  RED.nodes.registerType<Node<DiscordCredentials>, DiscordNodeConfig, unknown, DiscordCredentials>('rtu-discord', RtuDiscordNode, {
    credentials: {
      webhookUrl: { type: 'password' },
      testWebhookUrl: { type: 'password' },
    },
  });
};
