/**
 * How to reach one IED: address, OSI selectors, AP-title / AE-qualifier, sizes and
 * timing. Defaults are those of the usual IEC 61850 client (and of the captures);
 * IEDs that differ need only the fields that differ.
 */
import { oidBytes } from './ber';
import { TPDU_SIZES } from './cotp';

export interface IedOptions {
  /** Name used in status and errors. */
  name: string;
  host: string;
  port: number;
  localTsel: string;
  remoteTsel: string;
  localSsel: string;
  remoteSsel: string;
  localPsel: string;
  remotePsel: string;
  /** Dotted object identifiers; empty leaves the AP-title out of the AARQ. */
  calledApTitle: string;
  calledAeQualifier?: number;
  callingApTitle: string;
  callingAeQualifier?: number;
  /** ACSE password authentication; undefined = none. */
  password?: string;
  tpduSize: number;
  /** Largest MMS PDU proposed (the IED may negotiate it down). */
  maxPduSize: number;
  /** Requests in flight proposed (the IED may negotiate it down). */
  maxOutstanding: number;
  /** Answer timeout per request, and for each connect step. */
  timeoutMs: number;
}

export const DEFAULT_IED_OPTIONS: Omit<IedOptions, 'name' | 'host'> = {
  port: 102,
  localTsel: '0001',
  remoteTsel: '0001',
  localSsel: '0001',
  remoteSsel: '0001',
  localPsel: '00000001',
  remotePsel: '00000001',
  calledApTitle: '1.1.1.999.1',
  calledAeQualifier: 12,
  callingApTitle: '1.1.1.999',
  callingAeQualifier: 12,
  tpduSize: 8192,
  maxPduSize: 65000,
  maxOutstanding: 5,
  timeoutMs: 5000,
};

export interface ResolvedIedOptions extends IedOptions {
  selectors: {
    localTsel: Buffer;
    remoteTsel: Buffer;
    localSsel: Buffer;
    remoteSsel: Buffer;
    localPsel: Buffer;
    remotePsel: Buffer;
  };
}

/** A selector typed as hex ("0001", "00 00 00 01"); empty is allowed (no selector). */
export function parseSelector(text: string, field: string, ied: string, maxLength: number): Buffer {
  const clean = String(text ?? '').replace(/\s+|0x/gi, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) {
    throw new RangeError(`${ied}: ${field} "${text}" is not hex octets (e.g. 0001)`);
  }
  if (clean.length / 2 > maxLength) throw new RangeError(`${ied}: ${field} "${text}" is longer than ${maxLength} octets`);
  return Buffer.from(clean, 'hex');
}

function checkInt(value: number, field: string, ied: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${ied}: ${field} ${value} is outside ${min}..${max}`);
  }
  return value;
}

function checkOid(value: string, field: string, ied: string): string {
  if (!value) return '';
  try {
    oidBytes(value);
  } catch {
    throw new RangeError(`${ied}: ${field} "${value}" is not a dotted object identifier (e.g. 1.1.1.999.1)`);
  }
  return value;
}

/** Fills defaults and checks every field; throws RangeError naming the IED, the field and the value. */
export function resolveIedOptions(partial: Partial<IedOptions> & { host: string }): ResolvedIedOptions {
  const o: IedOptions = { ...DEFAULT_IED_OPTIONS, ...stripUndefined(partial), host: partial.host, name: partial.name || partial.host };
  const ied = o.name;
  if (!o.host) throw new RangeError(`${ied}: host is empty`);
  checkInt(o.port, 'port', ied, 1, 65535);
  if (!(TPDU_SIZES as readonly number[]).includes(o.tpduSize)) {
    throw new RangeError(`${ied}: TPDU size ${o.tpduSize} is not one of ${TPDU_SIZES.join(', ')}`);
  }
  checkInt(o.maxPduSize, 'max PDU size', ied, 256, 65535 * 16);
  checkInt(o.maxOutstanding, 'max outstanding requests', ied, 1, 64);
  checkInt(o.timeoutMs, 'timeout (ms)', ied, 10, 600_000);
  if (o.calledAeQualifier !== undefined) checkInt(o.calledAeQualifier, 'called AE-qualifier', ied, -(2 ** 31), 2 ** 31 - 1);
  if (o.callingAeQualifier !== undefined) checkInt(o.callingAeQualifier, 'calling AE-qualifier', ied, -(2 ** 31), 2 ** 31 - 1);
  checkOid(o.calledApTitle, 'called AP-title', ied);
  checkOid(o.callingApTitle, 'calling AP-title', ied);
  return {
    ...o,
    selectors: {
      localTsel: parseSelector(o.localTsel, 'local TSEL', ied, 32),
      remoteTsel: parseSelector(o.remoteTsel, 'remote TSEL', ied, 32),
      localSsel: parseSelector(o.localSsel, 'local SSEL', ied, 16),
      remoteSsel: parseSelector(o.remoteSsel, 'remote SSEL', ied, 16),
      localPsel: parseSelector(o.localPsel, 'local PSEL', ied, 16),
      remotePsel: parseSelector(o.remotePsel, 'remote PSEL', ied, 16),
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
