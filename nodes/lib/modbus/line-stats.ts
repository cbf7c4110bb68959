/** Small fixed-memory meters behind the line and device statistics. */

/** Events per second over a sliding window of whole seconds. */
export class RateMeter {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;
  private firstAt = -1;

  constructor(private readonly windowSeconds = 10) {
    this.buckets = new Float64Array(windowSeconds);
    this.stamps = new Float64Array(windowSeconds).fill(-1);
  }

  add(now: number, count = 1): void {
    if (this.firstAt < 0) this.firstAt = now;
    const second = Math.floor(now / 1000);
    const i = second % this.windowSeconds;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i] += count;
  }

  /** Average rate over the window (or since the first event, when younger). */
  perSecond(now: number): number {
    if (this.firstAt < 0) return 0;
    const second = Math.floor(now / 1000);
    let sum = 0;
    for (let i = 0; i < this.windowSeconds; i++) {
      const s = this.stamps[i];
      if (s > second - this.windowSeconds && s <= second) sum += this.buckets[i];
    }
    const windowSpan = this.windowSeconds - 1 + (now % 1000) / 1000;
    const span = Math.min(windowSpan, (now - this.firstAt) / 1000);
    return sum / Math.max(span, 1);
  }
}

/**
 * The last N samples, for percentiles without unbounded memory. Stored as
 * 32-bit floats (exact for whole milliseconds up to 4.6 hours): every device
 * keeps one, and half the bytes is 1 MiB less per 1000 devices.
 */
export class SampleRing {
  private readonly samples: Float32Array;
  private count = 0;
  private next = 0;

  constructor(capacity = 256) {
    this.samples = new Float32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  add(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
  }

  /** Nearest-rank percentile (p in 0..100) of the held samples, or undefined when empty. */
  percentile(p: number): number | undefined {
    if (!this.count) return undefined;
    const sorted = Array.from(this.samples.subarray(0, this.count)).sort((a, b) => a - b);
    const rank = Math.min(this.count - 1, Math.max(0, Math.ceil((p / 100) * this.count) - 1));
    return sorted[rank];
  }
}
