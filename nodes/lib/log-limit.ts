/**
 * Limits on what reaches the Node-RED log, so a dead site or an unplugged port
 * is reported clearly without flooding journald.
 */

/** Lets a message through when it differs from the last one, or once per period when it repeats. */
export class RepeatGate {
  private last: string | undefined;
  private lastAt = -Infinity;
  private held = 0;

  constructor(private readonly periodMs: number) {}

  /** Whether to log `text` now, and how many repeats of the previous text were held back since it was last logged. */
  pass(text: string, now = Date.now()): { pass: boolean; held: number } {
    if (text === this.last && now - this.lastAt < this.periodMs) {
      this.held++;
      return { pass: false, held: 0 };
    }
    const held = text === this.last ? this.held : 0;
    this.last = text;
    this.lastAt = now;
    this.held = 0;
    return { pass: true, held };
  }

  /** Forgets the last message (after a success), so the next failure is logged at once. */
  reset(): void {
    this.last = undefined;
    this.lastAt = -Infinity;
    this.held = 0;
  }
}

/**
 * A budget of log lines shared by many sources (a token bucket): a burst of
 * `capacity` lines, then one line per `refillMs`. Lines over budget are
 * counted, and the next line that gets through says how many were left out.
 */
export class LogBudget {
  private tokens: number;
  private refilledAt: number;
  private dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly refillMs: number,
    now = Date.now(),
  ) {
    this.tokens = capacity;
    this.refilledAt = now;
  }

  /** Takes one line's worth of budget; `dropped` is how many lines were refused since the last one granted. */
  take(now = Date.now()): { ok: boolean; dropped: number } {
    const earned = Math.floor((now - this.refilledAt) / this.refillMs);
    if (earned > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + earned);
      this.refilledAt += earned * this.refillMs;
    }
    if (this.tokens < 1) {
      this.dropped++;
      return { ok: false, dropped: 0 };
    }
    this.tokens--;
    const dropped = this.dropped;
    this.dropped = 0;
    return { ok: true, dropped };
  }
}
