/** Retry timing shared by the publishers: exponential backoff with jitter, Retry-After, rate limits. */

export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so many
 * RTUs that lost the same backend do not come back in lockstep.
 */
export class Backoff {
  private attempt = 0;

  constructor(private readonly opt: BackoffOptions, private readonly random: () => number = Math.random) {}

  next(): number {
    const ceiling = Math.min(this.opt.maxMs, this.opt.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. Capped at one hour. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const trimmed = text.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(0, ms), 3_600_000);
}

/** A token bucket: `wait()` resolves when the next message may go out at `perSecond`. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number) {
    this.tokens = Math.max(1, perSecond / 10);
  }

  /** Milliseconds to wait before sending one more message (0 = now); takes the token. */
  delay(): number {
    if (!(this.perSecond > 0)) return 0;
    const now = Date.now();
    const burst = Math.max(1, this.perSecond / 10);
    this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
  }
}

/** A sleep that `wake()` ends early (on stop, or when the state it waits on changes). */
export class Sleeper {
  private timer?: NodeJS.Timeout;
  private resolveFn?: () => void;

  sleep(ms: number): Promise<void> {
    this.wake();
    return new Promise<void>((resolve) => {
      this.resolveFn = resolve;
      this.timer = setTimeout(() => this.wake(), ms);
    });
  }

  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const r = this.resolveFn;
    this.resolveFn = undefined;
    if (r) r();
  }
}
