/**
 * Tells a dead link from a dead unit. A half-open TCP socket never errors by
 * itself: the only sign is that nothing answers any more. But one silent unit
 * behind a gateway also produces timeouts in a row (all its attempts, or all
 * its pipelined requests) while the others answer. So the link counts as dead
 * only when `limit` timeouts came in a row with no answer of any kind between
 * them, and they hit units that had answered on this connection: `limit` such
 * units, or all of them when fewer answered. Timeouts of a unit that never
 * answered prove nothing about the link, unless no unit ever answered on it.
 */
export class LinkWatch {
  /** Units that answered on this connection. */
  private readonly live = new Set<number>();
  /** Live units that timed out since the last answer of any kind. */
  private readonly silenced = new Set<number>();
  private inARow = 0;

  /** `limit` 0 never declares the link dead (RTU serial lines: a port does not go half-open). */
  constructor(private readonly limit: number) {}

  /** Timeouts in a row with no answer from any unit between them. */
  get timeoutsInARow(): number {
    return this.inARow;
  }

  /** A fresh connection: nothing is known about it yet. */
  reset(): void {
    this.live.clear();
    this.silenced.clear();
    this.inARow = 0;
  }

  /** The unit answered (a value, an exception or a damaged frame: the link carries bytes). */
  answered(unitId: number): void {
    if (!this.live.has(unitId)) this.live.add(unitId);
    // Clearing a Set allocates it a new table, in the old generation for a long-lived Set: on every
    // answer (thousands a second) that was half of what polling left for the major GC.
    if (this.silenced.size) this.silenced.clear();
    this.inARow = 0;
  }

  /** A request to the unit timed out: true when the link now looks dead. */
  timedOut(unitId: number): boolean {
    if (this.limit <= 0) return false;
    this.inARow++;
    if (this.live.has(unitId)) this.silenced.add(unitId);
    return this.inARow >= this.limit && this.silenced.size >= Math.min(this.limit, this.live.size);
  }
}
