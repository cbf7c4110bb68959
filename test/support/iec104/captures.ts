/**
 * Loads the captured IEC 104 traffic (test/fixtures/iec104/*.log, copied from
 * the shared vectors): one line per recv() chunk, `C->S <n> <hex>`. Each
 * direction is a byte stream, split here into APDUs with the stack's reader.
 */
import { findFixtures } from '../fixtures';
import fs from 'fs';
import path from 'path';
import { ApduReader } from '../../../nodes/lib/iec104/apci';

export type Direction = 'C->S' | 'S->C';

export interface CapturedFrame {
  dir: Direction;
  bytes: Buffer;
  /** Line of the chunk that completed the frame. */
  line: number;
  /** The last `# step:` comment before it. */
  step: string;
}

export const CAPTURES = ['startdt_gi.log', 'types.log', 'flow_control.log', 'flow_control_k_stall.log', 'negative.log'] as const;

export function fixturesDir(): string {
  return findFixtures('iec104', 'types.log');
}

export function loadFrames(name: string): CapturedFrame[] {
  const text = fs.readFileSync(path.join(fixturesDir(), name), 'utf8');
  const readers: Record<Direction, ApduReader> = { 'C->S': new ApduReader(), 'S->C': new ApduReader() };
  const frames: CapturedFrame[] = [];
  let step = '';
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    if (line.startsWith('#')) {
      if (/^# step/.test(line)) step = line.slice(2);
      return;
    }
    const m = /^(C->S|S->C) (\d+) ([0-9a-f]+)$/.exec(line);
    if (!m) throw new Error(`${name}:${i + 1}: not a chunk line`);
    const bytes = Buffer.from(m[3], 'hex');
    if (bytes.length !== Number(m[2])) throw new Error(`${name}:${i + 1}: ${m[2]} declared, ${bytes.length} present`);
    const dir = m[1] as Direction;
    for (const f of readers[dir].push(bytes)) frames.push({ dir, bytes: Buffer.from(f), line: i + 1, step });
  });
  return frames;
}

export function loadExpectedTypes(): ExpectedAsdu[] {
  return JSON.parse(fs.readFileSync(path.join(fixturesDir(), 'types-expected.json'), 'utf8')) as ExpectedAsdu[];
}

export interface ExpectedTime {
  iso: string;
  dayOfWeek: number;
  summerTime: boolean;
  invalid: boolean;
  substituted: boolean;
}

export interface ExpectedObject {
  ioa: number;
  value?: number | boolean;
  apiValue?: number;
  raw?: number;
  transient?: boolean;
  qualityByteFlags?: { OV: boolean; BL: boolean; SB: boolean; NT: boolean; IV: boolean };
  time?: ExpectedTime;
  sequenceNumber?: number;
  carry?: boolean;
  adjusted?: boolean;
  invalid?: boolean;
  coi?: number;
  cause?: number;
  afterParameterChange?: boolean;
  float32Hex?: string;
  encodedHex: string;
}

export interface ExpectedAsdu {
  typeName: string;
  typeId: number;
  sq: number;
  cot: number;
  negative: boolean;
  test: boolean;
  originatorAddress: number;
  commonAddress: number;
  objects: ExpectedObject[];
  asduHex: string;
}

export { seededRandom as prng } from '../../../nodes/lib/simulator/electrical';

/** Variants of a frame: truncated at every length, and with random octets flipped. */
export function* corruptions(frame: Buffer, rand: () => number, flips: number): Generator<Buffer> {
  for (let n = 0; n < frame.length; n++) yield frame.subarray(0, n);
  for (let i = 0; i < flips; i++) {
    const copy = Buffer.from(frame);
    const count = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < count; k++) {
      const at = Math.floor(rand() * copy.length);
      copy[at] = rand() < 0.3 ? [0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe][Math.floor(rand() * 6)] : Math.floor(rand() * 256);
    }
    yield copy;
  }
}
