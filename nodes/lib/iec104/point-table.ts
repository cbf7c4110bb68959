/**
 * The point table of an outstation or master: `device.point` ↔ IOA + type,
 * with a deadband for measured values, an interrogation group, and for
 * command rows whether select-before-operate is required. Parsed from editor
 * rows or CSV; every error names the row.
 */
import { TYPE_BY_NAME, TypeInfo } from './types';

export interface PointRow {
  device: string;
  point: string;
  ioa: number;
  /** Type name, e.g. M_ME_NC_1 or C_SE_NC_1. */
  type: string;
  /** Absolute change that triggers a spontaneous transmission (measured values); 0 = any change. */
  deadband?: number;
  /** Interrogation group 1..16 (besides the station interrogation). */
  group?: number;
  /** Commands: execute only after a select. */
  sbo?: boolean;
}

export interface MappedPoint extends Required<Omit<PointRow, 'group' | 'sbo'>> {
  info: TypeInfo;
  group?: number;
  sbo: boolean;
  /** Row number (1-based) for messages. */
  row: number;
}

export interface PointTable {
  monitor: MappedPoint[];
  commands: MappedPoint[];
  byIoa: Map<number, MappedPoint>;
  commandByIoa: Map<number, MappedPoint>;
  /** Monitor points per device. */
  byDevice: Map<string, MappedPoint[]>;
}

const MAX_IOA: Record<1 | 2 | 3, number> = { 1: 0xff, 2: 0xffff, 3: 0xffffff };

export function parsePointTable(rows: readonly PointRow[], ioaSize: 1 | 2 | 3 = 3): PointTable {
  const table: PointTable = { monitor: [], commands: [], byIoa: new Map(), commandByIoa: new Map(), byDevice: new Map() };
  rows.forEach((r, i) => {
    const row = i + 1;
    const at = `point table row ${row} (${r.device}.${r.point})`;
    const device = String(r.device ?? '').trim();
    const point = String(r.point ?? '').trim();
    if (!device || !point) throw new Error(`point table row ${row}: device and point are required`);
    const ioa = Number(r.ioa);
    if (!Number.isInteger(ioa) || ioa < 1 || ioa > MAX_IOA[ioaSize]) throw new Error(`${at}: IOA ${r.ioa} must be an integer 1..${MAX_IOA[ioaSize]}`);
    const info = TYPE_BY_NAME.get(String(r.type ?? '').trim().toUpperCase());
    if (!info || ['coi', 'qoi', 'qcc', 'none', 'cs', 'tsc'].includes(info.kind)) {
      throw new Error(`${at}: type "${r.type}" is not a point type (use M_SP_NA_1, M_ME_NC_1, C_SC_NA_1, ...)`);
    }
    const deadband = r.deadband === undefined || r.deadband === null || (r.deadband as unknown) === '' ? 0 : Number(r.deadband);
    if (!Number.isFinite(deadband) || deadband < 0) throw new Error(`${at}: deadband ${r.deadband} must be a number >= 0`);
    const group = r.group === undefined || (r.group as unknown) === '' ? undefined : Number(r.group);
    if (group !== undefined && (!Number.isInteger(group) || group < 1 || group > 16)) throw new Error(`${at}: group ${r.group} must be 1..16`);
    const mapped: MappedPoint = { device, point, ioa, type: info.name, info, deadband, group, sbo: !!r.sbo, row };
    const index = info.direction === 'monitor' ? table.byIoa : table.commandByIoa;
    const clash = index.get(ioa);
    if (clash) throw new Error(`${at}: IOA ${ioa} is already used by row ${clash.row} (${clash.device}.${clash.point})`);
    index.set(ioa, mapped);
    if (info.direction === 'monitor') {
      table.monitor.push(mapped);
      const list = table.byDevice.get(device) ?? [];
      list.push(mapped);
      table.byDevice.set(device, list);
    } else {
      table.commands.push(mapped);
    }
  });
  return table;
}

/** CSV with a header line: device,point,ioa,type[,deadband][,group][,sbo]. */
export function pointRowsFromCsv(text: string): PointRow[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!lines.length) return [];
  const header = lines[0].split(/[,;]/).map((h) => h.trim().toLowerCase());
  for (const need of ['device', 'point', 'ioa', 'type']) {
    if (!header.includes(need)) throw new Error(`point CSV: header must name ${need} (got "${lines[0]}")`);
  }
  return lines.slice(1).map((line, i) => {
    const cells = line.split(/[,;]/).map((c) => c.trim());
    const get = (name: string): string | undefined => {
      const k = header.indexOf(name);
      return k < 0 || cells[k] === undefined || cells[k] === '' ? undefined : cells[k];
    };
    const ioa = Number(get('ioa'));
    if (!Number.isFinite(ioa)) throw new Error(`point CSV line ${i + 2}: IOA "${get('ioa')}" is not a number`);
    const sbo = get('sbo');
    return {
      device: get('device') ?? '',
      point: get('point') ?? '',
      ioa,
      type: get('type') ?? '',
      deadband: get('deadband') === undefined ? undefined : Number(get('deadband')),
      group: get('group') === undefined ? undefined : Number(get('group')),
      sbo: sbo === undefined ? undefined : /^(1|true|yes|sbo)$/i.test(sbo),
    };
  });
}
