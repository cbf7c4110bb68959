/**
 * Per-unit backoff on a line: a unit whose request timed out on every attempt is
 * left alone for a growing, jittered while; any answer from it resets that.
 */
import { Backoff, BackoffOptions } from './backoff';
import type { UnitHealth } from './line-types';
import { BackoffError } from './transport-errors';

interface UnitState {
  backoff: Backoff;
  until: number;
}

export class UnitBackoffs {
  private readonly units = new Map<number, UnitState>();

  constructor(private readonly line: string, private readonly options: BackoffOptions, private readonly random: () => number) {
    new Backoff(options); // validates now rather than at the first dead unit
  }

  /** When the unit will next be tried (ms since epoch); 0 or a past time when it is not backing off. */
  until(unitId: number): number {
    return this.units.get(unitId)?.until ?? 0;
  }

  /** Requests that timed out on every attempt since the unit last answered (0: the unit is fine). */
  failures(unitId: number): number {
    return this.units.get(unitId)?.backoff.failures ?? 0;
  }

  health(unitId: number, now: number): UnitHealth {
    const unit = this.units.get(unitId);
    const backingOff = !!unit && unit.until > now;
    return {
      line: this.line,
      unitId,
      backingOff,
      failures: unit?.backoff.failures ?? 0,
      retryAt: backingOff ? unit?.until : undefined,
      backoffMs: unit?.backoff.currentMs ?? 0,
    };
  }

  backingOff(now: number): UnitHealth[] {
    const out: UnitHealth[] = [];
    for (const [unitId, unit] of this.units) if (unit.until > now) out.push(this.health(unitId, now));
    return out;
  }

  /** The unit answered (anything): true when that ends a backoff. */
  answered(unitId: number): boolean {
    const unit = this.units.get(unitId);
    if (!unit || unit.backoff.failures === 0) return false;
    unit.backoff.reset();
    unit.until = 0;
    return true;
  }

  /** A request to the unit timed out on every attempt: returns when the unit will next be tried. */
  silent(unitId: number, now: number): number {
    let unit = this.units.get(unitId);
    if (!unit) this.units.set(unitId, (unit = { backoff: new Backoff(this.options, this.random), until: 0 }));
    unit.until = now + unit.backoff.next();
    return unit.until;
  }

  /** The error a request to a backing-off unit fails with at once; undefined when the unit may be asked. */
  refusal(unitId: number, now: number): BackoffError | undefined {
    const unit = this.units.get(unitId);
    if (!unit || unit.until <= now) return undefined;
    const waitS = ((unit.until - now) / 1000).toFixed(1);
    return new BackoffError(
      `unit ${unitId} is not answering (${unit.backoff.failures} timed-out request${unit.backoff.failures === 1 ? '' : 's'}); next try in ${waitS} s`,
      unit.until,
    );
  }
}
