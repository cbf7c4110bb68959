/**
 * Register blocks -> named engineering values. A point whose registers are
 * missing or undecodable becomes null with quality bad and a reason; decoding
 * never throws, so one bad point never costs the others their values.
 */
import { decodePoint, registerCount } from '../modbus/codec';
import { isBitTable, PointDef, RegisterBlock, RegisterType } from '../modbus/types';
import type { PointValue, Quality } from '../reading';

export interface DecodeResult {
  values: Record<string, PointValue>;
  /** Engineering unit per point that has one. */
  units: Record<string, string>;
  /** Only the points that are not good (the reading's per-point quality). */
  pointQuality: Record<string, Quality>;
  /** Why each bad point is bad. */
  problems: Record<string, string>;
  /** good when every point decoded, bad when none did, good with pointQuality entries otherwise. */
  quality: Quality;
}

/** Why a block cannot be used, or undefined when its values fit its table. */
export function blockProblem(block: RegisterBlock): string | undefined {
  const bits = isBitTable(block.registerType);
  if (!Array.isArray(block.values)) return `${block.registerType} block at ${block.address} has no value list`;
  for (let i = 0; i < block.values.length; i++) {
    const v = block.values[i];
    const ok = bits ? v === 0 || v === 1 : Number.isInteger(v) && v >= 0 && v <= 0xffff;
    if (!ok) {
      const expected = bits ? '0 or 1' : 'a 16-bit register value 0..65535';
      return `${block.registerType} ${block.address + i} holds ${JSON.stringify(v)}, not ${expected}`;
    }
  }
  return undefined;
}

interface Table {
  blocks: RegisterBlock[];
  /** Problems of blocks left out, reported for the points that needed them. */
  rejected: Array<{ block: RegisterBlock; problem: string }>;
}

function indexBlocks(blocks: RegisterBlock[]): Map<RegisterType, Table> {
  const tables = new Map<RegisterType, Table>();
  for (const block of blocks) {
    const table = tables.get(block.registerType) ?? { blocks: [], rejected: [] };
    tables.set(block.registerType, table);
    const problem = blockProblem(block);
    if (problem) table.rejected.push({ block, problem });
    else table.blocks.push(block);
  }
  return tables;
}

/** The words of [start, start + n) from one block, or stitched from adjacent blocks. */
function wordsFor(table: Table | undefined, start: number, n: number): { words: ArrayLike<number>; offset: number } | undefined {
  if (!table) return undefined;
  for (const b of table.blocks) {
    if (b.address <= start && start + n <= b.address + b.values.length) return { words: b.values, offset: start - b.address };
  }
  const words: number[] = [];
  for (let a = start; a < start + n; a++) {
    const b = table.blocks.find((x) => x.address <= a && a < x.address + x.values.length);
    if (!b) return undefined;
    words.push(b.values[a - b.address]);
  }
  return { words, offset: 0 };
}

function missingReason(point: PointDef, n: number, table: Table | undefined): string {
  const end = point.address + n - 1;
  const span = n > 1 ? `${point.address}..${end}` : String(point.address);
  const rejected = table?.rejected.find((r) => r.block.address <= end && point.address < r.block.address + (r.block.values?.length ?? 0));
  if (rejected) return `${point.registerType} ${span} is in an unusable block: ${rejected.problem}`;
  return `${point.registerType} ${span} was not read`;
}

/** Decodes every point from the blocks read; never throws. */
export function decodeBlocks(points: PointDef[], blocks: RegisterBlock[]): DecodeResult {
  const tables = indexBlocks(blocks);
  const result: DecodeResult = { values: {}, units: {}, pointQuality: {}, problems: {}, quality: 'good' };
  let bad = 0;
  for (const point of points) {
    if (point.unit) result.units[point.name] = point.unit;
    let value: PointValue = null;
    let problem: string | undefined;
    try {
      const n = registerCount(point);
      const table = tables.get(point.registerType);
      const found = wordsFor(table, point.address, n);
      if (!found) problem = missingReason(point, n, table);
      else {
        value = decodePoint(point, found.words, found.offset);
        // Meters send NaN for "no value": it is no reading, and JSON would turn it into null anyway.
        if (typeof value === 'number' && Number.isNaN(value)) {
          value = null;
          problem = `${point.registerType} ${point.address} holds NaN (the device has no value)`;
        }
      }
    } catch (err) {
      problem = (err as Error).message;
    }
    result.values[point.name] = value;
    if (problem) {
      bad++;
      result.pointQuality[point.name] = 'bad';
      result.problems[point.name] = problem;
    }
  }
  if (points.length && bad === points.length) result.quality = 'bad';
  return result;
}
