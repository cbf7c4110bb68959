/** A device table for many Modbus devices: rows, checks, changes, CSV/YAML and runtime overlays. No Node-RED here. */
export * from './types';
export { readRow, readRows, sameRow } from './rows';
export { tableProblems, checkedTable } from './validate';
export { applyChange, CHANGE_OPS } from './ops';
export type { FleetChange } from './ops';
export { rowsFromCsv, rowsToCsv } from './csv';
export { rowsFromYaml, rowsToYaml } from './yaml';
export { overlayBetween, mergeOverlay, parseOverlay, isEmptyOverlay, EMPTY_OVERLAY } from './overlay';
export type { FleetOverlay, Merged } from './overlay';
