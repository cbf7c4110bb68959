/**
 * Node configuration fields → engine options, checked, with errors that name
 * the field. Shared by the server, client and connection nodes.
 */
import type { AsduSizes } from './asdu';
import type { LinkOptions } from './link';
import type { Endpoint } from './master';
import type { RedundancyGroup } from './outstation';
import { PointRow, pointRowsFromCsv } from './point-table';

export interface LinkFields {
  cotSize?: number | string;
  caSize?: number | string;
  ioaSize?: number | string;
  k?: number | string;
  w?: number | string;
  t1?: number | string;
  t2?: number | string;
  t3?: number | string;
}

function int(field: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${field} must be a whole number in ${min}..${max}, got "${String(v)}"`);
  return n;
}

export function sizesFrom(f: LinkFields): AsduSizes {
  return {
    cot: int('COT size', f.cotSize, 2, 1, 2) as 1 | 2,
    ca: int('common address size', f.caSize, 2, 1, 2) as 1 | 2,
    ioa: int('IOA size', f.ioaSize, 3, 1, 3) as 1 | 2 | 3,
  };
}

/** k, w in frames; t1..t3 in seconds (as the standard states them). */
export function linkFrom(f: LinkFields): LinkOptions {
  const o: LinkOptions = {
    k: int('k', f.k, 12, 1, 32767),
    w: int('w', f.w, 8, 1, 32767),
    t1: int('t1', f.t1, 15, 1, 255) * 1000,
    t2: int('t2', f.t2, 10, 1, 255) * 1000,
    t3: int('t3', f.t3, 20, 1, 172800) * 1000,
  };
  if (o.t2 >= o.t1) throw new Error(`t2 (${o.t2 / 1000} s) must be shorter than t1 (${o.t1 / 1000} s)`);
  return o;
}

export function commonAddressFrom(v: unknown, sizes: AsduSizes): number {
  return int('common address', v, 1, 1, sizes.ca === 1 ? 254 : 65534);
}

/** `host:port` list, comma or newline separated; the port defaults to 2404. */
export function endpointsFrom(host: unknown, port: unknown, redundant: unknown): Endpoint[] {
  const first = String(host ?? '').trim();
  if (!first) throw new Error('host is empty');
  const out: Endpoint[] = [{ host: first, port: int('port', port, 2404, 1, 65535) }];
  for (const item of String(redundant ?? '').split(/[\s,]+/).filter(Boolean)) {
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(item);
    if (!m) throw new Error(`redundant address "${item}" is not host or host:port`);
    out.push({ host: m[1], port: int(`port of ${item}`, m[2], 2404, 1, 65535) });
  }
  return out;
}

/** `group: host, host` per line. */
export function groupsFrom(text: unknown): RedundancyGroup[] {
  const groups: RedundancyGroup[] = [];
  String(text ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean).forEach((line, i) => {
    const m = /^([^:]+):(.+)$/.exec(line);
    if (!m) throw new Error(`redundancy group line ${i + 1} "${line}": write name: host, host`);
    const hosts = m[2].split(/[\s,]+/).filter(Boolean);
    for (const h of hosts) {
      const other = groups.find((g) => g.hosts.includes(h));
      if (other) throw new Error(`redundancy group "${m[1].trim()}": host ${h} is already in group "${other.name}"`);
    }
    groups.push({ name: m[1].trim(), hosts });
  });
  return groups;
}

/** The point table as saved by the editor: CSV text with a header line. */
export function pointRowsFrom(csv: unknown): PointRow[] {
  return pointRowsFromCsv(String(csv ?? ''));
}
