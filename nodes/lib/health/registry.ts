/**
 * Where health sources report. A poller, line or publisher registers a
 * function returning its current figures and keeps the returned function to
 * deregister on close:
 *
 *   const off = health.registerDevice('meter-1', () => poller.stats());
 *   const offLine = health.registerLine('bus1', () => line.stats());
 *   off(); offLine();
 *
 * Durable queues register themselves (nodes/lib/queue/registry.ts) and are
 * listed here too. The figures are read only when a snapshot is taken, so
 * registering costs nothing between snapshots.
 */
import { listQueues } from '../queue/registry';
import { ReadingObserver } from './observer';
import { deriveStatus, StatusRules } from './status';
import type {
  BackoffState,
  DeviceHealth,
  DeviceHealthInput,
  HealthSnapshot,
  LineHealth,
  LineHealthInput,
  QueueHealth,
  QueueHealthInput,
  Iec104Health,
} from './types';

type Source<T> = () => T;

export class HealthRegistry {
  private readonly devices = new Map<string, Source<DeviceHealthInput>>();
  private readonly lines = new Map<string, Source<LineHealthInput>>();
  private readonly queues = new Map<string, Source<QueueHealthInput>>();
  private readonly iec104 = new Map<string, Source<Iec104Health>>();

  registerDevice(id: string, source: Source<DeviceHealthInput>): () => void {
    return register(this.devices, id, source);
  }

  registerLine(id: string, source: Source<LineHealthInput>): () => void {
    return register(this.lines, id, source);
  }

  registerQueue(id: string, source: Source<QueueHealthInput>): () => void {
    return register(this.queues, id, source);
  }

  /** An IEC 104 outstation or master connection: its connections, state, queue depths and counts. */
  registerIec104(id: string, source: Source<Iec104Health>): () => void {
    return register(this.iec104, id, source);
  }

  /**
   * Every device, line and queue now. Devices seen only in readings (the
   * observer) fill in where no poller is registered under that name.
   */
  snapshot(now = Date.now(), observer?: ReadingObserver, rules: StatusRules = {}): HealthSnapshot {
    const errors: string[] = [];
    const devices: Record<string, DeviceHealth> = {};
    for (const [id, source] of this.devices) {
      const input = read(source, `device ${id}`, errors);
      if (input) devices[id] = normaliseDevice(id, input, now, rules);
    }
    for (const d of observer?.health(now) ?? []) if (!devices[d.device]) devices[d.device] = d;

    const lines: Record<string, LineHealth> = {};
    for (const [id, source] of this.lines) {
      const s = read(source, `line ${id}`, errors);
      if (!s) continue;
      lines[id] = {
        line: id,
        connected: !!s.connected,
        state: s.state ?? (s.connected ? 'connected' : 'disconnected'),
        queueDepth: s.queueDepth ?? 0,
        requestsPerSec: round(s.requestsPerSec ?? 0, 2),
        devices: s.devices ?? null,
        unitsBackingOff: (s.unitsBackingOff ?? []).map((u) => u.unitId),
        lastError: s.lastError,
      };
    }

    const queues: Record<string, QueueHealth> = {};
    const addQueue = (id: string, s: QueueHealthInput) => {
      queues[id] = {
        queue: id,
        depth: s.depth,
        oldestAgeMs: s.oldestAgeMs,
        drops: s.drops,
        diskError: s.diskError ?? null,
        memoryOnly: !!s.memoryOnly,
      };
    };
    try {
      for (const q of listQueues()) addQueue(q.owner, q.stats);
    } catch (err) {
      errors.push(`durable queues: ${(err as Error).message}`);
    }
    for (const [id, source] of this.queues) {
      const s = read(source, `queue ${id}`, errors);
      if (s) addQueue(id, s);
    }
    const iec104: Record<string, Iec104Health> = {};
    for (const [id, source] of this.iec104) {
      const s = read(source, `IEC 104 ${id}`, errors);
      if (s) iec104[id] = s;
    }
    return { timestamp: now, devices, lines, queues, ...(this.iec104.size ? { iec104 } : {}), errors };
  }
}

function register<T>(map: Map<string, Source<T>>, id: string, source: Source<T>): () => void {
  map.set(id, source);
  return () => {
    if (map.get(id) === source) map.delete(id);
  };
}

/** A source that throws does not spoil the snapshot; it is named in `errors`. */
function read<T>(source: Source<T>, what: string, errors: string[]): T | undefined {
  try {
    return source();
  } catch (err) {
    errors.push(`${what}: statistics unavailable: ${(err as Error).message}`);
    return undefined;
  }
}

function normaliseDevice(id: string, s: DeviceHealthInput, now: number, rules: StatusRules): DeviceHealth {
  const backoff: BackoffState = typeof s.backoff === 'boolean' ? { active: s.backoff } : s.backoff ?? { active: false };
  const facts = {
    lastGoodAt: s.lastGoodAt ?? null,
    lastPollAt: s.lastPollAt ?? null,
    consecutiveFailures: s.consecutiveFailures ?? 0,
    backoff,
    intervalMs: s.intervalMs,
  };
  const successRate = s.successRate ?? (s.polls ? (s.polls - (s.failures ?? 0)) / s.polls : null);
  return {
    device: id,
    line: s.line,
    status: s.status ?? deriveStatus(facts, now, rules),
    lastGoodAt: facts.lastGoodAt,
    lastPollAt: facts.lastPollAt,
    successRate: successRate === null ? null : round(successRate, 4),
    polls: s.polls ?? 0,
    latencyP50Ms: s.latencyP50Ms ?? null,
    latencyP95Ms: s.latencyP95Ms ?? null,
    consecutiveFailures: facts.consecutiveFailures,
    backoff,
    lastError: s.lastError,
    source: 'registered',
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** One registry per process: every poller, line and publisher of the package reports here. */
export const health = new HealthRegistry();
