/**
 * The shared point names: the same quantity has the same name and unit on every
 * model, so alert rules, dashboards and publishers work across meters. A model
 * may add other names; a name listed here must use the unit listed here (the
 * file's `scale` converts, e.g. kW registers get scale 1000 to give W).
 */

const PHASES = ['l1', 'l2', 'l3'] as const;
const LINE_PAIRS = ['l1_l2', 'l2_l3', 'l3_l1'] as const;

function perPhase(prefix: string, unit: string, extra: string[] = []): [string, string][] {
  return [...PHASES.map((p) => `${prefix}_${p}`), ...extra.map((e) => `${prefix}_${e}`)].map((n) => [n, unit]);
}

export const CANONICAL_UNITS: ReadonlyMap<string, string> = new Map<string, string>([
  ...PHASES.map((p): [string, string] => [`voltage_${p}_n`, 'V']),
  ['voltage_ln_avg', 'V'],
  ...LINE_PAIRS.map((p): [string, string] => [`voltage_${p}`, 'V']),
  ['voltage_ll_avg', 'V'],
  ['voltage_unbalance', '%'],
  ...perPhase('current', 'A', ['n', 'avg', 'sum']),
  ['current_unbalance', '%'],
  ...perPhase('active_power', 'W', ['total']),
  ...perPhase('reactive_power', 'var', ['total']),
  ...perPhase('apparent_power', 'VA', ['total']),
  ...perPhase('power_factor', '', ['total']),
  ['frequency', 'Hz'],
  ['active_energy_import_total', 'kWh'],
  ['active_energy_export_total', 'kWh'],
  ['active_energy_total', 'kWh'],
  ['active_energy_net', 'kWh'],
  ...perPhase('active_energy_import', 'kWh'),
  ...perPhase('active_energy_export', 'kWh'),
  ['reactive_energy_import_total', 'kvarh'],
  ['reactive_energy_export_total', 'kvarh'],
  ['reactive_energy_total', 'kvarh'],
  ['apparent_energy_total', 'kVAh'],
  ...PHASES.map((p): [string, string] => [`thd_voltage_${p}_n`, '%']),
  ...LINE_PAIRS.map((p): [string, string] => [`thd_voltage_${p}`, '%']),
  ...perPhase('thd_current', '%', ['n']),
  ['active_power_demand_total', 'W'],
  ['active_power_demand_max', 'W'],
  ['apparent_power_demand_total', 'VA'],
  ['apparent_power_demand_max', 'VA'],
  ...perPhase('current_demand', 'A'),
  ...perPhase('current_demand_max', 'A'),
  ['operating_hours', 'h'],
  ['temperature_internal', '°C'],
]);

export const POINT_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
export const PROFILE_NAME = POINT_NAME;
export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
