/**
 * The request planner: turns a device's points into the fewest read requests.
 *
 * Rules, per register table:
 * - a request never exceeds maxRegisters (<= 125) registers or maxBits (<= 2000) bits;
 * - a request never includes a neverRead address (registers some devices refuse or
 *   that have side effects when read);
 * - a request never splits a multi-register point;
 * - a request may bridge a hole of at most maxGap consecutive unused addresses
 *   ("unused" = not part of any point of that table). Default 10: on RS485 at
 *   9600 baud ten extra registers cost about 20 ms of wire time, less than the
 *   turnaround and silent intervals of one more request, while keeping reads clear
 *   of the large unmapped stretches that devices often answer with exceptions.
 *   The same number applies to coils and discrete inputs, counted in bits.
 *
 * Why the result is minimal: holes wider than maxGap and neverRead addresses
 * split a table into clusters that no valid request can cross. Inside a cluster
 * the planner repeatedly takes the unplanned point p that starts lowest and reads
 * from p's start as far as the limit allows, taking every unplanned point that
 * ends within it. Any plan must read p with some request R starting at or before
 * p's start; every unplanned point R covers starts at or after p and ends within
 * the limit from p's start, so the greedy request covers at least what R covers.
 * What is left is then a subset of what any other plan leaves, and by induction
 * the greedy plan needs no more requests than any other. test/unit/planner.test.ts
 * checks this against an exhaustive search.
 */
import { registerCount } from './codec';
import {
  isBitTable,
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  PointDef,
  READ_FUNCTION,
  REGISTER_TYPES,
  RegisterRange,
  RegisterType,
} from './types';

const DEFAULT_MAX_GAP = 10;

export interface PlanOptions {
  /** Widest hole of unused addresses a request may bridge (default 10). */
  maxGap?: number;
  /** Ranges that no request may include. */
  neverRead?: RegisterRange[];
  /** Registers per request for holding/input tables (1..125, default 125). */
  maxRegisters?: number;
  /** Bits per request for coil/discrete tables (1..2000, default 2000). */
  maxBits?: number;
}

export interface PlannedRead {
  registerType: RegisterType;
  fc: 1 | 2 | 3 | 4;
  address: number;
  quantity: number;
  points: PointDef[];
}

export interface ReadPlan {
  requests: PlannedRead[];
  /** Registers read per poll (holding + input). */
  registersTouched: number;
  /** Bits read per poll (coils + discrete inputs). */
  bitsTouched: number;
  /** "N requests touching M registers" (and bits, when there are any), for the editor and the log. */
  summary: string;
}

/** One or more points cannot be read under the given rules; `problems` names each point. */
export class PlanError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'PlanError';
  }
}

interface Span {
  point: PointDef;
  start: number;
  end: number; // exclusive
}

function checkLimit(name: string, value: number | undefined, fallback: number, top: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > top) {
    throw new PlanError([`${name} ${value} is outside 1..${top}`]);
  }
  return value;
}

function blockedIn(ranges: RegisterRange[], start: number, end: number): RegisterRange | undefined {
  return ranges.find((r) => r.address < end && r.address + r.quantity > start);
}

/** Splits a table's spans (sorted by start) into clusters no request can cross. */
function clusters(spans: Span[], maxGap: number, blocked: RegisterRange[]): Span[][] {
  const out: Span[][] = [];
  let current: Span[] = [];
  let usedEnd = -1;
  for (const span of spans) {
    if (current.length && span.start > usedEnd) {
      const gap = span.start - usedEnd;
      if (gap > maxGap || blockedIn(blocked, usedEnd, span.start)) {
        out.push(current);
        current = [];
      }
    }
    current.push(span);
    usedEnd = Math.max(usedEnd, span.end);
  }
  if (current.length) out.push(current);
  return out;
}

function planCluster(registerType: RegisterType, spans: Span[], limit: number): PlannedRead[] {
  const requests: PlannedRead[] = [];
  let open = spans;
  while (open.length) {
    const start = open[0].start;
    const taken: Span[] = [];
    const rest: Span[] = [];
    for (const span of open) (span.end <= start + limit ? taken : rest).push(span);
    const end = Math.max(...taken.map((s) => s.end));
    requests.push({
      registerType,
      fc: READ_FUNCTION[registerType],
      address: start,
      quantity: end - start,
      points: taken.map((s) => s.point),
    });
    open = rest;
  }
  return requests;
}

function describe(plan: Omit<ReadPlan, 'summary'>): string {
  const n = plan.requests.length;
  let text = `${n} request${n === 1 ? '' : 's'} touching ${plan.registersTouched} register${plan.registersTouched === 1 ? '' : 's'}`;
  if (plan.bitsTouched) text += ` and ${plan.bitsTouched} bit${plan.bitsTouched === 1 ? '' : 's'}`;
  return text;
}

/** Plans the fewest reads covering every point; throws PlanError naming each point that cannot be read. */
export function planReads(points: PointDef[], opts: PlanOptions = {}): ReadPlan {
  const maxGap = opts.maxGap ?? DEFAULT_MAX_GAP;
  if (!Number.isInteger(maxGap) || maxGap < 0) throw new PlanError([`maxGap ${maxGap} must be a whole number of 0 or more`]);
  const maxRegisters = checkLimit('maxRegisters', opts.maxRegisters, MAX_READ_REGISTERS, MAX_READ_REGISTERS);
  const maxBits = checkLimit('maxBits', opts.maxBits, MAX_READ_BITS, MAX_READ_BITS);
  const neverRead = opts.neverRead ?? [];
  const problems: string[] = [];
  const byTable = new Map<RegisterType, Span[]>();

  for (const point of points) {
    let length: number;
    try {
      length = registerCount(point);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const start = point.address;
    const end = start + length;
    const limit = isBitTable(point.registerType) ? maxBits : maxRegisters;
    const unitWord = isBitTable(point.registerType) ? 'bits' : 'registers';
    const blocked = blockedIn(
      neverRead.filter((r) => r.registerType === point.registerType),
      start,
      end,
    );
    if (!REGISTER_TYPES.includes(point.registerType)) {
      problems.push(`point "${point.name}": unknown register type "${String(point.registerType)}"`);
    } else if (!Number.isInteger(start) || start < 0 || end > 0x10000) {
      problems.push(`point "${point.name}": address ${start} with ${length} ${unitWord} is outside 0..65535`);
    } else if (length > limit) {
      problems.push(`point "${point.name}": ${length} ${unitWord} exceed the limit of ${limit} per request`);
    } else if (blocked) {
      problems.push(
        `point "${point.name}": ${point.registerType} ${start}..${end - 1} overlaps the never-read range ${blocked.address}..${blocked.address + blocked.quantity - 1}`,
      );
    } else {
      const list = byTable.get(point.registerType) ?? [];
      list.push({ point, start, end });
      byTable.set(point.registerType, list);
    }
  }
  if (problems.length) throw new PlanError(problems);

  const requests: PlannedRead[] = [];
  for (const registerType of REGISTER_TYPES) {
    const spans = byTable.get(registerType);
    if (!spans) continue;
    spans.sort((a, b) => a.start - b.start || a.end - b.end);
    const blocked = neverRead.filter((r) => r.registerType === registerType);
    const limit = isBitTable(registerType) ? maxBits : maxRegisters;
    for (const cluster of clusters(spans, maxGap, blocked)) requests.push(...planCluster(registerType, cluster, limit));
  }
  let registersTouched = 0;
  let bitsTouched = 0;
  for (const r of requests) {
    if (isBitTable(r.registerType)) bitsTouched += r.quantity;
    else registersTouched += r.quantity;
  }
  const plan = { requests, registersTouched, bitsTouched };
  return { ...plan, summary: describe(plan) };
}
