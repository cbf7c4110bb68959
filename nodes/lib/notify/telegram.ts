/**
 * Telegram through the Bot API: POST {base}/bot<token>/sendMessage with JSON
 * `{ chat_id, text, parse_mode: "HTML" }`; text at most 4096 characters.
 *
 * Answers are `{ ok, result }` or `{ ok: false, error_code, description,
 * parameters }`: 429 carries `parameters.retry_after` (seconds); 401 means the
 * token was revoked, 404 that it is malformed; 403 that the bot was blocked or
 * removed from the chat; 400 "chat not found" a wrong chat id, and
 * `parameters.migrate_to_chat_id` a group that became a supergroup.
 */
import { FormatOptions, formatBatch, heading, headingRoom, Markup, serviceFormat } from './format';
import { headerSeconds, JsonPoster, parseJson, redact } from './http';
import type { ChatService, Delivery, OutboxEntry, OutgoingMessage, Target } from './types';

export const TELEGRAM_API = 'https://api.telegram.org';
export const TELEGRAM_TEXT_MAX = 4096;

export interface TelegramConfig {
  /**
   * Bot token from @BotFather. A credential. Without it (or without a chat id),
   * live deliveries are held (the outbox keeps them) until they are deployed.
   */
  token?: string;
  chatId?: string;
  /** Chat for test mode. */
  testChatId?: string;
  apiBase?: string;
  template?: string;
  title?: string;
  timeZone?: string;
  detailedUpTo?: number;
  /** Telegram asks for about one message per second per chat. */
  minIntervalMs?: number;
  /** Send without a notification sound. */
  silent?: boolean;
  timeoutMs?: number;
}

export const telegramMarkup: Markup = {
  escape: (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  bold: (t) => `<b>${t}</b>`,
};

/** The same text without markup, for a resend when Telegram cannot parse the HTML. */
export function stripHtml(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

const TOKEN_SHAPE = /^\d+:[\w-]+$/;

export class TelegramService implements ChatService {
  readonly name = 'telegram';
  readonly minIntervalMs: number;
  private readonly url: URL;
  private readonly token: string;
  private readonly poster: JsonPoster;
  private readonly format: FormatOptions;
  private chatId: string;
  private testChatId?: string;

  constructor(private readonly config: TelegramConfig) {
    const token = config.token?.trim() ?? '';
    if (token && !TOKEN_SHAPE.test(token)) throw new Error('the Telegram bot token must look like 123456789:AA… (as @BotFather gives it)');
    this.token = token;
    this.chatId = config.chatId?.trim() ?? '';
    this.testChatId = config.testChatId?.trim() || undefined;
    const base = (config.apiBase || TELEGRAM_API).replace(/\/+$/, '');
    try {
      this.url = new URL(`${base}/bot${token || 'unset'}/sendMessage`);
    } catch {
      throw new Error(`the Telegram API base "${config.apiBase}" is not a URL`);
    }
    this.minIntervalMs = config.minIntervalMs ?? 1000;
    this.poster = new JsonPoster(config.timeoutMs);
    this.format = serviceFormat(TELEGRAM_TEXT_MAX, telegramMarkup, config);
  }

  compose(entries: OutboxEntry[], test: boolean): OutgoingMessage[] {
    const reserved = headingRoom(this.format) + 7;
    return formatBatch(entries, this.format, reserved).map((m) => {
      const title = heading(this.format, test, m.part, m.parts);
      const text = title ? `<b>${title}</b>\n${m.body}` : m.body;
      const body: Record<string, unknown> = {
        chat_id: '',
        text,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      };
      if (this.config.silent) body.disable_notification = true;
      return { body, ids: m.ids, text: stripHtml(text), test };
    });
  }

  async send(message: OutgoingMessage, target: Target): Promise<Delivery> {
    const chat = target === 'test' && this.testChatId ? this.testChatId : this.chatId;
    const missing = !this.token ? 'no bot token in the credentials' : !chat ? 'no chat id' : '';
    if (missing) return { kind: 'auth', status: 0, error: `Telegram: ${missing}; alerts are kept in the outbox until the node is configured and deployed` };
    const first = await this.post({ ...message.body, chat_id: chat }, target);
    if (first.kind === 'rejected' && /can't parse entities/i.test(first.error)) {
      // Our escaping should prevent this; if a template still breaks the HTML, the text matters more than bold.
      const plain: Record<string, unknown> = { ...message.body, chat_id: chat, text: stripHtml(String(message.body.text)) };
      delete plain.parse_mode;
      return this.post(plain, target);
    }
    return first;
  }

  private async post(body: Record<string, unknown>, target: Target): Promise<Delivery> {
    let reply;
    try {
      reply = await this.poster.post(this.url, body);
    } catch (err) {
      return { kind: 'retry', error: `Telegram ${this.describe(target)}: ${this.clean((err as Error).message)}` };
    }
    const json = parseJson(reply.text);
    const params = (json?.parameters ?? {}) as { retry_after?: unknown; migrate_to_chat_id?: unknown };
    const said = this.clean(typeof json?.description === 'string' ? json.description : reply.text.slice(0, 200));
    const where = `Telegram ${this.describe(target)}: HTTP ${reply.status}`;
    if (reply.status === 200 && json?.ok === true) return { kind: 'sent', status: 200 };
    if (reply.status === 429) {
      const fromBody = typeof params.retry_after === 'number' ? params.retry_after * 1000 : undefined;
      const retryAfterMs = fromBody ?? headerSeconds(reply.headers, 'retry-after') ?? 1000;
      return { kind: 'rate-limited', status: 429, retryAfterMs, error: `${where} ${said}` };
    }
    if (params.migrate_to_chat_id !== undefined) {
      const moved = String(params.migrate_to_chat_id);
      if (target === 'test') this.testChatId = moved;
      else this.chatId = moved;
      return { kind: 'retry', status: reply.status, error: `${where} the group became supergroup ${moved}; sending there now — put ${moved} as the chat id in the node` };
    }
    if (reply.status === 401 || reply.status === 404) {
      return { kind: 'auth', status: reply.status, error: `${where} ${said} — the bot token was revoked or is wrong; put a valid token in the node's credentials` };
    }
    if (reply.status === 403 || (reply.status === 400 && /chat not found/i.test(said))) {
      return { kind: 'auth', status: reply.status, error: `${where} ${said} — check the chat id and that the bot is a member of the chat` };
    }
    if (reply.status === 400) return { kind: 'rejected', status: 400, error: `${where} message rejected: ${said}` };
    return { kind: 'retry', status: reply.status, error: `${where} ${said}` };
  }

  hasTestTarget(): boolean {
    return !!this.testChatId;
  }

  /** Host and chat; never the token. */
  describe(target: Target): string {
    const chat = target === 'test' && this.testChatId ? `test chat ${this.testChatId}` : `chat ${this.chatId}`;
    return `${chat} at ${this.url.host}`;
  }

  close(): void {
    this.poster.close();
  }

  private clean(text: string): string {
    return this.token ? redact(text, [this.token]) : text;
  }
}
