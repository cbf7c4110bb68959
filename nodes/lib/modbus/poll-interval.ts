/**
 * A poller's interval as the editor gives it (seconds, or "as fast as
 * possible" ticked). A blank interval is an error, not flat-out polling:
 * polling as fast as the line allows is a choice of its own.
 */
export interface IntervalFields {
  /** Seconds between polls, as typed. */
  interval?: unknown;
  /** Poll as fast as the line allows; the interval is then ignored. */
  flatOut?: unknown;
}

/** Poll period in ms (0 = as fast as possible), or an error naming `where` and what was typed. */
export function pollIntervalMs(fields: IntervalFields, where: string): number {
  if (fields.flatOut === true || fields.flatOut === 'true') return 0;
  const raw = fields.interval;
  if (raw === undefined || raw === null || String(raw).trim() === '') {
    throw new Error(`${where}: no poll interval: enter it in seconds (e.g. 1), or tick "as fast as possible"`);
  }
  const seconds = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new Error(`${where}: poll interval "${String(raw)}" s is not a number of seconds > 0 (to poll without pause, tick "as fast as possible")`);
  }
  return Math.max(1, Math.round(seconds * 1000));
}
