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
  /** The node that polls the device, named in the error when a second node claims the same name. */
  owner?: DeviceOwner;
}

export interface DeviceOwner {
  /** Node id. */
  id: string;
  /** Node type, e.g. rtu-modbus-poller. */
  type: string;
}

/** A device name is one device: health, the dashboard and the cache writers all key on it. */
export class DuplicateDeviceError extends Error {
  constructor(
    readonly device: string,
    readonly first: DeviceOwner | undefined,
    readonly second: DeviceOwner | undefined,
  ) {
    super(
      `device name "${device}" is used by two nodes: ${describeOwner(first)} and ${describeOwner(second)}; ` +
        `give each device its own name (the second one is not started)`,
    );
    this.name = 'DuplicateDeviceError';
  }
}

function describeOwner(owner: DeviceOwner | undefined): string {
  return owner ? `${owner.type} ${owner.id}` : 'an unnamed node';
}

export class Fleet {
  private readonly devices = new Map<string, FleetDevice>();

  /**
   * Adds a device; returns the function that removes it. A second device with
   * the same name from another node is refused with a DuplicateDeviceError
   * naming both owners.
   */
  register(device: FleetDevice): () => void {
    const clash = this.clash(device.name, device.owner);
    if (clash) throw clash;
    this.devices.set(device.name, device);
    return () => {
      if (this.devices.get(device.name) === device) this.devices.delete(device.name);
    };
  }

  /** The error a device of this name and owner would meet on register, if any (so a node can refuse before it starts anything). */
  clash(name: string, owner?: DeviceOwner): DuplicateDeviceError | undefined {
    const present = this.devices.get(name);
    if (!present) return undefined;
    // Entries without an owner (tests, callers that predate owners) replace each other as before.
    if (!owner && !present.owner) return undefined;
    if (owner && present.owner?.id === owner.id) return undefined;
    return new DuplicateDeviceError(name, present.owner, owner);
  }

  list(): FleetDevice[] {
    return [...this.devices.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): FleetDevice | undefined {
    return this.devices.get(name);
  }
}

export const fleet = new Fleet();
