/**
 * One MMS association to an IED: connect and associate, confirmed requests matched
 * to their responses by invoke id with no more in flight than the IED negotiated
 * (the rest wait in a queue), unsolicited reports, conclude and release.
 */
import { EventEmitter } from 'events';
import * as association from './association';
import { AssociationError, DecodeError, ServiceError, IedTimeoutError } from './errors';
import { InformationReport, InitiateParams, MmsPdu, defaultInitiate, encodeMms } from './mms-pdu';
import { ConfirmedRequest, ConfirmedResponse } from './mms-services';
import { ResolvedIedOptions } from './options';
import { decodeSpdu, Spdu } from './session';
import { IsoTransport } from './transport';

export interface Negotiated {
  maxPduSize: number;
  /** Requests this client may have in flight. */
  maxOutstanding: number;
  tpduSize: number;
  nestingLevel?: number;
  servicesSupported: boolean[];
}

interface Pending {
  request: ConfirmedRequest;
  subject: string;
  resolve: (r: ConfirmedResponse) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export declare interface MmsConnection {
  on(event: 'report', listener: (report: InformationReport) => void): this;
  on(event: 'close', listener: (err?: Error) => void): this;
  on(event: 'warning', listener: (text: string) => void): this;
}

export class MmsConnection extends EventEmitter {
  private nextInvokeId = 1;
  private readonly inFlight = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private closed = false;
  private conclusion?: { resolve: () => void; reject: (e: Error) => void };
  private release?: { resolve: () => void; reject: (e: Error) => void };

  private constructor(
    private readonly transport: IsoTransport,
    readonly options: ResolvedIedOptions,
    readonly negotiated: Negotiated,
  ) {
    super();
    transport.on('unit', (unit) => this.receive(unit));
    transport.on('close', (err) => this.closedBy(err ?? new AssociationError(this.ied, 'association closed')));
  }

  get ied(): string {
    return this.options.name;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Requests sent and not yet answered, and requests waiting for a free slot. */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight.size, queued: this.queue.length };
  }

  static async open(o: ResolvedIedOptions): Promise<MmsConnection> {
    const s = o.selectors;
    const transport = await IsoTransport.connect(
      o.host,
      o.port,
      { peer: o.name, tpduSize: o.tpduSize, localTsel: s.localTsel, remoteTsel: s.remoteTsel, maxUnit: Math.max(o.maxPduSize * 2, 1 << 16) },
      o.timeoutMs,
    );
    try {
      const proposal = defaultInitiate(o.maxPduSize, o.maxOutstanding);
      const answer = await firstUnit(transport, o.timeoutMs, o.name, () =>
        transport.send(
          association.encodeAssociateRequest({
            callingSsel: s.localSsel,
            calledSsel: s.remoteSsel,
            callingPsel: s.localPsel,
            calledPsel: s.remotePsel,
            calledApTitle: o.calledApTitle || undefined,
            calledAeQualifier: o.calledApTitle ? o.calledAeQualifier : undefined,
            callingApTitle: o.callingApTitle || undefined,
            callingAeQualifier: o.callingApTitle ? o.callingAeQualifier : undefined,
            password: o.password,
            initiate: proposal,
          }),
        ),
      );
      const response = association.decodeAssociateResponse(decodeSpdu(answer), o.name, !!o.password);
      return new MmsConnection(transport, o, negotiate(proposal, response.initiate, transport.tpduSize));
    } catch (err) {
      transport.destroy();
      throw err;
    }
  }

  /** Sends a confirmed request; `subject` names what it is about in errors (a reference, a domain). */
  request(request: ConfirmedRequest, subject = ''): Promise<ConfirmedResponse> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new AssociationError(this.ied, `not connected (${request.service}${subject ? ` ${subject}` : ''})`));
        return;
      }
      this.queue.push({ request, subject, resolve, reject });
      this.pump();
    });
  }

  /** MMS Conclude: the IED confirms no more requests will follow. */
  conclude(): Promise<void> {
    return this.awaitClosing('conclude', () => this.transport.send(association.encodeMmsData({ kind: 'conclude-request' })), (w) => (this.conclusion = w));
  }

  /** ACSE release (FINISH / DISCONNECT), then the TCP connection is closed. */
  async releaseAssociation(): Promise<void> {
    await this.awaitClosing('release', () => this.transport.send(association.encodeReleaseRequest()), (w) => (this.release = w));
    this.transport.close();
  }

  /** Orderly end: conclude and release when possible, close the socket in any case. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.inFlight.size && !this.queue.length) {
        await this.conclude();
        await this.releaseAssociation();
      }
    } catch {
      // The IED may refuse or ignore the release; the socket is closed below either way.
    } finally {
      this.destroy();
    }
  }

  /** Drops the association at once; every waiting request fails with `err`. */
  destroy(err?: Error): void {
    this.transport.destroy(err);
    this.closedBy(err ?? new AssociationError(this.ied, 'association closed'));
  }

  private awaitClosing(what: string, send: () => void, store: (w: { resolve: () => void; reject: (e: Error) => void }) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new AssociationError(this.ied, `${what}: not connected`));
        return;
      }
      const timer = setTimeout(() => reject(new IedTimeoutError(this.ied, what, this.options.timeoutMs)), this.options.timeoutMs);
      store({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      send();
    });
  }

  private pump(): void {
    while (!this.closed && this.queue.length && this.inFlight.size < this.negotiated.maxOutstanding) {
      const p = this.queue.shift() as Pending;
      const invokeId = this.nextInvokeId;
      this.nextInvokeId = this.nextInvokeId >= 0x7fffffff ? 1 : this.nextInvokeId + 1;
      const pdu: MmsPdu = { kind: 'confirmed-request', invokeId, request: p.request };
      const encoded = encodeMms(pdu);
      if (encoded.length > this.negotiated.maxPduSize) {
        p.reject(new RangeError(`${this.ied}: ${p.request.service} ${p.subject} needs ${encoded.length} octets, more than the negotiated max PDU size ${this.negotiated.maxPduSize}`));
        continue;
      }
      p.timer = setTimeout(() => {
        this.destroy(new IedTimeoutError(this.ied, `${p.request.service}${p.subject ? ` ${p.subject}` : ''}`, this.options.timeoutMs));
      }, this.options.timeoutMs);
      this.inFlight.set(invokeId, p);
      try {
        this.transport.send(association.encodeMmsData(encoded));
      } catch (err) {
        this.destroy(err as Error);
      }
    }
  }

  private receive(unit: Buffer): void {
    let spdu: Spdu;
    let pdu: MmsPdu | undefined;
    try {
      spdu = decodeSpdu(unit);
      if (spdu.kind === 'DATA') pdu = association.decodeMmsData(spdu);
      else if (spdu.kind === 'DISCONNECT') association.decodeReleaseUnit(spdu);
    } catch (err) {
      // A PDU that cannot be read cannot be matched to its request: the association is no longer trustworthy.
      this.destroy(err instanceof DecodeError ? new AssociationError(this.ied, `malformed frame: ${err.message}`) : (err as Error));
      return;
    }
    if (pdu) {
      this.dispatch(pdu);
    } else if (spdu.kind === 'DISCONNECT') {
      this.release?.resolve();
      this.release = undefined;
    } else if (spdu.kind === 'FINISH') {
      this.transport.send(association.encodeReleaseResponse());
      this.destroy(new AssociationError(this.ied, 'the IED released the association'));
    } else if (spdu.kind === 'ABORT') {
      this.destroy(new AssociationError(this.ied, 'the IED aborted the association'));
    } else {
      this.emit('warning', `${this.ied}: unexpected session ${spdu.kind} ignored`);
    }
  }

  private dispatch(pdu: MmsPdu): void {
    switch (pdu.kind) {
      case 'confirmed-response':
      case 'confirmed-error':
      case 'reject': {
        const p = pdu.invokeId === undefined ? undefined : this.inFlight.get(pdu.invokeId);
        if (!p) {
          this.emit('warning', `${this.ied}: ${pdu.kind} for unknown invoke id ${pdu.invokeId} ignored`);
          return;
        }
        this.inFlight.delete(pdu.invokeId as number);
        clearTimeout(p.timer);
        if (pdu.kind === 'confirmed-response' && pdu.response.service === p.request.service) p.resolve(pdu.response);
        else if (pdu.kind === 'confirmed-response') p.reject(new DecodeError('mms', `${pdu.response.service} response to a ${p.request.service} request`));
        else if (pdu.kind === 'confirmed-error') p.reject(new ServiceError(p.request.service, pdu.error.errorClass, pdu.error.code, p.subject));
        else p.reject(new ServiceError(p.request.service, `reject (${pdu.problem})`, pdu.code, p.subject));
        this.pump();
        return;
      }
      case 'information-report':
        this.emit('report', pdu.report);
        return;
      case 'conclude-response':
      case 'conclude-error':
        if (pdu.kind === 'conclude-error') this.conclusion?.reject(new ServiceError('conclude', pdu.error.errorClass, pdu.error.code));
        else this.conclusion?.resolve();
        this.conclusion = undefined;
        return;
      case 'conclude-request':
        this.transport.send(association.encodeMmsData({ kind: 'conclude-response' }));
        return;
      default:
        this.emit('warning', `${this.ied}: unexpected ${pdu.kind} ignored`);
    }
  }

  private closedBy(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    const failed = [...this.inFlight.values(), ...this.queue];
    this.inFlight.clear();
    this.queue.length = 0;
    for (const p of failed) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.conclusion?.reject(err);
    // A release answered by closing the socket is a completed release.
    this.release?.resolve();
    this.emit('close', err);
  }
}

function negotiate(proposal: InitiateParams, answer: InitiateParams, tpduSize: number): Negotiated {
  return {
    maxPduSize: Math.min(answer.maxPduSize ?? proposal.maxPduSize ?? 65000, proposal.maxPduSize ?? 65000),
    maxOutstanding: Math.max(1, Math.min(answer.maxServOutstandingCalling, proposal.maxServOutstandingCalling)),
    tpduSize,
    nestingLevel: answer.dataStructureNestingLevel,
    servicesSupported: answer.servicesSupported,
  };
}

/** Sends, then waits for the first unit the peer answers with. */
function firstUnit(transport: IsoTransport, timeoutMs: number, ied: string, send: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new IedTimeoutError(ied, 'association request', timeoutMs)), timeoutMs);
    const onUnit = (unit: Buffer): void => finish(undefined, unit);
    const onClose = (err?: Error): void => finish(err ?? new AssociationError(ied, 'connection closed during association'));
    const finish = (err?: Error, unit?: Buffer): void => {
      clearTimeout(timer);
      transport.removeListener('unit', onUnit);
      transport.removeListener('close', onClose);
      if (err) reject(err instanceof AssociationError && /closed by the peer/.test(err.message) ? new AssociationError(ied, 'the IED closed the connection instead of answering the association request; check selectors and AP-title') : err);
      else resolve(unit as Buffer);
    };
    transport.on('unit', onUnit);
    transport.on('close', onClose);
    send();
  });
}
