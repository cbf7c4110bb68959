/**
 * The latest value and quality of every point an expression can name, in flat
 * typed arrays indexed by a slot number fixed at deploy (or when a device first
 * appears), so evaluating an expression reads arrays instead of hashing names.
 */
import { compilePattern, isPattern, NameMatcher } from '../alert/glob';

/** Quality codes, ordered so the worst of several is their maximum. */
export const GOOD = 0;
export const STALE = 1;
export const BAD = 2;

/** Slots of every device matching a pattern that has a given point; grows as devices appear. */
export interface SlotGroup {
  readonly slots: number[];
}

interface PatternGroup extends SlotGroup {
  matches: NameMatcher;
  point: string;
}

export class PointTable {
  values = new Float64Array(64).fill(NaN);
  quality = new Uint8Array(64).fill(BAD);
  /** When each slot was last written (ms since epoch), for staleness of site points. */
  times = new Float64Array(64);
  private readonly byDevice = new Map<string, Map<string, number>>();
  private readonly groups: PatternGroup[] = [];
  private count = 0;

  /** The slot of `device.point`, created on first use. */
  slot(device: string, point: string): number {
    let points = this.byDevice.get(device);
    if (!points) {
      points = new Map();
      this.byDevice.set(device, points);
    }
    let slot = points.get(point);
    if (slot === undefined) {
      slot = this.count++;
      points.set(point, slot);
      this.grow();
      for (const g of this.groups) if (g.point === point && g.matches(device)) g.slots.push(slot);
    }
    return slot;
  }

  /** Slot if `device.point` has been seen, else undefined (no slot is created). */
  find(device: string, point: string): number | undefined {
    return this.byDevice.get(device)?.get(point);
  }

  /** The slots of a device's points that some expression reads, by point name. */
  pointsOf(device: string): ReadonlyMap<string, number> | undefined {
    return this.byDevice.get(device);
  }

  /** Creates the slots pattern groups want of a device seen for the first time. */
  enter(device: string): void {
    for (const g of this.groups) if (g.matches(device)) this.slot(device, g.point);
  }

  /** Every `device.point` whose device matches `pattern`, now and as devices appear later. */
  group(pattern: string, point: string): SlotGroup {
    const matches = isPattern(pattern) ? compilePattern(pattern) : (name: string) => name === pattern;
    const g: PatternGroup = { slots: [], matches, point };
    for (const [device, points] of this.byDevice) {
      const slot = points.get(point);
      if (slot !== undefined && matches(device)) g.slots.push(slot);
    }
    this.groups.push(g);
    return g;
  }

  set(slot: number, value: unknown, quality: number, time: number): void {
    this.values[slot] = typeof value === 'number' ? value : typeof value === 'boolean' ? (value ? 1 : 0) : NaN;
    this.quality[slot] = quality;
    this.times[slot] = time;
  }

  private grow(): void {
    if (this.count <= this.values.length) return;
    const size = this.values.length * 2;
    const values = new Float64Array(size).fill(NaN);
    values.set(this.values);
    const quality = new Uint8Array(size).fill(BAD);
    quality.set(this.quality);
    const times = new Float64Array(size);
    times.set(this.times);
    this.values = values;
    this.quality = quality;
    this.times = times;
  }
}
