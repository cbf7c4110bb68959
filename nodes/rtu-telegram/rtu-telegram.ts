/**
 * rtu-telegram: alert notifications to a Telegram chat through the Bot API.
 * A thin adapter over nodes/lib/notify.
 */
import type { NodeAPI } from 'node-red';
import { TelegramService } from '../lib/notify/telegram';
import { CommonNotifyConfig, formatSettings, registerNotifierNode } from '../shared/notifier-node';

interface TelegramNodeConfig extends CommonNotifyConfig {
  chatId?: string;
  testChatId?: string;
  apiBase?: string;
  silent?: boolean;
}

interface TelegramCredentials {
  token?: string;
}

export = function register(RED: NodeAPI): void {
  registerNotifierNode<TelegramNodeConfig, TelegramCredentials>(RED, {
    type: 'rtu-telegram',
    kind: 'telegram',
    credentials: { token: { type: 'password' } },
    missing: (config, creds) =>
      !creds.token ? RED._('rtu-telegram.errors.noToken') : !config.chatId ? RED._('rtu-telegram.errors.noChat') : undefined,
    service(config, creds) {
      return new TelegramService({
        token: creds.token,
        chatId: String(config.chatId ?? ''),
        testChatId: config.testChatId || undefined,
        apiBase: config.apiBase || undefined,
        silent: !!config.silent,
        ...formatSettings(config),
      });
    },
  });
};
