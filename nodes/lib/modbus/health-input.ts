/** Maps line and device statistics onto the health registry's inputs. */
import { pollHealthInput } from '../health/poll-input';
import type { DeviceHealthInput, LineHealthInput } from '../health/types';
import type { DeviceStats } from './device-poller';
import type { LineStats } from './line';

export function deviceHealthInput(s: DeviceStats): DeviceHealthInput {
  const backoff = s.unit.backingOff ? { active: true, retryAt: s.unit.retryAt, backoffMs: s.unit.backoffMs } : false;
  return { ...pollHealthInput(s, s.line), backoff };
}

export function lineHealthInput(s: LineStats): LineHealthInput {
  return {
    connected: s.connected,
    state: s.state,
    queueDepth: s.queueDepth,
    inFlight: s.inFlight,
    requestsPerSec: s.requestsPerSec,
    devices: s.devices,
    lastError: s.lastError,
    unitsBackingOff: s.unitsBackingOff,
  };
}
