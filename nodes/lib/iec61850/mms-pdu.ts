/**
 * Top-level MMS PDUs (ISO 9506-2 MMSpdu): confirmed request / response / error,
 * unconfirmed InformationReport, reject, initiate and conclude.
 */
import * as ber from './ber';
import { DecodeError } from './errors';
import { decodeVariableAccess, encodeVariableAccess, VariableAccess } from './mms-names';
import {
  AccessResult,
  ConfirmedRequest,
  ConfirmedResponse,
  decodeAccessResult,
  decodeRequest,
  decodeResponse,
  encodeAccessResult,
  encodeRequest,
  encodeResponse,
} from './mms-services';

export interface InitiateParams {
  /** Largest MMS PDU the sender accepts (localDetailCalling / localDetailCalled). */
  maxPduSize?: number;
  /** Requests the calling side may have outstanding. */
  maxServOutstandingCalling: number;
  /** Requests the called side may have outstanding. */
  maxServOutstandingCalled: number;
  dataStructureNestingLevel?: number;
  version: number;
  parameterCbb: boolean[];
  servicesSupported: boolean[];
}

export interface ServiceErrorInfo {
  errorClass: string;
  code: number;
  additionalCode?: number;
  description?: string;
}

export interface InformationReport {
  access: VariableAccess;
  results: AccessResult[];
}

export type MmsPdu =
  | { kind: 'confirmed-request'; invokeId: number; request: ConfirmedRequest }
  | { kind: 'confirmed-response'; invokeId: number; response: ConfirmedResponse }
  | { kind: 'confirmed-error'; invokeId: number; error: ServiceErrorInfo }
  | { kind: 'information-report'; report: InformationReport }
  | { kind: 'reject'; invokeId?: number; problem: string; code: number }
  | { kind: 'initiate-request'; params: InitiateParams }
  | { kind: 'initiate-response'; params: InitiateParams }
  | { kind: 'initiate-error'; error: ServiceErrorInfo }
  | { kind: 'conclude-request' }
  | { kind: 'conclude-response' }
  | { kind: 'conclude-error'; error: ServiceErrorInfo };

const PDU = {
  confirmedRequest: 0,
  confirmedResponse: 1,
  confirmedError: 2,
  unconfirmed: 3,
  reject: 4,
  initiateRequest: 8,
  initiateResponse: 9,
  initiateError: 10,
  concludeRequest: 11,
  concludeResponse: 12,
  concludeError: 13,
} as const;

export const ERROR_CLASSES = [
  'vmd-state',
  'application-reference',
  'definition',
  'resource',
  'service',
  'service-preempt',
  'time-resolution',
  'access',
  'initiate',
  'conclude',
  'cancel',
  'file',
  'others',
];

const REJECT_PROBLEMS = [
  '',
  'confirmed-request',
  'confirmed-response',
  'confirmed-error',
  'unconfirmed',
  'pdu-error',
  'cancel-request',
  'cancel-response',
  'cancel-error',
  'conclude-request',
  'conclude-response',
  'conclude-error',
];

/** CBB and services of the captured client (the usual IEC 61850 client proposal). */
export const DEFAULT_PARAMETER_CBB = ber.decodeBits(ber.readOne(Buffer.from('810305f100', 'hex')));
export const DEFAULT_SERVICES_SUPPORTED = ber.decodeBits(ber.readOne(Buffer.from('820c03ee1c00000408000079ef18', 'hex')));

export function defaultInitiate(maxPduSize = 65000, maxOutstanding = 5): InitiateParams {
  return {
    maxPduSize,
    maxServOutstandingCalling: maxOutstanding,
    maxServOutstandingCalled: maxOutstanding,
    dataStructureNestingLevel: 10,
    version: 1,
    parameterCbb: DEFAULT_PARAMETER_CBB,
    servicesSupported: DEFAULT_SERVICES_SUPPORTED,
  };
}

function encodeInitiate(tag: number, p: InitiateParams): Buffer {
  const parts: Buffer[] = [];
  if (p.maxPduSize !== undefined) parts.push(ber.ctx(0, ber.intBytes(p.maxPduSize)));
  parts.push(ber.ctx(1, ber.intBytes(p.maxServOutstandingCalling)), ber.ctx(2, ber.intBytes(p.maxServOutstandingCalled)));
  if (p.dataStructureNestingLevel !== undefined) parts.push(ber.ctx(3, ber.intBytes(p.dataStructureNestingLevel)));
  parts.push(
    ber.ctxC(4, ber.ctx(0, ber.intBytes(p.version)), ber.ctx(1, ber.bitBytes(p.parameterCbb)), ber.ctx(2, ber.bitBytes(p.servicesSupported))),
  );
  return ber.ctxC(tag, ...parts);
}

function encodeServiceError(e: ServiceErrorInfo): Buffer {
  const cls = Math.max(0, ERROR_CLASSES.indexOf(e.errorClass));
  const parts = [ber.ctxC(0, ber.ctx(cls, ber.intBytes(e.code)))];
  if (e.additionalCode !== undefined) parts.push(ber.ctx(1, ber.intBytes(e.additionalCode)));
  if (e.description !== undefined) parts.push(ber.ctx(2, Buffer.from(e.description, 'latin1')));
  return Buffer.concat(parts);
}

export function encodeMms(pdu: MmsPdu): Buffer {
  switch (pdu.kind) {
    case 'confirmed-request':
      return ber.ctxC(PDU.confirmedRequest, ber.int(pdu.invokeId), encodeRequest(pdu.request));
    case 'confirmed-response':
      return ber.ctxC(PDU.confirmedResponse, ber.int(pdu.invokeId), encodeResponse(pdu.response));
    case 'confirmed-error':
      return ber.ctxC(PDU.confirmedError, ber.ctx(0, ber.intBytes(pdu.invokeId)), ber.ctxC(2, encodeServiceError(pdu.error)));
    case 'information-report':
      return ber.ctxC(
        PDU.unconfirmed,
        ber.ctxC(0, encodeVariableAccess(pdu.report.access), ber.ctxC(0, ...pdu.report.results.map(encodeAccessResult))),
      );
    case 'reject': {
      const parts = pdu.invokeId === undefined ? [] : [ber.ctx(0, ber.intBytes(pdu.invokeId))];
      const tag = Math.max(1, REJECT_PROBLEMS.indexOf(pdu.problem));
      return ber.ctxC(PDU.reject, ...parts, ber.ctx(tag, ber.intBytes(pdu.code)));
    }
    case 'initiate-request':
      return encodeInitiate(PDU.initiateRequest, pdu.params);
    case 'initiate-response':
      return encodeInitiate(PDU.initiateResponse, pdu.params);
    case 'initiate-error':
      return ber.ctxC(PDU.initiateError, encodeServiceError(pdu.error));
    case 'conclude-request':
      return ber.ctx(PDU.concludeRequest, Buffer.alloc(0));
    case 'conclude-response':
      return ber.ctx(PDU.concludeResponse, Buffer.alloc(0));
    case 'conclude-error':
      return ber.ctxC(PDU.concludeError, encodeServiceError(pdu.error));
  }
}

// ---- decode ---------------------------------------------------------------------

function decodeInitiate(t: ber.Tlv): InitiateParams {
  const parts = ber.children(t);
  const num = (tag: number, what: string): number | undefined => {
    const p = ber.find(parts, ber.CONTEXT, tag);
    return p && ber.decodeSmallInt(p, what);
  };
  const detail = ber.need(parts, ber.CONTEXT, 4, 'init detail');
  const d = ber.children(detail);
  const version = ber.find(d, ber.CONTEXT, 0);
  const cbb = ber.find(d, ber.CONTEXT, 1);
  const services = ber.find(d, ber.CONTEXT, 2);
  return {
    maxPduSize: num(0, 'local detail'),
    maxServOutstandingCalling: num(1, 'max outstanding calling') ?? 1,
    maxServOutstandingCalled: num(2, 'max outstanding called') ?? 1,
    dataStructureNestingLevel: num(3, 'nesting level'),
    version: version ? ber.decodeSmallInt(version, 'version') : 1,
    parameterCbb: cbb ? ber.decodeBits(cbb) : [],
    servicesSupported: services ? ber.decodeBits(services) : [],
  };
}

function decodeServiceError(parts: ber.Tlv[]): ServiceErrorInfo {
  const cls = ber.need(parts, ber.CONTEXT, 0, 'error class');
  const choice = ber.inner(cls, 'error class');
  const additional = ber.find(parts, ber.CONTEXT, 1);
  const description = ber.find(parts, ber.CONTEXT, 2);
  return {
    errorClass: ERROR_CLASSES[choice.tag] ?? `class-${choice.tag}`,
    code: ber.decodeSmallInt(choice, 'error code'),
    additionalCode: additional && Number(ber.decodeInt(additional)),
    description: description && ber.decodeVisible(description),
  };
}

function invokeIdOf(t: ber.Tlv | undefined, what: string): number {
  if (!t) throw new DecodeError('mms', `${what} without an invoke id`);
  const id = ber.decodeSmallInt(t, 'invoke id');
  if (id < 0 || id > 0xffffffff) throw new DecodeError('mms', `invoke id ${id} is out of range`, t.start);
  return id;
}

function decodeTop(t: ber.Tlv): MmsPdu {
  if (t.cls !== ber.CONTEXT) throw new DecodeError('mms', `PDU ${ber.describeTag(t)} is not an MMS PDU`, t.start);
  switch (t.tag) {
    case PDU.confirmedRequest: {
      const [id, service] = ber.children(t);
      if (!service) throw new DecodeError('mms', 'confirmed request without a service', t.start);
      return { kind: 'confirmed-request', invokeId: invokeIdOf(id, 'request'), request: decodeRequest(service) };
    }
    case PDU.confirmedResponse: {
      const [id, service] = ber.children(t);
      if (!service) throw new DecodeError('mms', 'confirmed response without a service', t.start);
      return { kind: 'confirmed-response', invokeId: invokeIdOf(id, 'response'), response: decodeResponse(service) };
    }
    case PDU.confirmedError: {
      const parts = ber.children(t);
      const err = ber.need(parts, ber.CONTEXT, 2, 'service error');
      return { kind: 'confirmed-error', invokeId: invokeIdOf(ber.find(parts, ber.CONTEXT, 0), 'error'), error: decodeServiceError(ber.children(err)) };
    }
    case PDU.unconfirmed: {
      const service = ber.inner(t, 'unconfirmed service');
      if (service.cls !== ber.CONTEXT || service.tag !== 0) {
        throw new DecodeError('mms', `unconfirmed service [${service.tag}] is not supported`, service.start);
      }
      const [access, results] = ber.children(service);
      if (!access || !ber.isCtx(results, 0)) throw new DecodeError('mms', 'information report without variables and results', service.start);
      return {
        kind: 'information-report',
        report: { access: decodeVariableAccess(access), results: ber.children(results).map(decodeAccessResult) },
      };
    }
    case PDU.reject: {
      const parts = ber.children(t);
      const id = ber.find(parts, ber.CONTEXT, 0);
      const reason = parts.find((p) => p.tag !== 0);
      if (!reason) throw new DecodeError('mms', 'reject without a reason', t.start);
      return {
        kind: 'reject',
        invokeId: id && invokeIdOf(id, 'reject'),
        problem: REJECT_PROBLEMS[reason.tag] || `problem-${reason.tag}`,
        code: ber.decodeSmallInt(reason, 'reject reason'),
      };
    }
    case PDU.initiateRequest:
      return { kind: 'initiate-request', params: decodeInitiate(t) };
    case PDU.initiateResponse:
      return { kind: 'initiate-response', params: decodeInitiate(t) };
    case PDU.initiateError:
      return { kind: 'initiate-error', error: decodeServiceError(ber.children(t)) };
    case PDU.concludeRequest:
      return { kind: 'conclude-request' };
    case PDU.concludeResponse:
      return { kind: 'conclude-response' };
    case PDU.concludeError:
      return { kind: 'conclude-error', error: decodeServiceError(ber.children(t)) };
    default:
      throw new DecodeError('mms', `PDU type [${t.tag}] is not supported`, t.start);
  }
}

export function decodeMms(buf: Buffer): MmsPdu {
  return decodeTop(ber.readOne(buf));
}
