/**
 * rtu-telegram: alert notifications to a Telegram chat through the Bot API.
 * A thin adapter over nodes/lib/notify.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { NotifierRunner } from '../lib/notify/runner';
import { TelegramService } from '../lib/notify/telegram';
import { attachTestMode, shortText, status } from '../shared/runtime';
import { CommonNotifyConfig, minSeverity, notifierOptions, queueDir, runnerHooks, states } from '../rtu-discord/notify-config';

interface TelegramNodeConfig extends NodeDef, CommonNotifyConfig {
  chatId?: string;
  testChatId?: string;
  apiBase?: string;
  silent?: boolean;
}

interface TelegramCredentials {
  token?: string;
}

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuTelegramNode(this: Node<TelegramCredentials>, config: TelegramNodeConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `telegram "${config.name || node.id}"`;
    let runner: NotifierRunner | undefined;
    let configError: string | undefined;
    try {
      const token = node.credentials?.token;
      if (!token) throw new Error(RED._('rtu-telegram.errors.noToken'));
      const service = new TelegramService({
        token,
        chatId: String(config.chatId ?? ''),
        testChatId: config.testChatId || undefined,
        apiBase: config.apiBase || undefined,
        silent: !!config.silent,
        template: config.template || undefined,
        title: config.title || undefined,
        timeZone: config.timeZone || undefined,
      });
      runner = new NotifierRunner(
        service,
        {
          label,
          queueDir: queueDir(RED, 'rtu-telegram', node.id, config),
          notifier: notifierOptions(config),
          states: states(config),
          minSeverity: minSeverity(config),
          testMode,
        },
        runnerHooks(RED, 'rtu-telegram', node),
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

  RED.nodes.registerType<Node<TelegramCredentials>, TelegramNodeConfig, unknown, TelegramCredentials>('rtu-telegram', RtuTelegramNode, {
    credentials: { token: { type: 'password' } },
  });
};
