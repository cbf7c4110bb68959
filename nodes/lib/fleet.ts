/**
 * The process-wide list of configured devices. Pollers (Modbus and IEC 61850)
 * enter their devices here when deployed and leave on redeploy, so that health,
 * the dashboard and test-mode verification can reach every device without
 * being wired to each poller.
 */
import type { PointValue, ReadingMessage } from './reading';

export interface FleetDevice {
  name: string;
  protocol: 'modbus' | 'iec61850';
  line?: string;
  model?: string;
  profile?: string;
  unitId?: number;
  intervalMs: number;
  /** The request plan in words ("3 requests touching 69 registers"), where there is one. */
  planSummary?: string;
  points: Array<{ name: string; unit?: string }>;
  /** Reads the device once, now, outside its schedule. Resolves with the reading even when it is bad. */
  readOnce(): Promise<ReadingMessage>;
  /** The latest reading, if any. */
  lastReading(): ReadingMessage | undefined;
  /** Writes named points through the device's own poller (and reads it again); absent where the device takes no writes. */
  write?(values: Record<string, PointValue>): Promise<unknown>;
}

export class Fleet {
  private readonly devices = new Map<string, FleetDevice>();

  /** Adds a device; returns the function that removes it. A second device with the same name replaces the first. */
  register(device: FleetDevice): () => void {
    this.devices.set(device.name, device);
    return () => {
      if (this.devices.get(device.name) === device) this.devices.delete(device.name);
    };
  }

  list(): FleetDevice[] {
    return [...this.devices.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): FleetDevice | undefined {
    return this.devices.get(name);
  }
}

export const fleet = new Fleet();
