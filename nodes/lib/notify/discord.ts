/**
 * Discord through an incoming webhook: POST {base}/webhooks/<id>/<token>?wait=true
 * with JSON `{ content }` (at most 2000 characters) or `{ embeds: [...] }`
 * (description at most 4096, all embed text at most 6000). Mentions are
 * disabled, so a device called "@everyone" pings nobody.
 *
 * Rate limits follow the response: HTTP 429 with `retry_after` (seconds) in
 * the body and Retry-After in the headers; X-RateLimit-Remaining 0 with
 * X-RateLimit-Reset-After says to wait before the next request. A deleted or
 * revoked webhook answers 404 (Unknown Webhook) or 401 (Invalid Webhook Token).
 */
import { FormatOptions, formatBatch, heading, headingRoom, Markup, serviceFormat } from './format';
import { headerSeconds, JsonPoster, parseJson, redact } from './http';
import type { ChatService, Delivery, OutboxEntry, OutgoingMessage, Target } from './types';
import type { Severity } from '../alert/types';

export const DISCORD_API = 'https://discord.com/api';
export const DISCORD_CONTENT_MAX = 2000;
export const DISCORD_DESCRIPTION_MAX = 4096;
export const DISCORD_TITLE_MAX = 256;
const NO_WEBHOOK = "Discord: no webhook URL in the node's credentials; alerts are kept in the outbox until one is deployed";

export interface DiscordConfig {
  /**
   * Webhook URL as Discord shows it, or "<id>/<token>". A credential. Without it,
   * live deliveries are held (the outbox keeps them) until one is deployed.
   */
  webhookUrl?: string;
  /** Webhook of the test channel (test mode). A credential. */
  testWebhookUrl?: string;
  /** API base; the webhook's id and token are appended (default https://discord.com/api). */
  apiBase?: string;
  style?: 'embed' | 'text';
  /** Name shown as the message author. */
  username?: string;
  template?: string;
  title?: string;
  timeZone?: string;
  detailedUpTo?: number;
  minIntervalMs?: number;
  timeoutMs?: number;
}

export const discordMarkup: Markup = {
  escape: (t) => t.replace(/[\\*_~`|>#[\]]/g, '\\$&'),
  bold: (t) => `**${t}**`,
};

const COLOUR: Record<Severity, number> = {
  critical: 0xd32f2f,
  major: 0xf57c00,
  minor: 0xfbc02d,
  warning: 0xfbc02d,
  info: 0x1976d2,
};
const CLEARED_COLOUR = 0x388e3c;

/** Turns the webhook credential into the URL to call, on the configured API base. */
export function webhookEndpoint(webhook: string, apiBase = DISCORD_API): URL {
  const m = /(?:^|\/webhooks\/)(\d+)\/([\w-]+)\/?(?:\?.*)?$/.exec(webhook.trim());
  if (!m) {
    throw new Error('the Discord webhook URL must look like https://discord.com/api/webhooks/<id>/<token> (or "<id>/<token>")');
  }
  const base = apiBase.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(`${base}/webhooks/${m[1]}/${m[2]}`);
  } catch {
    throw new Error(`the Discord API base "${apiBase}" is not a URL`);
  }
  url.searchParams.set('wait', 'true');
  return url;
}

export class DiscordService implements ChatService {
  readonly name = 'discord';
  readonly minIntervalMs: number;
  private readonly live?: URL;
  private readonly test?: URL;
  private readonly poster: JsonPoster;
  private readonly format: FormatOptions;
  private readonly secrets: string[];

  constructor(private readonly config: DiscordConfig) {
    this.live = config.webhookUrl ? webhookEndpoint(config.webhookUrl, config.apiBase) : undefined;
    this.test = config.testWebhookUrl ? webhookEndpoint(config.testWebhookUrl, config.apiBase) : undefined;
    this.secrets = [this.live, this.test].filter((u): u is URL => !!u).map((u) => u.pathname.split('/').pop() ?? '');
    this.minIntervalMs = config.minIntervalMs ?? 500;
    this.poster = new JsonPoster(config.timeoutMs);
    const style = config.style ?? 'embed';
    this.format = serviceFormat(style === 'embed' ? DISCORD_DESCRIPTION_MAX - 96 : DISCORD_CONTENT_MAX, discordMarkup, config);
  }

  compose(entries: OutboxEntry[], test: boolean): OutgoingMessage[] {
    const embed = (this.config.style ?? 'embed') === 'embed';
    const reserved = embed ? 0 : headingRoom(this.format, 'RTU alerts') + 4;
    return formatBatch(entries, this.format, reserved).map((m) => {
      const title = heading(this.format, test, m.part, m.parts, 'RTU alerts');
      const base: Record<string, unknown> = { allowed_mentions: { parse: [] } };
      if (this.config.username) base.username = this.config.username.slice(0, 80);
      if (embed) {
        const cleared = entries.filter((e) => m.ids.includes(e.id)).every((e) => e.notice.alert?.state === 'cleared');
        base.embeds = [
          {
            title: title.slice(0, DISCORD_TITLE_MAX),
            description: m.body,
            color: cleared ? CLEARED_COLOUR : COLOUR[m.severity ?? 'info'],
            timestamp: new Date().toISOString(),
          },
        ];
      } else {
        base.content = `**${title}**\n${m.body}`;
      }
      return { body: base, ids: m.ids, text: `${title}\n${m.body}`, test };
    });
  }

  async send(message: OutgoingMessage, target: Target): Promise<Delivery> {
    const url = target === 'test' && this.test ? this.test : this.live;
    if (!url) return { kind: 'auth', status: 0, error: NO_WEBHOOK };
    let reply;
    try {
      reply = await this.poster.post(url, message.body);
    } catch (err) {
      return { kind: 'retry', error: `Discord ${this.describe(target)}: ${this.clean((err as Error).message)}` };
    }
    const body = parseJson(reply.text);
    const said = this.clean(typeof body?.message === 'string' ? `${body.message}${body.code !== undefined ? ` (code ${String(body.code)})` : ''}` : reply.text.slice(0, 200));
    const where = `Discord ${this.describe(target)}: HTTP ${reply.status}`;
    if (reply.status >= 200 && reply.status < 300) {
      const remaining = reply.headers['x-ratelimit-remaining'];
      const waitMs = remaining === '0' ? headerSeconds(reply.headers, 'x-ratelimit-reset-after') : undefined;
      return { kind: 'sent', status: reply.status, waitMs };
    }
    if (reply.status === 429) {
      const fromBody = typeof body?.retry_after === 'number' ? body.retry_after * 1000 : undefined;
      const retryAfterMs = Math.max(fromBody ?? 0, headerSeconds(reply.headers, 'retry-after') ?? 0, fromBody === undefined ? 1000 : 0);
      return { kind: 'rate-limited', status: 429, retryAfterMs, error: `${where} rate limited, retry after ${retryAfterMs} ms${body?.global ? ' (global)' : ''}` };
    }
    if (reply.status === 401 || reply.status === 403 || reply.status === 404) {
      return { kind: 'auth', status: reply.status, error: `${where} ${said} — the webhook was deleted or its token revoked; put a valid webhook URL in the node's credentials` };
    }
    if (reply.status === 400 || reply.status === 413) {
      return { kind: 'rejected', status: reply.status, error: `${where} message rejected: ${said}` };
    }
    return { kind: 'retry', status: reply.status, error: `${where} ${said}` };
  }

  hasTestTarget(): boolean {
    return !!this.test;
  }

  /** Host and webhook id; never the token. */
  describe(target: Target): string {
    const url = target === 'test' && this.test ? this.test : this.live;
    if (!url) return 'no webhook yet';
    const parts = url.pathname.split('/');
    return `webhook ${parts[parts.length - 2]} at ${url.host}${target === 'test' ? ' (test channel)' : ''}`;
  }

  close(): void {
    this.poster.close();
  }

  private clean(text: string): string {
    return redact(text, this.secrets);
  }
}
