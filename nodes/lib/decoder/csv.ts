/**
 * Point tables from CSV, as integrators keep them in spreadsheets:
 *   name,register_type,address,data_type,order,scale,unit,description
 * Headers are matched by common aliases; `;` and tab separators (spreadsheets
 * in many locales) are detected, and with `;` a decimal comma (`0,001`) is read as a
 * decimal point. Rows of empty cells (`;;;;`, which spreadsheets write for formatted
 * empty rows) are skipped. A table with any bad line is refused as a whole: the result
 * lists every bad line and holds no points. When a row has no register type, its address
 * must be a Modicon reference (40001 = holding 0, 300010 = input 9); with a
 * register type the address is the zero-based protocol address.
 */
import { parseModiconAddress } from '../modbus/points';
import type { PointDef } from '../modbus/types';
import { LabelledRow, pointsFromRows } from './rows';
import { own } from '../own';

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  cells: string[];
}

export function detectSeparator(text: string): string {
  const first = text.split(/\r?\n/).find((l) => l.trim() !== '' && !l.trimStart().startsWith('#')) ?? '';
  const counts = [',', ';', '\t'].map((sep) => ({ sep, n: first.split(sep).length }));
  counts.sort((a, b) => b.n - a.n);
  return counts[0].sep;
}

/**
 * Splits CSV text into records (RFC 4180 quoting: "a,b" and "" for a quote).
 * Blank lines, lines of empty cells and lines starting with # are skipped.
 */
export function parseCsv(text: string, separator = detectSeparator(text)): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let cellQuoted = false;
  /** A quoted cell, even an empty one, makes the record more than a blank row. */
  let anyQuoted = false;
  const endRecord = (): void => {
    cells.push(cellQuoted ? cell : cell.trim());
    const blank = !anyQuoted && cells.every((c) => c === '');
    if (!blank && !(cells[0].trimStart().startsWith('#') && !cellQuoted)) records.push({ line: start, cells });
    cells = [];
    cell = '';
    cellQuoted = false;
    anyQuoted = false;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else if (c === '\r' && src[i + 1] === '\n') continue;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cellQuoted = true;
      anyQuoted = true;
      cell = '';
    } else if (c === separator) {
      cells.push(cellQuoted ? cell : cell.trim());
      cell = '';
      cellQuoted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else if (!(cellQuoted && /\s/.test(c))) cell += c;
  }
  if (quoted) throw new Error(`line ${start}: a quoted cell is never closed`);
  if (cell !== '' || cells.length || cellQuoted) endRecord();
  return records;
}

/** Header spellings seen in the field, mapped to point fields. */
const HEADER_ALIASES: Record<string, string> = {
  name: 'name', parameter: 'name', point: 'name', point_name: 'name', tag: 'name', signal: 'name',
  register_type: 'registerType', registertype: 'registerType', reg_type: 'registerType', table: 'registerType', area: 'registerType',
  address: 'address', addr: 'address', register: 'address', reg: 'address', register_address: 'address', modbus_address: 'address',
  data_type: 'dataType', datatype: 'dataType', type: 'dataType', format: 'dataType',
  order: 'order', byte_order: 'order', word_order: 'order', endian: 'order', endianness: 'order', swap: 'order',
  scale: 'scale', factor: 'scale', multiplier: 'scale', gain: 'scale', scaling: 'scale',
  offset: 'offset',
  unit: 'unit', units: 'unit', uom: 'unit', eng_unit: 'unit',
  description: 'description', desc: 'description', comment: 'description', remarks: 'description',
  length: 'length', len: 'length', words: 'length', register_count: 'length', quantity: 'length',
  bit: 'bit', bit_index: 'bit', bits: 'bits', bit_count: 'bits',
  writable: 'writable', access: 'writable', rw: 'writable',
};

function headerKey(h: string): string {
  return h.trim().toLowerCase().replace(/[\s\-./]+/g, '_');
}

function access(value: string): string {
  const v = value.trim().toLowerCase();
  if (v === 'rw' || v === 'r/w' || v === 'read-write' || v === 'read/write' || v === 'w' || v === 'wo') return 'true';
  if (v === 'r' || v === 'ro' || v === 'read' || v === 'read-only' || v === 'readonly') return 'false';
  return value;
}

/**
 * Imports a CSV point table. Errors name the file (context), the line, the
 * column and the point: `points.csv line 4, column "address": address 70000 is outside 0..65535`.
 */
export function importPointCsv(text: string, context = 'CSV'): { points: PointDef[]; errors: string[]; warnings: string[] } {
  let records: CsvRecord[];
  const separator = detectSeparator(text);
  try {
    records = parseCsv(text, separator);
  } catch (err) {
    return { points: [], errors: [`${context} ${(err as Error).message}`], warnings: [] };
  }
  if (!records.length) return { points: [], errors: [`${context}: the file is empty`], warnings: [] };
  const [header, ...body] = records;
  const columns = header.cells.map((h) => own(HEADER_ALIASES, headerKey(h)));
  const warnings = header.cells
    .filter((h, i) => !columns[i] && h.trim() !== '')
    .map((h) => `${context} line ${header.line}: column "${h}" is not a point field and is ignored`);
  const missing = ['name', 'address'].filter((f) => !columns.includes(f));
  if (missing.length) {
    const known = Object.keys(HEADER_ALIASES).filter((k) => missing.includes(HEADER_ALIASES[k]));
    return { points: [], errors: [`${context} line ${header.line}: no ${missing.join(' or ')} column (headers tried: ${known.join(', ')})`], warnings };
  }
  const columnOf = (field: string): string | undefined => {
    const i = columns.indexOf(field);
    return i < 0 ? undefined : `column "${header.cells[i].trim()}"`;
  };
  const rows: LabelledRow[] = body.map((rec) => {
    const row: Record<string, unknown> = {};
    rec.cells.forEach((cell, i) => {
      const field = columns[i];
      if (field && row[field] === undefined) row[field] = field === 'writable' ? access(cell) : separator === ';' && DECIMAL_FIELDS.has(field) ? decimalPoint(cell) : cell;
    });
    const name = typeof row.name === 'string' && row.name.trim() ? ` (point "${row.name.trim()}")` : '';
    const label = `${context} line ${rec.line}${name}`;
    const early: string[] = [];
    if (rec.cells.length > header.cells.length && rec.cells.slice(header.cells.length).some((c) => c !== '')) {
      early.push(`${label}: ${rec.cells.length} cells but the header has ${header.cells.length} (a separator inside an unquoted cell?)`);
    }
    const blankType = row.registerType === undefined || String(row.registerType).trim() === '';
    if (blankType && row.address !== undefined && String(row.address).trim() !== '') {
      try {
        const parsed = parseModiconAddress(String(row.address));
        row.registerType = parsed.registerType;
        row.address = parsed.address;
      } catch (err) {
        early.push(`${label}, ${columnOf('address')}: ${(err as Error).message}, and the row has no register type`);
        row.registerType = 'holding';
        row.address = '0';
      }
    }
    return { label, row, place: (f) => columnOf(f), early };
  });
  const { points, errors } = pointsFromRows(rows);
  // Part of a table is worse than none: it could be saved without anyone noticing the gap.
  return { points: errors.length ? [] : points, errors, warnings };
}

/** Fields that hold decimal numbers, where a `;`-separated table may use a decimal comma. */
const DECIMAL_FIELDS = new Set(['scale', 'offset']);

/** `0,001` -> `0.001`; anything else (already a point, thousands groups, text) is left as it is. */
function decimalPoint(cell: string): string {
  return /^\s*[+-]?\d*,\d+\s*$/.test(cell) ? cell.replace(',', '.') : cell;
}
