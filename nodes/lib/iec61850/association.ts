/**
 * The layers between COTP and MMS put together: Session CONNECT carrying a
 * Presentation CP carrying an ACSE AARQ carrying the MMS initiate request, and
 * the matching accept, data, release and abort units. Used by the client and by
 * the test server, so both speak exactly the same stack.
 */
import * as acse from './acse';
import { AssociationError, DecodeError } from './errors';
import { decodeMms, encodeMms, InitiateParams, MmsPdu } from './mms-pdu';
import * as pres from './presentation';
import * as session from './session';

export interface AssociationAddress extends acse.AssociationNames {
  callingSsel: Buffer;
  calledSsel: Buffer;
  callingPsel: Buffer;
  calledPsel: Buffer;
}

export interface AssociateRequest extends AssociationAddress {
  password?: string;
  initiate: InitiateParams;
}

export interface AssociateResponse {
  respondingSsel?: Buffer;
  respondingPsel?: Buffer;
  aare: acse.Aare;
  initiate?: InitiateParams;
}

export function encodeAssociateRequest(r: AssociateRequest): Buffer {
  const aarq = acse.encodeAarq({
    applicationContext: acse.MMS_APPLICATION_CONTEXT,
    calledApTitle: r.calledApTitle,
    calledAeQualifier: r.calledAeQualifier,
    callingApTitle: r.callingApTitle,
    callingAeQualifier: r.callingAeQualifier,
    password: r.password,
    userContextId: pres.MMS_CONTEXT,
    userInformation: encodeMms({ kind: 'initiate-request', params: r.initiate }),
  });
  const cp = pres.encodeCp({
    callingPsel: r.callingPsel,
    calledPsel: r.calledPsel,
    contexts: pres.DEFAULT_CONTEXTS,
    userData: [{ contextId: pres.ACSE_CONTEXT, data: aarq }],
  });
  return session.encodeConnect(r.callingSsel, r.calledSsel, cp);
}

/** Server side: what a CONNECT asks for. */
export function decodeAssociateRequest(spdu: Extract<session.Spdu, { kind: 'CONNECT' }>): AssociateRequest & { contexts: pres.PresentationContext[] } {
  const cp = pres.decodeCp(spdu.userData);
  const acsePdv = cp.userData.find((u) => u.contextId === pres.ACSE_CONTEXT) ?? cp.userData[0];
  if (!acsePdv) throw new DecodeError('presentation', 'CP without an AARQ');
  const aarq = acse.decodeAcse(acsePdv.data);
  if (aarq.kind !== 'AARQ') throw new DecodeError('acse', `CP carries ${aarq.kind}, expected AARQ`);
  if (!aarq.userInformation) throw new DecodeError('acse', 'AARQ without an MMS initiate request');
  const initiate = decodeMms(aarq.userInformation);
  if (initiate.kind !== 'initiate-request') throw new DecodeError('mms', `AARQ carries ${initiate.kind}, expected initiate-request`);
  return {
    callingSsel: spdu.callingSsel ?? Buffer.alloc(0),
    calledSsel: spdu.calledSsel ?? Buffer.alloc(0),
    callingPsel: cp.callingPsel ?? Buffer.alloc(0),
    calledPsel: cp.calledPsel ?? Buffer.alloc(0),
    calledApTitle: aarq.calledApTitle,
    calledAeQualifier: aarq.calledAeQualifier,
    callingApTitle: aarq.callingApTitle,
    callingAeQualifier: aarq.callingAeQualifier,
    password: aarq.password,
    initiate: initiate.params,
    contexts: cp.contexts,
  };
}

/** Server side: ACCEPT + CPA + AARE, with either an initiate response or a rejection diagnostic. */
export function encodeAssociateResponse(r: {
  respondingSsel: Buffer;
  respondingPsel: Buffer;
  contexts: pres.PresentationContext[];
  result: number;
  diagnostic?: number;
  initiate?: MmsPdu;
}): Buffer {
  const aare = acse.encodeAare({
    applicationContext: acse.MMS_APPLICATION_CONTEXT,
    result: r.result,
    diagnosticSource: 'user',
    diagnostic: r.diagnostic ?? 0,
    userContextId: pres.MMS_CONTEXT,
    userInformation: r.initiate && encodeMms(r.initiate),
  });
  const cpa = pres.encodeCpa({
    respondingPsel: r.respondingPsel,
    results: r.contexts.map(() => ({ result: 0, transferSyntax: pres.BER_TRANSFER_SYNTAX })),
    userData: [{ contextId: pres.ACSE_CONTEXT, data: aare }],
  });
  return session.encodeAccept(r.respondingSsel, cpa);
}

function describeAare(aare: acse.Aare): string {
  const result = aare.result === 1 ? 'rejected (permanent)' : aare.result === 2 ? 'rejected (transient)' : `result ${aare.result}`;
  if (aare.diagnostic === undefined) return result;
  const text = aare.diagnosticSource === 'provider' ? `provider diagnostic ${aare.diagnostic}` : acse.AARE_USER_DIAGNOSTIC[aare.diagnostic] ?? `diagnostic ${aare.diagnostic}`;
  return `${result}: ${text}`;
}

/** Client side: the IED's answer to CONNECT; throws AssociationError when it refused. */
export function decodeAssociateResponse(spdu: session.Spdu, ied: string, passwordSent = false): AssociateResponse & { initiate: InitiateParams } {
  if (spdu.kind === 'REFUSE') {
    let detail = '';
    if (spdu.userData.length) {
      const reason = pres.decodeCprReason(spdu.userData);
      if (reason !== undefined) detail = ` (presentation: ${pres.PROVIDER_REASON[reason] ?? `reason ${reason}`})`;
    }
    const why = spdu.reason === undefined ? 'no reason' : session.SESSION_REFUSE_REASON[spdu.reason] ?? `reason ${spdu.reason}`;
    throw new AssociationError(ied, `session connect refused: ${why}${detail}; check the session and presentation selectors`);
  }
  if (spdu.kind === 'ABORT') throw new AssociationError(ied, 'association aborted by the IED during connect');
  if (spdu.kind !== 'ACCEPT') throw new DecodeError('session', `${spdu.kind} in answer to CONNECT`);
  const cpa = pres.decodeCpa(spdu.userData);
  const rejected = cpa.results.findIndex((r) => r.result !== 0);
  if (rejected >= 0) throw new AssociationError(ied, `presentation context ${rejected + 1} rejected by the IED`);
  const acsePdv = cpa.userData.find((u) => u.contextId === pres.ACSE_CONTEXT) ?? cpa.userData[0];
  if (!acsePdv) throw new DecodeError('presentation', 'CPA without an AARE');
  const aare = acse.decodeAcse(acsePdv.data);
  if (aare.kind !== 'AARE') throw new DecodeError('acse', `CPA carries ${aare.kind}, expected AARE`);
  if (aare.result !== 0) {
    // Many IEDs answer a wrong password with "no reason given" or a bare rejection: say what the likely cause is.
    const hint = passwordSent ? 'a password was sent and may be wrong; check it, then AP-title and AE-qualifier' : 'check AP-title, AE-qualifier and password';
    throw new AssociationError(ied, `association ${describeAare(aare)}; ${hint}`);
  }
  if (!aare.userInformation) throw new AssociationError(ied, 'association accepted without an MMS initiate response');
  const mms = decodeMms(aare.userInformation);
  if (mms.kind === 'initiate-error') throw new AssociationError(ied, `MMS initiate refused: ${mms.error.errorClass} error ${mms.error.code}`);
  if (mms.kind !== 'initiate-response') throw new DecodeError('mms', `AARE carries ${mms.kind}, expected initiate-response`);
  return { respondingSsel: spdu.respondingSsel, respondingPsel: cpa.respondingPsel, aare, initiate: mms.params };
}

/** An MMS PDU as session DATA with presentation fully-encoded data in the MMS context. */
export function encodeMmsData(pdu: MmsPdu | Buffer): Buffer {
  const data = Buffer.isBuffer(pdu) ? pdu : encodeMms(pdu);
  return session.encodeData(pres.encodeUserData([{ contextId: pres.MMS_CONTEXT, data }]));
}

/** The MMS PDU inside a session DATA unit. */
export function decodeMmsData(spdu: Extract<session.Spdu, { kind: 'DATA' }>): MmsPdu {
  const pdvs = pres.decodeData(spdu.userData);
  const pdv = pdvs.find((p) => p.contextId === pres.MMS_CONTEXT) ?? pdvs[0];
  if (!pdv) throw new DecodeError('presentation', 'data unit without a presentation data value');
  return decodeMms(pdv.data);
}

function acseUnit(data: Buffer): Buffer {
  return pres.encodeUserData([{ contextId: pres.ACSE_CONTEXT, data }]);
}

export const encodeReleaseRequest = (): Buffer => session.encodeFinish(acseUnit(acse.encodeRlrq(0)));
export const encodeReleaseResponse = (): Buffer => session.encodeDisconnect(acseUnit(acse.encodeRlre()));
export const encodeAbortUnit = (): Buffer => session.encodeAbort();

/** The ACSE APDU of a FINISH or DISCONNECT, when it carries one. */
export function decodeReleaseUnit(spdu: Extract<session.Spdu, { kind: 'FINISH' | 'DISCONNECT' }>): acse.AcsePdu | undefined {
  if (!spdu.userData.length) return undefined;
  const pdv = pres.decodeData(spdu.userData)[0];
  return pdv ? acse.decodeAcse(pdv.data) : undefined;
}
