/**
 * The alert vocabulary: the message rtu-alert emits, the rules it evaluates,
 * and the problems it reports about those rules. The notifiers, the README and
 * the dashboard all read these types, so they are the contract.
 */
import type { PointValue } from '../reading';

export type AlertState = 'raised' | 'cleared' | 'acknowledged';

/** Most to least urgent; notifiers sort and colour by this order. */
export type Severity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'major', 'minor', 'warning', 'info'];

export type Category = 'power' | 'communication' | 'system' | 'environmental' | 'security';
export const CATEGORIES: readonly Category[] = ['power', 'communication', 'system', 'environmental', 'security'];

/**
 * What a rule checks:
 * - `high` / `highHigh`: value above `limit`; `low` / `lowLow`: value below `limit`
 * - `band`: value outside `low` .. `high`
 * - `rate`: change per `per` seconds (default 1) beyond `limit` (`direction` rise, fall or both)
 * - `state`: value equals `value` (a breaker trip bit, a status text)
 * - `stale`: no good value of the point for `timeout` seconds
 * - `offline`: the device's polls fail (quality bad), or no reading for `timeout` seconds
 */
export type RuleKind = 'high' | 'highHigh' | 'low' | 'lowLow' | 'band' | 'rate' | 'state' | 'stale' | 'offline';
export const RULE_KINDS: readonly RuleKind[] = ['high', 'highHigh', 'low', 'lowLow', 'band', 'rate', 'state', 'stale', 'offline'];

/** Point name used by device-level rules (`offline`): `alert/<device>/_device`. */
export const DEVICE_POINT = '_device';

/**
 * The payload of an alert message (`msg.topic` = `alert/<device>/<point>`).
 *
 * One alert is one rule on one point of one device; `id` stays the same from
 * raise to clear and across restarts, so a notifier or a SCADA can pair the
 * events and an operator can acknowledge it by id.
 */
export interface AlertPayload {
  /** `<device>/<point>/<rule>`. */
  id: string;
  state: AlertState;
  severity: Severity;
  category: Category;
  device: string;
  /** The point name, or `_device` for device-level rules (offline). */
  point: string;
  /**
   * The value that caused this state change: the point value for limit and
   * state rules, the change per `per` seconds for rate rules, the age in
   * seconds for stale rules, the poll error text (or null) for offline rules.
   */
  value: PointValue;
  /** The limit crossed (`band`: the side crossed; `stale`/`offline`: the timeout in seconds; `state`: the alarm value). */
  limit: PointValue;
  /** Engineering unit of `value` ('' when unknown; 's' for stale ages; '<unit>/<per>s' for rates). */
  unit: string;
  /** Rule id (given in the rule, or derived from its type, device and point). */
  rule: string;
  kind: RuleKind;
  /** When this state change happened (ms since epoch; the reading's timestamp where there is one). */
  timestamp: number;
  /** When the alert was raised (ms since epoch); equals `timestamp` on the raise itself. */
  raisedAt: number;
  /** Human-readable line, from the rule's template or the default one. */
  text: string;
  /** Who acknowledged it (from the acknowledge message), once acknowledged. */
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  /** Set on the copies sent by a re-announce (at start-up when configured, or on request). */
  reannounced?: true;
  /** Set while the RTU is in test mode, or when the reading that caused it was a test reading. */
  test?: true;
}

export function alertTopic(device: string, point: string): string {
  return `alert/${device}/${point}`;
}

/** A rule as written in the editor or in YAML, before validation. */
export interface RuleSpec {
  id?: string;
  /** Device name or pattern (`*` any run of characters, `?` one character); default every device. */
  device?: string;
  /** Point name or pattern; not used by `offline`. */
  point?: string;
  /** Only devices with this meter profile / model / line (name or pattern). */
  profile?: string;
  model?: string;
  line?: string;
  type: RuleKind;
  limit?: number;
  low?: number;
  high?: number;
  /** Alarm value for `state` rules. */
  value?: PointValue;
  /** `rate`: the period `limit` refers to, in seconds (60 = per minute). */
  per?: number;
  direction?: 'rise' | 'fall' | 'both';
  /** `stale` / `offline`: seconds without a (good) reading. */
  timeout?: number;
  /** Hysteresis: how far back inside the limit the value must come before the alert clears. */
  deadband?: number;
  /** Seconds the condition must hold before raising / the return to normal must hold before clearing. */
  onDelay?: number;
  offDelay?: number;
  severity?: Severity;
  category?: Category;
  /** Template for the raise text: {device} {point} {value} {unit} {limit} {severity} {category} {rule} {kind}. */
  text?: string;
  enabled?: boolean;
}

/** A validated rule, ready to compile against devices and points. */
export interface Rule {
  id: string;
  kind: RuleKind;
  device: string;
  point: string;
  profile?: string;
  model?: string;
  line?: string;
  limit: number;
  low: number;
  high: number;
  value: PointValue;
  per: number;
  direction: 'rise' | 'fall' | 'both';
  timeoutMs: number;
  deadband: number;
  onDelayMs: number;
  offDelayMs: number;
  severity: Severity;
  category: Category;
  text?: string;
  /** Where it came from, for error messages: `dialog rule 3`, `rules.yaml rule 7 (line 40)`. */
  source: string;
}

/** Something wrong with a rule or with how it meets the data; shown in the node status and log. */
export interface RuleProblem {
  level: 'error' | 'warning';
  /** Rule id where known, else its source position. */
  rule: string;
  source: string;
  field?: string;
  device?: string;
  point?: string;
  message: string;
}
