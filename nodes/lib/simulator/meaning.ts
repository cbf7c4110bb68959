/**
 * What a point measures, guessed from its name and unit, so the simulator can
 * give it a plausible value. Registry models use the shared names
 * (voltage_l1_n, active_power_total, active_energy_import_total ...); other
 * names fall back on their unit (V, A, kW, kWh ...).
 */
import type { PointDef } from '../modbus/types';

export type Quantity =
  | 'voltage_ln'
  | 'voltage_ll'
  | 'current'
  | 'current_neutral'
  | 'active_power'
  | 'reactive_power'
  | 'apparent_power'
  | 'power_factor'
  | 'frequency'
  | 'active_energy_import'
  | 'active_energy_export'
  | 'active_energy_total'
  | 'active_energy_net'
  | 'reactive_energy_import'
  | 'reactive_energy_export'
  | 'reactive_energy_total'
  | 'apparent_energy'
  | 'thd_voltage'
  | 'thd_current'
  | 'voltage_unbalance'
  | 'current_unbalance'
  | 'power_demand'
  | 'power_demand_max'
  | 'apparent_demand'
  | 'apparent_demand_max'
  | 'current_demand'
  | 'current_demand_max'
  | 'operating_hours'
  | 'temperature'
  | 'text'
  | 'constant';

/** Which part of a polyphase system: one phase (0..2), a line pair (0 = L1-L2 ...), or the whole. */
export type Scope = { kind: 'phase'; index: 0 | 1 | 2 } | { kind: 'total' } | { kind: 'average' };

export interface Meaning {
  quantity: Quantity;
  scope: Scope;
  /** Multiplies the SI value (V, A, W, var, VA, Wh, varh, VAh, Hz, %, h, °C) into the point's unit. */
  factor: number;
}

const PREFIX: Record<string, number> = { '': 1, k: 1e-3, M: 1e-6, m: 1e3 };
const BASE_UNITS = ['V', 'A', 'W', 'var', 'VA', 'Wh', 'varh', 'VAh'];

/** Factor from the SI unit to `unit` (kWh -> 0.001), 1 for units without a prefix. */
function unitFactor(unit: string | undefined): number {
  if (!unit) return 1;
  const m = /^(k|M|m)?(.*)$/.exec(unit.trim());
  if (m && m[1] && BASE_UNITS.includes(m[2])) return PREFIX[m[1]];
  return 1;
}

function scopeOf(tokens: string[]): Scope {
  const joined = tokens.join('_');
  const pair = /(?:^|_)l([123])_?l([123])(?:_|$)/.exec(joined);
  if (pair) return { kind: 'phase', index: (Number(pair[1]) - 1) as 0 | 1 | 2 };
  const phase = /(?:^|_)(?:l|phase_?)([123])(?:_|$)/.exec(joined);
  if (phase) return { kind: 'phase', index: (Number(phase[1]) - 1) as 0 | 1 | 2 };
  if (tokens.includes('avg') || tokens.includes('average') || tokens.includes('mean')) return { kind: 'average' };
  return { kind: 'total' };
}

function energyQuantity(name: string, unit: string): Quantity {
  const reactive = /reactive|var/.test(name) || /varh$/.test(unit);
  const apparent = /apparent/.test(name) || /VAh$/.test(unit);
  if (apparent) return 'apparent_energy';
  const exp = /export|delivered|generated|feed/.test(name);
  const imp = /import|received|consumed|consumption/.test(name);
  if (reactive) return exp ? 'reactive_energy_export' : imp ? 'reactive_energy_import' : 'reactive_energy_total';
  if (/net/.test(name)) return 'active_energy_net';
  return exp ? 'active_energy_export' : imp ? 'active_energy_import' : 'active_energy_total';
}

function quantityOf(point: PointDef): Quantity {
  const name = point.name.toLowerCase();
  const unit = point.unit ?? '';
  const tokens = name.split('_');
  if (point.dataType === 'string') return 'text';
  if (point.writable || point.dataType === 'bool' || point.dataType === 'bitfield') return 'constant';
  if (point.registerType === 'coil' || point.registerType === 'discrete') return 'constant';
  if (/thd/.test(name)) return /current/.test(name) ? 'thd_current' : 'thd_voltage';
  if (/unbalance|imbalance|asymmetry/.test(name)) return /voltage/.test(name) ? 'voltage_unbalance' : 'current_unbalance';
  if (/demand/.test(name)) {
    const max = /max|peak/.test(name);
    if (/current/.test(name) || unit === 'A') return max ? 'current_demand_max' : 'current_demand';
    if (/apparent/.test(name) || /VA$/.test(unit)) return max ? 'apparent_demand_max' : 'apparent_demand';
    return max ? 'power_demand_max' : 'power_demand';
  }
  if (/energy/.test(name) || /(Wh|varh|VAh)$/.test(unit)) return energyQuantity(name, unit);
  if (/power_factor|(^|_)pf(_|$)|cos_?phi/.test(name)) return 'power_factor';
  if (/freq/.test(name) || unit === 'Hz') return 'frequency';
  if (/reactive/.test(name) || /^[kM]?var$/.test(unit)) return 'reactive_power';
  if (/apparent/.test(name) || /^[kM]?VA$/.test(unit)) return 'apparent_power';
  if (/power/.test(name) || /^[kM]?W$/.test(unit)) return 'active_power';
  if (/current/.test(name) || /^[km]?A$/.test(unit)) {
    return tokens.includes('n') && !/l[123]/.test(name) ? 'current_neutral' : 'current';
  }
  if (/voltage/.test(name) || /^[km]?V$/.test(unit)) {
    const lineToLine = /l[123]_?l[123]/.test(name) || tokens.includes('ll');
    return lineToLine ? 'voltage_ll' : 'voltage_ln';
  }
  if (/hours|runtime|operating/.test(name) || unit === 'h') return 'operating_hours';
  if (/temp/.test(name) || unit === '°C') return 'temperature';
  return 'constant';
}

export function meaningOf(point: PointDef): Meaning {
  const quantity = quantityOf(point);
  let factor = unitFactor(point.unit);
  // An energy point without a unit is taken to count kWh (kvarh, kVAh), the common case in manuals.
  if (!point.unit && /energy/.test(quantity)) factor = 1e-3;
  return { quantity, scope: scopeOf(point.name.toLowerCase().split('_')), factor };
}
