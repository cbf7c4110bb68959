/**
 * A health snapshot in the Prometheus text exposition format (version 0.0.4),
 * for a scrape endpoint on the Node-RED HTTP server.
 */
import { STATUS_CODE } from './readings';
import type { HealthSnapshot } from './types';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

class Exposition {
  private readonly families = new Map<string, { help: string; type: 'gauge' | 'counter'; samples: string[] }>();

  add(name: string, type: 'gauge' | 'counter', help: string, value: number | null | undefined, labels: Labels = {}): void {
    if (value === null || value === undefined || Number.isNaN(value)) return;
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, samples: [] }));
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(',');
    f.samples.push(`${name}${l ? `{${l}}` : ''} ${formatNumber(value)}`);
  }

  toString(): string {
    const out: string[] = [];
    for (const [name, f] of this.families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.samples);
    }
    return `${out.join('\n')}\n`;
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function toPrometheus(s: HealthSnapshot): string {
  const e = new Exposition();
  const sys = s.system;
  if (sys) {
    e.add('rtu_process_cpu_percent', 'gauge', 'CPU used by the Node-RED process since the last snapshot, percent of one core.', sys.cpuPercent);
    e.add('rtu_system_cpu_percent', 'gauge', 'CPU used by the machine since the last snapshot, percent of all cores.', sys.systemCpuPercent);
    e.add('rtu_system_load1', 'gauge', 'One-minute load average.', sys.load1m);
    e.add('rtu_process_resident_memory_bytes', 'gauge', 'Resident memory of the Node-RED process.', sys.rssBytes);
    e.add('rtu_process_heap_used_bytes', 'gauge', 'JavaScript heap in use.', sys.heapUsedBytes);
    e.add('rtu_system_memory_free_bytes', 'gauge', 'Free memory of the machine.', sys.memoryFreeBytes);
    e.add('rtu_system_memory_total_bytes', 'gauge', 'Total memory of the machine.', sys.memoryTotalBytes);
    if ('freeBytes' in sys.disk) {
      e.add('rtu_disk_free_bytes', 'gauge', 'Free space on the disk of the user dir.', sys.disk.freeBytes, { path: sys.disk.path });
      e.add('rtu_disk_total_bytes', 'gauge', 'Size of the disk of the user dir.', sys.disk.totalBytes, { path: sys.disk.path });
    }
    e.add('rtu_event_loop_lag_seconds', 'gauge', 'Event-loop delay since the last snapshot.', sys.eventLoopLagMs.p99 / 1000, { quantile: '0.99' });
    e.add('rtu_event_loop_lag_max_seconds', 'gauge', 'Longest event-loop delay since the last snapshot.', sys.eventLoopLagMs.max / 1000);
    e.add('rtu_process_uptime_seconds', 'gauge', 'Time since Node-RED started.', sys.processUptimeS);
    if (sys.clock && sys.clock.offsetMs !== null) {
      e.add('rtu_clock_offset_seconds', 'gauge', 'NTP server clock minus local clock.', sys.clock.offsetMs / 1000, { server: sys.clock.server });
    }
  }
  for (const d of Object.values(s.devices)) {
    const l = { device: d.device, ...(d.line ? { line: d.line } : {}) };
    e.add('rtu_device_up', 'gauge', 'Device status: 1 online, 0 otherwise.', d.status === 'online' ? 1 : 0, l);
    e.add('rtu_device_status', 'gauge', 'Device status code: 1 online, 2 stale, 0 offline, -1 unknown.', STATUS_CODE[d.status], l);
    e.add('rtu_device_success_ratio', 'gauge', 'Share of successful polls in the recent window.', d.successRate, l);
    e.add('rtu_device_latency_seconds', 'gauge', 'Poll latency.', d.latencyP50Ms === null ? null : d.latencyP50Ms / 1000, { ...l, quantile: '0.5' });
    e.add('rtu_device_latency_seconds', 'gauge', 'Poll latency.', d.latencyP95Ms === null ? null : d.latencyP95Ms / 1000, { ...l, quantile: '0.95' });
    e.add('rtu_device_consecutive_failures', 'gauge', 'Failed polls in a row.', d.consecutiveFailures, l);
    e.add('rtu_device_backoff', 'gauge', '1 while the unit is backing off.', d.backoff.active ? 1 : 0, l);
    e.add('rtu_device_last_good_timestamp_seconds', 'gauge', 'Time of the last good reading.', d.lastGoodAt === null ? null : d.lastGoodAt / 1000, l);
  }
  for (const line of Object.values(s.lines)) {
    const l = { line: line.line };
    e.add('rtu_line_connected', 'gauge', '1 while the line is connected.', line.connected ? 1 : 0, l);
    e.add('rtu_line_queue_depth', 'gauge', 'Requests waiting on the line.', line.queueDepth, l);
    e.add('rtu_line_requests_per_second', 'gauge', 'Requests per second on the line.', line.requestsPerSec, l);
    e.add('rtu_line_units_backing_off', 'gauge', 'Units the line is backing off from.', line.unitsBackingOff.length, l);
  }
  for (const q of Object.values(s.queues)) {
    const l = { queue: q.queue };
    e.add('rtu_queue_depth', 'gauge', 'Entries waiting in the queue.', q.depth, l);
    e.add('rtu_queue_oldest_age_seconds', 'gauge', 'Age of the oldest waiting entry.', q.oldestAgeMs / 1000, l);
    e.add('rtu_queue_drops_total', 'counter', 'Entries dropped because the queue was full.', q.drops, l);
  }
  for (const [id, x] of Object.entries(s.iec104 ?? {})) {
    const l = { iec104: id, role: x.role };
    e.add('rtu_iec104_connections', 'gauge', 'IEC 104 connections open.', x.connections.length, l);
    for (const c of x.connections) {
      const cl = { ...l, remote: c.remote };
      e.add('rtu_iec104_connection_started', 'gauge', '1 while data transfer is started on the connection.', c.state === 'started' ? 1 : 0, cl);
      e.add('rtu_iec104_unacked_frames', 'gauge', 'I-frames sent and not yet acknowledged (k window).', c.unacked, cl);
      e.add('rtu_iec104_queued_asdus', 'gauge', 'ASDUs waiting for room in the k window.', c.queued, cl);
      e.add('rtu_iec104_buffered_events', 'gauge', 'Events waiting in the connection buffer.', c.buffered, cl);
      e.add('rtu_iec104_dropped_events_total', 'counter', 'Events dropped because the connection buffer was full.', c.dropped, cl);
    }
    if (x.clockOffsetMs !== undefined) e.add('rtu_iec104_clock_offset_seconds', 'gauge', 'Master clock minus RTU clock at the last clock synchronisation.', x.clockOffsetMs / 1000, l);
  }
  return e.toString();
}
