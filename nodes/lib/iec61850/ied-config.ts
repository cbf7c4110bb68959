/** Maps the rtu-iec61850-ied form onto IED link options, naming every bad field. */
import { IedOptions, resolveIedOptions, ResolvedIedOptions } from './options';

export interface IedCredentials {
  password?: string;
}

export interface IedNodeConfig {
  name?: string;
  host?: string;
  port?: string | number;
  localTsel?: string;
  remoteTsel?: string;
  localSsel?: string;
  remoteSsel?: string;
  localPsel?: string;
  remotePsel?: string;
  calledApTitle?: string;
  calledAeQualifier?: string | number;
  callingApTitle?: string;
  callingAeQualifier?: string | number;
  tpduSize?: string | number;
  maxPduSize?: string | number;
  maxOutstanding?: string | number;
  timeout?: string | number;
  reconnectMax?: string | number;
}

/** Empty means "use the default"; anything else must be a number. */
function optionalNumber(raw: string | number | undefined, field: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new RangeError(`${field} ${JSON.stringify(raw)} is not a number`);
  return n;
}

export function iedOptionsFrom(cfg: IedNodeConfig, credentials: IedCredentials | undefined, name: string): ResolvedIedOptions {
  const o: Partial<IedOptions> & { host: string } = {
    name,
    host: String(cfg.host ?? '').trim(),
    port: optionalNumber(cfg.port, 'port'),
    localTsel: cfg.localTsel,
    remoteTsel: cfg.remoteTsel,
    localSsel: cfg.localSsel,
    remoteSsel: cfg.remoteSsel,
    localPsel: cfg.localPsel,
    remotePsel: cfg.remotePsel,
    calledApTitle: cfg.calledApTitle === undefined ? undefined : String(cfg.calledApTitle).trim(),
    calledAeQualifier: optionalNumber(cfg.calledAeQualifier, 'called AE-qualifier'),
    callingApTitle: cfg.callingApTitle === undefined ? undefined : String(cfg.callingApTitle).trim(),
    callingAeQualifier: optionalNumber(cfg.callingAeQualifier, 'calling AE-qualifier'),
    tpduSize: optionalNumber(cfg.tpduSize, 'TPDU size'),
    maxPduSize: optionalNumber(cfg.maxPduSize, 'max PDU size'),
    maxOutstanding: optionalNumber(cfg.maxOutstanding, 'max outstanding requests'),
    timeoutMs: optionalNumber(cfg.timeout, 'timeout'),
    password: credentials?.password ? credentials.password : undefined,
  };
  return resolveIedOptions(o);
}

export function reconnectMaxMs(cfg: IedNodeConfig): number {
  const s = optionalNumber(cfg.reconnectMax, 'reconnect max') ?? 30;
  if (s < 1 || s > 3600) throw new RangeError(`reconnect max ${s} s is outside 1..3600`);
  return s * 1000;
}
