/**
 * What a message to the alert node asks for: a reading to evaluate, or a
 * command (acknowledge, re-announce, replace the rules, list the active
 * alerts). Commands are recognised by `msg.topic` only when the message is
 * not a reading, so a device called "ack" is still just a device.
 */
import type { PointValue } from '../reading';
import type { AlertInput } from './engine';

export type AlertRequest =
  | { kind: 'reading'; reading: AlertInput }
  | { kind: 'ack'; selectors: string[]; by: string }
  | { kind: 'reannounce' }
  | { kind: 'rules'; rules?: unknown[]; yaml?: string }
  | { kind: 'list' }
  | { kind: 'invalid'; error: string };

const COMMANDS = ['ack', 'reannounce', 'rules', 'list'] as const;

interface Incoming {
  topic?: unknown;
  payload?: unknown;
  rtu?: unknown;
  user?: unknown;
  ackBy?: unknown;
}

function isValueMap(p: unknown): p is Record<string, PointValue> {
  return !!p && typeof p === 'object' && !Array.isArray(p) && !Buffer.isBuffer(p);
}

export function parseAlertRequest(raw: unknown, now: number): AlertRequest {
  const msg = (raw ?? {}) as Incoming;
  const rtu = msg.rtu as Partial<AlertInput['rtu']> | undefined;
  if (rtu && typeof rtu === 'object' && typeof rtu.device === 'string' && isValueMap(msg.payload)) {
    return {
      kind: 'reading',
      reading: {
        payload: msg.payload,
        rtu: { ...rtu, device: rtu.device, timestamp: Number(rtu.timestamp) || now, quality: rtu.quality ?? 'good' },
      },
    };
  }
  const topic = typeof msg.topic === 'string' ? msg.topic : '';
  switch (topic) {
    case 'ack': {
      const p = msg.payload;
      const list = Array.isArray(p) ? p : [p];
      const selectors = list.map((x) => (typeof x === 'string' ? x : x && typeof x === 'object' ? (x as { id?: unknown }).id : undefined));
      if (!selectors.length || selectors.some((s) => typeof s !== 'string' || !s)) {
        return { kind: 'invalid', error: `an acknowledge (topic "ack") needs msg.payload = an alert id, a pattern such as "meter-1/*", "*", or a list of them; got ${JSON.stringify(p)}` };
      }
      const by = typeof msg.ackBy === 'string' ? msg.ackBy : typeof msg.user === 'string' ? msg.user : 'operator';
      return { kind: 'ack', selectors: selectors as string[], by };
    }
    case 'reannounce':
      return { kind: 'reannounce' };
    case 'list':
      return { kind: 'list' };
    case 'rules':
      if (typeof msg.payload === 'string') return { kind: 'rules', yaml: msg.payload };
      if (Array.isArray(msg.payload)) return { kind: 'rules', rules: msg.payload };
      return { kind: 'invalid', error: 'new rules (topic "rules") need msg.payload = YAML text or a list of rule objects' };
  }
  // A hand-made reading: msg.topic names the device, msg.payload holds the values.
  if (topic && isValueMap(msg.payload)) {
    return { kind: 'reading', reading: { payload: msg.payload, rtu: { device: topic, timestamp: now, quality: 'good' } } };
  }
  return {
    kind: 'invalid',
    error: `expected a reading (msg.rtu.device and msg.payload with point values), msg.topic = device with msg.payload = {point: value}, or a command (topic ${COMMANDS.join(', ')}); got topic ${JSON.stringify(msg.topic)} and payload ${describe(msg.payload)}`,
  };
}

function describe(p: unknown): string {
  if (p === null || p === undefined) return String(p);
  if (Array.isArray(p)) return 'an array';
  return typeof p === 'object' ? 'an object' : `${typeof p} ${JSON.stringify(p).slice(0, 40)}`;
}
