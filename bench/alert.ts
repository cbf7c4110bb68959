/**
 * Alert evaluation throughput: point values judged per second against a
 * realistic rule set (pattern rules over 1000 meters of 40 points), the cost
 * of first sight (compiling rules per device and point), a storm in which
 * every meter raises at once, and the grouping of that storm into chat
 * messages. Target: at least 100,000 point values/s.
 * Run: npm run build && node dist/bench/alert.js
 */
import { performance } from 'perf_hooks';
import { AlertEngine, AlertInput } from '../nodes/lib/alert/engine';
import { validateRules } from '../nodes/lib/alert/rules';
import type { AlertPayload } from '../nodes/lib/alert/types';
import { formatBatch, DEFAULT_TEMPLATE } from '../nodes/lib/notify/format';
import { telegramMarkup, TELEGRAM_TEXT_MAX } from '../nodes/lib/notify/telegram';
import { discordMarkup, DISCORD_CONTENT_MAX } from '../nodes/lib/notify/discord';
import type { OutboxEntry } from '../nodes/lib/notify/types';

const DEVICES = 1000;
const POINTS = [
  'voltage_l1_n', 'voltage_l2_n', 'voltage_l3_n', 'voltage_l1_l2', 'voltage_l2_l3', 'voltage_l3_l1',
  'current_l1', 'current_l2', 'current_l3', 'current_n', 'frequency', 'voltage_unbalance', 'current_unbalance',
  'power_l1', 'power_l2', 'power_l3', 'power_total', 'reactive_power_total', 'apparent_power_total',
  'power_factor_l1', 'power_factor_l2', 'power_factor_l3', 'power_factor_total', 'comm_errors',
  'thd_voltage_l1', 'thd_voltage_l2', 'thd_voltage_l3', 'thd_current_l1', 'thd_current_l2', 'thd_current_l3',
  'energy_import', 'energy_export', 'reactive_energy_import', 'reactive_energy_export', 'status', 'run_hours',
  'temperature', 'demand_power', 'max_demand_power', 'breaker_trip',
];

const specs = [
  { id: 'v-high', device: 'meter-*', point: 'voltage_l?_n', type: 'high', limit: 253, deadband: 2, onDelay: 5 },
  { id: 'v-highhigh', device: 'meter-*', point: 'voltage_l?_n', type: 'highHigh', limit: 264.5 },
  { id: 'v-low', device: 'meter-*', point: 'voltage_l?_n', type: 'low', limit: 207, deadband: 2, onDelay: 5 },
  { id: 'v-lowlow', device: 'meter-*', point: 'voltage_l?_n', type: 'lowLow', limit: 195.5 },
  { id: 'i-high', point: 'current_l*', type: 'high', limit: 63, deadband: 2 },
  { id: 'f-band', point: 'frequency', type: 'band', low: 49.8, high: 50.2, deadband: 0.05, severity: 'critical' },
  { id: 'p-rate', point: 'power_total', type: 'rate', limit: 500, per: 60 },
  { id: 'pf-low', point: 'power_factor_total', type: 'low', limit: 0.85, deadband: 0.02, onDelay: 60 },
  { id: 'thd-high', point: 'thd_voltage_l*', type: 'high', limit: 8, deadband: 0.5, onDelay: 30 },
  { id: 'unbalance', point: 'voltage_unbalance', type: 'high', limit: 2, deadband: 0.2 },
  { id: 'energy-stale', point: 'energy_import', type: 'stale', timeout: 300 },
  { id: 'temp-high', point: 'temperature', type: 'high', limit: 70, deadband: 5, category: 'environmental' },
  { id: 'trip', point: 'breaker_trip', type: 'state', value: true, severity: 'critical' },
  { id: 'offline', device: 'meter-*', type: 'offline', timeout: 60, onDelay: 10 },
];

const set = validateRules(specs.map((spec, i) => ({ spec, source: `bench rule ${i + 1}` })));
if (set.problems.length) throw new Error(set.problems.map((p) => p.message).join('\n'));

let seed = 11;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

function normalValue(point: string): number | boolean {
  if (point === 'breaker_trip') return false;
  if (point.startsWith('voltage_l') && point.endsWith('_n')) return 225 + rand() * 15;
  if (point.startsWith('voltage_l')) return 390 + rand() * 20;
  if (point === 'frequency') return 49.95 + rand() * 0.1;
  if (point.startsWith('power_factor')) return 0.9 + rand() * 0.08;
  if (point.startsWith('thd')) return 1 + rand() * 3;
  if (point.startsWith('current')) return 10 + rand() * 30;
  // Powers drift slowly (the rate rule stays quiet); counters and the rest vary freely.
  if (point === 'power_total') return 500 + rand() * 2;
  if (point === 'temperature') return 30 + rand() * 5;
  if (point.endsWith('_unbalance')) return 0.5 + rand();
  return rand() * 1000;
}

function readings(round: number, storm = false): AlertInput[] {
  const out: AlertInput[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const payload: Record<string, number | boolean> = {};
    for (const p of POINTS) payload[p] = normalValue(p);
    if (storm) payload.frequency = 49.5;
    out.push({ payload, rtu: { device: `meter-${d}`, timestamp: 1_700_000_000_000 + round * 1000, quality: 'good', units: { frequency: 'Hz' } } });
  }
  return out;
}

const engine = new AlertEngine(set.rules);
const values = DEVICES * POINTS.length;

// First sight: every device and point is compiled against the rules.
const first = readings(0);
let t = performance.now();
for (const r of first) engine.evaluate(r);
const firstMs = performance.now() - t;

// Steady state: pre-built rounds, so the figure is the engine's, not the generator's.
const rounds = Array.from({ length: 20 }, (_, i) => readings(i + 1));
t = performance.now();
let alerts = 0;
for (const round of rounds) for (const r of round) alerts += engine.evaluate(r).length;
const steadyMs = performance.now() - t;
const steadyRate = (values * rounds.length) / (steadyMs / 1000);

// Storm: every meter's frequency leaves the band in the same second.
const storm = readings(100, true);
const perReading: number[] = [];
const raised: AlertPayload[] = [];
t = performance.now();
for (const r of storm) {
  const t0 = performance.now();
  raised.push(...engine.evaluate(r));
  perReading.push(performance.now() - t0);
}
const stormMs = performance.now() - t;
perReading.sort((a, b) => a - b);
const p99 = perReading[Math.floor(perReading.length * 0.99)];

// The storm as chat messages.
const entries: OutboxEntry[] = raised.map((alert, i) => ({ id: String(i), notice: { alert, test: false, at: 0 } }));
t = performance.now();
const telegram = formatBatch(entries, { maxChars: TELEGRAM_TEXT_MAX, markup: telegramMarkup, template: DEFAULT_TEMPLATE, detailedUpTo: 8 }, 60);
const discord = formatBatch(entries, { maxChars: DISCORD_CONTENT_MAX, markup: discordMarkup, template: DEFAULT_TEMPLATE, detailedUpTo: 8 }, 60);
const formatMs = performance.now() - t;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`rules: ${set.rules.length} (patterns over ${DEVICES} meters x ${POINTS.length} points = ${fmt(values)} point values per round)`);
console.log(`first sight (compile every device and point): ${firstMs.toFixed(1)} ms`);
console.log(`steady state: ${fmt(steadyRate)} point values/s (${rounds.length} rounds in ${steadyMs.toFixed(0)} ms, ${alerts} state changes)`);
console.log(`storm: ${raised.length} alerts raised in ${stormMs.toFixed(1)} ms (${fmt(raised.length / (stormMs / 1000))} alerts/s), per reading p99 ${(p99 * 1000).toFixed(0)} µs`);
console.log(`storm as messages: Telegram ${telegram.length} messages (≤ ${TELEGRAM_TEXT_MAX} chars), Discord ${discord.length} (≤ ${DISCORD_CONTENT_MAX} chars), formatted in ${formatMs.toFixed(1)} ms`);
console.log(`target ≥ 100,000 point values/s: ${steadyRate >= 100_000 ? 'met' : 'NOT met'}`);
