/**
 * Incoming messages of an edge node: NCMD (rebirth), DCMD (writes) and the primary host's
 * STATE. Each parser returns what was asked, or an Error that names the message and field.
 */
import type { DeviceState } from './devices';
import { commandValue } from './metrics';
import { decodePayload, REBIRTH, UMetric } from './payloads';
import type { PointValue } from '../reading';

export interface HostState {
  online: boolean;
  timestamp: number;
}

/** Sparkplug 3.0 STATE: `{"online": true|false, "timestamp": <ms>}`. */
export function parseHostState(hostId: string, payload: Buffer): HostState | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return new Error(`STATE of primary host "${hostId}" is not JSON (${(err as Error).message}); ignored`);
  }
  const s = parsed as Partial<HostState> | null;
  if (!s || typeof s !== 'object' || typeof s.online !== 'boolean') {
    return new Error(`STATE of primary host "${hostId}": field "online" is missing or not true/false; ignored`);
  }
  const timestamp = typeof s.timestamp === 'number' && Number.isFinite(s.timestamp) ? s.timestamp : 0;
  return { online: s.online, timestamp };
}

function decode(what: string, payload: Buffer): UMetric[] | Error {
  try {
    const decoded = decodePayload(new Uint8Array(payload));
    return decoded.metrics ?? [];
  } catch (err) {
    return new Error(`${what}: payload is not a Sparkplug B payload (${(err as Error).message})`);
  }
}

/** True when the NCMD asks for a rebirth; the other metrics are named in `unknown`. */
export function parseNodeCommand(payload: Buffer): { rebirth: boolean; unknown: string[] } | Error {
  const metrics = decode('NCMD', payload);
  if (metrics instanceof Error) return metrics;
  let rebirth = false;
  const unknown: string[] = [];
  for (const m of metrics) {
    if (m.name === REBIRTH && m.value === true) rebirth = true;
    else unknown.push(m.name ?? `alias ${String(m.alias)}`);
  }
  return { rebirth, unknown };
}

export interface DeviceCommand {
  /** Point name → value, for the metrics that exist and carry a value of their type. */
  writes: Record<string, PointValue>;
  /** Why each other metric was refused. */
  refused: string[];
}

/** The writes a DCMD asks of a device, each metric found by name or alias. */
export function parseDeviceCommand(device: DeviceState, payload: Buffer): DeviceCommand | Error {
  const metrics = decode(`DCMD for device "${device.id}"`, payload);
  if (metrics instanceof Error) return metrics;
  const writes: Record<string, PointValue> = {};
  const refused: string[] = [];
  for (const m of metrics) {
    const alias = m.alias === undefined || m.alias === null ? undefined : Number(m.alias);
    const def = m.name ? device.metrics.get(m.name) : alias !== undefined ? device.byAlias.get(alias) : undefined;
    const label = m.name ? `metric "${m.name}"` : `alias ${alias}`;
    if (!def) {
      refused.push(`${label} is not a metric of device "${device.id}"`);
      continue;
    }
    const value = commandValue(def.type, m.value);
    if (value instanceof Error) refused.push(`${label} of device "${device.id}" ${value.message}`);
    else writes[def.name] = value;
  }
  return { writes, refused };
}
