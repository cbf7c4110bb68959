/**
 * Stand-ins for the Discord webhook API and the Telegram Bot API on
 * 127.0.0.1, strict about what the real services check: request shape,
 * lengths, HTML entities, credentials and rate limits. They answer the way
 * the real services answer (status codes, JSON bodies, rate-limit headers),
 * and can be told to fail the next requests in a given way.
 */
import http from 'http';
import type { AddressInfo } from 'net';

export interface Scripted {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Drop the connection without answering. */
  destroy?: boolean;
}

export interface ReceivedRequest {
  path: string;
  status: number;
  body: unknown;
  at: number;
}

abstract class Receiver {
  readonly requests: ReceivedRequest[] = [];
  readonly script: Scripted[] = [];
  /** Problems with the requests themselves (shape, limits): a correct client causes none. */
  readonly violations: string[] = [];
  private server = http.createServer((req, res) => this.onRequest(req, res));
  base = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected abstract handle(path: string, body: unknown, req: http.IncomingMessage): Scripted;

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const raw = Buffer.concat(chunks).toString('utf8');
      let answer: Scripted;
      let body: unknown = raw;
      if (req.method !== 'POST') {
        answer = { status: 405, body: { message: '405: Method Not Allowed' } };
      } else if (!String(req.headers['content-type']).startsWith('application/json')) {
        this.violations.push(`content-type ${req.headers['content-type']}`);
        answer = { status: 400, body: { message: 'expected application/json' } };
      } else {
        try {
          body = JSON.parse(raw);
          answer = this.script.shift() ?? this.handle(path, body, req);
        } catch {
          this.violations.push(`invalid JSON: ${raw.slice(0, 80)}`);
          answer = { status: 400, body: { message: 'invalid JSON' } };
        }
      }
      this.requests.push({ path, status: answer.status, body, at: Date.now() });
      if (answer.destroy) {
        req.socket.destroy();
        return;
      }
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(text);
    });
  }
}

// ---------------------------------------------------------------- Discord

const DISCORD_FIELDS = new Set(['content', 'username', 'avatar_url', 'tts', 'embeds', 'allowed_mentions', 'components', 'flags', 'thread_name', 'applied_tags', 'poll']);
const EMBED_FIELDS = new Set(['title', 'type', 'description', 'url', 'timestamp', 'color', 'footer', 'image', 'thumbnail', 'video', 'provider', 'author', 'fields']);

export interface DiscordMessage {
  webhook: string;
  content?: string;
  embeds?: { title?: string; description?: string; color?: number }[];
  username?: string;
  /** Title and description or content, as one text. */
  text: string;
}

export class DiscordReceiver extends Receiver {
  /** Webhook id → token; ids in `deleted` answer 404. */
  readonly webhooks = new Map<string, string>();
  readonly deleted = new Set<string>();
  readonly messages: DiscordMessage[] = [];
  /** The per-webhook bucket: `limit` requests per `windowMs`. */
  limit = 5;
  windowMs = 2000;
  readonly rateLimitHits: string[] = [];
  private readonly buckets = new Map<string, { resetAt: number; used: number }>();

  addWebhook(id: string, token: string): string {
    this.webhooks.set(id, token);
    return `${this.base}/api/webhooks/${id}/${token}`;
  }

  protected handle(path: string, body: unknown): Scripted {
    const m = /^\/api\/webhooks\/(\d+)\/([\w-]+)(\?.*)?$/.exec(path);
    if (!m) return { status: 404, body: { message: '404: Not Found', code: 0 } };
    const [, id, token, query] = m;
    if (!this.webhooks.has(id) || this.deleted.has(id)) return { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    if (this.webhooks.get(id) !== token) return { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };

    const now = Date.now();
    let bucket = this.buckets.get(id);
    if (!bucket || now >= bucket.resetAt) this.buckets.set(id, (bucket = { resetAt: now + this.windowMs, used: 0 }));
    if (bucket.used >= this.limit) {
      const after = (bucket.resetAt - now) / 1000;
      this.rateLimitHits.push(id);
      return {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: after, global: false },
        headers: { 'retry-after': String(Math.ceil(after)), 'x-ratelimit-scope': 'user', ...this.rateHeaders(bucket, now) },
      };
    }
    const problem = this.validate(body);
    if (problem) {
      this.violations.push(problem);
      return { status: 400, body: { code: 50035, message: 'Invalid Form Body', errors: { _errors: [{ code: 'BASE_TYPE_INVALID', message: problem }] } } };
    }
    bucket.used++;
    const b = body as { content?: string; embeds?: DiscordMessage['embeds']; username?: string };
    const text = b.content ?? (b.embeds ?? []).map((e) => `${e.title ?? ''}\n${e.description ?? ''}`).join('\n');
    this.messages.push({ webhook: id, content: b.content, embeds: b.embeds, username: b.username, text });
    const headers = this.rateHeaders(bucket, now);
    if (query?.includes('wait=true')) return { status: 200, body: { id: String(this.messages.length), content: b.content ?? '', embeds: b.embeds ?? [] }, headers };
    return { status: 204, headers };
  }

  private rateHeaders(bucket: { resetAt: number; used: number }, now: number): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.limit),
      'x-ratelimit-remaining': String(Math.max(0, this.limit - bucket.used)),
      'x-ratelimit-reset': String(bucket.resetAt / 1000),
      'x-ratelimit-reset-after': String(Math.max(0, (bucket.resetAt - now) / 1000)),
      'x-ratelimit-bucket': 'webhook-bucket',
    };
  }

  private validate(body: unknown): string | undefined {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body must be a JSON object';
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) if (!DISCORD_FIELDS.has(key)) return `unknown field ${key}`;
    if (b.content === undefined && b.embeds === undefined) return 'Cannot send an empty message';
    if (b.content !== undefined) {
      if (typeof b.content !== 'string') return 'content must be a string';
      if (b.content.length > 2000) return `content is ${b.content.length} characters, must be 2000 or fewer`;
      if (!b.content.length && !b.embeds) return 'Cannot send an empty message';
    }
    if (typeof b.username === 'string' && (b.username.length < 1 || b.username.length > 80)) return 'username must be 1-80 characters';
    if (b.embeds !== undefined) {
      if (!Array.isArray(b.embeds) || b.embeds.length > 10) return 'embeds must be an array of at most 10';
      let total = 0;
      for (const e of b.embeds as Record<string, unknown>[]) {
        for (const key of Object.keys(e)) if (!EMBED_FIELDS.has(key)) return `unknown embed field ${key}`;
        const title = typeof e.title === 'string' ? e.title : '';
        const description = typeof e.description === 'string' ? e.description : '';
        if (title.length > 256) return `embed title is ${title.length} characters, must be 256 or fewer`;
        if (description.length > 4096) return `embed description is ${description.length} characters, must be 4096 or fewer`;
        if (e.color !== undefined && (!Number.isInteger(e.color) || (e.color as number) < 0 || (e.color as number) > 0xffffff)) return 'embed color must be an integer 0..0xFFFFFF';
        if (e.timestamp !== undefined && Number.isNaN(Date.parse(String(e.timestamp)))) return 'embed timestamp must be ISO8601';
        total += title.length + description.length;
      }
      if (total > 6000) return `embeds hold ${total} characters, must be 6000 or fewer`;
    }
    const mentions = b.allowed_mentions as { parse?: unknown } | undefined;
    if (mentions !== undefined && !Array.isArray(mentions.parse)) return 'allowed_mentions.parse must be an array';
    return undefined;
  }
}

// ---------------------------------------------------------------- Telegram

const TELEGRAM_FIELDS = new Set([
  'chat_id', 'text', 'parse_mode', 'entities', 'link_preview_options', 'disable_web_page_preview', 'disable_notification',
  'protect_content', 'reply_parameters', 'reply_markup', 'message_thread_id', 'business_connection_id', 'message_effect_id',
  'allow_paid_broadcast',
]);
const HTML_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'tg-spoiler', 'span', 'blockquote', 'tg-emoji']);

export interface TelegramMessage {
  chat: string;
  /** Text after entity parsing, as the chat shows it. */
  text: string;
  parseMode?: string;
}

/** Parses Telegram's HTML subset; returns the visible text or throws "can't parse entities". */
export function parseTelegramHtml(html: string): string {
  let out = '';
  const open: string[] = [];
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    if (c === '<') {
      const m = /^<(\/?)([a-z-]+)(\s[^<>]*)?>/.exec(html.slice(i));
      if (!m || !HTML_TAGS.has(m[2])) throw new Error(`can't parse entities: Unsupported start tag "${html.slice(i + 1, i + 12)}" at byte offset ${i}`);
      if (m[1]) {
        if (open.pop() !== m[2]) throw new Error(`can't parse entities: Can't find end tag corresponding to start tag "${m[2]}"`);
      } else {
        open.push(m[2]);
      }
      i += m[0].length;
    } else if (c === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);/.exec(html.slice(i));
      if (!m) throw new Error(`can't parse entities: Character entity expected at byte offset ${i}`);
      const name = m[1];
      out += name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'amp' ? '&' : name === 'quot' ? '"' : String.fromCodePoint(name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
      i += m[0].length;
    } else if (c === '>') {
      // Telegram accepts a bare '>' but the escaping rules ask for &gt;; count it as sloppy.
      throw new Error(`can't parse entities: Unexpected end tag at byte offset ${i}`);
    } else {
      out += c;
      i++;
    }
  }
  if (open.length) throw new Error(`can't parse entities: Can't find end tag corresponding to start tag "${open[open.length - 1]}"`);
  return out;
}

export class TelegramReceiver extends Receiver {
  readonly tokens = new Set<string>();
  readonly revoked = new Set<string>();
  readonly chats = new Set<string>();
  /** Chat id → the supergroup it became. */
  readonly migrated = new Map<string, string>();
  readonly messages: TelegramMessage[] = [];
  /** Shortest gap between two messages to one chat before answering 429. */
  minGapMs = 900;
  readonly rateLimitHits: string[] = [];
  private readonly lastByChat = new Map<string, number>();

  protected handle(path: string, body: unknown): Scripted {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(path);
    if (!m) return fail(404, 'Not Found');
    const [, token, method] = m;
    if (this.revoked.has(token)) return fail(401, 'Unauthorized');
    if (!this.tokens.has(token)) return fail(404, 'Not Found');
    if (method !== 'sendMessage') return fail(404, 'Not Found: method not found');
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (!TELEGRAM_FIELDS.has(key)) {
        this.violations.push(`unknown field ${key}`);
        return fail(400, `Bad Request: unknown field ${key}`);
      }
    }
    const chat = b.chat_id === undefined ? '' : String(b.chat_id);
    if (!chat) {
      this.violations.push('chat_id missing');
      return fail(400, 'Bad Request: chat_id is empty');
    }
    const moved = this.migrated.get(chat);
    if (moved) return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: Number(moved) } } };
    if (!this.chats.has(chat)) return fail(400, 'Bad Request: chat not found');
    if (typeof b.text !== 'string' || !b.text.length) {
      this.violations.push('text missing');
      return fail(400, 'Bad Request: message text is empty');
    }
    const mode = b.parse_mode;
    if (mode !== undefined && mode !== 'HTML' && mode !== 'MarkdownV2' && mode !== 'Markdown') {
      this.violations.push(`parse_mode ${String(mode)}`);
      return fail(400, `Bad Request: unsupported parse_mode ${String(mode)}`);
    }
    let visible = b.text;
    if (mode === 'HTML') {
      try {
        visible = parseTelegramHtml(b.text);
      } catch (err) {
        this.violations.push((err as Error).message);
        return fail(400, `Bad Request: ${(err as Error).message}`);
      }
    }
    if (visible.length > 4096) {
      this.violations.push(`text is ${visible.length} characters`);
      return fail(400, 'Bad Request: message is too long');
    }
    const now = Date.now();
    const last = this.lastByChat.get(chat);
    if (last !== undefined && now - last < this.minGapMs) {
      const retry = Math.ceil((this.minGapMs - (now - last)) / 1000);
      this.rateLimitHits.push(chat);
      return { status: 429, body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retry}`, parameters: { retry_after: retry } } };
    }
    this.lastByChat.set(chat, now);
    this.messages.push({ chat, text: visible, parseMode: typeof mode === 'string' ? mode : undefined });
    return { status: 200, body: { ok: true, result: { message_id: this.messages.length, chat: { id: chat }, date: Math.floor(now / 1000), text: visible } } };
  }
}

function fail(code: number, description: string): Scripted {
  return { status: code, body: { ok: false, error_code: code, description } };
}

/** Polls until `cond` holds; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
