/**
 * One health node's view: the process-wide registry, the devices seen in the
 * readings sent to the node, and the system sampler, combined into snapshots.
 */
import type { Quality } from '../reading';
import { ReadingObserver } from './observer';
import { HealthRegistry } from './registry';
import type { StatusRules } from './status';
import { SystemOptions, SystemSampler } from './system';
import type { HealthSnapshot, SystemHealth } from './types';

export interface MonitorOptions extends SystemOptions, StatusRules {
  registry: HealthRegistry;
}

export class HealthMonitor {
  readonly observer: ReadingObserver;
  private readonly sampler: SystemSampler;
  private lastSystem?: SystemHealth;

  constructor(private readonly options: MonitorOptions) {
    this.observer = new ReadingObserver(options);
    this.sampler = new SystemSampler(options);
  }

  /** Counts a reading towards its device's health; false when the message is not a reading. */
  observe(msg: unknown): boolean {
    const m = msg as { rtu?: { device?: unknown; timestamp?: unknown; quality?: unknown; latencyMs?: unknown; line?: unknown; error?: unknown; protocol?: unknown } } | null;
    const rtu = m?.rtu;
    if (!rtu || typeof rtu.device !== 'string') return false;
    // Our own health readings looped back must not count as devices.
    if (rtu.protocol === 'health') return true;
    const quality: Quality = rtu.quality === 'bad' || rtu.quality === 'stale' ? rtu.quality : 'good';
    this.observer.observe({
      rtu: {
        device: rtu.device,
        timestamp: Number(rtu.timestamp) || Date.now(),
        quality,
        latencyMs: typeof rtu.latencyMs === 'number' ? rtu.latencyMs : undefined,
        line: typeof rtu.line === 'string' ? rtu.line : undefined,
        error: typeof rtu.error === 'string' ? rtu.error : undefined,
      },
    });
    return true;
  }

  /** A full snapshot: samples the system (CPU and lag since the last one, NTP when due). */
  async snapshot(now = Date.now()): Promise<HealthSnapshot> {
    this.lastSystem = await this.sampler.sample(now);
    return this.current(now);
  }

  /** Devices, lines and queues now, with the last system sample (for scrapes between snapshots). */
  current(now = Date.now()): HealthSnapshot {
    const s = this.options.registry.snapshot(now, this.observer, this.options);
    if (this.lastSystem) s.system = this.lastSystem;
    return s;
  }

  close(): void {
    this.sampler.close();
  }
}
