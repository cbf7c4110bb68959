/**
 * "Verify configuration": reads every configured device once, outside its
 * schedule, and checks what came back. Devices are read concurrently (each
 * line still serialises its own requests), every read is bounded by a
 * timeout, and one device that hangs or throws never holds up the report.
 */
import type { FleetDevice } from '../fleet';
import { PlausibilityChecker } from '../plausibility';
import type { PointValue, ReadingMessage } from '../reading';
import type { DeviceVerification, VerifiedPoint, VerifyProgress, VerifyReport, VerifySummary } from './types';
import { withTimeout } from '../with-timeout';

export interface VerifyOptions {
  /** Longest wait for one device (ms); default 10 s. */
  timeoutMs?: number;
  /** Devices read at the same time; default 16. */
  concurrency?: number;
  checker?: PlausibilityChecker;
  testMode?: boolean;
  onProgress?: (progress: VerifyProgress) => void;
  now?: () => number;
}

type DeviceInfo = Omit<DeviceVerification, 'reachable' | 'values' | 'flagged'>;

function infoOf(d: FleetDevice): DeviceInfo {
  return {
    device: d.name,
    protocol: d.protocol,
    line: d.line,
    model: d.model,
    profile: d.profile,
    unitId: d.unitId,
    intervalMs: d.intervalMs,
    plan: d.planSummary,
  };
}

function where(d: FleetDevice): string {
  const parts = [`device "${d.name}"`];
  if (d.line) parts.push(`line "${d.line}"`);
  if (d.unitId !== undefined) parts.push(`unit ${d.unitId}`);
  return parts.join(', ');
}


/** Checks one reading of a device against the plausibility rules. */
export function verifyReading(
  device: FleetDevice,
  reading: ReadingMessage,
  previous: ReadingMessage | undefined,
  checker: PlausibilityChecker,
): DeviceVerification {
  const meta = reading.rtu;
  const units: Record<string, string> = {};
  for (const p of device.points) if (p.unit) units[p.name] = p.unit;
  Object.assign(units, meta.units ?? {});
  // Configured points first, in their order, then anything else the reading carried.
  const names = device.points.map((p) => p.name);
  for (const name of Object.keys(reading.payload)) if (!names.includes(name)) names.push(name);
  const reachable = meta.quality !== 'bad';
  const values: VerifiedPoint[] = names.map((point) => {
    const value: PointValue = reading.payload[point] ?? null;
    const quality = meta.pointQuality?.[point] ?? (value === null ? 'bad' : meta.quality);
    const unit = units[point] ?? '';
    const previousValue = previous && previous.rtu.quality !== 'bad' ? previous.payload[point] : undefined;
    const flag = reachable ? checker.check(point, unit, value, previousValue)?.text : undefined;
    return flag ? { point, value, unit, quality, flag } : { point, value, unit, quality };
  });
  return {
    ...infoOf(device),
    reachable,
    error: meta.error,
    quality: meta.quality,
    latencyMs: meta.latencyMs,
    readAt: meta.timestamp,
    values,
    flagged: values.filter((v) => v.flag).length,
  };
}

async function verifyDevice(d: FleetDevice, checker: PlausibilityChecker, timeoutMs: number): Promise<DeviceVerification> {
  let previous: ReadingMessage | undefined;
  try {
    previous = d.lastReading();
  } catch {
    previous = undefined;
  }
  try {
    const reading = await withTimeout(Promise.resolve().then(() => d.readOnce()), timeoutMs, where(d));
    const result = verifyReading(d, reading, previous, checker);
    if (!result.reachable && !result.error) result.error = `${where(d)}: no value came back`;
    return result;
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    return {
      ...infoOf(d),
      reachable: false,
      error: message.includes(d.name) ? message : `${where(d)}: ${message}`,
      values: d.points.map((p) => ({ point: p.name, value: null, unit: p.unit ?? '', quality: 'bad' as const })),
      flagged: 0,
    };
  }
}

export function summarise(devices: readonly DeviceVerification[]): VerifySummary {
  const reachable = devices.filter((d) => d.reachable).length;
  return {
    devices: devices.length,
    reachable,
    unreachable: devices.length - reachable,
    flaggedDevices: devices.filter((d) => d.flagged > 0).length,
    flaggedValues: devices.reduce((n, d) => n + d.flagged, 0),
  };
}

/** Reads every device once and reports per device; never rejects. */
export async function verifyDevices(devices: readonly FleetDevice[], options: VerifyOptions = {}): Promise<VerifyReport> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10000;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
  const checker = options.checker ?? new PlausibilityChecker();
  const startedAt = now();
  const results: DeviceVerification[] = new Array(devices.length);
  let next = 0;
  let done = 0;
  options.onProgress?.({ done, total: devices.length });
  const worker = async () => {
    while (next < devices.length) {
      const i = next++;
      results[i] = await verifyDevice(devices[i], checker, timeoutMs);
      done++;
      options.onProgress?.({ done, total: devices.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, devices.length) }, worker));
  return { startedAt, finishedAt: now(), testMode: !!options.testMode, devices: results, summary: summarise(results) };
}
