/**
 * Request bodies of the HTTP publisher, rendered from queued records at send time:
 *
 * - document: a JSON array with one measurement document per device reading
 * - flat:     a JSON array with one row per point, in the shape of simple pollers:
 *             device_id, parameter, value, unit, timestamp, register_address, data_type,
 *             description (plus quality and message_id)
 * - influx:   InfluxDB line protocol, one line per reading (`measurement,tags fields time`),
 *             ready for /api/v2/write (v2) or /write (v1)
 * - template: a user template per reading (see template.ts), joined as a JSON array or lines
 *
 * Every message id is in the body (document `id`, flat `message_id`, template `{{id}}`), so
 * the receiver can drop duplicates. Line protocol carries no id: InfluxDB itself overwrites a
 * point with the same series and timestamp, so a redelivered reading changes nothing.
 */
import type { PointValue } from '../reading';
import { deviceBody } from './bodies';
import type { PublishRecord } from './record';
import { renderPayloadTemplate } from './template';
import { own } from '../own';

export type HttpFormat = 'document' | 'flat' | 'influx' | 'template';
export type InfluxPrecision = 'ns' | 'us' | 'ms' | 's';

export interface FormatOptions {
  format: HttpFormat;
  template?: string;
  /** How rendered templates are joined: a JSON array (default) or one per line. */
  templateJoin?: 'array' | 'lines';
  /** Line protocol measurement name (default "rtu"). */
  measurement?: string;
  precision?: InfluxPrecision;
  /** Overrides the content type of the format. */
  contentType?: string;
}

export interface FormatEntry {
  id: string;
  item: PublishRecord;
}

export interface RenderedBody {
  body: string;
  contentType: string;
}

function documentOf(e: FormatEntry): Record<string, unknown> {
  return { id: e.id, ...deviceBody(e.item) };
}

function flatRows(e: FormatEntry): Array<Record<string, unknown>> {
  const r = e.item;
  const timestamp = new Date(r.ts).toISOString();
  return Object.entries(r.values).map(([parameter, value]) => {
    const p = own(r.points, parameter);
    const row: Record<string, unknown> = {
      device_id: r.device,
      parameter,
      value,
      unit: own(r.units, parameter) ?? null,
      timestamp,
      register_address: p?.address ?? null,
      data_type: p?.dataType ?? null,
      description: p?.description ?? null,
      quality: r.pointQuality?.[parameter] ?? r.quality,
      message_id: e.id,
    };
    if (r.test) row.test = true;
    return row;
  });
}

// Line protocol escaping, per element as InfluxDB specifies it: measurement escapes comma and
// space; tag keys, tag values and field keys escape comma, equals sign and space; string field
// values are quoted and escape double quote and backslash. A backslash elsewhere is kept as it is
// (InfluxDB 1.x does not unescape "\\" in names); backslashes that end an element or stand before
// a comma, equals sign or space cannot be stored by InfluxDB 1.x and are left out. A newline cannot
// stand in a name: it is written as the two characters "\n".
const NAME_BREAKERS = new Set([',', '=', ' ', '\n']);

function escapeName(s: string, escaped: ReadonlySet<string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      let end = i;
      while (s[end] === '\\') end++;
      if (end === s.length || NAME_BREAKERS.has(s[end])) {
        i = end - 1;
        continue;
      }
    }
    if (c === '\n') out += '\\n';
    else out += escaped.has(c) ? `\\${c}` : c;
  }
  return out;
}

const MEASUREMENT_SPECIALS = new Set([',', ' ']);
const KEY_SPECIALS = new Set([',', '=', ' ']);
const escMeasurement = (s: string): string => escapeName(s, MEASUREMENT_SPECIALS);
const escKey = (s: string): string => escapeName(s, KEY_SPECIALS);
const escString = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

const PRECISION_FACTOR: Record<InfluxPrecision, bigint> = { ns: 1_000_000n, us: 1000n, ms: 1n, s: 0n };

function influxTime(ts: number, precision: InfluxPrecision): string {
  if (precision === 's') return String(Math.floor(ts / 1000));
  return (BigInt(Math.round(ts)) * PRECISION_FACTOR[precision]).toString();
}

function fieldValue(v: PointValue): string | undefined {
  if (v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return escString(v);
}

function influxLine(r: PublishRecord, measurement: string, precision: InfluxPrecision): string | undefined {
  const tags: Array<[string, string | undefined]> = [
    ['device', r.device],
    ['line', r.line],
    ['model', r.model],
    ['quality', r.quality],
    ['test', r.test ? 'true' : undefined],
  ];
  const tagText = tags
    .filter((t): t is [string, string] => !!t[1])
    .map(([k, v]) => `,${escKey(k)}=${escKey(v)}`)
    .join('');
  const fields = Object.entries(r.values)
    .map(([k, v]) => {
      const fv = fieldValue(v);
      return fv === undefined ? undefined : `${escKey(k)}=${fv}`;
    })
    .filter((f): f is string => !!f);
  if (!fields.length) return undefined; // a line needs at least one field
  return `${escMeasurement(measurement)}${tagText} ${fields.join(',')} ${influxTime(r.ts, precision)}`;
}

function templateContext(e: FormatEntry): Record<string, unknown> {
  const r = e.item;
  return {
    id: e.id,
    device: r.device,
    line: r.line ?? null,
    model: r.model ?? null,
    profile: r.profile ?? null,
    unitId: r.unitId ?? null,
    timestamp: new Date(r.ts).toISOString(),
    ts: r.ts,
    quality: r.quality,
    values: r.values,
    units: r.units,
    points: r.points ?? {},
    window: r.window ?? null,
    test: !!r.test,
  };
}

export function renderBody(entries: FormatEntry[], opt: FormatOptions): RenderedBody {
  switch (opt.format) {
    case 'document':
      return { body: JSON.stringify(entries.map(documentOf)), contentType: opt.contentType || 'application/json' };
    case 'flat':
      return { body: JSON.stringify(entries.flatMap(flatRows)), contentType: opt.contentType || 'application/json' };
    case 'influx': {
      const lines = entries.map((e) => influxLine(e.item, opt.measurement || 'rtu', opt.precision ?? 'ms')).filter((l): l is string => !!l);
      return { body: lines.join('\n'), contentType: opt.contentType || 'text/plain; charset=utf-8' };
    }
    case 'template': {
      const parts = entries.map((e) => renderPayloadTemplate(opt.template ?? '', templateContext(e)));
      if (opt.templateJoin === 'lines') return { body: parts.join('\n'), contentType: opt.contentType || 'application/x-ndjson' };
      return { body: `[${parts.join(',')}]`, contentType: opt.contentType || 'application/json' };
    }
    default:
      throw new Error(`unknown payload format "${String(opt.format)}"`);
  }
}

/** Checks the format options by rendering a sample; returns the problem or undefined. */
export function formatProblem(opt: FormatOptions): string | undefined {
  if (!['document', 'flat', 'influx', 'template'].includes(opt.format)) {
    return `unknown payload format "${opt.format}"; use document, flat, influx or template`;
  }
  if (opt.format === 'influx' && opt.precision && !['ns', 'us', 'ms', 's'].includes(opt.precision)) {
    return `line protocol precision "${opt.precision}" is not ns, us, ms or s`;
  }
  if (opt.format !== 'template') return undefined;
  if (!opt.template || !opt.template.trim()) return 'the payload template is empty';
  const sample: FormatEntry = {
    id: 'sample-1',
    item: { device: 'meter1', ts: 0, quality: 'good', values: { power_total: 1 }, units: { power_total: 'W' } },
  };
  const body = renderBody([sample], opt).body;
  const looksJson = /^\s*[[{"]/.test(opt.template);
  if (looksJson && opt.templateJoin !== 'lines') {
    try {
      JSON.parse(body);
    } catch (err) {
      return `the payload template does not give valid JSON (${(err as Error).message}); a sample renders as ${body.slice(0, 200)}`;
    }
  }
  return undefined;
}
