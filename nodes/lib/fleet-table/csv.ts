/**
 * The device table as CSV: a header line naming the columns (any order; "unit"
 * or "unit_id" for unitId, "device" for name), one device per line, quotes
 * where a value holds a comma, a quote or a line break. Semicolons are taken
 * as the separator when the header has no comma (spreadsheets in German locales).
 */
import { fieldOf, readRow } from './rows';
import { FleetRow, FleetTableError, ROW_FIELDS, RowProblem } from './types';

function splitRecords(text: string, sep: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  return records.filter((r) => r.some((f) => f.trim() !== ''));
}

/** Rows from CSV text; throws a FleetTableError naming line and column for whatever cannot be read. */
export function rowsFromCsv(text: string): FleetRow[] {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const sep = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const [header, ...lines] = splitRecords(body, sep);
  if (!header) throw new FleetTableError([{ row: 0, field: 'table', message: 'the CSV is empty: it needs a header line (name,line,unitId,model,profile,interval,enabled)' }]);
  const problems: RowProblem[] = [];
  const columns = header.map((h) => fieldOf(h));
  header.forEach((h, i) => {
    if (!columns[i]) problems.push({ row: 0, field: 'table', message: `CSV header: unknown column "${h.trim()}" (known: ${ROW_FIELDS.join(', ')})` });
  });
  for (const needed of ['name', 'line', 'unitId', 'model', 'profile'] as const) {
    if (!columns.includes(needed)) problems.push({ row: 0, field: 'table', message: `CSV header: no column "${needed}"` });
  }
  if (problems.length) throw new FleetTableError(problems);
  const rows: FleetRow[] = [];
  lines.forEach((cells, i) => {
    const loose: Record<string, string> = {};
    columns.forEach((f, c) => {
      if (f) loose[f] = cells[c] ?? '';
    });
    const read = readRow(loose, i + 1);
    problems.push(...read.problems);
    if (read.row) rows.push(read.row);
  });
  if (problems.length) throw new FleetTableError(problems);
  return rows;
}

function cell(v: string | number | boolean): string {
  const s = String(v);
  return /[",;\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function rowsToCsv(rows: readonly FleetRow[]): string {
  return [ROW_FIELDS.join(','), ...rows.map((r) => ROW_FIELDS.map((f) => cell(r[f])).join(','))].join('\n') + '\n';
}
