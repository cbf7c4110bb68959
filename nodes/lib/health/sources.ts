/**
 * Wiring a Modbus device poller to the health registry in one line:
 * `registerPoller(health, poller)`. It reports what the rtu-modbus-poller node
 * reports (modbus/health-input.ts).
 */
import type { DeviceStats } from '../modbus/device-poller';
import { deviceHealthInput } from '../modbus/health-input';
import type { HealthRegistry } from './registry';

export function registerPoller(registry: HealthRegistry, poller: { stats(): DeviceStats }, id = poller.stats().device): () => void {
  return registry.registerDevice(id, () => deviceHealthInput(poller.stats()));
}
