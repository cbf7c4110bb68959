/**
 * The latest raw image of one register table of one device: sparse, as
 * segments of registers that have been read, merged when blocks touch or
 * overlap, each register with the time it was read. Typed arrays keep a
 * thousand devices in a few megabytes, and a poll that reads the same blocks
 * again writes in place without allocating.
 */

export interface Segment {
  start: number;
  words: Uint16Array;
  /** When each register was read (ms since epoch). */
  times: Float64Array;
  /**
   * The oldest of `times`, NaN until computed again after a write. Lets a read
   * of a fresh segment (the gateway's common case) skip checking every register.
   */
  oldest: number;
}

export type TableRead = Uint16Array | 'unknown' | 'stale';

export class RegisterTable {
  /** Sorted by start, never touching or overlapping each other. */
  readonly segments: Segment[] = [];

  write(address: number, values: ArrayLike<number>, time: number): void {
    const n = values.length;
    if (n === 0) return;
    const end = address + n;
    // Fast path: the block lies inside one segment, as on every poll after the first.
    for (const s of this.segments) {
      if (s.start <= address && end <= s.start + s.words.length) {
        const base = address - s.start;
        for (let k = 0; k < n; k++) s.words[base + k] = values[k];
        s.times.fill(time, base, base + n);
        s.oldest = NaN;
        return;
      }
    }
    // Merge with every segment the block touches (adjacent counts, so the image stays in few pieces).
    let first = 0;
    while (first < this.segments.length && this.segments[first].start + this.segments[first].words.length < address) first++;
    let last = first;
    while (last < this.segments.length && this.segments[last].start <= end) last++;
    const merged = this.segments.slice(first, last);
    const start = Math.min(address, ...merged.map((s) => s.start));
    const stop = Math.max(end, ...merged.map((s) => s.start + s.words.length));
    const seg: Segment = { start, words: new Uint16Array(stop - start), times: new Float64Array(stop - start), oldest: NaN };
    for (const s of merged) {
      seg.words.set(s.words, s.start - start);
      seg.times.set(s.times, s.start - start);
    }
    for (let k = 0; k < n; k++) seg.words[address - start + k] = values[k];
    seg.times.fill(time, address - start, end - start);
    this.segments.splice(first, last - first, seg);
  }

  /** Overwrites the registers of [address, address + values.length) that are in the image; returns how many. */
  patch(address: number, values: ArrayLike<number>, time: number): number {
    let patched = 0;
    for (const s of this.segments) {
      const from = Math.max(address, s.start);
      const to = Math.min(address + values.length, s.start + s.words.length);
      for (let a = from; a < to; a++) {
        s.words[a - s.start] = values[a - address];
        s.times[a - s.start] = time;
        patched++;
      }
      if (to > from) s.oldest = NaN;
    }
    return patched;
  }

  /**
   * The registers [address, address + quantity): their words, 'unknown' when any
   * of them was never read, 'stale' when any was read more than `ttlMs` before `now`.
   */
  read(address: number, quantity: number, now: number, ttlMs: number): TableRead {
    const end = address + quantity;
    const segments = this.segments;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      if (s.start <= address && end <= s.start + s.words.length) {
        const base = address - s.start;
        const limit = now - ttlMs;
        let oldest = s.oldest;
        if (oldest !== oldest) oldest = s.oldest = minimum(s.times);
        if (oldest < limit) {
          // Some register of the segment is old: only the requested ones decide.
          const times = s.times;
          for (let k = base, stop = base + quantity; k < stop; k++) if (times[k] < limit) return 'stale';
        }
        return s.words.subarray(base, base + quantity);
      }
      if (s.start >= end) break;
    }
    return 'unknown';
  }

  /** Oldest read time over the whole table, or undefined when empty. */
  oldest(): number | undefined {
    let t = Infinity;
    for (const s of this.segments) t = Math.min(t, minimum(s.times));
    return t === Infinity ? undefined : t;
  }

  registerCount(): number {
    let n = 0;
    for (const s of this.segments) n += s.words.length;
    return n;
  }

  /** Bytes held by the typed arrays. */
  byteSize(): number {
    let n = 0;
    for (const s of this.segments) n += s.words.byteLength + s.times.byteLength;
    return n;
  }
}

function minimum(times: Float64Array): number {
  let t = Infinity;
  for (let k = 0; k < times.length; k++) if (times[k] < t) t = times[k];
  return t;
}
