/**
 * Turns a captured connection into its session units, in order, per direction:
 * TPKT stream framing, COTP reassembly, then the session SPDU of each unit.
 */
import { decodeTpdu, Reassembler } from '../../../nodes/lib/iec61850/cotp';
import { decodeSpdu, Spdu } from '../../../nodes/lib/iec61850/session';
import { TpktFramer } from '../../../nodes/lib/iec61850/tpkt';
import { CapturedConnection, Direction, loadCapture } from './captures';

export interface Unit {
  dir: Direction;
  /** The session unit octets (COTP user data, reassembled). */
  tsdu: Buffer;
  spdu: Spdu;
  line: number;
}

export function unitsOf(conn: CapturedConnection): Unit[] {
  const framers = { 'C->S': new TpktFramer(), 'S->C': new TpktFramer() };
  const joiners = { 'C->S': new Reassembler(1 << 20), 'S->C': new Reassembler(1 << 20) };
  const out: Unit[] = [];
  for (const chunk of conn.chunks) {
    for (const tpdu of framers[chunk.dir].push(chunk.bytes)) {
      const t = decodeTpdu(tpdu);
      if (t.kind !== 'DT') continue;
      const tsdu = joiners[chunk.dir].push(t.data, t.eot);
      if (tsdu) out.push({ dir: chunk.dir, tsdu, spdu: decodeSpdu(tsdu), line: chunk.line });
    }
  }
  return out;
}

export function captureUnits(name: string): Unit[] {
  return loadCapture(name).flatMap(unitsOf);
}
