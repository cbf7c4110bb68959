/** The decoder engine: register blocks in, named engineering values out; plus point-table importers. */
export { decodeBlocks, blockProblem } from './decode';
export type { DecodeResult } from './decode';
export { blockFromModbusOutput } from './modbus-output';
export type { ModbusOutput, ModbusOutputConfig } from './modbus-output';
export { importPointCsv, parseCsv } from './csv';
export type { CsvRecord } from './csv';
export { importDeviceList } from './device-list';
export type { DeviceConfig } from './device-list';
export { pointsFromRows } from './rows';
export type { LabelledRow } from './rows';
export { decodeMessage, withDefaultOrder } from './reading';
export type { DecoderSetup, DecodeContext, DecodedReading } from './reading';
