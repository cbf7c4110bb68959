/**
 * What an exchange's outcome means for a unit and for the link, and how the
 * next request to a unit in trouble goes out. Everything a dead unit changes
 * on a line is decided here:
 * - timeouts on every attempt back the unit off (unit-backoff.ts); any answer
 *   (a value, an exception, a damaged frame: it is alive) ends that;
 * - while it backs off, requests to it fail at once without the bus, so its
 *   devices still report at their interval; an explicit read (`probe`) is sent
 *   all the same;
 * - when its backoff ends it is probed with one attempt and no retries, so it
 *   holds the line for at most one timeout per backoff period;
 * - timeouts say the link is dead only when units that answered stop
 *   answering (link-watch.ts), never because of one silent unit.
 */
import type { BackoffOptions } from './backoff';
import type { Job } from './line-queue';
import type { UnitHealth } from './line-types';
import { LinkWatch } from './link-watch';
import { FrameError, ModbusException } from './pdu';
import { BackoffError, CrcError, LinkError, ModbusTimeoutError } from './transport-errors';
import { UnitBackoffs } from './unit-backoff';

/** What a failed exchange says: about the unit ('exception', 'frame', 'crc': alive; 'timeout': maybe dead) or the link. */
export type Failure = 'exception' | 'frame' | 'crc' | 'timeout' | 'link' | 'other';

export function classify(err: Error): Failure {
  if (err instanceof ModbusException) return 'exception';
  if (err instanceof LinkError) return 'link';
  if (err instanceof ModbusTimeoutError) return 'timeout';
  if (err instanceof CrcError) return 'crc';
  if (err instanceof FrameError) return 'frame';
  return 'other';
}

export class LineUnits {
  private readonly backoffs: UnitBackoffs;
  private readonly watch: LinkWatch;

  constructor(line: string, backoff: BackoffOptions, random: () => number, reconnectAfterTimeouts: number) {
    this.backoffs = new UnitBackoffs(line, backoff, random);
    this.watch = new LinkWatch(reconnectAfterTimeouts);
  }

  /** A new connection: what was learnt about the old one's liveness no longer holds. */
  connected(): void {
    this.watch.reset();
  }

  /** The unit answered (anything): true when that ends its backoff. */
  answered(unitId: number): boolean {
    this.watch.answered(unitId);
    return this.backoffs.answered(unitId);
  }

  /** One attempt timed out: true when the link now looks dead. */
  timedOut(unitId: number): boolean {
    return this.watch.timedOut(unitId);
  }

  get timeoutsInARow(): number {
    return this.watch.timeoutsInARow;
  }

  /** Every attempt of a request timed out: the unit backs off. */
  silent(unitId: number, now: number): void {
    this.backoffs.silent(unitId, now);
  }

  /** Why a new request to the unit fails at once (it backs off and this is no explicit read), or undefined. */
  refuseNew(unitId: number, probe: boolean, now: number): BackoffError | undefined {
    return probe ? undefined : this.backoffs.refusal(unitId, now);
  }

  /** Stamps a new job with what the unit's state was when it was queued. */
  queued(job: Job): void {
    job.unitFailures = this.backoffs.failures(job.unitId);
  }

  /**
   * Just before a queued job goes out: why it must fail instead (its unit backs off; an explicit
   * read only if the unit failed again since it was queued), or undefined after cutting a
   * probe of a unit in trouble to one attempt.
   */
  beforeSend(job: Job, now: number): BackoffError | undefined {
    const failures = this.backoffs.failures(job.unitId);
    const refusal = job.probe && failures === job.unitFailures ? undefined : this.backoffs.refusal(job.unitId, now);
    if (refusal) return refusal;
    if (failures > 0) job.attemptsLeft = 1;
    return undefined;
  }

  /** When the unit will next be asked (ms since epoch); in the past when it is not backing off. */
  until(unitId: number): number {
    return this.backoffs.until(unitId);
  }

  health(unitId: number, now: number): UnitHealth {
    return this.backoffs.health(unitId, now);
  }

  backingOff(now: number): UnitHealth[] {
    return this.backoffs.backingOff(now);
  }
}
