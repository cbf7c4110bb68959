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
    const seg: Segment = { start, words: new Uint16Array(stop - start), times: new Float64Array(stop - start) };
    for (const s of merged) {
      seg.words.set(s.words, s.start - start);
      seg.times.set(s.times, s.start - start);
    }
    for (let k = 0; k < n; k++) seg.words[address - start + k] = values[k];
    seg.times.fill(time, address - start, end - start);
    this.segments.splice(first, last - first, seg);
  }

  /**
   * The registers [address, address + quantity): their words, 'unknown' when any
   * of them was never read, 'stale' when any was read more than `ttlMs` before `now`.
   */
  read(address: number, quantity: number, now: number, ttlMs: number): TableRead {
    const end = address + quantity;
    for (const s of this.segments) {
      const sEnd = s.start + s.words.length;
      if (s.start <= address && end <= sEnd) {
        const base = address - s.start;
        const oldest = now - ttlMs;
        const times = s.times;
        for (let k = base, stop = base + quantity; k < stop; k++) if (times[k] < oldest) return 'stale';
        return s.words.subarray(base, base + quantity);
      }
      if (s.start >= end) break;
    }
    return 'unknown';
  }

  /** Oldest read time over the whole table, or undefined when empty. */
  oldest(): number | undefined {
    let t = Infinity;
    for (const s of this.segments) for (let k = 0; k < s.times.length; k++) if (s.times[k] < t) t = s.times[k];
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
