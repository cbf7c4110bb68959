/**
 * Maps the rtu-modbus-line form onto line options, naming every bad field. Site values
 * (host, port, serial path from an environment variable) are already resolved by the node.
 */
import type { LineOptions } from './line-types';
import type { Parity, TransportConfig } from './transport-types';

export interface LineNodeConfig {
  name?: string;
  transport?: string;
  host?: string;
  port?: string | number;
  serialPath?: string;
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

function transportFrom(cfg: LineNodeConfig): TransportConfig {
  const kind = cfg.transport || 'tcp';
  if (kind === 'tcp' || kind === 'rtu-tcp') {
    const host = String(cfg.host ?? '').trim();
    if (!host) throw new Error('host is empty');
    return { kind, host, port: numberField(cfg, 'port', 1, 65535) };
  }
  if (kind === 'rtu-serial') {
    const path = String(cfg.serialPath ?? '').trim();
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

/** Throws an Error whose message names the field and value at fault. */
export function lineOptionsFrom(cfg: LineNodeConfig, fallbackName: string): LineOptions {
  const transport = transportFrom(cfg);
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
