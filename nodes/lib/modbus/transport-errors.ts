/**
 * Errors of the Modbus client side. The line tells a dead unit (ModbusTimeoutError)
 * from a live but confused one (FrameError, CrcError, ModbusException) and from
 * a broken link (LinkError), because only the first earns a unit backoff and
 * only the last triggers a reconnect.
 */
import { FrameError } from './pdu';

/** The unit did not answer within the timeout. */
export class ModbusTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModbusTimeoutError';
  }
}

/** An RTU frame arrived whole but its CRC did not match: the unit is alive, the line is noisy. */
export class CrcError extends FrameError {
  constructor(message: string) {
    super(message);
    this.name = 'CrcError';
  }
}

/** The socket or serial port is not open, or went away while the request was in flight. */
export class LinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkError';
  }
}

/** The request was not sent because its unit is backing off after timeouts. */
export class BackoffError extends Error {
  constructor(
    message: string,
    readonly retryAt: number,
  ) {
    super(message);
    this.name = 'BackoffError';
  }
}

/** The caller abandoned the request (its AbortSignal fired) before it was sent (again). */
export class RequestCancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestCancelledError';
  }
}

/** Prefixes an error's message with where it happened, keeping its class for `instanceof`. */
export function withContext<E extends Error>(err: E, context: string): E {
  err.message = `${context}: ${err.message}`;
  return err;
}

export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
