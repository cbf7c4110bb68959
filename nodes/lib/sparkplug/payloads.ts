/**
 * Sparkplug B payloads, encoded and decoded by the Eclipse Tahu payload library
 * (`sparkplug-payload`); this module only decides what goes into them.
 */
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload';
import type { PointValue } from '../reading';
import type { DeviceState, MetricDef, Sample } from './devices';
import type { SparkplugType } from './metrics';

type Codec = { encodePayload(payload: UPayload): Uint8Array; decodePayload(bytes: Uint8Array): UPayload };
let loaded: Codec | undefined;

/** Loaded on first use: a flow without Sparkplug does not carry the library (and its protobuf runtime). */
function codec(): Codec {
  if (loaded) return loaded;
  const { get } = require('sparkplug-payload') as typeof import('sparkplug-payload'); // eslint-disable-line @typescript-eslint/no-require-imports
  const namespace = get('spBv1.0');
  if (!namespace) throw new Error('sparkplug-payload does not know the spBv1.0 namespace');
  return (loaded = namespace as unknown as Codec);
}

export const encodePayload = (payload: UPayload): Uint8Array => codec().encodePayload(payload);
export const decodePayload = (bytes: Uint8Array): UPayload => codec().decodePayload(bytes);
export type { UMetric, UPayload };

export const BDSEQ = 'bdSeq';
export const REBIRTH = 'Node Control/Rebirth';

/** A metric of the edge node itself (health, test mode), with its alias. */
export interface NodeMetric {
  name: string;
  alias: number;
  type: SparkplugType;
  value: PointValue;
}

function quality(code: number): UMetric['properties'] {
  return { Quality: { type: 'Int32', value: code } };
}

function birthMetric(def: MetricDef, value: PointValue, q: number, ts: number): UMetric {
  const properties = quality(q);
  if (def.unit) properties!.engUnit = { type: 'String', value: def.unit };
  if (def.description) properties!.description = { type: 'String', value: def.description };
  return { name: def.name, alias: def.alias, type: def.type, value, timestamp: ts, properties };
}


export function ndeathPayload(bdSeq: number): Uint8Array {
  return encodePayload({ timestamp: Date.now(), metrics: [{ name: BDSEQ, type: 'Int64', value: bdSeq }] });
}

export function nbirthPayload(bdSeq: number, seq: number, metrics: NodeMetric[]): Uint8Array {
  const ts = Date.now();
  return encodePayload({
    timestamp: ts,
    seq,
    metrics: [
      { name: BDSEQ, type: 'Int64', value: bdSeq, timestamp: ts },
      { name: REBIRTH, type: 'Boolean', value: false, timestamp: ts },
      ...metrics.map((m) => ({ name: m.name, alias: m.alias, type: m.type, value: m.value, timestamp: ts })),
    ],
  });
}

export function ndataPayload(seq: number, metrics: NodeMetric[]): Uint8Array {
  const ts = Date.now();
  return encodePayload({ timestamp: ts, seq, metrics: metrics.map((m) => ({ alias: m.alias, type: m.type, value: m.value, timestamp: ts })) });
}

/** Every metric of the device with its latest value and quality. */
export function dbirthPayload(device: DeviceState, seq: number): Uint8Array {
  const ts = device.latestTs || Date.now();
  const metrics: UMetric[] = [];
  for (const def of device.metrics.values()) {
    const latest = device.latest.get(def.name);
    metrics.push(birthMetric(def, latest ? latest.value : null, latest ? latest.quality : 0, ts));
  }
  return encodePayload({ timestamp: ts, seq, metrics });
}

/** Changed metrics by alias; `historical` marks values the host could not receive when they were read. */
export function ddataPayload(device: DeviceState, seq: number, ts: number, samples: Sample[], historical: boolean): Uint8Array {
  const metrics: UMetric[] = [];
  for (const [name, value, q] of samples) {
    const def = device.metrics.get(name);
    if (!def) continue;
    const m: UMetric = { alias: def.alias, type: def.type, value, timestamp: ts, properties: quality(q) };
    if (historical) m.isHistorical = true;
    metrics.push(m);
  }
  return encodePayload({ timestamp: ts, seq, metrics });
}

export function ddeathPayload(seq: number, ts: number): Uint8Array {
  return encodePayload({ timestamp: ts, seq });
}
