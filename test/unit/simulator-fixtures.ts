/** Point lists shared by the simulator, cache and gateway tests: shaped like registry models. */
import type { PointDef } from '../../nodes/lib/modbus/types';

const f = (name: string, address: number, unit?: string): PointDef => ({ name, registerType: 'input', address, dataType: 'float32', unit });

/** A three-phase meter with float32 input registers (like the Eastron SDM630) and a few holding registers. */
export const THREE_PHASE_POINTS: PointDef[] = [
  f('voltage_l1_n', 0, 'V'),
  f('voltage_l2_n', 2, 'V'),
  f('voltage_l3_n', 4, 'V'),
  f('current_l1', 6, 'A'),
  f('current_l2', 8, 'A'),
  f('current_l3', 10, 'A'),
  f('active_power_l1', 12, 'W'),
  f('active_power_l2', 14, 'W'),
  f('active_power_l3', 16, 'W'),
  f('active_power_total', 18, 'W'),
  f('reactive_power_total', 20, 'var'),
  f('apparent_power_total', 22, 'VA'),
  f('power_factor_l1', 24),
  f('power_factor_l2', 26),
  f('power_factor_l3', 28),
  f('power_factor_total', 30),
  f('frequency', 32, 'Hz'),
  f('voltage_l1_l2', 34, 'V'),
  f('voltage_l2_l3', 36, 'V'),
  f('voltage_l3_l1', 38, 'V'),
  f('current_n', 40, 'A'),
  // A hole of 30 registers: wider than the simulator's tolerance, so 42..71 answer 02.
  f('active_energy_import_total', 72, 'kWh'),
  f('active_energy_export_total', 74, 'kWh'),
  f('reactive_energy_import_total', 76, 'kvarh'),
  { name: 'power_kw', registerType: 'holding', address: 0, dataType: 'int32', scale: 0.001, unit: 'kW' },
  { name: 'energy_wh', registerType: 'holding', address: 2, dataType: 'uint32', order: 'CDAB', unit: 'Wh' },
  { name: 'voltage_l1_n_x10', registerType: 'holding', address: 4, dataType: 'uint16', scale: 0.1, unit: 'V' },
  // Two registers of hole (5, 6) read as zeros.
  { name: 'ct_ratio', registerType: 'holding', address: 7, dataType: 'uint16', writable: true },
  { name: 'serial_number', registerType: 'holding', address: 8, dataType: 'string', length: 4 },
  { name: 'relay', registerType: 'coil', address: 0, dataType: 'bool', writable: true },
];

/** A single-phase meter (like the Eastron SDM120). */
export const SINGLE_PHASE_POINTS: PointDef[] = [
  f('voltage_l1_n', 0, 'V'),
  f('current_l1', 6, 'A'),
  f('active_power_l1', 12, 'W'),
  f('power_factor_l1', 30),
  f('frequency', 70, 'Hz'),
  f('active_energy_import_total', 72, 'kWh'),
];
