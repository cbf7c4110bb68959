/**
 * ISO transport over TCP (RFC 1006): a socket, TPKT framing and COTP class 0.
 * Delivers whole session units (reassembled DT segments) and sends units split
 * at the negotiated TPDU size. The client and the test server both use it.
 */
import { EventEmitter } from 'events';
import net from 'net';
import { decodeTpdu, encodeCc, encodeCr, encodeDr, Reassembler, segment, Tpdu } from './cotp';
import { AssociationError, DecodeError, IedTimeoutError } from './errors';
import { encodeTpkt, TpktFramer } from './tpkt';

export interface TransportOptions {
  /** Name used in errors (the IED or the peer). */
  peer: string;
  /** TPDU size proposed (client) or the largest accepted (server). */
  tpduSize: number;
  localTsel: Buffer;
  remoteTsel: Buffer;
  /** Largest reassembled unit accepted; protects memory from a peer that never ends a unit. */
  maxUnit: number;
}

/** Class 0 default when the CC leaves the size out (ISO 8073). */
const DEFAULT_TPDU_SIZE = 128;

export declare interface IsoTransport {
  on(event: 'unit', listener: (unit: Buffer) => void): this;
  on(event: 'close', listener: (err?: Error) => void): this;
}

export class IsoTransport extends EventEmitter {
  private readonly framer = new TpktFramer();
  private readonly joiner: Reassembler;
  private closed = false;
  /** Set when this side ends the connection, so the close is not reported as the peer's doing. */
  private closing = false;
  private closeError?: Error;

  private constructor(
    private readonly socket: net.Socket,
    readonly peer: string,
    /** TPDU size both sides agreed on. */
    readonly tpduSize: number,
    maxUnit: number,
    leftover: Buffer[],
  ) {
    super();
    this.joiner = new Reassembler(maxUnit);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => {
      this.closeError ??= new AssociationError(peer, `connection error: ${err.message}`);
    });
    socket.on('close', () => this.fail(this.closeError ?? (this.closing ? undefined : new AssociationError(peer, 'connection closed by the peer'))));
    // Units that arrived in the same chunk as the CC/CR are processed once listeners are attached.
    if (leftover.length) setImmediate(() => leftover.forEach((t) => this.handleTpdu(t)));
  }

  /** Client: TCP connect, then COTP CR / CC. */
  static connect(host: string, port: number, o: TransportOptions, timeoutMs: number): Promise<IsoTransport> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const framer = new TpktFramer();
      const srcRef = 1 + Math.floor(Math.random() * 0xfffe);
      const timer = setTimeout(() => done(new IedTimeoutError(o.peer, `transport connect to ${host}:${port}`, timeoutMs)), timeoutMs);
      const done = (err?: Error, transport?: IsoTransport): void => {
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
        if (err) {
          socket.destroy();
          reject(err);
        } else if (transport) {
          resolve(transport);
        }
      };
      const onError = (err: Error): void => done(new AssociationError(o.peer, `cannot connect to ${host}:${port}: ${err.message}`));
      const onClose = (): void => done(new AssociationError(o.peer, `${host}:${port} closed the connection during transport connect`));
      const onData = (chunk: Buffer): void => {
        let tpdus: Buffer[];
        let first: Tpdu;
        try {
          tpdus = framer.push(chunk);
          if (!tpdus.length) return;
          first = decodeTpdu(tpdus[0]);
        } catch (err) {
          done(err as Error);
          return;
        }
        if (first.kind === 'DR') {
          done(new AssociationError(o.peer, `transport connection refused (reason ${first.reason}); check the TSAPs`));
        } else if (first.kind !== 'CC') {
          done(new DecodeError('cotp', `${first.kind} in answer to CR`));
        } else {
          const size = Math.min(first.tpduSize ?? DEFAULT_TPDU_SIZE, o.tpduSize);
          done(undefined, new IsoTransport(socket, o.peer, size, o.maxUnit, tpdus.slice(1)));
        }
      };
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.on('data', onData);
      socket.once('connect', () => {
        socket.write(encodeTpkt(encodeCr({ srcRef, dstRef: 0, tpduSize: o.tpduSize, callingTsap: o.localTsel, calledTsap: o.remoteTsel })));
      });
    });
  }

  /**
   * Server: waits for the CR and answers CC. `check` may refuse the TSAPs by
   * returning a reason, in which case a DR is sent and the socket closed.
   */
  static accept(socket: net.Socket, o: TransportOptions, timeoutMs: number, check?: (cr: Extract<Tpdu, { kind: 'CR' }>) => string | undefined): Promise<IsoTransport> {
    return new Promise((resolve, reject) => {
      socket.setNoDelay(true);
      const framer = new TpktFramer();
      const timer = setTimeout(() => done(new IedTimeoutError(o.peer, 'COTP CR', timeoutMs)), timeoutMs);
      const done = (err?: Error, transport?: IsoTransport): void => {
        clearTimeout(timer);
        socket.removeListener('data', onData);
        socket.removeListener('error', onError);
        socket.removeListener('close', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else if (transport) {
          resolve(transport);
        }
      };
      const onError = (): void => done(new AssociationError(o.peer, 'peer left before COTP connect'));
      const onData = (chunk: Buffer): void => {
        try {
          const tpdus = framer.push(chunk);
          if (!tpdus.length) return;
          const cr = decodeTpdu(tpdus[0]);
          if (cr.kind !== 'CR') throw new DecodeError('cotp', `${cr.kind} before CR`);
          const refusal = check?.(cr);
          if (refusal) {
            socket.end(encodeTpkt(encodeDr(cr.srcRef, 1, 0x80)));
            done(new AssociationError(o.peer, refusal));
            return;
          }
          const size = Math.min(cr.tpduSize ?? DEFAULT_TPDU_SIZE, o.tpduSize);
          socket.write(encodeTpkt(encodeCc({ srcRef: cr.srcRef, dstRef: cr.srcRef, tpduSize: size, callingTsap: cr.callingTsap, calledTsap: cr.calledTsap })));
          done(undefined, new IsoTransport(socket, o.peer, size, o.maxUnit, tpdus.slice(1)));
        } catch (err) {
          done(err as Error);
        }
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onError);
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends one session unit, segmented into DT TPDUs. */
  send(unit: Buffer): void {
    if (this.closed) throw new AssociationError(this.peer, 'connection is closed');
    const frames = segment(unit, this.tpduSize).map(encodeTpkt);
    this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
  }

  /** Raw octets, for the test server's fault switches. */
  sendRaw(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  /** Closes the TCP connection (after flushing what was written). */
  close(err?: Error): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.closeError = err;
    this.socket.end();
    // A peer that never closes its side must not keep the socket alive.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(err?: Error): void {
    this.closing = true;
    this.closeError ??= err;
    this.socket.destroy();
    this.fail(this.closeError);
  }

  private receive(chunk: Buffer): void {
    let tpdus: Buffer[];
    try {
      tpdus = this.framer.push(chunk);
    } catch (err) {
      this.destroy(malformed(this.peer, err));
      return;
    }
    for (const t of tpdus) {
      if (this.closed) return;
      this.handleTpdu(t);
    }
  }

  private handleTpdu(raw: Buffer): void {
    try {
      const t = decodeTpdu(raw);
      if (t.kind === 'DT') {
        const unit = this.joiner.push(t.data, t.eot);
        if (unit) this.emit('unit', unit);
      } else if (t.kind === 'DR') {
        this.destroy(new AssociationError(this.peer, `transport disconnect by the peer (reason ${t.reason})`));
      } else if (t.kind === 'ER') {
        this.destroy(new AssociationError(this.peer, `COTP error TPDU from the peer (cause ${t.cause})`));
      } else {
        throw new DecodeError('cotp', `unexpected ${t.kind} on an open connection`);
      }
    } catch (err) {
      this.destroy(malformed(this.peer, err));
    }
  }

  private fail(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.emit('close', err);
  }
}

/** A frame that breaks the protocol ends the connection; the error says so and where. */
function malformed(peer: string, err: unknown): Error {
  return err instanceof DecodeError ? new AssociationError(peer, `malformed frame: ${err.message}`) : (err as Error);
}
