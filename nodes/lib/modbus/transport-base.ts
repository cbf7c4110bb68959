/**
 * Open/close bookkeeping shared by the framings: a close that arrives while
 * the link is still opening waits for the open to settle, so a serial port
 * opened late is released rather than leaked (a redeploy must be able to
 * reopen the same path at once).
 */
import { EventEmitter } from 'events';
import { LinkError } from './transport-errors';
import type { ByteLink } from './transport-link';
import type { TransportCounters, TransportKind } from './transport-types';

export abstract class LinkTransport extends EventEmitter {
  abstract readonly kind: TransportKind;
  abstract readonly serial: boolean;
  readonly counters: TransportCounters = { bytesIn: 0, bytesOut: 0, garbageBytes: 0, lateResponses: 0 };
  private opening?: Promise<void>;
  private closing = false;

  constructor(
    protected readonly link: ByteLink,
    readonly description: string,
  ) {
    super();
  }

  get isOpen(): boolean {
    return this.link.isOpen && !this.opening;
  }

  open(): Promise<void> {
    if (this.opening) return this.opening;
    if (this.link.isOpen) return Promise.resolve();
    this.closing = false;
    const opening = this.link
      .open({
        data: (chunk) => {
          this.counters.bytesIn += chunk.length;
          this.onData(chunk);
        },
        lost: (err) => {
          // The owner hears of the loss before the failures, so it does not resend on a dead link.
          this.emit('close', err);
          this.failAll(err);
        },
      })
      .then(async () => {
        if (this.closing) {
          await this.link.close();
          throw new Error(`${this.description} closed while opening`);
        }
      })
      .finally(() => {
        if (this.opening === opening) this.opening = undefined;
      });
    this.opening = opening;
    return opening;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.opening) await this.opening.catch(() => undefined);
    await this.link.close();
    this.failAll(new LinkError(`${this.description} closed`));
  }

  protected write(frame: Buffer): void {
    this.counters.bytesOut += frame.length;
    this.link.write(frame);
  }

  protected abstract onData(chunk: Buffer): void;
  /** Fails every exchange in flight; the link is gone. */
  protected abstract failAll(err: Error): void;
}
