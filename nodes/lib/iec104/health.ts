/** IEC 104 engine statistics in the health snapshot's shape. */
import type { Iec104Health } from '../health/types';
import type { Iec104Master } from './master';
import type { Iec104Outstation } from './outstation';

export function outstationHealth(o: Iec104Outstation): Iec104Health {
  const s = o.stats();
  return {
    role: 'outstation',
    state: s.connections.some((c) => c.active) ? 'serving' : 'listening',
    connections: s.connections.map((c) => ({
      remote: c.remote, state: c.state, active: c.active, unacked: c.unacked, queued: c.queued, buffered: c.buffered, dropped: c.dropped, iSent: c.iSent, iReceived: c.iReceived,
    })),
    counts: { accepted: s.accepted, closedWithError: s.closedWithError, malformed: s.malformed, points: s.points, spontaneous: s.spontaneous, interrogations: s.interrogations },
    clockOffsetMs: s.clockOffsetMs,
    lastError: s.lastCloseReason,
  };
}

export function masterHealth(m: Iec104Master): Iec104Health {
  const s = m.stats();
  return {
    role: 'master',
    state: s.state,
    connections: [{ remote: s.endpoint ?? '', state: s.state, unacked: s.unacked, queued: s.queued, iSent: s.iSent, iReceived: s.iReceived }],
    counts: { connects: s.connects, disconnects: s.disconnects, asdus: s.asdus, objects: s.objects, interrogations: s.interrogations, commands: s.commands, negatives: s.negatives },
    lastError: s.lastError,
  };
}
