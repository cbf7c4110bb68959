/**
 * What the dashboard shows, kept up to date from the process-wide health
 * registry and fleet, plus whatever readings and alerts are wired in: the
 * device table, the selected device's values and errors, lines, queues,
 * system figures, active alerts, and the trend of one point.
 *
 * Memory is fixed per device (latest reading, a few errors) plus one trend
 * ring for the selected point, so hundreds of devices cost little.
 */
import type { AlertPayload } from '../alert/types';
import type { Fleet } from '../fleet';
import { ReadingObserver } from '../health/observer';
import type { HealthRegistry } from '../health/registry';
import type { DeviceStatus, HealthSnapshot, SystemHealth } from '../health/types';
import type { PointValue, ReadingMessage } from '../reading';
import { DEFAULT_KEY_POINTS, explainStatus, formatBytes, formatDuration, formatNumber, keyValues, withoutNextTry } from './format';
import {
  ActionResult,
  AlertRow,
  DEVICE_COLUMNS,
  DeviceDetail,
  DeviceError,
  DeviceRow,
  DevicesView,
  OverviewView,
  SystemRow,
  TrendSelection,
} from './types';

export interface DashboardModelOptions {
  fleet: Pick<Fleet, 'list' | 'get'>;
  health: Pick<HealthRegistry, 'snapshot'>;
  /** Points for the table's values column; DEFAULT_KEY_POINTS when empty. */
  keyPoints?: readonly string[];
  errorsPerDevice?: number;
  /** Most alerts listed; the rest are counted. */
  maxAlerts?: number;
  /** Longest wait for a "read now" (ms). */
  readTimeoutMs?: number;
}

/** A chart update for node-red-dashboard's ui_chart: `[]` clears it, a number adds a point. */
export interface ChartMessage {
  topic: string;
  payload: number | [];
  timestamp?: number;
}

const SEVERITY_ORDER = ['critical', 'major', 'minor', 'warning', 'info'];

export class DashboardModel {
  private readonly observer = new ReadingObserver();
  private readonly latest = new Map<string, ReadingMessage>();
  private readonly errors = new Map<string, DeviceError[]>();
  private readonly alerts = new Map<string, AlertPayload>();
  private readonly problems: string[] = [];
  private snapshot?: HealthSnapshot;
  private system?: SystemHealth;
  private selected?: string;
  private action?: ActionResult;
  private trend?: TrendSelection & { lastAt: number };
  private readonly keyPoints: readonly string[];
  private readonly errorsPerDevice: number;

  constructor(private readonly options: DashboardModelOptions) {
    this.keyPoints = options.keyPoints?.length ? options.keyPoints : DEFAULT_KEY_POINTS;
    this.errorsPerDevice = options.errorsPerDevice ?? 5;
  }

  /** A reading wired into the dashboard (devices that are not in the fleet show up through these). */
  addReading(msg: ReadingMessage): void {
    const device = msg.rtu.device;
    this.latest.set(device, msg);
    if (!this.options.fleet.get(device)) this.observer.observe(msg);
    if (msg.rtu.error) this.noteError(device, msg.rtu.timestamp, msg.rtu.error);
  }

  /** An alert event from rtu-alert: raised and acknowledged stay listed until cleared. */
  addAlert(alert: AlertPayload): void {
    if (alert.state === 'cleared') this.alerts.delete(alert.id);
    else this.alerts.set(alert.id, alert);
  }

  /** The full list of active alerts (rtu-alert's answer to "list"), replacing what was known. */
  setAlerts(alerts: AlertPayload[]): void {
    this.alerts.clear();
    for (const a of alerts) if (a.state !== 'cleared') this.alerts.set(a.id, a);
  }

  setSystem(system: SystemHealth | undefined): void {
    this.system = system;
  }

  /** Takes a fresh health snapshot; call once per refresh, before the views. */
  refresh(now: number): HealthSnapshot {
    this.snapshot = this.options.health.snapshot(now, this.observer);
    for (const h of Object.values(this.snapshot.devices)) {
      if (h.lastError && h.consecutiveFailures > 0) this.noteError(h.device, h.lastPollAt ?? now, h.lastError);
    }
    return this.snapshot;
  }

  select(device: string | undefined): void {
    this.selected = device || undefined;
  }

  get selectedDevice(): string | undefined {
    return this.selected;
  }

  /** Notes a failed dashboard action (an acknowledge that reached no alert node, a bad command). */
  problem(text: string): void {
    this.problems.unshift(`${new Date().toISOString().slice(11, 19)} ${text}`);
    this.problems.length = Math.min(this.problems.length, 5);
  }

  private noteError(device: string, at: number, raw: string): void {
    // When the line tries again is said once, in the device's explanation, not in every error.
    const text = withoutNextTry(raw);
    let list = this.errors.get(device);
    if (!list) this.errors.set(device, (list = []));
    // The same failure with other figures ("retry in 48 s", "11 polls") is one entry, with its latest text.
    if (list[0] && sameShape(list[0].text, text)) {
      if (at >= list[0].at) list[0] = { at, text };
      return;
    }
    list.unshift({ at, text });
    list.length = Math.min(list.length, this.errorsPerDevice);
  }

  private reading(device: string): ReadingMessage | undefined {
    const own = this.latest.get(device);
    let fromFleet: ReadingMessage | undefined;
    try {
      fromFleet = this.options.fleet.get(device)?.lastReading();
    } catch {
      fromFleet = undefined;
    }
    if (!own) return fromFleet;
    if (!fromFleet) return own;
    return fromFleet.rtu.timestamp >= own.rtu.timestamp ? fromFleet : own;
  }

  /** Every device the RTU knows: in the health snapshot, the fleet, or seen in readings. */
  private deviceNames(): string[] {
    const names = new Set<string>(Object.keys(this.snapshot?.devices ?? {}));
    for (const d of this.options.fleet.list()) names.add(d.name);
    for (const d of this.latest.keys()) names.add(d);
    return [...names].sort((a, b) => a.localeCompare(b));
  }

  devicesView(now: number): DevicesView {
    const counts: Record<DeviceStatus, number> = { online: 0, offline: 0, stale: 0, unknown: 0 };
    const alertsPerDevice = new Map<string, number>();
    for (const a of this.alerts.values()) alertsPerDevice.set(a.device, (alertsPerDevice.get(a.device) ?? 0) + 1);
    const rows: DeviceRow[] = this.deviceNames().map((device) => {
      const h = this.snapshot?.devices[device];
      const fleetDevice = this.options.fleet.get(device);
      const status: DeviceStatus = h?.status ?? 'unknown';
      counts[status]++;
      const r = this.reading(device);
      const values = r && r.rtu.quality !== 'bad' ? keyValues(r.payload, r.rtu.units ?? {}, this.keyPoints) : '';
      return [
        device,
        h?.line ?? fleetDevice?.line ?? r?.rtu.line ?? '',
        status,
        h?.lastGoodAt ?? null,
        h?.lastPollAt ?? null,
        h?.successRate ?? null,
        h?.latencyP50Ms ?? null,
        h?.latencyP95Ms ?? null,
        h?.consecutiveFailures ?? 0,
        h?.backoff.active ? h.backoff.retryAt ?? null : null,
        values,
        alertsPerDevice.get(device) ?? 0,
        h?.lastError ?? '',
      ];
    });
    const view: DevicesView = { updatedAt: now, columns: DEVICE_COLUMNS, rows, counts };
    if (this.selected) view.detail = this.detail(this.selected, now);
    return view;
  }

  detail(device: string, now: number): DeviceDetail {
    const fleetDevice = this.options.fleet.get(device);
    const h = this.snapshot?.devices[device];
    const r = this.reading(device);
    const units: Record<string, string> = {};
    for (const p of fleetDevice?.points ?? []) if (p.unit) units[p.name] = p.unit;
    Object.assign(units, r?.rtu.units ?? {});
    const names = fleetDevice ? fleetDevice.points.map((p) => p.name) : [];
    for (const n of Object.keys(r?.payload ?? {})) if (!names.includes(n)) names.push(n);
    const known = !!fleetDevice || !!h || !!r;
    const detail: DeviceDetail = {
      device,
      status: known ? h?.status ?? 'unknown' : 'not deployed',
      why: known ? explainStatus(h, now, fleetDevice?.intervalMs) : `no device "${device}" is deployed: no poller reports under this name`,
      line: fleetDevice?.line ?? h?.line ?? r?.rtu.line,
      model: fleetDevice?.model ?? r?.rtu.model,
      profile: fleetDevice?.profile ?? r?.rtu.profile,
      unitId: fleetDevice?.unitId ?? r?.rtu.unitId,
      intervalMs: fleetDevice?.intervalMs,
      plan: fleetDevice?.planSummary,
      // The time of the values shown: a failed poll brings none, so it is not a "reading of" anything.
      readingAt: r && r.rtu.quality !== 'bad' ? r.rtu.timestamp : h?.lastGoodAt ?? undefined,
      values: names.map((point) => ({
        point,
        value: r?.payload[point] ?? null,
        unit: units[point] ?? '',
        quality: r ? r.rtu.pointQuality?.[point] ?? r.rtu.quality : 'bad',
      })),
      errors: [...(this.errors.get(device) ?? [])],
    };
    if (this.trend?.device === device) detail.trendPoint = this.trend.point;
    if (this.action?.device === device) detail.action = { ...this.action };
    return detail;
  }

  /**
   * "Read now" from the dashboard: reads the device at once and says what
   * happened; when it fails, the text says why the device is not answering.
   */
  async readNow(device: string, now: () => number = Date.now): Promise<ActionResult> {
    const fleetDevice = this.options.fleet.get(device);
    const done = (ok: boolean, text: string): ActionResult => (this.action = { action: 'read', device, at: now(), ok, text });
    if (!fleetDevice) return done(false, `read now: no device "${device}" is deployed, so there is nothing to read`);
    const timeoutMs = this.options.readTimeoutMs ?? 10000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reading = await Promise.race([
        Promise.resolve().then(() => fleetDevice.readOnce()),
        new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      this.latest.set(device, reading);
      if (reading.rtu.quality === 'bad') {
        if (reading.rtu.error) this.noteError(device, reading.rtu.timestamp, reading.rtu.error);
        return done(false, `read now failed: ${reading.rtu.error ?? 'no value came back'}`);
      }
      const count = Object.values(reading.payload).filter((v) => v !== null).length;
      const partial = reading.rtu.error ? ` (${reading.rtu.error})` : '';
      return done(true, `read now: ${count} values in ${reading.rtu.latencyMs} ms${partial}`);
    } catch (err) {
      const text = (err as Error)?.message ?? String(err);
      this.noteError(device, now(), text);
      return done(false, `read now failed: ${text}`);
    } finally {
      clearTimeout(timer);
    }
  }

  overviewView(now: number, maxAlerts = this.options.maxAlerts ?? 100): OverviewView {
    const s = this.snapshot;
    const alerts = [...this.alerts.values()]
      .sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || b.raisedAt - a.raisedAt)
      .map(alertRow);
    return {
      updatedAt: now,
      system: systemRows(this.system),
      lines: Object.values(s?.lines ?? {})
        .sort((a, b) => a.line.localeCompare(b.line))
        .map((l) => ({
          line: l.line,
          state: l.state,
          connected: l.connected,
          queueDepth: l.queueDepth,
          requestsPerSec: l.requestsPerSec,
          devices: l.devices,
          unitsBackingOff: l.unitsBackingOff,
          lastError: l.lastError ?? '',
        })),
      queues: Object.values(s?.queues ?? {})
        .sort((a, b) => a.queue.localeCompare(b.queue))
        .map((q) => ({
          queue: q.queue,
          depth: q.depth,
          oldestAgeMs: q.oldestAgeMs,
          drops: q.drops,
          problem: q.diskError ? q.diskError : q.memoryOnly ? 'memory only: the disk queue is not available' : '',
        })),
      iec104: Object.entries(s?.iec104 ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([node, x]) => {
          const problem = x.lastError ?? '';
          if (!x.connections.length) return [{ node, role: x.role, remote: '', state: x.state, unacked: 0, queued: 0, problem }];
          return x.connections.map((c) => ({ node, role: x.role, remote: c.remote, state: c.active === false ? `${c.state} (standby)` : c.state, unacked: c.unacked, queued: c.queued, problem }));
        }),
      alerts: alerts.slice(0, maxAlerts),
      moreAlerts: Math.max(0, alerts.length - maxAlerts),
      problems: [...(s?.errors ?? []), ...this.problems],
    };
  }

  get activeAlerts(): AlertPayload[] {
    return [...this.alerts.values()];
  }

  /** Picks the point to trend; returns the messages that reset the chart and plot what is known. */
  selectTrend(device: string, point: string): ChartMessage[] {
    this.trend = { device, point, lastAt: 0 };
    return [{ topic: trendLabel(device, point, ''), payload: [] }, ...this.trendUpdate()];
  }

  get trendSelection(): TrendSelection | undefined {
    return this.trend ? { device: this.trend.device, point: this.trend.point } : undefined;
  }

  /** The trend point's new value since the last call, if any. */
  trendUpdate(): ChartMessage[] {
    const t = this.trend;
    if (!t) return [];
    const r = this.reading(t.device);
    if (!r || r.rtu.timestamp <= t.lastAt) return [];
    const v: PointValue | undefined = r.payload[t.point];
    if (typeof v !== 'number' || !Number.isFinite(v)) return [];
    t.lastAt = r.rtu.timestamp;
    return [{ topic: trendLabel(t.device, t.point, r.rtu.units?.[t.point] ?? ''), payload: v, timestamp: r.rtu.timestamp }];
  }
}

function trendLabel(device: string, point: string, unit: string): string {
  return unit ? `${device} ${point} (${unit})` : `${device} ${point}`;
}

function alertRow(a: AlertPayload): AlertRow {
  const row: AlertRow = {
    id: a.id,
    device: a.device,
    point: a.point,
    severity: a.severity,
    state: a.state,
    text: a.text,
    value: a.value,
    unit: a.unit,
    raisedAt: a.raisedAt,
  };
  if (a.acknowledgedBy) row.acknowledgedBy = a.acknowledgedBy;
  if (a.test) row.test = true;
  return row;
}

function systemRows(s: SystemHealth | undefined): SystemRow[] {
  if (!s) return [];
  const rows: SystemRow[] = [
    { label: 'CPU (Node-RED)', value: `${formatNumber(s.cpuPercent)} %`, warn: s.cpuPercent > 80 },
    { label: 'CPU (machine)', value: `${formatNumber(s.systemCpuPercent)} %, load ${formatNumber(s.load1m)}`, warn: s.systemCpuPercent > 90 },
    { label: 'Memory', value: `${formatNumber(s.memoryUsedPercent)} % used, Node-RED ${formatBytes(s.rssBytes)}`, warn: s.memoryUsedPercent > 90 },
    { label: 'Event-loop lag', value: `${formatNumber(s.eventLoopLagMs.mean)} ms mean, ${formatNumber(s.eventLoopLagMs.max)} ms max`, warn: s.eventLoopLagMs.p99 > 200 },
  ];
  if ('error' in s.disk) rows.push({ label: 'Disk', value: s.disk.error, warn: true });
  else rows.push({ label: 'Disk', value: `${formatNumber(s.disk.freePercent)} % free (${formatBytes(s.disk.freeBytes)})`, warn: s.disk.freePercent < 10 });
  rows.push({ label: 'Uptime', value: `Node-RED ${formatDuration(s.processUptimeS * 1000)}, machine ${formatDuration(s.systemUptimeS * 1000)}` });
  if (s.clock) {
    const c = s.clock;
    const value = c.offsetMs === null ? c.error ?? 'not checked yet' : `${formatNumber(c.offsetMs)} ms against ${c.server}${c.error ? ` (last check failed: ${c.error})` : ''}`;
    rows.push({ label: 'Clock offset', value, warn: c.offsetMs === null ? !!c.error : Math.abs(c.offsetMs) > 1000 });
  }
  return rows;
}

/** Two error texts that differ only in their figures (and the plural that goes with them). */
function sameShape(a: string, b: string): boolean {
  const shape = (t: string) => t.replace(/\d+(\.\d+)?/g, '#').replace(/(\w)s\b/g, '$1');
  return shape(a) === shape(b);
}
