/**
 * Exponential backoff with jitter, used for units that stop answering and for
 * reconnecting a lost link. Jitter keeps many silent units (or many lines after
 * a switch reboot) from retrying in lockstep.
 */
export interface BackoffOptions {
  /** First delay (ms). */
  initialMs: number;
  /** Ceiling (ms). */
  maxMs: number;
  /** Growth per failure; 2 doubles. */
  factor?: number;
  /** Spread as a fraction of the delay: 0.2 gives delay x [0.8, 1.2]. */
  jitter?: number;
}

export class Backoff {
  private delay = 0;
  private count = 0;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(
    readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new Error(`backoff: initialMs ${options.initialMs} must be > 0 and maxMs ${options.maxMs} >= initialMs`);
    }
    this.factor = options.factor ?? 2;
    this.jitter = Math.min(Math.max(options.jitter ?? 0.2, 0), 1);
    if (!(this.factor >= 1)) throw new Error(`backoff: factor ${this.factor} must be >= 1`);
  }

  /** Failures since the last reset. */
  get failures(): number {
    return this.count;
  }

  /** The un-jittered delay of the last failure (0 when reset). */
  get currentMs(): number {
    return this.delay;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    this.count++;
    this.delay = this.delay === 0 ? this.options.initialMs : Math.min(this.delay * this.factor, this.options.maxMs);
    const spread = this.delay * this.jitter * (2 * this.random() - 1);
    return Math.max(0, Math.round(this.delay + spread));
  }

  reset(): void {
    this.count = 0;
    this.delay = 0;
  }
}
