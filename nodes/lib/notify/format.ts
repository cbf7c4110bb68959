/**
 * Turns a batch of notices into chat messages within a length limit.
 *
 * A few notices get one line each from the template. Many (a storm) are
 * grouped by state, rule and severity: one heading per group, then the
 * devices compactly, so a thousand alerts fit in a handful of messages and
 * every one of them is still named. Each message lists which entries it
 * carries, so a message that went out is never sent again.
 */
import { formatValue } from '../alert/text';
import type { AlertPayload, AlertState, Severity } from '../alert/types';
import type { EntryId, OutboxEntry } from './types';

/** How a service marks up text: escaping of data and a bold heading. */
export interface Markup {
  escape(text: string): string;
  bold(text: string): string;
}

export const PLAIN: Markup = { escape: (t) => t, bold: (t) => t };

export interface FormatOptions {
  /** Longest message the service accepts (characters, counted on the marked-up text). */
  maxChars: number;
  markup: Markup;
  /** Per-alert line: {icon} {STATE} {state} {severity} {category} {device} {point} {value} {unit} {limit} {time} {text} {rule} {id}. */
  template: string;
  /** Up to this many notices in a batch, one line each; above it, grouped. */
  detailedUpTo: number;
  /** IANA time zone for times in messages (default: the system's). */
  timeZone?: string;
  /** Prefix of every message, e.g. the site name. */
  title?: string;
}

export const DEFAULT_TEMPLATE = '{icon} {STATE} {severity} · {text} · {time}';

/** The user's message settings as a chat service takes them; empty ones fall back to the defaults. */
export type UserFormat = Partial<Pick<FormatOptions, 'template' | 'detailedUpTo' | 'timeZone' | 'title'>>;

/** Format options of a chat service: its own length limit and markup, then the user's settings. */
export function serviceFormat(maxChars: number, markup: Markup, user: UserFormat): FormatOptions {
  return {
    maxChars,
    markup,
    template: user.template || DEFAULT_TEMPLATE,
    detailedUpTo: user.detailedUpTo ?? 8,
    timeZone: user.timeZone,
    title: user.title,
  };
}

export interface FormattedMessage {
  /** The message text without heading. */
  body: string;
  ids: EntryId[];
  /** Most urgent severity in it, for colours. */
  severity: Severity | undefined;
  /** 1-based part number and count, when a batch needs several messages. */
  part: number;
  parts: number;
}

const ICON: Record<AlertState, Record<Severity, string>> = {
  raised: { critical: '🔴', major: '🟠', minor: '🟡', warning: '🟡', info: '🔵' },
  acknowledged: { critical: '☑️', major: '☑️', minor: '☑️', warning: '☑️', info: '☑️' },
  cleared: { critical: '🟢', major: '🟢', minor: '🟢', warning: '🟢', info: '🟢' },
};

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

export function icon(a: AlertPayload): string {
  return ICON[a.state][a.severity] ?? '⚪';
}

function mostSevere(list: (Severity | undefined)[]): Severity | undefined {
  let best: Severity | undefined;
  for (const s of list) if (s && (!best || SEVERITY_RANK[s] < SEVERITY_RANK[best])) best = s;
  return best;
}

export function formatTime(ms: number, timeZone?: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  }).formatToParts(new Date(ms));
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${p('timeZoneName')}`;
}

/** Fills the per-alert template; data is escaped for the service's markup. */
export function alertLine(a: AlertPayload, opts: Pick<FormatOptions, 'template' | 'markup' | 'timeZone'>): string {
  const esc = opts.markup.escape;
  return opts.template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    switch (key) {
      case 'icon': return icon(a);
      case 'STATE': return opts.markup.bold(a.state.toUpperCase());
      case 'state': return a.state;
      case 'severity': return a.severity;
      case 'category': return a.category;
      case 'device': return esc(a.device);
      case 'point': return esc(a.point);
      case 'value': return esc(formatValue(a.value));
      case 'unit': return esc(a.unit);
      case 'limit': return esc(formatValue(a.limit));
      case 'time': return formatTime(a.timestamp, opts.timeZone);
      case 'text': return esc(a.text);
      case 'rule': return esc(a.rule);
      case 'id': return esc(a.id);
      default: return whole;
    }
  });
}

interface Block {
  heading?: string;
  items: { text: string; id: EntryId }[];
  severity?: Severity;
  /** Items of a group are joined on lines; detailed lines stand alone. */
  inline: boolean;
}

/**
 * Lays out a batch (all of the same test flag) in messages whose body has at
 * most `opts.maxChars - reserved` characters; `reserved` is the room the
 * service keeps for its heading (see `heading`).
 */
export function formatBatch(entries: OutboxEntry[], opts: FormatOptions, reserved = 0): FormattedMessage[] {
  const blocks = entries.length <= opts.detailedUpTo ? detailedBlocks(entries, opts) : groupedBlocks(entries, opts);
  const room = opts.maxChars - reserved;
  if (room < 40) throw new Error(`message limit ${opts.maxChars} leaves no room for text after a heading of ${reserved} characters`);
  const packed = pack(blocks, room);
  return packed.map((m, i) => ({ body: m.lines.join('\n'), ids: m.ids, severity: m.severity, part: i + 1, parts: packed.length }));
}

/** "🧪 TEST · Site A (2/5)": the first line of a message, or its embed title. */
export function heading(opts: Pick<FormatOptions, 'title' | 'markup'>, test: boolean, part: number, parts: number, fallback = ''): string {
  const title = opts.title ? opts.markup.escape(opts.title) : fallback;
  const words = [test ? '🧪 TEST' : '', title].filter(Boolean).join(' · ');
  const counter = parts > 1 ? `(${part}/${parts})` : '';
  return [words, counter].filter(Boolean).join(' ');
}

/** Room a heading can take at most, for `formatBatch`'s `reserved`. */
export function headingRoom(opts: Pick<FormatOptions, 'title' | 'markup'>, fallback = ''): number {
  return heading(opts, true, 999, 999, fallback).length + 1;
}

function detailedBlocks(entries: OutboxEntry[], opts: FormatOptions): Block[] {
  return entries.map(({ id, notice }) => {
    if (notice.alert) return { items: [{ text: alertLine(notice.alert, opts), id }], severity: notice.alert.severity, inline: false };
    return { items: [{ text: opts.markup.escape(notice.text ?? ''), id }], inline: false };
  });
}

function groupedBlocks(entries: OutboxEntry[], opts: FormatOptions): Block[] {
  const groups = new Map<string, { alerts: { a: AlertPayload; id: EntryId }[] }>();
  const texts: Block[] = [];
  for (const { id, notice } of entries) {
    const a = notice.alert;
    if (!a) {
      texts.push({ items: [{ text: opts.markup.escape(notice.text ?? ''), id }], inline: false });
      continue;
    }
    const key = `${a.state}\u0000${a.severity}\u0000${a.rule}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { alerts: [] }));
    g.alerts.push({ a, id });
  }
  const ordered = [...groups.values()].sort((x, y) => groupRank(x.alerts[0].a) - groupRank(y.alerts[0].a));
  return [...ordered.map((g) => groupBlock(g.alerts, opts)), ...texts];
}

/** Raised first, most severe first; then acknowledged; cleared last. */
function groupRank(a: AlertPayload): number {
  const state = a.state === 'raised' ? 0 : a.state === 'acknowledged' ? 1 : 2;
  return state * 10 + SEVERITY_RANK[a.severity];
}

function groupBlock(alerts: { a: AlertPayload; id: EntryId }[], opts: FormatOptions): Block {
  const esc = opts.markup.escape;
  const first = alerts[0].a;
  const points = new Set(alerts.map((x) => x.a.point));
  const units = new Set(alerts.map((x) => x.a.unit));
  const unit = units.size === 1 ? first.unit : '';
  const times = alerts.map((x) => x.a.timestamp);
  const from = formatTime(Math.min(...times), opts.timeZone);
  const to = formatTime(Math.max(...times), opts.timeZone);
  const span = from === to ? from : `${from} – ${to.slice(11)}`;
  const what = points.size === 1 ? `${first.kind} ${esc(first.point)}` : esc(first.rule);
  const limit = first.limit !== null && first.limit !== undefined ? ` (limit ${esc(formatValue(first.limit))}${unit ? ` ${esc(unit)}` : ''})` : '';
  const heading = `${icon(first)} ${opts.markup.bold(first.state.toUpperCase())} ${first.severity} · ${what}${limit} · ${alerts.length} alert${alerts.length === 1 ? '' : 's'} · ${span}`;
  const items = alerts.map(({ a, id }) => {
    const value = a.state === 'acknowledged' ? '' : ` ${formatValue(a.value)}${unit ? '' : a.unit ? ` ${a.unit}` : ''}`;
    return { text: esc(`${a.device}${points.size === 1 ? '' : ` ${a.point}`}${value}`), id };
  });
  return { heading, items, severity: first.severity, inline: true };
}

interface Packed {
  lines: string[];
  ids: EntryId[];
  len: number;
  severity?: Severity;
}

const LINE_WIDTH = 160;

function pack(blocks: Block[], room: number): Packed[] {
  const out: Packed[] = [];
  let cur: Packed = { lines: [], ids: [], len: 0 };
  const flush = () => {
    if (cur.lines.length) out.push(cur);
    cur = { lines: [], ids: [], len: 0 };
  };
  const addLine = (line: string) => {
    cur.len += (cur.lines.length ? 1 : 0) + line.length;
    cur.lines.push(line);
  };
  const fits = (extra: number) => cur.len + (cur.lines.length ? 1 : 0) + extra <= room;

  for (const block of blocks) {
    const heading = block.heading ? truncate(block.heading, room - 20) : undefined;
    let headed = false;
    let line = '';
    let lineIds: EntryId[] = [];
    const closeLine = () => {
      if (!line) return;
      addLine(line);
      cur.ids.push(...lineIds);
      line = '';
      lineIds = [];
    };
    for (const item of block.items) {
      const text = truncate(item.text, room - (heading ? heading.length + 12 : 0) - 1);
      if (block.inline && line && line.length + 2 + text.length <= LINE_WIDTH && fits(line.length + 2 + text.length)) {
        line += `, ${text}`;
        lineIds.push(item.id);
        continue;
      }
      closeLine();
      const need = (headed ? 0 : (heading?.length ?? -1) + 1) + text.length;
      if (!fits(need)) {
        flush();
        headed = false;
      }
      if (!headed && heading) {
        addLine(heading);
        headed = true;
      }
      cur.severity = mostSevere([cur.severity, block.severity]);
      line = text;
      lineIds = [item.id];
      if (!block.inline) closeLine();
    }
    closeLine();
  }
  flush();
  return out;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
