/**
 * Health snapshots as reading messages, so rtu-alert judges them like any
 * other point (thresholds on CPU, disk, success rate, clock offset...).
 *
 * Device names keep health figures apart from the devices' own readings:
 *   system            the RTU itself (the name is configurable)
 *   device:<id>       one per device; line:<id> one per line; queue:<owner> one per queue
 * and the profile says which kind it is (rtu-health-system, -device, -line,
 * -queue), so one rule can cover every device: `profile: rtu-health-device`.
 */
import type { PointValue, Quality } from '../reading';
import type { DeviceHealth, HealthSnapshot, LineHealth, QueueHealth, SystemHealth } from './types';

/** A type alias, not an interface, so it is assignable to Node-RED's NodeMessage. */
export type HealthReading = {
  topic: string;
  payload: Record<string, PointValue>;
  rtu: {
    device: string;
    protocol: 'health';
    profile: string;
    timestamp: number;
    quality: Quality;
    latencyMs: number;
    units: Record<string, string>;
    seq: number;
    test?: boolean;
  };
};

export const STATUS_CODE: Record<DeviceHealth['status'], number> = { online: 1, stale: 2, offline: 0, unknown: -1 };

export function healthReadings(s: HealthSnapshot, systemName = 'system', seq = 0, test = false): HealthReading[] {
  const out: HealthReading[] = [];
  const reading = (device: string, profile: string, payload: Record<string, PointValue>, units: Record<string, string>): void => {
    const r: HealthReading = { topic: device, payload, rtu: { device, protocol: 'health', profile, timestamp: s.timestamp, quality: 'good', latencyMs: 0, units, seq } };
    if (test) r.rtu.test = true;
    out.push(r);
  };
  if (s.system) reading(systemName, 'rtu-health-system', systemPoints(s, s.system), SYSTEM_UNITS);
  for (const d of Object.values(s.devices)) reading(`device:${d.device}`, 'rtu-health-device', devicePoints(d, s.timestamp), DEVICE_UNITS);
  for (const l of Object.values(s.lines)) reading(`line:${l.line}`, 'rtu-health-line', linePoints(l), LINE_UNITS);
  for (const q of Object.values(s.queues)) reading(`queue:${q.queue}`, 'rtu-health-queue', queuePoints(q), QUEUE_UNITS);
  return out;
}

const SYSTEM_UNITS = {
  cpu_percent: '%', system_cpu_percent: '%', memory_used_percent: '%', rss_mb: 'MB', heap_used_mb: 'MB',
  disk_free_percent: '%', disk_free_mb: 'MB', event_loop_lag_ms: 'ms', event_loop_lag_max_ms: 'ms',
  uptime_s: 's', clock_offset_ms: 'ms', clock_delay_ms: 'ms',
};

function systemPoints(s: HealthSnapshot, sys: SystemHealth): Record<string, PointValue> {
  const devices = Object.values(s.devices);
  const count = (status: DeviceHealth['status']) => devices.filter((d) => d.status === status).length;
  const p: Record<string, PointValue> = {
    cpu_percent: sys.cpuPercent,
    system_cpu_percent: sys.systemCpuPercent,
    load_1m: sys.load1m,
    memory_used_percent: sys.memoryUsedPercent,
    rss_mb: mb(sys.rssBytes),
    heap_used_mb: mb(sys.heapUsedBytes),
    disk_free_percent: 'freePercent' in sys.disk ? sys.disk.freePercent : null,
    disk_free_mb: 'freeBytes' in sys.disk ? mb(sys.disk.freeBytes) : null,
    event_loop_lag_ms: sys.eventLoopLagMs.p99,
    event_loop_lag_max_ms: sys.eventLoopLagMs.max,
    uptime_s: sys.processUptimeS,
    devices_online: count('online'),
    devices_offline: count('offline'),
    devices_stale: count('stale'),
    lines_disconnected: Object.values(s.lines).filter((l) => !l.connected).length,
  };
  if (sys.clock) {
    p.clock_offset_ms = sys.clock.offsetMs;
    p.clock_delay_ms = sys.clock.delayMs;
  }
  return p;
}

const DEVICE_UNITS = { success_rate: '%', latency_p50_ms: 'ms', latency_p95_ms: 'ms', last_good_age_s: 's' };

function devicePoints(d: DeviceHealth, now: number): Record<string, PointValue> {
  return {
    status: d.status,
    online: d.status === 'online',
    status_code: STATUS_CODE[d.status],
    success_rate: d.successRate === null ? null : Math.round(d.successRate * 1000) / 10,
    latency_p50_ms: d.latencyP50Ms,
    latency_p95_ms: d.latencyP95Ms,
    consecutive_failures: d.consecutiveFailures,
    backoff: d.backoff.active,
    last_good_age_s: d.lastGoodAt === null ? null : Math.round((now - d.lastGoodAt) / 100) / 10,
  };
}

const LINE_UNITS = { requests_per_s: '1/s' };

function linePoints(l: LineHealth): Record<string, PointValue> {
  return {
    connected: l.connected,
    state: l.state,
    queue_depth: l.queueDepth,
    requests_per_s: l.requestsPerSec,
    units_backing_off: l.unitsBackingOff.length,
  };
}

const QUEUE_UNITS = { oldest_age_s: 's' };

function queuePoints(q: QueueHealth): Record<string, PointValue> {
  return {
    depth: q.depth,
    oldest_age_s: Math.round(q.oldestAgeMs / 100) / 10,
    drops: q.drops,
    disk_ok: !q.diskError,
  };
}

function mb(bytes: number): number {
  return Math.round(bytes / 104857.6) / 10;
}
