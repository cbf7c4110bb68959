/** Maps the editor's control fields and an input message onto a control request. */
import type { ControlRequest } from '../lib/iec61850/control-client';

export interface ControlNodeConfig {
  name?: string;
  ied: string;
  object?: string;
  orCat?: string | number;
  orIdent?: string;
  interlockCheck?: boolean;
  synchroCheck?: boolean;
  testFlag?: boolean;
  /** Seconds to wait for the CommandTermination of enhanced security. */
  timeout?: string | number;
}

export interface ControlMessage {
  payload?: unknown;
  /** Overrides the configured control object. */
  object?: unknown;
  /** Cancel a selection (SBO models) instead of operating. */
  cancel?: unknown;
}

/** Throws RangeError naming the field that is wrong. */
export function controlRequestFrom(cfg: ControlNodeConfig, msg: ControlMessage): ControlRequest {
  const object = typeof msg.object === 'string' && msg.object.trim() ? msg.object.trim() : String(cfg.object ?? '').trim();
  if (!object) throw new RangeError('no control object: set one in the node or give msg.object (LD/LN.DO)');
  const orCat = cfg.orCat === undefined || cfg.orCat === '' ? 3 : Number(cfg.orCat);
  if (!Number.isInteger(orCat) || orCat < 0 || orCat > 8) throw new RangeError(`orCat ${JSON.stringify(cfg.orCat)} is not 0..8`);
  const seconds = cfg.timeout === undefined || cfg.timeout === '' ? 10 : Number(cfg.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new RangeError(`timeout ${JSON.stringify(cfg.timeout)} is not a positive number of seconds`);
  if (msg.payload === undefined || msg.payload === null) {
    if (msg.cancel !== true) throw new RangeError(`control ${object}: msg.payload holds no ctlVal`);
  }
  return {
    object,
    value: msg.payload ?? false,
    orCat,
    orIdent: String(cfg.orIdent ?? 'node-red'),
    test: cfg.testFlag === true,
    interlockCheck: cfg.interlockCheck === true,
    synchroCheck: cfg.synchroCheck === true,
    terminationTimeoutMs: Math.round(seconds * 1000),
    ...(msg.cancel === true ? { cancel: true } : {}),
  };
}
