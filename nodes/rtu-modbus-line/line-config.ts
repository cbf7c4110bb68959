/** What the rtu-modbus-line config node offers its pollers, and its site values read at deploy. */
import type { Node } from 'node-red';
import type { LineNodeConfig } from '../lib/modbus/line-config';
import type { ModbusLine } from '../lib/modbus/line';
import { Lookup, typedNumber, typedText } from '../shared/deploy-value';

export interface LineConfigNode extends Node {
  /** The line, or undefined when the configuration is invalid (see `configError`). */
  acquire(userId: string): ModbusLine | undefined;
  release(userId: string): Promise<void>;
  configError?: string;
  lineName: string;
}

/** The form as saved: host, port and serial path may name an environment variable instead. */
export interface LineNodeFields extends LineNodeConfig {
  hostType?: string;
  portType?: string;
  serialPathType?: string;
}

/**
 * Host and port, or the serial path, typed or looked up once at deploy (one flow, many sites).
 * Only the fields the transport uses are looked up: a serial path variable unset on a TCP site is no error.
 */
export function withSiteValues(cfg: LineNodeFields, lookup: Lookup): LineNodeConfig {
  const kind = cfg.transport || 'tcp';
  if (kind === 'tcp' || kind === 'rtu-tcp') {
    const host = typedText({ field: 'host', value: cfg.host, type: cfg.hostType, types: ['str', 'env'] }, lookup, true);
    const port = typedNumber({ field: 'port', value: cfg.port, type: cfg.portType, types: ['num', 'env'] }, lookup, { min: 1, max: 65535 });
    return { ...cfg, host, port: port as LineNodeConfig['port'] };
  }
  if (kind === 'rtu-serial') {
    return { ...cfg, serialPath: typedText({ field: 'serial path', value: cfg.serialPath, type: cfg.serialPathType, types: ['str', 'env'] }, lookup, true) };
  }
  return cfg;
}
