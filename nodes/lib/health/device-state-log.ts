/**
 * Turns a device's readings into log lines for its changes of state only:
 * online → failing (with the reason), failing → offline, and recovered after
 * N seconds. Steady states, good or bad, log nothing. Offline means what it
 * means on the dashboard (./status.ts): backing off, or N failed polls in a row.
 */
import { OFFLINE_AFTER_FAILURES } from './status';

export type DeviceLogState = 'unknown' | 'online' | 'failing' | 'offline';

export interface DeviceObservation {
  at: number;
  /** The poll answered (a partial reading with some bad points counts as an answer). */
  answered: boolean;
  error?: string;
  /** The line has put the unit in backoff: it is probed only now and then. */
  backingOff: boolean;
}

export interface DeviceStateChange {
  state: DeviceLogState;
  level: 'info' | 'warn';
  text: string;
}

export class DeviceStateLog {
  private state: DeviceLogState = 'unknown';
  private failures = 0;
  private failingSince = 0;

  constructor(
    private readonly where: string,
    private readonly offlineAfterFailures = OFFLINE_AFTER_FAILURES,
  ) {}

  get current(): DeviceLogState {
    return this.state;
  }

  observe(o: DeviceObservation): DeviceStateChange | undefined {
    if (o.answered) {
      const was = this.state;
      const failures = this.failures;
      const since = this.failingSince;
      this.state = 'online';
      this.failures = 0;
      if (was !== 'failing' && was !== 'offline') return undefined;
      const seconds = Math.max(0, Math.round((o.at - since) / 1000));
      return { state: 'online', level: 'info', text: `${this.where}: recovered after ${seconds} s (${failures} failed ${failures === 1 ? 'poll' : 'polls'})` };
    }
    this.failures++;
    const reason = o.error || 'no values';
    if (this.state === 'unknown' || this.state === 'online') {
      this.failingSince = o.at;
      this.state = 'failing';
      return { state: 'failing', level: 'warn', text: `${this.where}: failing: ${reason}` };
    }
    if (this.state === 'failing' && (o.backingOff || this.failures >= this.offlineAfterFailures)) {
      this.state = 'offline';
      const seconds = Math.max(0, Math.round((o.at - this.failingSince) / 1000));
      return { state: 'offline', level: 'warn', text: `${this.where}: offline after ${this.failures} failed polls in ${seconds} s: ${reason}` };
    }
    return undefined;
  }
}
