/** Maps the rtu-gateway form fields onto gateway options, naming every bad field. */
import { AllowEntry, parseAllowEntry, WriteRule } from './allow-list';
import { checkDeviceMap, GatewayDevice } from './gateway';

export interface GatewayNodeFields {
  host?: string;
  port?: string | number;
  devices?: Array<{ device?: string; unitId?: string | number }>;
  writesEnabled?: boolean;
  allowWrites?: AllowEntry[];
  maxConnections?: string | number;
  /** Seconds; a client silent this long is closed (0 = never). */
  idleTimeout?: string | number;
  writeTimeout?: string | number;
}

export interface GatewaySettings {
  host: string;
  port: number;
  devices: GatewayDevice[];
  writesEnabled: boolean;
  allowWrites: WriteRule[];
  maxConnections: number;
  idleTimeoutMs: number;
  writeTimeoutMs: number;
}

/** Idle clients are closed after a minute unless the node says otherwise. */
export const DEFAULT_IDLE_TIMEOUT_S = 60;

export const DEFAULT_GATEWAY_PORT = 1502;

function number(raw: unknown, field: string, min: number, max: number, fallback: number, integer = true): number {
  if (raw === '' || raw === undefined || raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`${field} ${JSON.stringify(raw)} is not ${integer ? 'a whole number' : 'a number'} in ${min}..${max}`);
  }
  return n;
}

export function gatewaySettings(fields: GatewayNodeFields): GatewaySettings {
  // No rows is a gateway that serves nothing yet (every unit answers 0A): a new node is valid as dropped.
  const rows = Array.isArray(fields.devices) ? fields.devices : [];
  const devices = checkDeviceMap(
    rows.map((r, i) => {
      const unitId = Number(r?.unitId);
      if (String(r?.unitId ?? '').trim() === '') throw new Error(`gateway device ${i + 1} ("${r?.device ?? ''}"): unit id is empty`);
      return { device: String(r?.device ?? ''), unitId };
    }),
  );
  const writesEnabled = fields.writesEnabled === true;
  const allowWrites = writesEnabled ? (fields.allowWrites ?? []).map((e) => parseAllowEntry(e)) : [];
  const known = new Set(devices.map((d) => d.device));
  for (const rule of allowWrites) {
    if (!known.has(rule.device)) throw new Error(`write allow-list names "${rule.device}", which is not mapped to a unit id`);
  }
  return {
    host: String(fields.host ?? '').trim() || '127.0.0.1',
    port: number(fields.port, 'port', 0, 65535, DEFAULT_GATEWAY_PORT),
    devices,
    writesEnabled,
    allowWrites,
    maxConnections: number(fields.maxConnections, 'max connections', 1, 10_000, 32),
    idleTimeoutMs: number(fields.idleTimeout, 'idle timeout', 0, 86_400, DEFAULT_IDLE_TIMEOUT_S, false) * 1000,
    writeTimeoutMs: number(fields.writeTimeout, 'write timeout', 0.1, 60, 5, false) * 1000,
  };
}
