/**
 * Carries one SCADA write to its device and decides what SCADA is told. A write
 * answered as failed must never take effect afterwards, so when the wait runs
 * out the write is cancelled: if it never reached the wire the device cannot
 * have seen it (answer 0B); if it was sent, its outcome is unknown (answer 04),
 * and whatever the device answers later is reported as a late completion.
 */
import type { DeviceWriter } from '../cache';
import { ModbusException, ModbusRequest } from '../modbus/pdu';
import { BackoffError, LinkError, RequestCancelledError } from '../modbus/transport-errors';

export type CarryResult =
  | { confirmed: true; sent: true }
  | { confirmed: false; sent: boolean; code: number; error: Error };

/** What the device answered after SCADA had been told the write failed. */
export interface LateAnswer {
  confirmed: boolean;
  error?: Error;
}

/** The gateway gave up waiting for a device to confirm a write. */
export class WriteTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteTimeoutError';
  }
}

/**
 * The exception code for a failed write. 0B only when the write provably never
 * left the gateway; a write that was sent without a confirmation (a timeout, a
 * connection lost in flight) may have been executed, so it is a failure (04).
 */
export function answerFor(err: unknown, sent: boolean): number {
  if (err instanceof ModbusException) return err.code;
  if (!sent && (err instanceof BackoffError || err instanceof LinkError || err instanceof RequestCancelledError)) return 0x0b;
  return 0x04;
}

export function carryWrite(
  writer: DeviceWriter,
  req: ModbusRequest,
  device: string,
  timeoutMs: number,
  onLate: (answer: LateAnswer, sent: boolean) => void,
): Promise<CarryResult> {
  const controller = new AbortController();
  let sent = false;
  let answered = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      answered = true;
      controller.abort();
      const error = sent
        ? new WriteTimeoutError(`sent to ${device} but not confirmed within ${timeoutMs} ms; it may still take effect`)
        : new WriteTimeoutError(`not sent to ${device} within ${timeoutMs} ms (line busy or down); cancelled`);
      resolve({ confirmed: false, sent, code: sent ? 0x04 : 0x0b, error });
    }, timeoutMs);
    let carried: Promise<unknown>;
    try {
      carried = writer(req, { signal: controller.signal, onSent: () => (sent = true) });
    } catch (err) {
      carried = Promise.reject(err);
    }
    carried.then(
      () => {
        if (answered) return onLate({ confirmed: true }, sent);
        answered = true;
        clearTimeout(timer);
        resolve({ confirmed: true, sent: true });
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        if (answered) {
          // The cancellation we asked for is no news; anything else the device said is.
          if (!(err instanceof RequestCancelledError)) onLate({ confirmed: false, error }, sent);
          return;
        }
        answered = true;
        clearTimeout(timer);
        resolve({ confirmed: false, sent, code: answerFor(err, sent), error });
      },
    );
  });
}
