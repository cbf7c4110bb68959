/**
 * The alert engine: evaluates readings against rules and keeps the alert
 * lifecycle (raised → acknowledged → cleared).
 *
 * Speed comes from compiling on first sight: the first reading of a device
 * picks the rules whose device/profile/model/line selectors match it; the first
 * value of a point picks, among those, the rules whose point selector matches
 * and creates one tracker per rule. Every later value is a map lookup and a few
 * comparisons.
 */
import type { PointValue, Quality, ReadingMeta } from '../reading';
import { compilePattern, isPattern, NameMatcher } from './glob';
import { alertText } from './text';
import { Condition, limitCondition, newTracker, rateCondition, rateOf, stateMatches, Tracker } from './tracker';
import { AlertPayload, DEVICE_POINT, Rule, RuleProblem } from './types';
import { hasOwn, own } from '../own';

/** Any reading-shaped message: Modbus and IEC 61850 readings, health snapshots, hand-made objects. */
export interface AlertInput {
  payload: Record<string, PointValue>;
  rtu: Pick<ReadingMeta, 'device' | 'timestamp' | 'quality'> &
    Partial<Pick<ReadingMeta, 'units' | 'pointQuality' | 'profile' | 'model' | 'line' | 'error' | 'test'>>;
}

interface CompiledRule {
  rule: Rule;
  device: NameMatcher;
  point: NameMatcher;
  profile: NameMatcher;
  model: NameMatcher;
  line: NameMatcher;
  exactPoint: boolean;
}

interface DeviceEntry {
  name: string;
  profile?: string;
  model?: string;
  line?: string;
  rules: CompiledRule[];
  points: Map<string, Tracker[]>;
  offline: Tracker[];
  /** Exact-point rules were checked against a good reading. */
  checked: boolean;
}

const NONE: AlertPayload[] = [];

export interface EngineOptions {
  /** Called when the set of active alerts or their state changed (to persist them). */
  onChange?: () => void;
  /** Called once per problem found while meeting data (unknown point, wrong value type). */
  onProblem?: (problem: RuleProblem) => void;
}

export class AlertEngine {
  private compiled: CompiledRule[] = [];
  private devices = new Map<string, DeviceEntry>();
  private readonly activeById = new Map<string, AlertPayload>();
  /** Trackers waiting on an on-delay or off-delay, promoted by tick(). */
  private readonly timed = new Set<Tracker>();
  private readonly stale: Tracker[] = [];
  private readonly offline: Tracker[] = [];
  private out: AlertPayload[] = NONE;
  private testReading = false;
  /** Units of the reading being evaluated: a unit can arrive after the tracker was made. */
  private units: Record<string, string> | undefined;
  /** Point values evaluated since start (for the benchmark and the health figures). */
  valuesEvaluated = 0;

  constructor(rules: Rule[] = [], private readonly options: EngineOptions = {}, now = Date.now()) {
    this.setRules(rules, now);
  }

  get rules(): Rule[] {
    return this.compiled.map((c) => c.rule);
  }

  /**
   * Replaces the rules. Alerts of rules that still exist stay active and are
   * picked up again by the new trackers; alerts of removed rules are cleared.
   */
  setRules(rules: Rule[], now = Date.now()): AlertPayload[] {
    this.compiled = rules.map((rule) => ({
      rule,
      device: compilePattern(rule.device),
      point: compilePattern(rule.point),
      profile: compilePattern(rule.profile),
      model: compilePattern(rule.model),
      line: compilePattern(rule.line),
      exactPoint: rule.point !== DEVICE_POINT && !isPattern(rule.point),
    }));
    this.devices = new Map();
    this.timed.clear();
    this.stale.length = 0;
    this.offline.length = 0;
    const events = this.clearOrphans(now);
    this.watchNamedDevices(now);
    return events;
  }

  /** Evaluates one reading; returns the alerts that changed state (usually none). */
  evaluate(msg: AlertInput): AlertPayload[] {
    const meta = msg.rtu;
    const payload = msg.payload;
    let entry = this.devices.get(meta.device);
    if (entry === undefined || entry.profile !== meta.profile || entry.model !== meta.model || entry.line !== meta.line) {
      entry = this.compileDevice(meta, entry);
    }
    if (!entry.checked && meta.quality === 'good') this.checkPoints(entry, payload);
    this.out = NONE;
    this.testReading = meta.test === true;
    const ts = meta.timestamp;
    for (const t of entry.offline) this.stepOffline(t, meta.quality === 'bad', ts, meta.error ?? null);
    const pointQuality = meta.pointQuality;
    const units = meta.units;
    this.units = units;
    let n = 0;
    for (const name in payload) {
      let trackers = entry.points.get(name);
      if (trackers === undefined) trackers = this.compilePoint(entry, name, own(units, name) ?? '', ts);
      n++;
      if (trackers.length === 0) continue;
      const q = own(pointQuality, name) ?? meta.quality;
      const v = payload[name];
      // Trackers made before the point's first reading (rules naming it) learn its unit here,
      // so an alert raised later by tick() carries it too.
      const unit = own(units, name);
      for (let i = 0; i < trackers.length; i++) {
        const t = trackers[i];
        if (unit && t.unit !== unit) t.unit = unit;
        this.step(t, v, q, ts);
      }
    }
    this.valuesEvaluated += n;
    this.testReading = false;
    this.units = undefined;
    return this.out;
  }

  /** Promotes delayed raises and clears, and checks stale and offline timeouts. Call about once a second. */
  tick(now = Date.now()): AlertPayload[] {
    this.out = NONE;
    for (const t of this.stale) {
      const age = now - t.lastSeenAt;
      if (t.alert === undefined && age > t.rule.timeoutMs) this.raise(t, round1(age / 1000), t.rule.timeoutMs / 1000, now);
    }
    for (const t of this.offline) {
      if (t.rule.timeoutMs > 0 && now - t.lastSeenAt > t.rule.timeoutMs) {
        const silent = `no reading for ${round1((now - t.lastSeenAt) / 1000)} s`;
        this.transition(t, 1, silent, t.rule.timeoutMs / 1000, now);
      }
    }
    for (const t of [...this.timed]) {
      if (t.alert === undefined && !Number.isNaN(t.pendingSince)) {
        this.transition(t, 1, t.pendingValue, t.pendingLimit, now);
      } else if (t.alert !== undefined && !Number.isNaN(t.clearingSince)) {
        this.transition(t, -1, t.clearValue, null, now);
      } else {
        this.timed.delete(t);
      }
    }
    return this.out;
  }

  /**
   * Acknowledges active alerts: by id, by pattern on the id (`meter-7/*`), or
   * every one (`*`). Returns the acknowledged events and how many matched.
   */
  acknowledge(selector: string | string[], by: string, now = Date.now()): AlertPayload[] {
    const selectors = (Array.isArray(selector) ? selector : [selector]).map(compilePattern);
    const events: AlertPayload[] = [];
    for (const a of this.activeById.values()) {
      if (a.state !== 'raised' || !selectors.some((m) => m(a.id))) continue;
      a.state = 'acknowledged';
      a.acknowledgedBy = by;
      a.acknowledgedAt = now;
      a.timestamp = now;
      a.text = alertText(this.ruleById(a.rule)?.text, a, by);
      events.push({ ...a });
    }
    if (events.length) this.options.onChange?.();
    return events;
  }

  /** Copies of the active alerts, oldest first, marked as re-announced. */
  reannounce(): AlertPayload[] {
    return this.active().map((a) => ({ ...a, reannounced: true as const }));
  }

  active(): AlertPayload[] {
    return [...this.activeById.values()].sort((a, b) => a.raisedAt - b.raisedAt).map((a) => ({ ...a }));
  }

  get activeCount(): number {
    return this.activeById.size;
  }

  /**
   * Takes back alerts persisted before a restart or redeploy. They stay active
   * without a new raise; those whose rule is gone are cleared.
   */
  restore(alerts: AlertPayload[], now = Date.now()): AlertPayload[] {
    for (const a of alerts) {
      if (a && typeof a.id === 'string' && (a.state === 'raised' || a.state === 'acknowledged')) {
        this.activeById.set(a.id, { ...a });
      }
    }
    for (const entry of this.devices.values()) {
      for (const list of entry.points.values()) for (const t of list) t.alert = this.activeById.get(t.id);
      for (const t of entry.offline) t.alert = this.activeById.get(t.id);
    }
    const events = this.clearOrphans(now);
    this.options.onChange?.();
    return events;
  }

  private ruleById(id: string): Rule | undefined {
    return this.compiled.find((c) => c.rule.id === id)?.rule;
  }

  private clearOrphans(now: number): AlertPayload[] {
    const events: AlertPayload[] = [];
    for (const a of [...this.activeById.values()]) {
      if (this.ruleById(a.rule)) continue;
      this.activeById.delete(a.id);
      events.push({ ...a, state: 'cleared', timestamp: now, text: `cleared (rule "${a.rule}" removed): ${a.text}` });
    }
    if (events.length) this.options.onChange?.();
    return events;
  }

  /** Rules naming one device exactly can watch it before its first reading: it may never send one. */
  private watchNamedDevices(now: number): void {
    for (const c of this.compiled) {
      const r = c.rule;
      if ((r.kind === 'offline' || (r.kind === 'stale' && c.exactPoint)) && !isPattern(r.device) && r.device !== '*') {
        if (!this.devices.has(r.device)) this.compileDevice({ device: r.device, timestamp: now }, undefined);
      }
    }
  }

  private compileDevice(
    meta: Pick<ReadingMeta, 'device' | 'timestamp'> & Partial<Pick<ReadingMeta, 'profile' | 'model' | 'line'>>,
    previous: DeviceEntry | undefined,
  ): DeviceEntry {
    const reuse = new Map<string, Tracker>();
    if (previous) {
      for (const list of previous.points.values()) for (const t of list) reuse.set(t.id, t);
      for (const t of previous.offline) reuse.set(t.id, t);
      this.forget(previous);
    }
    const entry: DeviceEntry = {
      name: meta.device,
      profile: meta.profile,
      model: meta.model,
      line: meta.line,
      rules: this.compiled.filter((c) => c.device(meta.device) && c.profile(meta.profile ?? '') && c.model(meta.model ?? '') && c.line(meta.line ?? '')),
      points: new Map(),
      offline: [],
      checked: false,
    };
    const ts = meta.timestamp;
    for (const c of entry.rules) {
      if (c.rule.kind === 'offline') entry.offline.push(this.track(c.rule, entry.name, DEVICE_POINT, '', ts, reuse));
    }
    for (const c of entry.rules) {
      if (c.exactPoint && !entry.points.has(c.rule.point)) this.compilePoint(entry, c.rule.point, '', ts, reuse);
    }
    this.devices.set(entry.name, entry);
    return entry;
  }

  private compilePoint(entry: DeviceEntry, point: string, unit: string, ts: number, reuse?: Map<string, Tracker>): Tracker[] {
    const list: Tracker[] = [];
    for (const c of entry.rules) {
      if (c.rule.kind !== 'offline' && c.point(point)) list.push(this.track(c.rule, entry.name, point, unit, ts, reuse));
    }
    entry.points.set(point, list);
    return list;
  }

  private track(rule: Rule, device: string, point: string, unit: string, ts: number, reuse?: Map<string, Tracker>): Tracker {
    const t = reuse?.get(`${device}/${point}/${rule.id}`) ?? newTracker(rule, device, point, unit, ts);
    if (unit) t.unit = unit;
    t.alert = this.activeById.get(t.id);
    if (rule.kind === 'stale') this.stale.push(t);
    if (rule.kind === 'offline') this.offline.push(t);
    return t;
  }

  private forget(entry: DeviceEntry): void {
    const gone = new Set<Tracker>(entry.offline);
    for (const list of entry.points.values()) for (const t of list) gone.add(t);
    for (const list of [this.stale, this.offline]) {
      const kept = list.filter((t) => !gone.has(t));
      list.length = 0;
      list.push(...kept);
    }
    for (const t of gone) this.timed.delete(t);
  }

  private checkPoints(entry: DeviceEntry, payload: Record<string, PointValue>): void {
    entry.checked = true;
    for (const c of entry.rules) {
      if (!c.exactPoint || hasOwn(payload, c.rule.point)) continue;
      const known = Object.keys(payload);
      this.options.onProblem?.({
        level: 'warning',
        rule: c.rule.id,
        source: c.rule.source,
        field: 'point',
        device: entry.name,
        point: c.rule.point,
        message: `rule "${c.rule.id}": device "${entry.name}" has no point "${c.rule.point}" (it sends ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})`,
      });
    }
  }

  private step(t: Tracker, v: PointValue, q: Quality, ts: number): void {
    if (q !== 'good' || v === null) return;
    const kind = t.rule.kind;
    if (kind === 'stale') {
      t.lastSeenAt = ts;
      if (t.alert !== undefined) this.clear(t, v, ts);
      return;
    }
    if (kind === 'state') {
      this.transition(t, stateMatches(t.rule.value, v) ? 1 : -1, v, t.rule.value, ts);
      return;
    }
    if (typeof v !== 'number') {
      this.wrongType(t, v);
      return;
    }
    if (kind === 'rate') {
      const rate = rateOf(t, v, ts);
      if (!Number.isNaN(rate)) this.transition(t, rateCondition(t, rate), round3(rate), t.pendingLimit, ts);
      return;
    }
    this.transition(t, limitCondition(t, v), v, t.pendingLimit, ts);
  }

  private stepOffline(t: Tracker, bad: boolean, ts: number, error: string | null): void {
    t.lastSeenAt = ts;
    this.transition(t, bad ? 1 : -1, bad ? error : null, t.rule.timeoutMs ? t.rule.timeoutMs / 1000 : null, ts);
  }

  private transition(t: Tracker, c: Condition, value: PointValue, limit: PointValue, ts: number): void {
    const r = t.rule;
    if (t.alert === undefined) {
      if (c !== 1) {
        t.pendingSince = NaN;
        return;
      }
      if (Number.isNaN(t.pendingSince)) t.pendingSince = ts;
      if (ts - t.pendingSince >= r.onDelayMs) {
        this.raise(t, value, limit, ts);
      } else {
        t.pendingValue = value;
        t.pendingLimit = limit;
        this.timed.add(t);
      }
      return;
    }
    if (c !== -1) {
      t.clearingSince = NaN;
      return;
    }
    if (Number.isNaN(t.clearingSince)) t.clearingSince = ts;
    if (ts - t.clearingSince >= r.offDelayMs) {
      this.clear(t, value, ts);
    } else {
      t.clearValue = value;
      this.timed.add(t);
    }
  }

  private raise(t: Tracker, value: PointValue, limit: PointValue, ts: number): void {
    const r = t.rule;
    const fresh = own(this.units, t.point);
    if (fresh) t.unit = fresh;
    const unit = unitOf(t, 'raised');
    const a: AlertPayload = {
      id: t.id,
      state: 'raised',
      severity: r.severity,
      category: r.category,
      device: t.device,
      point: t.point,
      value,
      limit,
      unit,
      rule: r.id,
      kind: r.kind,
      timestamp: ts,
      raisedAt: ts,
      text: '',
    };
    a.text = alertText(r.text, a);
    if (this.testReading) a.test = true;
    t.alert = a;
    t.pendingSince = NaN;
    t.clearingSince = NaN;
    this.activeById.set(a.id, a);
    this.emit(a);
  }

  private clear(t: Tracker, value: PointValue, ts: number): void {
    const a = t.alert;
    if (!a) return;
    t.alert = undefined;
    t.pendingSince = NaN;
    t.clearingSince = NaN;
    this.activeById.delete(a.id);
    const cleared: AlertPayload = { ...a, state: 'cleared', value, unit: unitOf(t, 'cleared'), timestamp: ts, text: '' };
    delete cleared.reannounced;
    cleared.text = alertText(t.rule.text, cleared);
    if (this.testReading) cleared.test = true;
    this.emit(cleared);
  }

  private emit(a: AlertPayload): void {
    if (this.out === NONE) this.out = [];
    this.out.push({ ...a });
    this.options.onChange?.();
  }

  private wrongType(t: Tracker, v: PointValue): void {
    if (t.warned) return;
    t.warned = true;
    this.options.onProblem?.({
      level: 'warning',
      rule: t.rule.id,
      source: t.rule.source,
      field: 'point',
      device: t.device,
      point: t.point,
      message: `rule "${t.rule.id}" (${t.rule.kind}) needs numbers, but ${t.device}/${t.point} carries ${typeof v} ${JSON.stringify(v)}`,
    });
  }
}

/** The unit of an alert's value: a stale alert's raise counts seconds, its clear carries the point's value. */
function unitOf(t: Tracker, state: 'raised' | 'cleared'): string {
  const r = t.rule;
  if (r.kind === 'offline') return '';
  if (r.kind === 'stale') return state === 'raised' ? 's' : t.unit;
  if (r.kind === 'rate') return `${t.unit}/${r.per === 1 ? '' : r.per}s`;
  return t.unit;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
