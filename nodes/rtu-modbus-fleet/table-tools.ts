/**
 * Admin routes the device-table dialog uses, so that the editor checks, imports
 * and exports with the same code the runtime runs (../lib/fleet-table):
 *
 *   POST /rtu/fleet/check   { rows, lines }       -> { problems: [{ row, field, message, text }] }
 *   POST /rtu/fleet/import  { format, text }      -> { rows } or 400 { problems }
 *   POST /rtu/fleet/export  { format, rows }      -> { text }
 *
 * `lines` are the line names the editor knows (deployed or not yet).
 */
import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { describeProblem, FleetTableError, readRows, RowProblem, rowsFromCsv, rowsFromYaml, rowsToCsv, rowsToYaml, tableProblems } from '../lib/fleet-table';
import type { MeterRegistry } from '../lib/registry';

function answer(problems: RowProblem[]) {
  return problems.map((p) => ({ ...p, text: describeProblem(p) }));
}

export function serveTableTools(RED: NodeAPI, registry: () => MeterRegistry): void {
  const read = RED.auth.needsPermission('rtu-modbus-fleet.read');

  RED.httpAdmin.post('/rtu/fleet/check', read, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { rows?: unknown; lines?: unknown };
    const reg = registry();
    const lines = new Set(Array.isArray(body.lines) ? body.lines.map(String) : []);
    const { rows, numbers, problems } = readRows(body.rows ?? []);
    const profileProblem = (model: string, profile: string) => {
      try {
        reg.profilePoints(model, profile);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    };
    const all = [...problems, ...tableProblems(rows, { lines, profileProblem }, numbers)].sort((a, b) => a.row - b.row);
    res.json({ problems: answer(all) });
  });

  RED.httpAdmin.post('/rtu/fleet/import', read, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { format?: unknown; text?: unknown };
    try {
      const text = String(body.text ?? '');
      const rows = body.format === 'yaml' ? rowsFromYaml(text) : rowsFromCsv(text);
      res.json({ rows });
    } catch (err) {
      if (err instanceof FleetTableError) res.status(400).json({ problems: answer(err.problems) });
      else res.status(400).json({ problems: [{ row: 0, field: 'table', message: (err as Error).message, text: (err as Error).message }] });
    }
  });

  RED.httpAdmin.post('/rtu/fleet/export', read, (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { format?: unknown; rows?: unknown };
    const { rows } = readRows(body.rows ?? []);
    res.json({ text: body.format === 'yaml' ? rowsToYaml(rows) : rowsToCsv(rows) });
  });
}
