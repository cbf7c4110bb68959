/**
 * Errors of the IEC 61850 / MMS stack. Every decoder in this folder throws only
 * DecodeError on bad input, so a caller can tell a malformed frame (drop the
 * association, reconnect) from a bug.
 */

/** Protocol layer a decode error came from; names match the ISO stack. */
export type Layer = 'ber' | 'tpkt' | 'cotp' | 'session' | 'presentation' | 'acse' | 'mms';

/** Input that does not follow the protocol: truncated, corrupted or unexpected. */
export class DecodeError extends Error {
  constructor(
    readonly layer: Layer,
    message: string,
    /** Byte offset in the buffer being decoded, when known. */
    readonly offset?: number,
  ) {
    super(`${layer}: ${message}${offset === undefined ? '' : ` at byte ${offset}`}`);
    this.name = 'DecodeError';
  }
}

/** MMS DataAccessError codes (ISO 9506-2), as IEDs report per variable. */
export const DATA_ACCESS_ERRORS: Record<number, string> = {
  0: 'object-invalidated',
  1: 'hardware-fault',
  2: 'temporarily-unavailable',
  3: 'object-access-denied',
  4: 'object-undefined',
  5: 'invalid-address',
  6: 'type-unsupported',
  7: 'type-inconsistent',
  8: 'object-attribute-inconsistent',
  9: 'object-access-unsupported',
  10: 'object-non-existent',
  11: 'object-value-invalid',
};

export function dataAccessErrorText(code: number): string {
  return DATA_ACCESS_ERRORS[code] ?? `data-access-error-${code}`;
}

/** A variable the IED refused to read or write, named by its IEC 61850 reference. */
export class DataAccessError extends Error {
  constructor(
    readonly reference: string,
    readonly code: number,
    readonly operation: 'read' | 'write',
  ) {
    super(`${operation} ${reference}: ${dataAccessErrorText(code)} (DataAccessError ${code})`);
    this.name = 'DataAccessError';
  }
}

/** A confirmed request the IED answered with an MMS error or reject PDU. */
export class ServiceError extends Error {
  constructor(
    readonly service: string,
    readonly errorClass: string,
    readonly code: number,
    readonly subject?: string,
  ) {
    super(`${service}${subject ? ` ${subject}` : ''}: ${errorClass} error ${code}`);
    this.name = 'ServiceError';
  }
}

/** The IED (or a layer below MMS) refused or broke the association. */
export class AssociationError extends Error {
  constructor(
    readonly ied: string,
    message: string,
  ) {
    super(`${ied}: ${message}`);
    this.name = 'AssociationError';
  }
}

/** A request that got no answer within the configured time. */
export class IedTimeoutError extends Error {
  constructor(
    readonly ied: string,
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${ied}: no answer to ${what} within ${ms} ms`);
    this.name = 'IedTimeoutError';
  }
}
