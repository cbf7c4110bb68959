/** Text for values, durations and device states, as the dashboard shows them. */
import type { DeviceHealth } from '../health/types';
import type { PointValue } from '../reading';

/** Points shown in the table's values column when the node names none, first found first. */
export const DEFAULT_KEY_POINTS = [
  'active_power_total',
  'voltage_l1_n',
  'voltage_ln_avg',
  'current_l1',
  'frequency',
  'power_factor_total',
];

const KILO_UNITS = new Set(['W', 'var', 'VA', 'Wh', 'varh', 'VAh']);

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-3)) return n.toExponential(2);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return String(Number(n.toFixed(digits)));
}

/**
 * "6.14 kW", "231.1 V", "0.91", "on". Watts and the like above 10 k are shown
 * in k; with `kilo: 'always'` they always are, so that a column of several
 * devices shows one unit per quantity.
 */
export function formatValue(value: PointValue | undefined, unit = '', kilo: 'auto' | 'always' = 'auto'): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'string') return value;
  if (KILO_UNITS.has(unit) && (kilo === 'always' || Math.abs(value) >= 10000)) return `${formatNumber(value / 1000)} k${unit}`;
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** Up to three values of a reading for the table, by the key point list, else the first numbers; power and energy always in k. */
export function keyValues(payload: Record<string, PointValue>, units: Record<string, string>, keyPoints: readonly string[], max = 3): string {
  const names = keyPoints.filter((p) => p in payload);
  if (!names.length) {
    for (const [name, v] of Object.entries(payload)) {
      if (typeof v === 'number' && names.length < max) names.push(name);
    }
  }
  return names
    .slice(0, max)
    .map((p) => formatValue(payload[p], units[p] ?? '', 'always'))
    .join(' · ');
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${formatNumber(v)} ${units[i]}`;
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

/**
 * Why a device is not online, in words an operator can act on; undefined when
 * it is online. Times are UTC (hh:mm:ss) so every viewer reads the same text.
 */
export function explainStatus(h: DeviceHealth | undefined, now: number, intervalMs?: number): string | undefined {
  if (!h) return 'no figures yet: the device has not reported since the last deploy';
  const last = h.lastError ? `; last error: ${withoutNextTry(h.lastError)}` : '';
  switch (h.status) {
    case 'online':
      return undefined;
    case 'unknown':
      return 'no reading yet since the last deploy';
    case 'offline': {
      const n = h.consecutiveFailures;
      const failures = n > 1 ? `the last ${n} polls failed` : n === 1 ? 'the last poll failed' : 'its polls fail';
      const retry = h.backoff.active && h.backoff.retryAt ? `; the line skips it, next try in ${formatDuration(h.backoff.retryAt - now)}` : '';
      const since = h.lastGoodAt ? `; last good reading ${formatDuration(now - h.lastGoodAt)} ago (${clock(h.lastGoodAt)} UTC)` : '; no good reading since the last deploy';
      return `offline: ${failures}${retry}${since}${last}`;
    }
    case 'stale': {
      const heard = Math.max(h.lastGoodAt ?? 0, h.lastPollAt ?? 0);
      const every = intervalMs ? ` (polled every ${formatDuration(intervalMs)})` : '';
      return heard
        ? `stale: no good reading for ${formatDuration(now - heard)}${every}: the poller may be stopped or the values come from a cache${last}`
        : `stale: nothing heard${every}${last}`;
    }
  }
  return undefined;
}

/** An error text without the line's "next try in N s": the explanation says when once. */
export function withoutNextTry(text: string): string {
  return text.replace(/; next try in [\d.]+ s/g, '');
}
