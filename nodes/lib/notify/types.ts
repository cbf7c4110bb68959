/**
 * The notifier vocabulary shared by the Discord and Telegram services and the
 * engine that queues, groups, paces and retries their messages.
 */
import type { AlertPayload } from '../alert/types';

/** One thing to tell people: an alert event, or a plain text sent to the node. */
export interface Notice {
  alert?: AlertPayload;
  text?: string;
  /** Queued while the RTU was in test mode (or from a test alert): goes to the test target, marked TEST. */
  test: boolean;
  /** When it was queued (ms since epoch). */
  at: number;
}

/** The outbox's id for an entry (the durable queue's `<queue id>-<seq>`). */
export type EntryId = string;

export interface OutboxEntry {
  id: EntryId;
  notice: Notice;
}

/**
 * Where notices wait until the service has taken them. The durable queue
 * (on disk, survives kill -9) implements this for the nodes; tests may use the
 * memory one.
 */
export interface Outbox {
  push(notice: Notice): Promise<void>;
  /** The oldest entries not yet acknowledged, at most `max`, without removing them. */
  peek(max: number): Promise<OutboxEntry[]>;
  /** Removes delivered (or undeliverable) entries. */
  ack(ids: EntryId[]): Promise<void>;
  /** Entries waiting. */
  size(): number;
  close(): Promise<void>;
}

/** One request to the service, covering some of the entries of a batch. */
export interface OutgoingMessage {
  /** The JSON body as the service's API expects it. */
  body: Record<string, unknown>;
  /** Entries this message reports; acknowledged when it is delivered. */
  ids: EntryId[];
  /** The visible text (for dry-run views and logs). */
  text: string;
  test: boolean;
}

export type Delivery =
  /** Accepted. `waitMs`: the service says its bucket is empty for that long. */
  | { kind: 'sent'; status: number; waitMs?: number }
  /** HTTP 429: wait `retryAfterMs` and send the same message again. */
  | { kind: 'rate-limited'; status: number; retryAfterMs: number; error: string }
  /** Network error, timeout, 5xx: retry with backoff. */
  | { kind: 'retry'; status?: number; error: string }
  /** Credentials revoked or wrong, target gone (401/403/404): hold the queue until fixed. */
  | { kind: 'auth'; status: number; error: string }
  /** This message can never be accepted (a 400 about its content): drop it, report it. */
  | { kind: 'rejected'; status: number; error: string };

export type Target = 'live' | 'test';

/** A chat service: how to write messages for it and how to send one. */
export interface ChatService {
  readonly name: string;
  /** Smallest gap between two requests, so a burst stays inside the API's rules. */
  readonly minIntervalMs: number;
  compose(entries: OutboxEntry[], test: boolean): OutgoingMessage[];
  send(message: OutgoingMessage, target: Target): Promise<Delivery>;
  /** Whether a test target (test webhook, test chat) is configured. */
  hasTestTarget(): boolean;
  /** Where messages go, for status and errors, without secrets. */
  describe(target: Target): string;
  close(): void;
}
