/**
 * An MMS server for the test suite, on 127.0.0.1 and an ephemeral port, speaking
 * the same stack as the client (TPKT, COTP, Session, Presentation, ACSE, MMS).
 * It serves the model of model.ts: browse, read, data sets, write, unbuffered
 * reports, error responses, and fault switches for the unhappy paths.
 */
import net from 'net';
import * as association from '../../../nodes/lib/iec61850/association';
import * as ber from '../../../nodes/lib/iec61850/ber';
import { MmsValue } from '../../../nodes/lib/iec61850/mms-data';
import { describeName, ObjectName, VariableName } from '../../../nodes/lib/iec61850/mms-names';
import { encodeMms, InitiateParams, MmsPdu } from '../../../nodes/lib/iec61850/mms-pdu';
import { AccessResult, ConfirmedRequest, ConfirmedResponse, OBJECT_CLASS, WriteResult } from '../../../nodes/lib/iec61850/mms-services';
import * as pres from '../../../nodes/lib/iec61850/presentation';
import * as session from '../../../nodes/lib/iec61850/session';
import { IsoTransport } from '../../../nodes/lib/iec61850/transport';
import { basicIoModel, ServerModel } from './model';
import { ReportEngine } from './reports';
import { ControlEngine } from './controls';
import { ACCESS, VariableStore } from './store';
import { applyDialect, Dialect } from './dialect';
import { prng } from './captures';

export interface ServerOptions {
  model?: ServerModel;
  /** Largest TPDU the server accepts (smaller forces segmentation). */
  tpduSize?: number;
  maxPduSize?: number;
  /** Outstanding requests the server grants the client. */
  maxOutstanding?: number;
  /** Names per GetNameList answer (smaller forces continueAfter paging). */
  namesPerPage?: number;
  /** Delay before each answer, so requests pile up in flight. */
  responseDelayMs?: number;
  /** Encodings of other IEDs: indefinite BER lengths, long-form session lengths. */
  dialect?: Dialect;
  /** Random extra delay per answer (seeded), so answers overtake each other. */
  responseJitterMs?: number;
  /** What the server insists on; a mismatch is refused the way an IED would. */
  expect?: { tsel?: string; ssel?: string; psel?: string; apTitle?: string; aeQualifier?: number; password?: string };
}

export interface Faults {
  /** Refuse the next associations with AARE rejected-permanent. */
  rejectAssociation?: boolean;
  /** Send half of the next answer, then close the TCP connection. */
  closeMidResponse?: boolean;
  /** Send octets that are no valid TPKT instead of the next answer. */
  garbage?: boolean;
  /** Send a well-framed unit whose MMS content is corrupt instead of the next answer. */
  corruptPdu?: boolean;
  /** Do not answer the next request at all. */
  silent?: boolean;
}

export interface Peer {
  transport: IsoTransport;
  id: number;
  /** Negotiated max PDU size; larger answers become an error, as on a real server. */
  maxPduSize?: number;
  send(pdu: MmsPdu): void;
}

export class MmsTestServer {
  readonly store: VariableStore;
  readonly faults: Faults = {};
  readonly reports: ReportEngine;
  readonly controls: ControlEngine;
  /** Services received, for assertions: `read simpleIOGenericIO/GGIO1$MX$AnIn1$mag$f`. */
  readonly log: string[] = [];
  /** Session units of MMS requests as received, for byte comparisons. */
  readonly requestUnits: Buffer[] = [];
  /** Invoke ids in the order their answers were sent. */
  readonly answerOrder: number[] = [];
  /** Highest number of requests received and not yet answered on one connection. */
  peakInFlight = 0;
  associations = 0;
  private server?: net.Server;
  private readonly peers = new Set<Peer>();
  private nextPeer = 1;
  private readonly random = prng(61850);

  constructor(readonly options: ServerOptions = {}) {
    this.store = new VariableStore(options.model ?? basicIoModel());
    this.reports = new ReportEngine(this.store);
    this.controls = new ControlEngine(this.store, (d, i, v) => this.setValue(d, i, v));
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get connectionCount(): number {
    return this.peers.size;
  }

  async start(port = 0): Promise<this> {
    this.server = net.createServer((socket) => void this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    return this;
  }

  async stop(): Promise<void> {
    this.reports.stop();
    this.controls.stop();
    for (const p of this.peers) p.transport.destroy();
    this.peers.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Drops every open association, as a rebooting IED would. */
  dropConnections(): void {
    for (const p of this.peers) p.transport.destroy();
  }

  /** Changes a value as the process would; reports with data-change triggers follow. */
  setValue(domain: string, item: string, value: MmsValue): void {
    const keys = this.store.set(domain, item, value);
    this.reports.changed(keys);
  }

  private async accept(socket: net.Socket): Promise<void> {
    const expect = this.options.expect ?? {};
    let transport: IsoTransport;
    try {
      transport = await IsoTransport.accept(
        socket,
        { peer: 'client', tpduSize: this.options.tpduSize ?? 8192, localTsel: Buffer.from('0001', 'hex'), remoteTsel: Buffer.alloc(0), maxUnit: 1 << 20 },
        2000,
        (cr) => (expect.tsel && cr.calledTsap?.toString('hex') !== expect.tsel ? `called TSEL ${cr.calledTsap?.toString('hex')} unknown` : undefined),
      );
    } catch {
      return;
    }
    const peer: Peer = { transport, id: this.nextPeer++, send: (pdu) => this.sendPdu(peer, pdu) };
    this.peers.add(peer);
    let associated = false;
    let inFlight = 0;
    transport.on('close', () => {
      this.peers.delete(peer);
      this.reports.release(peer);
      this.controls.release(peer);
    });
    transport.on('unit', (unit) => {
      try {
        const spdu = session.decodeSpdu(unit);
        if (!associated) {
          if (spdu.kind !== 'CONNECT') throw new Error(`${spdu.kind} before CONNECT`);
          associated = this.associate(transport, spdu, peer);
          return;
        }
        if (spdu.kind === 'FINISH') {
          transport.send(association.encodeReleaseResponse());
          transport.close();
        } else if (spdu.kind === 'ABORT') {
          transport.destroy();
        } else if (spdu.kind === 'DATA') {
          const pdu = association.decodeMmsData(spdu);
          this.requestUnits.push(unit);
          inFlight++;
          this.peakInFlight = Math.max(this.peakInFlight, inFlight);
          const answer = (): void => {
            inFlight--;
            if (transport.isOpen) this.answer(peer, pdu);
          };
          const delay = (this.options.responseDelayMs ?? 0) + Math.floor(this.random() * (this.options.responseJitterMs ?? 0));
          if (delay) setTimeout(answer, delay);
          else answer();
        }
      } catch {
        transport.destroy();
      }
    });
  }

  private associate(transport: IsoTransport, spdu: Extract<session.Spdu, { kind: 'CONNECT' }>, peer: Peer): boolean {
    const expect = this.options.expect ?? {};
    if (expect.ssel && spdu.calledSsel?.toString('hex') !== expect.ssel) {
      transport.send(session.encodeRefuse(129, Buffer.alloc(0)));
      transport.close();
      return false;
    }
    const req = association.decodeAssociateRequest(spdu);
    if (expect.psel && req.calledPsel.toString('hex') !== expect.psel) {
      transport.send(session.encodeRefuse(2, pres.encodeCpr(3)));
      transport.close();
      return false;
    }
    let diagnostic: number | undefined;
    if (this.faults.rejectAssociation) diagnostic = 1;
    else if (expect.apTitle !== undefined && req.calledApTitle !== expect.apTitle) diagnostic = 7;
    else if (expect.aeQualifier !== undefined && req.calledAeQualifier !== expect.aeQualifier) diagnostic = 9;
    else if (expect.password !== undefined && req.password !== expect.password) diagnostic = req.password === undefined ? 14 : 13;
    const base = { respondingSsel: req.calledSsel, respondingPsel: req.calledPsel, contexts: req.contexts };
    if (diagnostic !== undefined) {
      transport.send(association.encodeAssociateResponse({ ...base, result: 1, diagnostic }));
      transport.close();
      return false;
    }
    const params: InitiateParams = {
      ...req.initiate,
      maxPduSize: Math.min(req.initiate.maxPduSize ?? 65000, this.options.maxPduSize ?? 65000),
      maxServOutstandingCalling: Math.min(req.initiate.maxServOutstandingCalling, this.options.maxOutstanding ?? 5),
      maxServOutstandingCalled: Math.min(req.initiate.maxServOutstandingCalled, this.options.maxOutstanding ?? 5),
    };
    this.associations++;
    peer.maxPduSize = params.maxPduSize;
    this.sendUnit(transport, association.encodeAssociateResponse({ ...base, result: 0, initiate: { kind: 'initiate-response', params } }));
    return true;
  }

  private sendPdu(peer: Peer, pdu: MmsPdu, encoded?: Buffer): void {
    if (!peer.transport.isOpen) return;
    const unit = association.encodeMmsData(encoded ?? encodeMms(pdu));
    if (this.faults.silent && pdu.kind !== 'information-report') {
      this.faults.silent = false;
      return;
    }
    if (this.faults.closeMidResponse && pdu.kind !== 'information-report') {
      this.faults.closeMidResponse = false;
      const frame = Buffer.concat([Buffer.from([3, 0, (unit.length + 7) >> 8, (unit.length + 7) & 0xff, 2, 0xf0, 0x80]), unit]);
      peer.transport.sendRaw(frame.subarray(0, Math.floor(frame.length / 2)));
      setTimeout(() => peer.transport.destroy(), 20);
      return;
    }
    if (this.faults.garbage && pdu.kind !== 'information-report') {
      this.faults.garbage = false;
      peer.transport.sendRaw(Buffer.from('474554202f20485454502f312e310d0a', 'hex'));
      return;
    }
    if (this.faults.corruptPdu && pdu.kind !== 'information-report') {
      this.faults.corruptPdu = false;
      peer.transport.send(session.encodeData(pres.encodeUserData([{ contextId: pres.MMS_CONTEXT, data: ber.tlv(ber.CONTEXT, true, 1, Buffer.from('0201', 'hex')) }])));
      return;
    }
    this.sendUnit(peer.transport, unit);
  }

  private sendUnit(transport: IsoTransport, unit: Buffer): void {
    transport.send(this.options.dialect ? applyDialect(unit, this.options.dialect) : unit);
  }

  private answer(peer: Peer, pdu: MmsPdu): void {
    if (pdu.kind === 'conclude-request') {
      this.sendPdu(peer, { kind: 'conclude-response' });
      return;
    }
    if (pdu.kind !== 'confirmed-request') return;
    const invokeId = pdu.invokeId;
    this.log.push(describe(pdu.request));
    this.answerOrder.push(invokeId);
    const outcome = this.serve(peer, pdu.request);
    if ('errorClass' in outcome) this.sendPdu(peer, { kind: 'confirmed-error', invokeId, error: outcome });
    else {
      const response: MmsPdu = { kind: 'confirmed-response', invokeId, response: outcome };
      const encoded = encodeMms(response);
      if (peer.maxPduSize && encoded.length > peer.maxPduSize) this.sendPdu(peer, { kind: 'confirmed-error', invokeId, error: { errorClass: 'resource', code: 0 } });
      else this.sendPdu(peer, response, encoded);
    }
  }

  private serve(peer: Peer, r: ConfirmedRequest): ConfirmedResponse | { errorClass: string; code: number } {
    const undefinedObject = { errorClass: 'definition', code: 1 };
    switch (r.service) {
      case 'identify':
        return { service: 'identify', vendor: 'energy-rtu', model: 'MMS test server', revision: '1' };
      case 'getNameList': {
        let names: string[];
        if (r.objectClass === OBJECT_CLASS.domain) names = this.store.domains();
        else if (r.scope.kind !== 'domain' || !this.store.hasDomain(r.scope.domain)) return undefinedObject;
        else if (r.objectClass === OBJECT_CLASS.namedVariable) names = this.store.names(r.scope.domain);
        else if (r.objectClass === OBJECT_CLASS.namedVariableList) names = [...(this.store.model.get(r.scope.domain)?.dataSets.keys() ?? [])];
        else names = [];
        const start = r.continueAfter === undefined ? 0 : names.indexOf(r.continueAfter) + 1;
        const page = this.options.namesPerPage ?? 1000;
        return { service: 'getNameList', identifiers: names.slice(start, start + page), moreFollows: start + page < names.length };
      }
      case 'getVariableAccessAttributes': {
        const type = r.name.scope === 'domain' ? this.store.typeOf(r.name.domain, r.name.item) : undefined;
        return type ? { service: 'getVariableAccessAttributes', deletable: false, type } : undefinedObject;
      }
      case 'getNamedVariableListAttributes': {
        const members = r.name.scope === 'domain' ? this.store.model.get(r.name.domain)?.dataSets.get(r.name.item) : undefined;
        return members ? { service: 'getNamedVariableListAttributes', deletable: false, variables: members } : undefinedObject;
      }
      case 'read': {
        if (r.access.kind === 'named-list') {
          const n = r.access.name;
          const members = n.scope === 'domain' ? this.store.model.get(n.domain)?.dataSets.get(n.item) : undefined;
          if (!members) return { service: 'read', results: [{ ok: false, error: ACCESS.nonExistent }] };
          return { service: 'read', access: r.specificationWithResult ? r.access : undefined, results: members.map((m) => this.readOne(m)) };
        }
        return { service: 'read', results: r.access.variables.map((v) => this.readOne(v, peer)) };
      }
      case 'write': {
        if (r.access.kind !== 'list') return { service: 'write', results: [{ ok: false, error: ACCESS.denied }] };
        const results = r.access.variables.map((v, i): WriteResult => {
          const code = this.writeOne(peer, v, r.values[i]);
          return code === undefined ? { ok: true } : { ok: false, error: code };
        });
        return { service: 'write', results };
      }
    }
  }

  private readOne(n: VariableName, peer?: Peer): AccessResult {
    const parts = n.item.split('$');
    if (peer && n.scope === 'domain' && parts[1] === 'CO' && parts[3] === 'SBO' && parts.length === 4 && typeof this.store.read(n.domain, n.item) !== 'number') {
      return { ok: true, value: this.controls.readSbo(peer, n.domain, parts) };
    }
    const v = this.store.readVariable(n);
    return typeof v === 'number' ? { ok: false, error: v } : { ok: true, value: v };
  }

  private writeOne(peer: Peer, n: ObjectName, value: MmsValue | undefined): number | undefined {
    if (n.scope !== 'domain' || !value) return ACCESS.nonExistent;
    const parts = n.item.split('$');
    if (parts[1] === 'RP' || parts[1] === 'BR') {
      const refused = this.reports.beforeWrite(peer, n.domain, parts, value);
      if (refused !== undefined) return refused;
    }
    const code = this.store.write(n.domain, n.item, value);
    if (code !== undefined) return code;
    if (parts[1] === 'RP' || parts[1] === 'BR') this.reports.afterWrite(peer, n.domain, parts, value);
    if (parts[1] === 'CO' && parts.length === 4 && ['Oper', 'SBOw', 'Cancel'].includes(parts[3])) {
      return this.controls.write(peer, n.domain, parts, value, this.store.typeOf(n.domain, n.item));
    }
    return undefined;
  }
}

function describe(r: ConfirmedRequest): string {
  switch (r.service) {
    case 'read':
    case 'write':
      return `${r.service} ${r.access.kind === 'list' ? r.access.variables.map(describeName).join(',') : describeName(r.access.name)}`;
    case 'getNameList':
      return `getNameList ${r.objectClass} ${r.scope.kind === 'domain' ? r.scope.domain : r.scope.kind}${r.continueAfter ? ` after ${r.continueAfter}` : ''}`;
    case 'getVariableAccessAttributes':
    case 'getNamedVariableListAttributes':
      return `${r.service} ${describeName(r.name)}`;
    default:
      return r.service;
  }
}
