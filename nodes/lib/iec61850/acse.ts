/**
 * ACSE (ISO 8650-1): association request and response, release, abort. The MMS
 * initiate PDU rides in user-information as an EXTERNAL referring to the MMS
 * presentation context.
 */
import * as ber from './ber';
import { DecodeError } from './errors';

export const MMS_APPLICATION_CONTEXT = '1.0.9506.2.3';
/** Password authentication mechanism (ISO 8650 "password"). */
const PASSWORD_MECHANISM = '2.2.3.1';

export interface AssociationNames {
  calledApTitle?: string;
  calledAeQualifier?: number;
  callingApTitle?: string;
  callingAeQualifier?: number;
}

export interface Aarq extends AssociationNames {
  applicationContext: string;
  password?: string;
  /** Presentation context the user information belongs to. */
  userContextId: number;
  userInformation?: Buffer;
}

export interface Aare {
  applicationContext: string;
  /** 0 accepted, 1 rejected (permanent), 2 rejected (transient). */
  result: number;
  /** Where the diagnostic came from: the ACSE user (1) or the provider (2). */
  diagnosticSource?: 'user' | 'provider';
  diagnostic?: number;
  respondingApTitle?: string;
  respondingAeQualifier?: number;
  userContextId?: number;
  userInformation?: Buffer;
}

export const AARE_USER_DIAGNOSTIC: Record<number, string> = {
  0: 'null',
  1: 'no reason given',
  2: 'application context name not supported',
  3: 'calling AP title not recognized',
  5: 'calling AE qualifier not recognized',
  7: 'called AP title not recognized',
  9: 'called AE qualifier not recognized',
  11: 'authentication mechanism name not recognized',
  12: 'authentication mechanism name required',
  13: 'authentication failure',
  14: 'authentication required',
};

function external(contextId: number, value: Buffer): Buffer {
  return ber.tlv(ber.UNIVERSAL, true, ber.U.external, [ber.int(contextId), ber.ctxC(0, value)]);
}

function apTitle(tag: number, value: string): Buffer {
  return ber.ctxC(tag, ber.oid(value));
}

function aeQualifier(tag: number, value: number): Buffer {
  return ber.ctxC(tag, ber.int(value));
}

export function encodeAarq(a: Aarq): Buffer {
  const parts: Buffer[] = [ber.ctxC(1, ber.oid(a.applicationContext))];
  if (a.calledApTitle) parts.push(apTitle(2, a.calledApTitle));
  if (a.calledAeQualifier !== undefined) parts.push(aeQualifier(3, a.calledAeQualifier));
  if (a.callingApTitle) parts.push(apTitle(6, a.callingApTitle));
  if (a.callingAeQualifier !== undefined) parts.push(aeQualifier(7, a.callingAeQualifier));
  if (a.password !== undefined) {
    parts.push(ber.ctx(10, ber.bitBytes([true])));
    parts.push(ber.ctx(11, ber.oidBytes(PASSWORD_MECHANISM)));
    parts.push(ber.ctxC(12, ber.ctx(0, Buffer.from(a.password, 'utf8'))));
  }
  if (a.userInformation) parts.push(ber.ctxC(30, external(a.userContextId, a.userInformation)));
  return ber.app(0, ...parts);
}

export function encodeAare(a: Aare): Buffer {
  const parts: Buffer[] = [ber.ctxC(1, ber.oid(a.applicationContext)), ber.ctxC(2, ber.int(a.result))];
  if (a.diagnostic !== undefined) {
    parts.push(ber.ctxC(3, ber.ctxC(a.diagnosticSource === 'provider' ? 2 : 1, ber.int(a.diagnostic))));
  }
  if (a.respondingApTitle) parts.push(apTitle(4, a.respondingApTitle));
  if (a.respondingAeQualifier !== undefined) parts.push(aeQualifier(5, a.respondingAeQualifier));
  if (a.userInformation) parts.push(ber.ctxC(30, external(a.userContextId ?? 3, a.userInformation)));
  return ber.app(1, ...parts);
}

/** RLRQ with reason normal (0). */
export const encodeRlrq = (reason = 0): Buffer => ber.app(2, ber.ctx(0, ber.intBytes(reason)));
/** RLRE; the reason is optional and the captured servers leave it out. */
export const encodeRlre = (reason?: number): Buffer => (reason === undefined ? ber.app(3) : ber.app(3, ber.ctx(0, ber.intBytes(reason))));
/** ABRT from the ACSE service user (0) or provider (1). */
export const encodeAbrt = (source = 0): Buffer => ber.app(4, ber.ctx(0, ber.intBytes(source)));

export type AcsePdu =
  | ({ kind: 'AARQ' } & Aarq)
  | ({ kind: 'AARE' } & Aare)
  | { kind: 'RLRQ'; reason?: number }
  | { kind: 'RLRE'; reason?: number }
  | { kind: 'ABRT'; source?: number };

function explicitOid(list: ber.Tlv[], tag: number, what: string): string | undefined {
  const t = ber.find(list, ber.CONTEXT, tag);
  return t && ber.decodeOid(ber.inner(t, what), what);
}

function explicitInt(list: ber.Tlv[], tag: number, what: string): number | undefined {
  const t = ber.find(list, ber.CONTEXT, tag);
  return t && ber.decodeSmallInt(ber.inner(t, what), what);
}

function userInformation(list: ber.Tlv[]): { userContextId?: number; userInformation?: Buffer } {
  const ui = ber.find(list, ber.CONTEXT, 30);
  if (!ui) return {};
  const ext = ber.children(ui)[0];
  if (!ext || ext.cls !== ber.UNIVERSAL || ext.tag !== ber.U.external) {
    throw new DecodeError('acse', 'user information without an EXTERNAL', ui.start);
  }
  const parts = ber.children(ext);
  const ref = parts.find((p) => p.cls === ber.UNIVERSAL && p.tag === ber.U.integer);
  const single = ber.find(parts, ber.CONTEXT, 0);
  const octets = ber.find(parts, ber.CONTEXT, 1);
  const data = single ? ber.rawInner(single, 'single-ASN1-type') : octets ? ber.decodeOctets(octets) : undefined;
  if (!data) throw new DecodeError('acse', 'EXTERNAL without an encoding', ext.start);
  return { userContextId: ref && ber.decodeSmallInt(ref, 'indirect reference'), userInformation: data };
}

function optionalReason(list: ber.Tlv[]): number | undefined {
  const r = ber.find(list, ber.CONTEXT, 0);
  return r && ber.decodeSmallInt(r, 'reason');
}

export function decodeAcse(buf: Buffer): AcsePdu {
  const top = ber.readOne(buf);
  if (top.cls !== ber.APPLICATION) throw new DecodeError('acse', `APDU ${ber.describeTag(top)} is not an ACSE APDU`);
  const list = top.constructed ? ber.children(top) : [];
  switch (top.tag) {
    case 0: {
      const password = ber.find(list, ber.CONTEXT, 12);
      const charstring = password && ber.find(ber.children(password), ber.CONTEXT, 0);
      const ui = userInformation(list);
      return {
        kind: 'AARQ',
        applicationContext: explicitOid(list, 1, 'application context name') ?? '',
        calledApTitle: explicitOid(list, 2, 'called AP title'),
        calledAeQualifier: explicitInt(list, 3, 'called AE qualifier'),
        callingApTitle: explicitOid(list, 6, 'calling AP title'),
        callingAeQualifier: explicitInt(list, 7, 'calling AE qualifier'),
        password: charstring && ber.decodeUtf8(charstring, 'password'),
        userContextId: ui.userContextId ?? 0,
        userInformation: ui.userInformation,
      };
    }
    case 1: {
      const result = explicitInt(list, 2, 'result');
      if (result === undefined) throw new DecodeError('acse', 'AARE without a result');
      const diag = ber.find(list, ber.CONTEXT, 3);
      const source = diag && ber.children(diag)[0];
      return {
        kind: 'AARE',
        applicationContext: explicitOid(list, 1, 'application context name') ?? '',
        result,
        diagnosticSource: source ? (source.tag === 2 ? 'provider' : 'user') : undefined,
        diagnostic: source ? ber.decodeSmallInt(ber.inner(source, 'diagnostic'), 'diagnostic') : undefined,
        respondingApTitle: explicitOid(list, 4, 'responding AP title'),
        respondingAeQualifier: explicitInt(list, 5, 'responding AE qualifier'),
        ...userInformation(list),
      };
    }
    case 2:
      return { kind: 'RLRQ', reason: optionalReason(list) };
    case 3:
      return { kind: 'RLRE', reason: optionalReason(list) };
    case 4:
      return { kind: 'ABRT', source: optionalReason(list) };
    default:
      throw new DecodeError('acse', `APDU [APPLICATION ${top.tag}] is not supported`);
  }
}
