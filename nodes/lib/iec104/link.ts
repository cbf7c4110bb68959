/**
 * The IEC 104 link (APCI) state machine for one TCP connection, in either role:
 * sequence numbers, the k window (unacknowledged I-frames sent) and w
 * (I-frames received before an S-frame is due), timers t1 (confirmation),
 * t2 (acknowledge), t3 (idle test), and STARTDT/STOPDT/TESTFR. It knows no
 * socket: bytes come in through receive() and go out through the transport.
 */
import { EventEmitter } from 'events';
import { Apdu, ApduReader, SEQ_MODULO, UFunction, decodeApdu, encodeI, encodeS, encodeU, seqDistance } from './apci';
import { Deadline } from './deadline';
import { Iec104DecodeError } from './errors';

export type LinkRole = 'master' | 'outstation';

export interface LinkOptions {
  /** Unacknowledged I-frames sent before sending stops (1..32767). */
  k: number;
  /** I-frames received before an acknowledgement is sent (w <= 2k/3 recommended). */
  w: number;
  /** ms to wait for an acknowledgement or a U-frame confirmation before closing. */
  t1: number;
  /** ms after an unacknowledged received I-frame before an S-frame is sent (t2 < t1). */
  t2: number;
  /** ms of silence before a TESTFR act is sent. */
  t3: number;
}

export const DEFAULT_LINK: LinkOptions = { k: 12, w: 8, t1: 15000, t2: 10000, t3: 20000 };
/** Connection establishment timeout of the reference defaults, used by connectors. */
export const DEFAULT_T0 = 10000;

export interface LinkTransport {
  write(bytes: Buffer): void;
  /** Close the connection; the link has already recorded why. */
  close(): void;
}

export type LinkState = 'stopped' | 'starting' | 'started' | 'stopping' | 'closed';

export interface LinkStats {
  iSent: number;
  iReceived: number;
  sSent: number;
  sReceived: number;
  uSent: number;
  uReceived: number;
  testFrames: number;
  /** I-frames sent and not yet acknowledged. */
  unacked: number;
  /** ASDUs waiting for the link to start or for room in the k window. */
  queued: number;
  /** Times sending stopped because k unacknowledged frames were out. */
  windowStalls: number;
}

export interface LinkEvents {
  asdu: (asdu: Buffer) => void;
  started: () => void;
  stopped: () => void;
  /** Room in the k window after it was full, or the queue ran empty. */
  drain: () => void;
  /** The peer acknowledged I-frames that were sent with a tag: their tags, oldest first. */
  acked: (tags: unknown[]) => void;
  closed: (reason: string) => void;
}

export declare interface Iec104Link {
  on<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this;
  once<E extends keyof LinkEvents>(event: E, listener: LinkEvents[E]): this;
  emit<E extends keyof LinkEvents>(event: E, ...args: Parameters<LinkEvents[E]>): boolean;
}

export class Iec104Link extends EventEmitter {
  private readonly reader = new ApduReader();
  private sendSeq = 0;
  private recvSeq = 0;
  /** Send times of unacknowledged I-frames, oldest first; index 0 has N(S) = ackSeq. */
  private sentAt: number[] = [];
  private ackSeq = 0;
  private receivedUnacked = 0;
  private queue: Buffer[] = [];
  /** The owner's tag of each queued ASDU (undefined when untagged), parallel to queue. */
  private queueTags: unknown[] = [];
  private queueHead = 0;
  /** Tags of the unacknowledged I-frames, parallel to sentAt. */
  private sentTags: unknown[] = [];
  private stateValue: LinkState = 'stopped';
  private awaitingCon: UFunction | undefined;
  private closeReason: string | undefined;
  private corked: Buffer[] = [];
  private corkDepth = 0;
  private wasFull = false;
  private readonly t1 = new Deadline(() => this.fail(this.t1Reason()));
  private readonly t2 = new Deadline(() => this.acknowledge());
  private readonly t3 = new Deadline(() => this.idle());
  readonly stats: LinkStats = {
    iSent: 0, iReceived: 0, sSent: 0, sReceived: 0, uSent: 0, uReceived: 0, testFrames: 0, unacked: 0, queued: 0, windowStalls: 0,
  };

  constructor(
    readonly role: LinkRole,
    private readonly transport: LinkTransport,
    readonly options: LinkOptions = DEFAULT_LINK,
    /** Names the connection in close reasons. */
    readonly name: string = role,
  ) {
    super();
    if (options.k < 1 || options.k > 32767 || options.w < 1 || options.w > 32767) {
      throw new RangeError(`${name}: k and w must be 1..32767 (k=${options.k}, w=${options.w})`);
    }
    this.t3.set(options.t3);
  }

  get state(): LinkState {
    return this.stateValue;
  }

  get reason(): string | undefined {
    return this.closeReason;
  }

  /** ASDUs queued behind the window. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  get unacked(): number {
    return this.sentAt.length;
  }

  /** True when an I-frame given now would go out at once. */
  get canSend(): boolean {
    return this.stateValue === 'started' && this.sentAt.length < this.options.k && this.queued === 0;
  }

  /** Feed bytes received from the peer. */
  receive(chunk: Buffer): void {
    if (this.stateValue === 'closed') return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      this.fail(`malformed frame: ${(err as Error).message}`);
      return;
    }
    this.cork();
    try {
      for (const frame of frames) {
        if (this.isClosed()) break;
        let apdu: Apdu;
        try {
          apdu = decodeApdu(frame);
        } catch (err) {
          if (!(err instanceof Iec104DecodeError)) throw err;
          this.fail(`malformed frame ${frame.subarray(0, 16).toString('hex')}: ${err.message}`);
          break;
        }
        this.t3.set(this.options.t3);
        this.handle(apdu);
      }
    } finally {
      this.uncork();
    }
  }

  /**
   * Queue an ASDU; it goes out when the link is started and the k window has
   * room. A tag comes back in the acked event once the peer acknowledged it.
   */
  send(asdu: Buffer, tag?: unknown): void {
    if (this.stateValue === 'closed') return;
    this.queue.push(asdu);
    this.queueTags.push(tag);
    this.flush();
  }

  /** Takes the tagged ASDUs that are still queued (not yet sent) out of the queue; returns their tags. */
  withdrawTagged(): unknown[] {
    const kept: Buffer[] = [];
    const keptTags: unknown[] = [];
    const taken: unknown[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      if (this.queueTags[i] === undefined) {
        kept.push(this.queue[i]);
        keptTags.push(undefined);
      } else {
        taken.push(this.queueTags[i]);
      }
    }
    this.queue = kept;
    this.queueTags = keptTags;
    this.queueHead = 0;
    this.stats.queued = this.queued;
    return taken;
  }

  /** Master: ask the outstation to start data transfer. */
  startDataTransfer(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'starting';
    this.sendU('STARTDT_ACT');
  }

  /** Master: ask the outstation to stop data transfer (acknowledging what was received first). */
  stopDataTransfer(): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'stopping';
    this.cork();
    if (this.receivedUnacked > 0) this.acknowledge();
    this.sendU('STOPDT_ACT');
    this.uncork();
  }

  /**
   * Outstation: stop sending data without a STOPDT from this master (another
   * connection of its redundancy group became active).
   */
  suspend(): void {
    if (this.stateValue === 'started') this.becomeStopped();
  }

  /** Send a TESTFR act now (t3 does this on its own when idle). */
  test(): void {
    this.sendU('TESTFR_ACT');
  }

  /** The transport is gone (peer closed, error): stop timers and report once. */
  connectionLost(reason: string): void {
    if (this.stateValue === 'closed') return;
    this.shutdown(reason);
  }

  /** Close on our side with a reason (logged by the owner through the closed event). */
  close(reason: string): void {
    this.fail(reason);
  }

  private fail(reason: string): void {
    if (this.stateValue === 'closed') return;
    this.shutdown(reason);
    this.transport.close();
  }

  private shutdown(reason: string): void {
    this.stateValue = 'closed';
    this.closeReason = reason;
    this.t1.dispose();
    this.t2.dispose();
    this.t3.dispose();
    this.queue = [];
    this.queueTags = [];
    this.queueHead = 0;
    this.stats.queued = 0;
    this.emit('closed', reason);
  }

  private t1Reason(): string {
    const oldest = this.sentAt.length ? Date.now() - this.sentAt[0] : 0;
    if (this.awaitingCon && oldest < this.options.t1) return `t1 expired: no ${this.awaitingCon.replace('_ACT', '')} con within ${this.options.t1} ms`;
    return `t1 expired: ${this.sentAt.length} I-frame(s) unacknowledged for ${this.options.t1} ms`;
  }

  private handle(apdu: Apdu): void {
    if (apdu.kind === 'I') return this.onI(apdu.sendSeq, apdu.recvSeq, apdu.asdu);
    if (apdu.kind === 'S') {
      this.stats.sReceived++;
      this.onAck(apdu.recvSeq);
      return;
    }
    this.stats.uReceived++;
    this.onU(apdu.fn);
  }

  private onI(ns: number, nr: number, asdu: Buffer): void {
    if (ns !== this.recvSeq) {
      this.fail(`sequence error: received N(S)=${ns}, expected ${this.recvSeq}`);
      return;
    }
    if (!this.onAck(nr)) return;
    this.stats.iReceived++;
    this.recvSeq = (this.recvSeq + 1) % SEQ_MODULO;
    this.receivedUnacked++;
    if (this.receivedUnacked >= this.options.w) this.acknowledge();
    else this.t2.ensure(this.options.t2);
    this.emit('asdu', asdu);
  }

  /** Applies N(R); false (and the connection closed) if it acknowledges frames never sent. */
  private onAck(nr: number): boolean {
    const acked = seqDistance(this.ackSeq, nr);
    if (acked > this.sentAt.length) {
      this.fail(`sequence error: peer acknowledged N(R)=${nr}, only ${this.ackSeq}..${this.sendSeq} outstanding`);
      return false;
    }
    if (acked === 0) return true;
    this.sentAt.splice(0, acked);
    const tags = this.sentTags.splice(0, acked).filter((t) => t !== undefined);
    this.ackSeq = nr;
    this.stats.unacked = this.sentAt.length;
    if (this.sentAt.length === 0 && !this.awaitingCon) this.t1.clear();
    else if (this.sentAt.length && !this.awaitingCon) this.t1.set(this.sentAt[0] + this.options.t1 - Date.now());
    if (tags.length) this.emit('acked', tags);
    this.flush();
    if (this.stateValue === 'stopping' && this.role === 'outstation' && this.sentAt.length === 0) this.confirmStop();
    return true;
  }

  private onU(fn: UFunction): void {
    switch (fn) {
      case 'TESTFR_ACT':
        this.sendU('TESTFR_CON');
        return;
      case 'TESTFR_CON':
      case 'STARTDT_CON':
      case 'STOPDT_CON':
        if (this.awaitingCon && fn === this.awaitingCon.replace('_ACT', '_CON')) {
          this.awaitingCon = undefined;
          if (this.sentAt.length === 0) this.t1.clear();
          else this.t1.set(this.sentAt[0] + this.options.t1 - Date.now());
        }
        if (fn === 'STARTDT_CON' && this.role === 'master') this.becomeStarted();
        if (fn === 'STOPDT_CON' && this.role === 'master') this.becomeStopped();
        return;
      case 'STARTDT_ACT':
        if (this.role !== 'outstation') return;
        this.sendU('STARTDT_CON');
        this.becomeStarted();
        return;
      case 'STOPDT_ACT':
        if (this.role !== 'outstation') return;
        this.stateValue = 'stopping';
        if (this.receivedUnacked > 0) this.acknowledge();
        if (this.sentAt.length === 0) this.confirmStop();
        return;
    }
  }

  private becomeStarted(): void {
    this.stateValue = 'started';
    this.emit('started');
    this.flush();
  }

  private becomeStopped(): void {
    this.stateValue = 'stopped';
    this.emit('stopped');
  }

  private confirmStop(): void {
    this.sendU('STOPDT_CON');
    this.becomeStopped();
  }

  private idle(): void {
    if (this.stateValue === 'closed') return;
    this.stats.testFrames++;
    this.sendU('TESTFR_ACT');
    this.t3.set(this.options.t3);
  }

  private acknowledge(): void {
    if (this.stateValue === 'closed' || this.receivedUnacked === 0) return;
    this.receivedUnacked = 0;
    this.t2.clear();
    this.stats.sSent++;
    this.write(encodeS(this.recvSeq));
  }

  private sendU(fn: UFunction): void {
    if (this.stateValue === 'closed') return;
    this.stats.uSent++;
    if (fn.endsWith('_ACT')) {
      this.awaitingCon = fn;
      this.t1.setEarliest(this.options.t1);
    }
    this.write(encodeU(fn));
  }

  private flush(): void {
    if (this.stateValue !== 'started') {
      this.stats.queued = this.queued;
      return;
    }
    const k = this.options.k;
    if (this.queued === 0) return;
    this.cork();
    const now = Date.now();
    const before = this.sentAt.length;
    while (this.queueHead < this.queue.length && this.sentAt.length < k) {
      this.sentTags.push(this.queueTags[this.queueHead]);
      const asdu = this.queue[this.queueHead++];
      this.write(encodeI(this.sendSeq, this.recvSeq, asdu));
      this.sendSeq = (this.sendSeq + 1) % SEQ_MODULO;
      this.sentAt.push(now);
      this.stats.iSent++;
      if (this.sentAt.length === 1) this.t1.setEarliest(this.options.t1);
    }
    if (this.sentAt.length > before) {
      // N(R) rode on the I-frames: nothing left to acknowledge separately.
      this.receivedUnacked = 0;
      this.t2.clear();
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueTags = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueTags = this.queueTags.slice(this.queueHead);
      this.queueHead = 0;
    }
    this.stats.unacked = this.sentAt.length;
    this.stats.queued = this.queued;
    const full = this.sentAt.length >= k && this.queued > 0;
    if (full && this.sentAt.length > before) this.stats.windowStalls++;
    const drained = this.wasFull && !full;
    this.wasFull = full;
    this.uncork();
    if (drained || this.queued === 0) this.emit('drain');
  }

  /** Frames written between cork and uncork leave in one transport write. */
  private cork(): void {
    this.corkDepth++;
  }

  private uncork(): void {
    if (--this.corkDepth > 0) return;
    const out = this.corked;
    if (out.length === 0) return;
    this.corked = [];
    if (this.isClosed()) return;
    this.transport.write(out.length === 1 ? out[0] : Buffer.concat(out));
  }

  private isClosed(): boolean {
    return this.stateValue === 'closed';
  }

  private write(bytes: Buffer): void {
    if (this.corkDepth > 0) this.corked.push(bytes);
    else this.transport.write(bytes);
  }
}
