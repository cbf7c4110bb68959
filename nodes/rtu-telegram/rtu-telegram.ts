/**
 * rtu-telegram: alert notifications to a Telegram chat through the Bot API.
 * A thin adapter over nodes/lib/notify.
 */
import type { Node, NodeAPI } from 'node-red';
import { TelegramService } from '../lib/notify/telegram';
import { deployLookup, typedText, TypedField } from '../shared/deploy-value';
import { CommonNotifyConfig, formatSettings, registerNotifierNode } from '../shared/notifier-node';

interface TelegramNodeConfig extends CommonNotifyConfig {
  chatId?: string;
  /** Where the chat ids come from: typed (undefined in older flows) or an env variable. */
  chatIdType?: string;
  testChatId?: string;
  testChatIdType?: string;
  apiBase?: string;
  silent?: boolean;
}

interface TelegramCredentials {
  token?: string;
}

const chatField = (field: string, value: unknown, type: unknown): TypedField => ({ field, value, type, types: ['str', 'env'] });

export = function register(RED: NodeAPI): void {
  // Read once at deploy: one flow, a per-site chat. An empty chat variable is "not configured yet"
  // (alerts wait in the outbox), as an empty typed chat id is; an empty test chat variable means none.
  const chatId = (config: TelegramNodeConfig, node: Node) => typedText(chatField('chat id', config.chatId, config.chatIdType), deployLookup(RED, node), false);
  const unsetChat = (config: TelegramNodeConfig, node: Node): string | undefined => {
    try {
      typedText(chatField('chat id', config.chatId, config.chatIdType), deployLookup(RED, node), true);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  registerNotifierNode<TelegramNodeConfig, TelegramCredentials>(RED, {
    type: 'rtu-telegram',
    kind: 'telegram',
    credentials: { token: { type: 'password' } },
    missing: (config, creds, node) =>
      !creds.token ? RED._('rtu-telegram.errors.noToken') : unsetChat(config, node) ?? (!chatId(config, node) ? RED._('rtu-telegram.errors.noChat') : undefined),
    service(config, creds, node) {
      return new TelegramService({
        token: creds.token,
        chatId: chatId(config, node),
        testChatId: typedText(chatField('test chat id', config.testChatId, config.testChatIdType), deployLookup(RED, node), false) || undefined,
        apiBase: config.apiBase || undefined,
        silent: !!config.silent,
        ...formatSettings(config),
      });
    },
  });
};
