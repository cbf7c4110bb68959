/**
 * System figures: CPU of this process and of the machine, memory, free disk,
 * event-loop lag, uptimes, and the clock offset against an NTP server. CPU and
 * lag are measured over the time since the previous sample, so a snapshot
 * says what happened during its interval, not since start-up.
 */
import fs from 'fs';
import os from 'os';
import { LagMonitor } from './lag';
import { sntpQuery } from './sntp';
import type { ClockHealth, SystemHealth } from './types';

export interface SystemOptions {
  /** Disk whose free space is reported (default: the Node-RED user dir or the working directory). */
  diskPath?: string;
  /** NTP server (host or host:port); no clock check without one. */
  ntpServer?: string;
  /** How often to ask the NTP server (ms); the last result is reported in between. Default 10 minutes. */
  ntpIntervalMs?: number;
  ntpTimeoutMs?: number;
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

export class SystemSampler {
  private readonly lag = new LagMonitor();
  private lastCpu = process.cpuUsage();
  private lastWall = process.hrtime.bigint();
  private lastSystem = cpuTimes();
  private clock?: ClockHealth;
  private nextNtpAt = 0;
  private ntpRunning?: Promise<void>;

  constructor(private readonly options: SystemOptions = {}) {
    if (options.ntpServer) this.clock = { server: options.ntpServer, offsetMs: null, delayMs: null, stratum: null, checkedAt: null };
  }

  async sample(now = Date.now()): Promise<SystemHealth> {
    const wall = process.hrtime.bigint();
    const wallUs = Number(wall - this.lastWall) / 1000;
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    this.lastWall = wall;
    const sys = cpuTimes();
    const sysTotal = sys.total - this.lastSystem.total;
    const sysIdle = sys.idle - this.lastSystem.idle;
    this.lastSystem = sys;

    const lag = this.lag.take();

    const mem = process.memoryUsage();
    const total = os.totalmem();
    const free = os.freemem();
    const [disk] = await Promise.all([this.disk(), this.checkClock(now)]);
    return {
      cpuPercent: round(wallUs > 0 ? ((cpu.user + cpu.system) / wallUs) * 100 : 0),
      systemCpuPercent: round(sysTotal > 0 ? (1 - sysIdle / sysTotal) * 100 : 0),
      load1m: round(os.loadavg()[0]),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      memoryTotalBytes: total,
      memoryFreeBytes: free,
      memoryUsedPercent: round((1 - free / total) * 100),
      disk,
      eventLoopLagMs: lag,
      processUptimeS: Math.round(process.uptime()),
      systemUptimeS: Math.round(os.uptime()),
      clock: this.clock ? { ...this.clock } : undefined,
    };
  }

  close(): void {
    this.lag.stop();
  }

  private async disk(): Promise<SystemHealth['disk']> {
    const p = this.options.diskPath || process.cwd();
    try {
      const s = await fs.promises.statfs(p);
      const freeBytes = s.bavail * s.bsize;
      const totalBytes = s.blocks * s.bsize;
      return { path: p, freeBytes, totalBytes, freePercent: round(totalBytes ? (freeBytes / totalBytes) * 100 : 0) };
    } catch (err) {
      return { path: p, error: `cannot read free space of ${p}: ${(err as Error).message}` };
    }
  }

  /** Asks the NTP server when due; a slow server never delays the snapshot beyond its timeout. */
  private async checkClock(now: number): Promise<void> {
    const server = this.options.ntpServer;
    if (!server || !this.clock || now < this.nextNtpAt) return;
    if (!this.ntpRunning) {
      this.nextNtpAt = now + (this.options.ntpIntervalMs ?? 600000);
      const [host, port] = splitHostPort(server);
      this.ntpRunning = sntpQuery(host, { port, timeoutMs: this.options.ntpTimeoutMs ?? 3000 })
        .then((r) => {
          this.clock = { server, offsetMs: r.offsetMs, delayMs: r.delayMs, stratum: r.stratum, checkedAt: Date.now() };
        })
        .catch((err: Error) => {
          // Keep the last good offset, say why it is old; retry sooner than the full interval.
          this.clock = { ...(this.clock as ClockHealth), error: err.message };
          this.nextNtpAt = Math.min(this.nextNtpAt, Date.now() + 60000);
        })
        .finally(() => (this.ntpRunning = undefined));
    }
    await this.ntpRunning;
  }
}

export function splitHostPort(server: string): [string, number] {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (v6) return [v6[1], v6[2] ? Number(v6[2]) : 123];
  const m = /^([^:]+)(?::(\d+))?$/.exec(server.trim());
  if (!m) return [server, 123];
  return [m[1], m[2] ? Number(m[2]) : 123];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
