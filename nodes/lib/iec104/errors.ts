/**
 * Errors of the IEC 60870-5-104 stack. Every decoder in this folder throws only
 * Iec104DecodeError on bad input, so a caller can tell a malformed frame (close
 * that connection, log the reason) from a bug.
 */

/** Layer a decode error came from: the APCI framing or the ASDU inside an I-frame. */
export type Iec104Layer = 'apci' | 'asdu';

export class Iec104DecodeError extends Error {
  constructor(
    readonly layer: Iec104Layer,
    message: string,
    /** Byte offset in the buffer being decoded, when known. */
    readonly offset?: number,
  ) {
    super(`iec104 ${layer}: ${message}${offset === undefined ? '' : ` at byte ${offset}`}`);
    this.name = 'Iec104DecodeError';
  }
}

/** A value that cannot be put on the wire with the chosen type or field sizes. */
export class Iec104EncodeError extends Error {
  constructor(message: string) {
    super(`iec104 encode: ${message}`);
    this.name = 'Iec104EncodeError';
  }
}
