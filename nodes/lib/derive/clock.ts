/**
 * Clock-aligned intervals in the process's local time (the TZ of Node-RED):
 * a 15-minute interval starts at :00, :15, :30 and :45 of the wall clock, also
 * in zones with half-hour offsets, and days and months start at local midnight,
 * so a DST change makes a day 23 or 25 hours long but leaves intervals whole.
 */

export const INTERVAL_MINUTES: readonly number[] = [1, 5, 10, 15, 30, 60];

const MINUTE = 60_000;

function offsetMs(t: number): number {
  return -new Date(t).getTimezoneOffset() * MINUTE;
}

/** Start (ms since epoch) of the `minutes`-long interval that contains `t`. */
export function intervalStart(t: number, minutes: number): number {
  const len = minutes * MINUTE;
  const local = t + offsetMs(t);
  return t - (((local % len) + len) % len);
}

/** Start of the next interval after the one containing `t`. */
export function intervalEnd(t: number, minutes: number): number {
  const start = intervalStart(t, minutes);
  // Across a DST change the local clock jumps by whole hours, so the plain length is right.
  return start + minutes * MINUTE;
}

/** Local calendar day `YYYY-MM-DD` and month `YYYY-MM` of `t`, for maximum demand per day and month. */
export function dayKey(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function monthKey(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}
