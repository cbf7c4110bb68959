/**
 * CP56Time2a, the 7-octet time tag of IEC 60870-5-101/104: milliseconds in the
 * minute, minute + IV, hour + SU, day of month + day of week, month, year in
 * the century. The fields are kept as sent; converting to a Date is the
 * caller's choice of time zone (outstations often send local time).
 */
import { Iec104DecodeError } from './errors';

export interface Cp56Time {
  year: number; // full year, 2000..2099
  month: number; // 1..12
  day: number; // 1..31
  hour: number;
  minute: number;
  /** Milliseconds within the minute, 0..59999. */
  ms: number;
  /** 1 = Monday .. 7 = Sunday, 0 = not used. */
  dayOfWeek: number;
  summerTime: boolean;
  invalid: boolean;
  substituted: boolean;
}

export const CP56_LENGTH = 7;

export function decodeCp56(buf: Buffer, at: number): Cp56Time {
  if (buf.length - at < CP56_LENGTH) throw new Iec104DecodeError('asdu', 'CP56Time2a truncated', at);
  return {
    ms: buf.readUInt16LE(at),
    minute: buf[at + 2] & 0x3f,
    invalid: (buf[at + 2] & 0x80) !== 0,
    substituted: (buf[at + 2] & 0x40) !== 0,
    hour: buf[at + 3] & 0x1f,
    summerTime: (buf[at + 3] & 0x80) !== 0,
    day: buf[at + 4] & 0x1f,
    dayOfWeek: buf[at + 4] >> 5,
    month: buf[at + 5] & 0x0f,
    year: 2000 + (buf[at + 6] & 0x7f),
  };
}

export function encodeCp56(t: Cp56Time, out: Buffer, at: number): number {
  out.writeUInt16LE(t.ms & 0xffff, at);
  out[at + 2] = (t.minute & 0x3f) | (t.invalid ? 0x80 : 0) | (t.substituted ? 0x40 : 0);
  out[at + 3] = (t.hour & 0x1f) | (t.summerTime ? 0x80 : 0);
  out[at + 4] = (t.day & 0x1f) | ((t.dayOfWeek & 0x07) << 5);
  out[at + 5] = t.month & 0x0f;
  out[at + 6] = (t.year - 2000) & 0x7f;
  return at + CP56_LENGTH;
}

/** The time tag for a Date, read in UTC (utc = true) or in the process's local zone. */
export function cp56FromDate(date: Date, opts: { utc?: boolean; summerTime?: boolean; invalid?: boolean } = {}): Cp56Time {
  const utc = opts.utc !== false;
  const g = utc
    ? [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds(), date.getUTCMilliseconds(), date.getUTCDay()]
    : [date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds(), date.getMilliseconds(), date.getDay()];
  return {
    year: g[0],
    month: g[1] + 1,
    day: g[2],
    hour: g[3],
    minute: g[4],
    ms: g[5] * 1000 + g[6],
    dayOfWeek: g[7] === 0 ? 7 : g[7],
    summerTime: opts.summerTime ?? false,
    invalid: opts.invalid ?? false,
    substituted: false,
  };
}

/** The instant of a time tag, reading its fields as UTC (utc = true) or local time. */
export function cp56ToDate(t: Cp56Time, utc = true): Date {
  const sec = Math.floor(t.ms / 1000);
  const milli = t.ms % 1000;
  return utc
    ? new Date(Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, sec, milli))
    : new Date(t.year, t.month - 1, t.day, t.hour, t.minute, sec, milli);
}

/** ISO text without zone, e.g. 2024-03-15T14:25:36.789, as the fields say. */
export function cp56Iso(t: Cp56Time): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${t.year}-${p(t.month)}-${p(t.day)}T${p(t.hour)}:${p(t.minute)}:${p(Math.floor(t.ms / 1000))}.${p(t.ms % 1000, 3)}`;
}
