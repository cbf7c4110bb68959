/**
 * What a Modbus server (TCP or RTU) asks of the application behind it: one
 * handler that turns a decoded request into the values to answer.
 */
import type { ModbusRequest } from './pdu';

/** Returned by a handler when the request must go unanswered (a dead unit, a broadcast). */
export const NO_RESPONSE: unique symbol = Symbol('modbus.noResponse');

/**
 * Reads return the words (or 0/1 bits) read, at least `quantity` of them;
 * writes return nothing once done. A thrown ModbusException is answered with
 * its code; any other throw (or rejection) is answered with 04.
 */
export type HandlerResult = ArrayLike<number> | void | typeof NO_RESPONSE;
export type RequestHandler = (unitId: number, req: ModbusRequest) => HandlerResult | Promise<HandlerResult>;

/** A handler failure that is not a Modbus exception: reported, answered with 04. */
export class HandlerError extends Error {
  constructor(
    readonly unitId: number,
    readonly request: ModbusRequest,
    readonly failure: unknown,
  ) {
    super(`unit ${unitId} FC${request.fc} @${request.address}: handler failed: ${(failure as Error)?.message ?? String(failure)}`);
    this.name = 'HandlerError';
  }
}

export const SERVER_DEVICE_FAILURE = 0x04;

export function isThenable(v: unknown): v is PromiseLike<HandlerResult> {
  return typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Whether a read handler returned enough values to answer `quantity`. */
export function hasValues(result: HandlerResult, quantity: number): result is ArrayLike<number> {
  return typeof result === 'object' && result !== null && typeof (result as ArrayLike<number>).length === 'number' && (result as ArrayLike<number>).length >= quantity;
}
