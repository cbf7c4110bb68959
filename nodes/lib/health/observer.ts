/**
 * Device health derived from the readings that pass the health node: the
 * fallback for devices whose poller is not registered (another package's
 * Modbus nodes, IEC 61850, hand-made readings). Fixed memory per device.
 */
import type { Quality } from '../reading';
import { deriveStatus, StatusRules } from './status';
import type { DeviceHealth } from './types';

export interface ObservedReading {
  rtu: { device: string; timestamp: number; quality: Quality; latencyMs?: number; line?: string; error?: string };
}

const WINDOW = 100;

class DeviceTrack {
  private readonly outcomes = new Uint8Array(WINDOW);
  private readonly latencies = new Float64Array(WINDOW);
  private count = 0;
  private next = 0;
  private latencyCount = 0;
  private latencyNext = 0;
  lastGoodAt: number | null = null;
  lastPollAt: number | null = null;
  consecutiveFailures = 0;
  intervalMs = 0;
  polls = 0;
  line?: string;
  lastError?: string;

  add(r: ObservedReading['rtu']): void {
    if (this.lastPollAt !== null && r.timestamp > this.lastPollAt) {
      const gap = r.timestamp - this.lastPollAt;
      // Smoothed interval: a slow poller is not mistaken for a silent one.
      this.intervalMs = this.intervalMs ? this.intervalMs * 0.8 + gap * 0.2 : gap;
    }
    this.lastPollAt = Math.max(this.lastPollAt ?? 0, r.timestamp);
    this.polls++;
    this.line = r.line ?? this.line;
    const ok = r.quality !== 'bad';
    this.outcomes[this.next] = ok ? 1 : 0;
    this.next = (this.next + 1) % WINDOW;
    if (this.count < WINDOW) this.count++;
    if (ok) {
      this.consecutiveFailures = 0;
      if (r.quality === 'good') this.lastGoodAt = Math.max(this.lastGoodAt ?? 0, r.timestamp);
      this.lastError = undefined;
      if (typeof r.latencyMs === 'number' && Number.isFinite(r.latencyMs)) {
        this.latencies[this.latencyNext] = r.latencyMs;
        this.latencyNext = (this.latencyNext + 1) % WINDOW;
        if (this.latencyCount < WINDOW) this.latencyCount++;
      }
    } else {
      this.consecutiveFailures++;
      this.lastError = r.error ?? this.lastError;
    }
  }

  successRate(): number | null {
    if (!this.count) return null;
    let ok = 0;
    for (let i = 0; i < this.count; i++) ok += this.outcomes[i];
    return ok / this.count;
  }

  percentile(p: number): number | null {
    if (!this.latencyCount) return null;
    const sorted = Array.from(this.latencies.subarray(0, this.latencyCount)).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  }
}

export class ReadingObserver {
  private readonly devices = new Map<string, DeviceTrack>();

  constructor(private readonly rules: StatusRules = {}) {}

  observe(msg: ObservedReading): void {
    const id = msg.rtu.device;
    let t = this.devices.get(id);
    if (!t) this.devices.set(id, (t = new DeviceTrack()));
    t.add(msg.rtu);
  }

  forget(device: string): void {
    this.devices.delete(device);
  }

  has(device: string): boolean {
    return this.devices.has(device);
  }

  health(now: number): DeviceHealth[] {
    const out: DeviceHealth[] = [];
    for (const [device, t] of this.devices) {
      const base = {
        lastGoodAt: t.lastGoodAt,
        lastPollAt: t.lastPollAt,
        consecutiveFailures: t.consecutiveFailures,
        backoff: { active: false },
        intervalMs: t.intervalMs,
      };
      out.push({
        device,
        line: t.line,
        status: deriveStatus(base, now, this.rules),
        lastGoodAt: t.lastGoodAt,
        lastPollAt: t.lastPollAt,
        successRate: t.successRate(),
        polls: t.polls,
        latencyP50Ms: t.percentile(50),
        latencyP95Ms: t.percentile(95),
        consecutiveFailures: t.consecutiveFailures,
        backoff: { active: false },
        lastError: t.lastError,
        source: 'readings',
      });
    }
    return out;
  }
}
