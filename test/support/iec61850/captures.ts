/**
 * Loads the captured MMS traffic (test/fixtures/iec61850/*.log, copied from the
 * shared vectors): one line per TCP chunk, `C->S <bytes> <hex>`, connections
 * separated by `# connection N` lines.
 */
import { findFixtures } from '../fixtures';
import fs from 'fs';
import path from 'path';

export type Direction = 'C->S' | 'S->C';

export interface Chunk {
  dir: Direction;
  bytes: Buffer;
  line: number;
}

export interface CapturedConnection {
  chunks: Chunk[];
}

export const CAPTURES = ['read_session.log', 'full_sequence.log', 'report_session.log'] as const;

/** The fixtures folder, found from the compiled test location (dist/test/...) or the sources. */
export function fixturesDir(): string {
  return findFixtures('iec61850', 'read_session.log');
}

export function loadCapture(name: string): CapturedConnection[] {
  const text = fs.readFileSync(path.join(fixturesDir(), name), 'utf8');
  const connections: CapturedConnection[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    if (line.startsWith('#')) {
      connections.push({ chunks: [] });
      return;
    }
    const m = /^(C->S|S->C) (\d+) ([0-9a-f]+)$/.exec(line);
    if (!m) throw new Error(`${name}:${i + 1}: not a chunk line`);
    const bytes = Buffer.from(m[3], 'hex');
    if (bytes.length !== Number(m[2])) throw new Error(`${name}:${i + 1}: ${m[2]} declared, ${bytes.length} present`);
    if (!connections.length) connections.push({ chunks: [] });
    connections[connections.length - 1].chunks.push({ dir: m[1] as Direction, bytes, line: i + 1 });
  });
  return connections;
}

/** Small deterministic PRNG (the simulator's mulberry32) so fuzz runs are repeatable from their seed. */
export { seededRandom as prng } from '../../../nodes/lib/simulator/electrical';

/** Variants of a frame: truncated at every length, and with random octets flipped. */
export function* corruptions(frame: Buffer, rand: () => number, flips: number): Generator<Buffer> {
  for (let n = 0; n < frame.length; n++) yield frame.subarray(0, n);
  for (let i = 0; i < flips; i++) {
    const copy = Buffer.from(frame);
    const count = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < count; k++) {
      const at = Math.floor(rand() * copy.length);
      copy[at] = rand() < 0.3 ? [0x00, 0x80, 0xff, 0x81, 0x82, 0x84][Math.floor(rand() * 6)] : Math.floor(rand() * 256);
    }
    yield copy;
  }
}
