/**
 * Simulated units from registry models: any model of the meter registry can be
 * simulated; the package's own simulated energy meter is the default.
 */
import { MeterModel, MeterRegistry, sharedRegistry } from '../registry';
import type { MeterSpec } from './meter';

export const DEFAULT_SIMULATED_MODEL = 'rtu/simulated-energy-meter';

/** A unit as configured in the node or a test: an id and, optionally, a registry model. */
export interface UnitConfig {
  unitId: number;
  /** Registry model id (`<manufacturer>/<model>`); the simulated energy meter by default. */
  model?: string;
  seed?: number;
  ratedCurrent?: number;
}

/** A unit given as a bare id, a registry reference, or a complete point list. */
export type UnitSpec = number | UnitConfig | MeterSpec;

function isMeterSpec(u: UnitSpec): u is MeterSpec {
  return typeof u === 'object' && Array.isArray((u as MeterSpec).points);
}

function specFromModel(model: MeterModel, unit: UnitConfig): MeterSpec {
  return {
    unitId: unit.unitId,
    points: model.points.map((p) => ({ ...p })),
    model: model.id,
    neverRead: model.neverRead.map(({ registerType, address, quantity }) => ({ registerType, address, quantity })),
    seed: unit.seed,
    ratedCurrent: unit.ratedCurrent,
  };
}

/** Resolves every unit to a point list; an unknown model is an error naming the unit and the known models. */
export function resolveUnits(units: readonly UnitSpec[], registry?: MeterRegistry): MeterSpec[] {
  let reg = registry;
  return units.map((u) => {
    if (isMeterSpec(u)) return u;
    const unit: UnitConfig = typeof u === 'number' ? { unitId: u } : u;
    reg ??= sharedRegistry();
    const id = unit.model || DEFAULT_SIMULATED_MODEL;
    try {
      return specFromModel(reg.requireModel(id), unit);
    } catch (err) {
      throw new Error(`simulated unit ${unit.unitId}: ${(err as Error).message}`);
    }
  });
}
