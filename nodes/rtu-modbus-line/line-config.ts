/** Maps the editor's line fields onto engine options, naming every bad field. */
import type { Node } from 'node-red';
import type { LineOptions, ModbusLine } from '../lib/modbus/line';
import type { Parity, TransportConfig } from '../lib/modbus/transport-types';
import { Lookup, typedNumber, typedText } from '../shared/deploy-value';

export interface LineConfigNode extends Node {
  /** The line, or undefined when the configuration is invalid (see `configError`). */
  acquire(userId: string): ModbusLine | undefined;
  release(userId: string): Promise<void>;
  configError?: string;
  lineName: string;
}

export interface LineNodeConfig {
  name?: string;
  transport?: string;
  host?: string;
  /** Where host, port and serial path come from: typed (undefined in older flows) or an env variable. */
  hostType?: string;
  port?: string | number;
  portType?: string;
  serialPath?: string;
  serialPathType?: string;
  baudRate?: string | number;
  parity?: string;
  dataBits?: string | number;
  stopBits?: string | number;
  timeout?: string | number;
  retries?: string | number;
  interRequestDelay?: string | number;
  maxOutstanding?: string | number;
  unitBackoffMax?: string | number;
  reconnectMax?: string | number;
}

function numberField(cfg: LineNodeConfig, field: keyof LineNodeConfig, min: number, max: number, fallback?: number): number {
  const raw = cfg[field];
  if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${field} ${JSON.stringify(raw)} is not a number in ${min}..${max}`);
  }
  return value;
}

function transportFrom(cfg: LineNodeConfig, lookup: Lookup): TransportConfig {
  const kind = cfg.transport || 'tcp';
  if (kind === 'tcp' || kind === 'rtu-tcp') {
    // Only the fields this transport uses are looked up: a serial path variable unset on a TCP site is no error.
    const host = typedText({ field: 'host', value: cfg.host, type: cfg.hostType, types: ['str', 'env'] }, lookup, true).trim();
    if (!host) throw new Error('host is empty');
    const port = typedNumber({ field: 'port', value: cfg.port, type: cfg.portType, types: ['num', 'env'] }, lookup, { min: 1, max: 65535 });
    return { kind, host, port: numberField({ port: port as LineNodeConfig['port'] }, 'port', 1, 65535) };
  }
  if (kind === 'rtu-serial') {
    const path = typedText({ field: 'serial path', value: cfg.serialPath, type: cfg.serialPathType, types: ['str', 'env'] }, lookup, true).trim();
    if (!path) throw new Error('serialPath is empty: choose the serial port of the RS485/RS232 adapter');
    const parity = String(cfg.parity || 'none');
    if (!['none', 'even', 'odd', 'mark', 'space'].includes(parity)) throw new Error(`parity "${parity}" is not none, even or odd`);
    const dataBits = numberField(cfg, 'dataBits', 5, 8, 8);
    const stopBits = numberField(cfg, 'stopBits', 1, 2, 1);
    return {
      kind: 'rtu',
      path,
      baudRate: numberField(cfg, 'baudRate', 300, 4000000),
      parity: parity as Parity,
      dataBits: dataBits as 5 | 6 | 7 | 8,
      stopBits: stopBits as 1 | 2,
    };
  }
  throw new Error(`transport "${kind}" is not tcp, rtu-serial or rtu-tcp`);
}

/**
 * Throws an Error whose message names the field and value at fault. `lookup` reads the fields
 * set to come from an environment variable, once, at deploy.
 */
export function lineOptionsFrom(cfg: LineNodeConfig, fallbackName: string, lookup: Lookup): LineOptions {
  const transport = transportFrom(cfg, lookup);
  const delay = numberField(cfg, 'interRequestDelay', 0, 10000, 0);
  return {
    name: cfg.name || fallbackName,
    transport,
    timeoutMs: numberField(cfg, 'timeout', 10, 120000, 1000),
    retries: numberField(cfg, 'retries', 0, 10, 1),
    // 0 on a serial line means "the protocol's own 3.5 character times".
    interRequestDelayMs: delay > 0 ? delay : undefined,
    maxOutstanding: transport.kind === 'tcp' ? numberField(cfg, 'maxOutstanding', 1, 64, 1) : 1,
    unitBackoff: { maxMs: numberField(cfg, 'unitBackoffMax', 1, 3600, 60) * 1000 },
    reconnect: { maxMs: numberField(cfg, 'reconnectMax', 1, 3600, 30) * 1000 },
  };
}

export function describeTransport(t: TransportConfig): string {
  if (t.kind === 'rtu') return `RTU ${t.path} ${t.baudRate} ${t.parity ?? 'none'}`;
  return `${t.kind === 'tcp' ? 'TCP' : 'RTU/TCP'} ${t.host}:${t.port}`;
}
