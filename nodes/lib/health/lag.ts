/**
 * Event-loop lag: a timer that should fire every `resolutionMs` records how
 * late it fires. perf_hooks' monitorEventLoopDelay does the same, but after
 * reset() it drops the first delay, so a block right after a snapshot went
 * unseen (found by test); this one loses nothing between two take() calls.
 */
import { performance } from 'perf_hooks';

export class LagMonitor {
  private readonly timer: NodeJS.Timeout;
  private last = performance.now();
  private samples: number[] = [];

  constructor(private readonly resolutionMs = 20) {
    this.timer = setInterval(() => this.tick(), resolutionMs);
    this.timer.unref();
  }

  /** Mean, 99th percentile and largest lag (ms) since the previous call. */
  take(): { mean: number; p99: number; max: number } {
    this.tick();
    const s = this.samples.sort((a, b) => a - b);
    this.samples = [];
    if (!s.length) return { mean: 0, p99: 0, max: 0 };
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const p99 = s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
    return { mean: round(mean), p99: round(p99), max: round(s[s.length - 1]) };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.last - this.resolutionMs;
    this.last = now;
    // Bounded memory even if nobody takes samples: keep the worst ones.
    if (this.samples.length >= 20000) this.samples = this.samples.sort((a, b) => b - a).slice(0, 10000);
    this.samples.push(Math.max(0, late));
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
