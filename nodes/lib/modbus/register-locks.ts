/**
 * Serialises work on the registers of one device: a read-modify-write of a bit
 * point must not interleave with another write to the same register, or one of
 * them is undone. Each piece of work claims its whole register range at once
 * and waits for every earlier claim that overlaps it, so work runs in arrival
 * order per register and can never deadlock; work on other registers runs freely.
 */
export class RegisterLocks {
  private readonly tails = new Map<number, Promise<void>>();

  async run<T>(address: number, count: number, work: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const earlier = new Set<Promise<void>>();
    for (let a = address; a < address + count; a++) {
      const tail = this.tails.get(a);
      if (tail) earlier.add(tail);
      this.tails.set(a, mine);
    }
    try {
      if (earlier.size) await Promise.all(earlier);
      return await work();
    } finally {
      release();
      for (let a = address; a < address + count; a++) if (this.tails.get(a) === mine) this.tails.delete(a);
    }
  }

  /** Registers claimed or waited for right now (for tests and stats). */
  get held(): number {
    return this.tails.size;
  }
}
