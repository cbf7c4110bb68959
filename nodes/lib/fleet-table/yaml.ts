/**
 * The device table as a site file: the lines, each with its devices, the way
 * a site is described on paper.
 *
 *   lines:
 *     - name: feeder-1
 *       devices:
 *         - { name: pm-101, model: eastron/sdm630, profile: basic_power, unit: 1, interval: 1 }
 *         - { name: pm-102, model: eastron/sdm630, profile: basic_power, unit: 2, enabled: false }
 *
 * A device may leave out `interval` (1 s) and `enabled` (true). `defaults:` on a
 * line (model, profile, interval) applies to each of its devices that lacks them.
 */
import * as yaml from 'js-yaml';
import { readRow } from './rows';
import { FleetRow, FleetTableError, RowProblem } from './types';

type Loose = Record<string, unknown>;

function isObject(v: unknown): v is Loose {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export function rowsFromYaml(text: string): FleetRow[] {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new FleetTableError([{ row: 0, field: 'table', message: `the YAML cannot be read: ${(err as Error).message}` }]);
  }
  const fail = (message: string): never => {
    throw new FleetTableError([{ row: 0, field: 'table', message }]);
  };
  if (!isObject(doc) || !Array.isArray(doc.lines)) fail('the YAML needs a "lines:" list, each line with a name and its devices');
  const rows: FleetRow[] = [];
  const problems: RowProblem[] = [];
  let n = 0;
  for (const [li, line] of ((doc as Loose).lines as unknown[]).entries()) {
    if (!isObject(line) || typeof line.name !== 'string' || !line.name.trim()) {
      problems.push({ row: 0, field: 'table', message: `line ${li + 1} of "lines:" has no name` });
      continue;
    }
    const defaults = isObject(line.defaults) ? line.defaults : {};
    const devices = line.devices ?? [];
    if (!Array.isArray(devices)) {
      problems.push({ row: 0, field: 'table', message: `line "${line.name}": "devices:" is not a list` });
      continue;
    }
    for (const d of devices) {
      n++;
      if (!isObject(d)) {
        problems.push({ row: n, field: 'name', message: `a device on line "${line.name}" must be a mapping, got ${JSON.stringify(d)}` });
        continue;
      }
      if (d.line !== undefined && d.line !== line.name) {
        problems.push({ row: n, device: String(d.name ?? ''), field: 'line', message: `listed under line "${line.name}" but says line "${String(d.line)}"` });
        continue;
      }
      const read = readRow({ ...defaults, ...d, line: line.name }, n);
      problems.push(...read.problems);
      if (read.row) rows.push(read.row);
    }
  }
  if (problems.length) throw new FleetTableError(problems);
  return rows;
}

/** The site file for a table: lines in the order they first appear, devices in table order. */
export function rowsToYaml(rows: readonly FleetRow[]): string {
  const lines = new Map<string, Loose[]>();
  for (const r of rows) {
    let list = lines.get(r.line);
    if (!list) lines.set(r.line, (list = []));
    list.push({ name: r.name, model: r.model, profile: r.profile, unit: r.unitId, interval: r.interval, ...(r.enabled ? {} : { enabled: false }) });
  }
  const doc = { lines: [...lines].map(([name, devices]) => ({ name, devices })) };
  return yaml.dump(doc, { flowLevel: 4, lineWidth: 200, noRefs: true });
}
