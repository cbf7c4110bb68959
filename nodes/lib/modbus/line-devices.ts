/**
 * The devices polled on one line: their earliest-deadline-first schedule (see
 * scheduler.ts), phases spread so that a fleet is not polled all at the same
 * instant, and which devices share a unit (a unit that stops answering defers
 * them all).
 */
import type { DeviceRegistration, PolledDevice } from './line-types';
import { EdfScheduler, ScheduleEntry } from './scheduler';

export interface DeviceSlot {
  device: PolledDevice;
  entry?: ScheduleEntry<DeviceSlot>;
}

/** Phase steps of successive devices: evenly spread for any number of devices. */
const GOLDEN_FRACTION = 0.6180339887498949;
const MAX_PHASE_SPREAD_MS = 1000;

export class LineDevices {
  private readonly scheduler = new EdfScheduler<DeviceSlot>();
  private readonly slotsByUnit = new Map<number, Set<DeviceSlot>>();
  private added = 0;

  get size(): number {
    return this.scheduler.size;
  }

  /**
   * Devices added one after another get phases spread over the first
   * min(interval, 1 s) (golden-ratio steps); the first device is due at once,
   * none before `notBefore` (its unit's backoff).
   */
  add(device: PolledDevice, notBefore: number): DeviceRegistration {
    const slot: DeviceSlot = { device };
    const phase = ((this.added++ * GOLDEN_FRACTION) % 1) * Math.min(device.intervalMs, MAX_PHASE_SPREAD_MS);
    slot.entry = this.scheduler.add(slot, device.intervalMs, Math.max(Date.now() + Math.round(phase), notBefore));
    let peers = this.slotsByUnit.get(device.unitId);
    if (!peers) this.slotsByUnit.set(device.unitId, (peers = new Set()));
    peers.add(slot);
    return {
      setInterval: (ms) => {
        if (slot.entry) this.scheduler.setInterval(slot.entry, ms);
      },
      remove: () => {
        if (!slot.entry) return;
        this.scheduler.remove(slot.entry);
        slot.entry = undefined;
        peers?.delete(slot);
        if (peers?.size === 0) this.slotsByUnit.delete(device.unitId);
      },
    };
  }

  /** The due poll with the earliest deadline, now running. */
  take(now: number): ScheduleEntry<DeviceSlot> | undefined {
    return this.scheduler.take(now);
  }

  nextRelease(): number | undefined {
    return this.scheduler.nextRelease();
  }

  complete(entry: ScheduleEntry<DeviceSlot>, now: number, notBefore: number): void {
    this.scheduler.complete(entry, now, notBefore);
  }

  /** Holds back every device of the unit until `until`. */
  deferUnit(unitId: number, until: number): void {
    for (const slot of this.slotsByUnit.get(unitId) ?? []) {
      if (slot.entry) this.scheduler.defer(slot.entry, until);
    }
  }
}
