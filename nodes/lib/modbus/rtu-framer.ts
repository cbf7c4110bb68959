/**
 * Finds the response to one RTU request in a byte stream that may carry noise,
 * the echo of our own request (RS485 adapters with local echo), late answers to
 * earlier requests, or frames split over many chunks.
 *
 * RTU has no length field, so the frame end is known from the request: a normal
 * answer is unit + expectedResponseLength(request) + CRC, an exception answer
 * is 5 bytes. A candidate starts wherever the unit id is followed by the
 * request's function code (or its exception form); the first candidate whose
 * CRC matches is the answer. Silence on the line (the 3.5-character gap) is
 * when a whole candidate with a bad CRC becomes a CRC error and when bytes that
 * cannot start a frame are dropped.
 */
import { crcMatches } from './crc';

export interface RtuExpectation {
  unitId: number;
  fc: number;
  /** Length of the whole normal answer frame: unit + PDU + 2 CRC bytes. */
  frameLength: number;
}

/** What the bytes held when the wait ended without a valid frame. */
export type RtuVerdict =
  | { kind: 'crc'; frameLength: number }
  | { kind: 'short'; got: number; need: number }
  | { kind: 'nothing' };

const EXCEPTION_FRAME_LENGTH = 5;
/** A frame is at most 256 bytes; more than two frames of backlog is noise. */
const MAX_BACKLOG = 512;
const EMPTY = Buffer.alloc(0);

interface Candidate {
  start: number;
  need: number;
}

export class RtuResponseFramer {
  private buf: Buffer = EMPTY;
  private exp?: RtuExpectation;
  /** Bytes dropped since creation: noise, echoes, unsolicited frames. */
  garbageBytes = 0;

  get buffered(): number {
    return this.buf.length;
  }

  /** Starts waiting for the answer to a new request; anything still buffered is stale. */
  expect(exp: RtuExpectation): void {
    this.drop();
    this.exp = exp;
  }

  /** Stops waiting (answer found, or the request gave up). */
  reset(): void {
    this.drop();
    this.exp = undefined;
  }

  /** Adds bytes; returns the response PDU (function code first) once a valid frame is complete. */
  push(chunk: Buffer): Buffer | undefined {
    if (!this.exp) {
      this.garbageBytes += chunk.length;
      return undefined;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.buf.length > MAX_BACKLOG) {
      const excess = this.buf.length - MAX_BACKLOG;
      this.garbageBytes += excess;
      this.buf = this.buf.subarray(excess);
    }
    return this.findFrame();
  }

  /**
   * The line fell silent without a valid frame. Returns 'crc' when the first
   * candidate is whole but corrupt (the answer came and was damaged), 'partial'
   * when a candidate may still complete, 'idle' after dropping bytes that
   * cannot start the awaited frame.
   */
  onSilence(): 'crc' | 'partial' | 'idle' {
    const first = this.firstCandidate();
    if (first) return this.buf.length - first.start >= first.need ? 'crc' : 'partial';
    if (this.endsWithUnitId()) return 'partial';
    this.drop();
    return 'idle';
  }

  /** Classifies the buffered bytes when the request times out. */
  verdict(): RtuVerdict {
    const first = this.firstCandidate();
    if (!first) return { kind: 'nothing' };
    const got = this.buf.length - first.start;
    if (got >= first.need) return { kind: 'crc', frameLength: first.need };
    return { kind: 'short', got, need: first.need };
  }

  private findFrame(): Buffer | undefined {
    const buf = this.buf;
    for (let i = 0; i + 1 < buf.length; i++) {
      const need = this.candidateLength(i);
      if (!need || buf.length - i < need) continue;
      const frame = buf.subarray(i, i + need);
      if (crcMatches(frame)) {
        this.garbageBytes += i + (buf.length - i - need);
        this.buf = EMPTY;
        return frame.subarray(1, need - 2);
      }
    }
    return undefined;
  }

  private firstCandidate(): Candidate | undefined {
    for (let i = 0; i + 1 < this.buf.length; i++) {
      const need = this.candidateLength(i);
      if (need) return { start: i, need };
    }
    return undefined;
  }

  /** Frame length if a frame for the awaited request could start at `i`, else 0. */
  private candidateLength(i: number): number {
    const exp = this.exp;
    const buf = this.buf;
    if (!exp || buf[i] !== exp.unitId) return 0;
    const fc = buf[i + 1];
    if (fc === exp.fc) return exp.frameLength;
    if (fc === (exp.fc | 0x80)) return EXCEPTION_FRAME_LENGTH;
    return 0;
  }

  private endsWithUnitId(): boolean {
    return !!this.exp && this.buf.length > 0 && this.buf[this.buf.length - 1] === this.exp.unitId;
  }

  private drop(): void {
    this.garbageBytes += this.buf.length;
    this.buf = EMPTY;
  }
}
