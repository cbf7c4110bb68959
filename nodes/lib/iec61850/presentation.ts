/**
 * ISO Presentation (ISO 8823-1, normal mode): CP / CPA / CPR connect PPDUs and
 * fully-encoded user data, where each value names its presentation context
 * (1 = ACSE, 3 = MMS by the usual convention; the numbers come from the CP).
 */
import * as ber from './ber';
import { DecodeError } from './errors';

export const BER_TRANSFER_SYNTAX = '2.1.1';
export const ACSE_ABSTRACT_SYNTAX = '2.2.1.0.1';
export const MMS_ABSTRACT_SYNTAX = '1.0.9506.2.1';
export const ACSE_CONTEXT = 1;
export const MMS_CONTEXT = 3;

export interface PresentationContext {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

/** One presentation data value: the context it belongs to and its encoded ASN.1 value. */
export interface Pdv {
  contextId: number;
  data: Buffer;
}

export interface ConnectPpdu {
  callingPsel?: Buffer;
  calledPsel?: Buffer;
  contexts: PresentationContext[];
  userData: Pdv[];
}

export interface ContextResult {
  /** 0 acceptance, 1 user rejection, 2 provider rejection. */
  result: number;
  transferSyntax?: string;
  providerReason?: number;
}

export interface AcceptPpdu {
  respondingPsel?: Buffer;
  results: ContextResult[];
  userData: Pdv[];
}

export const DEFAULT_CONTEXTS: PresentationContext[] = [
  { id: ACSE_CONTEXT, abstractSyntax: ACSE_ABSTRACT_SYNTAX, transferSyntaxes: [BER_TRANSFER_SYNTAX] },
  { id: MMS_CONTEXT, abstractSyntax: MMS_ABSTRACT_SYNTAX, transferSyntaxes: [BER_TRANSFER_SYNTAX] },
];

const NORMAL_MODE = ber.ctxC(0, ber.ctx(0, Buffer.from([1])));

/** Fully-encoded user data ([APPLICATION 1]) holding single-ASN1-type values. */
export function encodeUserData(values: Pdv[]): Buffer {
  return ber.app(1, ...values.map((v) => ber.seq(ber.int(v.contextId), ber.ctxC(0, v.data))));
}

export function encodeCp(p: ConnectPpdu): Buffer {
  const params: Buffer[] = [];
  if (p.callingPsel) params.push(ber.ctx(1, p.callingPsel));
  if (p.calledPsel) params.push(ber.ctx(2, p.calledPsel));
  params.push(
    ber.ctxC(
      4,
      ...p.contexts.map((c) => ber.seq(ber.int(c.id), ber.oid(c.abstractSyntax), ber.seq(...c.transferSyntaxes.map(ber.oid)))),
    ),
  );
  params.push(encodeUserData(p.userData));
  return ber.set(NORMAL_MODE, ber.ctxC(2, ...params));
}

export function encodeCpa(p: AcceptPpdu): Buffer {
  const params: Buffer[] = [];
  if (p.respondingPsel) params.push(ber.ctx(3, p.respondingPsel));
  params.push(
    ber.ctxC(
      5,
      ...p.results.map((r) => {
        const parts = [ber.ctx(0, ber.intBytes(r.result))];
        if (r.transferSyntax) parts.push(ber.ctx(1, ber.oidBytes(r.transferSyntax)));
        if (r.providerReason !== undefined) parts.push(ber.ctx(2, ber.intBytes(r.providerReason)));
        return ber.seq(...parts);
      }),
    ),
  );
  params.push(encodeUserData(p.userData));
  return ber.set(NORMAL_MODE, ber.ctxC(2, ...params));
}

/** CPR (connect refused) with a provider reason: 1 = reason not specified, 4 = selector unknown... */
export function encodeCpr(providerReason: number): Buffer {
  return ber.seq(ber.ctx(10, ber.intBytes(providerReason)));
}

export function decodeUserData(tlv: ber.Tlv): Pdv[] {
  if (tlv.cls !== ber.APPLICATION || tlv.tag !== 1) {
    throw new DecodeError('presentation', `user data ${ber.describeTag(tlv)} is not fully-encoded data`, tlv.start);
  }
  return ber.children(tlv).map((pdv) => {
    const parts = ber.children(pdv);
    const idTlv = parts.find((p) => p.cls === ber.UNIVERSAL && p.tag === ber.U.integer);
    if (!idTlv) throw new DecodeError('presentation', 'PDV without a presentation context identifier', pdv.start);
    const contextId = ber.decodeSmallInt(idTlv, 'presentation context identifier');
    const single = ber.find(parts, ber.CONTEXT, 0);
    if (single) return { contextId, data: ber.rawInner(single, 'single-ASN1-type') };
    const octets = ber.find(parts, ber.CONTEXT, 1);
    if (octets) return { contextId, data: ber.decodeOctets(octets, 'octet-aligned value') };
    throw new DecodeError('presentation', 'PDV without single-ASN1-type or octet-aligned value', pdv.start);
  });
}

/** P-DATA: the user data of a session DATA TRANSFER. */
export function decodeData(buf: Buffer): Pdv[] {
  return decodeUserData(ber.readOne(buf));
}

function normalMode(buf: Buffer, what: string): ber.Tlv[] {
  const top = ber.readOne(buf);
  if (top.cls !== ber.UNIVERSAL || top.tag !== ber.U.set) {
    throw new DecodeError('presentation', `${what} should be a SET, is ${ber.describeTag(top)}`);
  }
  const normal = ber.find(ber.children(top), ber.CONTEXT, 2);
  if (!normal) throw new DecodeError('presentation', `${what} without normal-mode parameters`);
  return ber.children(normal);
}

function userDataOf(params: ber.Tlv[]): Pdv[] {
  const ud = ber.find(params, ber.APPLICATION, 1);
  return ud ? decodeUserData(ud) : [];
}

export function decodeCp(buf: Buffer): ConnectPpdu {
  const params = normalMode(buf, 'CP-type');
  const calling = ber.find(params, ber.CONTEXT, 1);
  const called = ber.find(params, ber.CONTEXT, 2);
  const list = ber.find(params, ber.CONTEXT, 4);
  const contexts = list
    ? ber.children(list).map((item) => {
        const [id, abstract, transfers] = ber.children(item);
        if (!id || !abstract || !transfers) throw new DecodeError('presentation', 'incomplete context definition', item.start);
        return {
          id: ber.decodeSmallInt(id, 'context identifier'),
          abstractSyntax: ber.decodeOid(abstract, 'abstract syntax'),
          transferSyntaxes: ber.children(transfers).map((t) => ber.decodeOid(t, 'transfer syntax')),
        };
      })
    : [];
  return {
    callingPsel: calling && ber.decodeOctets(calling),
    calledPsel: called && ber.decodeOctets(called),
    contexts,
    userData: userDataOf(params),
  };
}

export function decodeCpa(buf: Buffer): AcceptPpdu {
  const params = normalMode(buf, 'CPA-PPDU');
  const responding = ber.find(params, ber.CONTEXT, 3);
  const list = ber.find(params, ber.CONTEXT, 5);
  const results = list
    ? ber.children(list).map((item) => {
        const parts = ber.children(item);
        const result = ber.find(parts, ber.CONTEXT, 0);
        const syntax = ber.find(parts, ber.CONTEXT, 1);
        const reason = ber.find(parts, ber.CONTEXT, 2);
        if (!result) throw new DecodeError('presentation', 'context result without a result', item.start);
        return {
          result: ber.decodeSmallInt(result, 'context result'),
          transferSyntax: syntax && ber.decodeOid(syntax, 'transfer syntax'),
          providerReason: reason && ber.decodeSmallInt(reason, 'provider reason'),
        };
      })
    : [];
  return { respondingPsel: responding && ber.decodeOctets(responding), results, userData: userDataOf(params) };
}

/** The provider reason of a CPR-PPDU, when the refusal carries one. */
export function decodeCprReason(buf: Buffer): number | undefined {
  const top = ber.readOne(buf);
  const reason = ber.find(top.constructed ? ber.children(top) : [], ber.CONTEXT, 10);
  return reason && ber.decodeSmallInt(reason, 'provider reason');
}

export const PROVIDER_REASON: Record<number, string> = {
  0: 'reason not specified',
  1: 'temporary congestion',
  2: 'local limit exceeded',
  3: 'called presentation address unknown',
  4: 'protocol version not supported',
  5: 'default context not supported',
  6: 'user data not readable',
  7: 'no PSAP available',
};
