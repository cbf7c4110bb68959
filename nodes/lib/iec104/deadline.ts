/**
 * One lazily re-armed timer per protocol deadline. Moving a deadline later
 * (every received frame moves t3) only stores a number; the timer, when it
 * fires early, re-arms itself for the rest. This keeps timer churn off the
 * per-frame path.
 */
export class Deadline {
  private at: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;

  constructor(
    private readonly onExpire: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Expire `ms` from now (replacing any earlier deadline). */
  set(ms: number): void {
    this.at = this.now() + ms;
    if (this.timer && this.timerAt <= this.at) return;
    this.schedule();
  }

  /** Expire `ms` from now, or earlier if already armed earlier. */
  setEarliest(ms: number): void {
    if (this.at === undefined || this.at > this.now() + ms) this.set(ms);
  }

  /** Expire `ms` from now unless already armed. */
  ensure(ms: number): void {
    if (this.at === undefined) this.set(ms);
  }

  clear(): void {
    this.at = undefined;
    // The running timer finds no deadline and stops; clearing it here would cost
    // a clearTimeout per frame.
  }

  get armed(): boolean {
    return this.at !== undefined;
  }

  dispose(): void {
    this.at = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const at = this.at as number;
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    if (this.at === undefined) return;
    if (this.now() < this.at) {
      this.schedule();
      return;
    }
    this.at = undefined;
    this.onExpire();
  }
}
