/**
 * Alert texts: the rule's own template when it has one, otherwise a default
 * sentence per rule kind that an operator can read on a phone.
 */
import type { PointValue } from '../reading';
import type { AlertPayload } from './types';

/** Numbers with at most 3 decimals and no trailing zeros; other values as text. */
export function formatValue(v: PointValue | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return String(Math.round(v * 1000) / 1000);
  }
  return String(v);
}

function withUnit(v: PointValue, unit: string): string {
  const text = formatValue(v);
  return unit && typeof v === 'number' ? `${text} ${unit}` : text;
}

export type TextFields = Pick<
  AlertPayload,
  'device' | 'point' | 'value' | 'limit' | 'unit' | 'severity' | 'category' | 'rule' | 'kind' | 'state'
>;

/** Replaces {device} {point} {value} {unit} {limit} {severity} {category} {rule} {kind} {state}; unknown keys stay. */
function renderTemplate(template: string, a: TextFields): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    switch (key) {
      case 'device': return a.device;
      case 'point': return a.point;
      case 'value': return formatValue(a.value);
      case 'limit': return formatValue(a.limit);
      case 'unit': return a.unit;
      case 'severity': return a.severity;
      case 'category': return a.category;
      case 'rule': return a.rule;
      case 'kind': return a.kind;
      case 'state': return a.state;
      default: return whole;
    }
  });
}

function defaultRaiseText(a: TextFields): string {
  const where = `${a.device} ${a.point}`;
  const v = withUnit(a.value, a.unit);
  const lim = withUnit(a.limit, a.unit);
  switch (a.kind) {
    case 'high': return `${where} ${v} above high limit ${lim}`;
    case 'highHigh': return `${where} ${v} above high-high limit ${lim}`;
    case 'low': return `${where} ${v} below low limit ${lim}`;
    case 'lowLow': return `${where} ${v} below low-low limit ${lim}`;
    case 'band': return `${where} ${v} outside band (crossed ${lim})`;
    case 'rate': return `${where} changing at ${v}, limit ${lim}`;
    case 'state': return `${where} is ${formatValue(a.value)}`;
    case 'stale': return `${where} no good value for ${formatValue(a.value)} s (timeout ${formatValue(a.limit)} s)`;
    case 'offline': return `${a.device} offline${a.value ? `: ${formatValue(a.value)}` : ''}`;
  }
}

export function alertText(template: string | undefined, a: TextFields, acknowledgedBy?: string): string {
  const body = template ? renderTemplate(template, a) : defaultRaiseText(a);
  if (a.state === 'cleared') {
    if (template) return `cleared: ${body}`;
    if (a.kind === 'offline') return `${a.device} back online`;
    return `${a.device} ${a.point} back to normal (${withUnit(a.value, a.unit)})`;
  }
  if (a.state === 'acknowledged') return `acknowledged${acknowledgedBy ? ` by ${acknowledgedBy}` : ''}: ${body}`;
  return body;
}
