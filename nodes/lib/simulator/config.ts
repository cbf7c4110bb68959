/** Maps the rtu-simulator form fields onto simulator options, naming every bad field. */
import type { UnitConfig } from './models';

export interface SimulatorNodeFields {
  host?: string;
  port?: string | number;
  units?: Array<{ unitId?: string | number; model?: string }>;
  deadUnits?: string;
  latency?: string | number;
}

export interface SimulatorSettings {
  host: string;
  port: number;
  units: UnitConfig[];
  deadUnitIds: number[];
  latencyMs: number;
}

function unitId(raw: unknown, where: string): number {
  const n = typeof raw === 'number' ? raw : Number(String(raw ?? '').trim());
  if (String(raw ?? '').trim() === '' || !Number.isInteger(n) || n < 1 || n > 247) {
    throw new Error(`${where}: unit id ${JSON.stringify(raw)} is not a whole number in 1..247`);
  }
  return n;
}

export function simulatorSettings(fields: SimulatorNodeFields): SimulatorSettings {
  const host = String(fields.host ?? '').trim() || '127.0.0.1';
  const port = Number(fields.port === '' || fields.port === undefined ? 15020 : fields.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port ${JSON.stringify(fields.port)} is not a whole number in 0..65535`);
  const rows = Array.isArray(fields.units) && fields.units.length ? fields.units : [{ unitId: 1 }];
  const seen = new Set<number>();
  const units = rows.map((row, i) => {
    const id = unitId(row?.unitId, `unit ${i + 1}`);
    if (seen.has(id)) throw new Error(`unit ${i + 1}: unit id ${id} is listed twice`);
    seen.add(id);
    const model = String(row?.model ?? '').trim();
    return model ? { unitId: id, model } : { unitId: id };
  });
  const dead = String(fields.deadUnits ?? '').trim();
  const deadUnitIds = dead ? dead.split(/[\s,;]+/).filter(Boolean).map((s) => unitId(s, 'dead units')) : [];
  const latencyMs = Number(fields.latency === '' || fields.latency === undefined ? 0 : fields.latency);
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60_000) {
    throw new Error(`latency ${JSON.stringify(fields.latency)} is not a number of ms in 0..60000`);
  }
  return { host, port, units, deadUnitIds, latencyMs };
}
