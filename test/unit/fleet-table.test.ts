import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyChange,
  checkedTable,
  FleetRow,
  FleetTableError,
  mergeOverlay,
  overlayBetween,
  parseOverlay,
  rowsFromCsv,
  rowsFromYaml,
  rowsToCsv,
  rowsToYaml,
  TableContext,
} from '../../nodes/lib/fleet-table';
import { sharedRegistry } from '../../nodes/lib/registry';

const registry = sharedRegistry();
const ctx: TableContext = {
  lines: new Set(['feeder-1', 'feeder-2']),
  profileProblem(model, profile) {
    try {
      registry.profilePoints(model, profile);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
};

const MODEL = 'rtu/simulated-energy-meter';
const row = (name: string, unitId: number, extra: Partial<FleetRow> = {}): FleetRow => ({
  name,
  line: 'feeder-1',
  unitId,
  model: MODEL,
  profile: 'basic_power',
  interval: 1,
  enabled: true,
  ...extra,
});

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof FleetTableError, `expected a FleetTableError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the table to be refused');
}

test('a valid table passes; loose input (strings, "unit", missing interval/enabled) is read into rows', () => {
  const rows = checkedTable([{ name: 'pm-1', line: 'feeder-1', unit: '3', model: MODEL, profile: 'energy' }], ctx);
  assert.deepEqual(rows, [{ name: 'pm-1', line: 'feeder-1', unitId: 3, model: MODEL, profile: 'energy', interval: 1, enabled: true }]);
});

test('validation names the row and the field for every problem at once', () => {
  const text = problemsOf(() =>
    checkedTable(
      [
        row('pm-1', 1),
        row('pm-1', 2),
        row('pm-3', 1),
        row('pm-4', 4, { line: 'feeder-9' }),
        row('pm-5', 5, { model: 'nobody/nothing' }),
        row('pm-6', 6, { profile: 'no_such' }),
        row('pm-7', 0, { line: 'feeder-2' }),
      ],
      ctx,
    ),
  );
  assert.match(text, /row 2 \(pm-1\), field "name": device name "pm-1" is already used in row 1/);
  assert.match(text, /row 3 \(pm-3\), field "unitId": unit id 1 on line "feeder-1" is already used in row 1 \(pm-1\)/);
  assert.match(text, /row 4 \(pm-4\), field "line": unknown line "feeder-9"; configured lines: feeder-1, feeder-2/);
  assert.match(text, /row 5 \(pm-5\), field "model": meter model "nobody\/nothing" is not in the registry/);
  assert.match(text, /row 6 \(pm-6\), field "profile": .*has no profile "no_such"/);
  assert.match(text, /row 7 \(pm-7\), field "unitId": unit id "0" is not a whole number in 1..247/);
});

test('unit id 248, a non-number interval and an unknown column are refused', () => {
  const text = problemsOf(() => checkedTable([{ ...row('a', 248) }, { ...row('b', 2), interval: 'often' }, { ...row('c', 3), colour: 'red' }], ctx));
  assert.match(text, /row 1 \(a\), field "unitId": unit id "248"/);
  assert.match(text, /row 2 \(b\), field "interval": interval "often"/);
  assert.match(text, /row 3: unknown field "colour"/);
});

test('the same unit id on two different lines is fine', () => {
  assert.equal(checkedTable([row('a', 1), row('b', 1, { line: 'feeder-2' })], ctx).length, 2);
});

test('changes: add, update (partial), disable, enable, remove; each result is checked as a whole', () => {
  let t = [row('a', 1)];
  t = applyChange(t, { op: 'add', row: row('b', 2) }, ctx);
  t = applyChange(t, { op: 'update', name: 'b', row: { unitId: 5, interval: 10 } }, ctx);
  assert.deepEqual(t[1], row('b', 5, { interval: 10 }));
  t = applyChange(t, { op: 'disable', name: 'a' }, ctx);
  assert.equal(t[0].enabled, false);
  t = applyChange(t, { op: 'enable', name: 'a' }, ctx);
  assert.equal(t[0].enabled, true);
  t = applyChange(t, { op: 'remove', name: 'a' }, ctx);
  assert.deepEqual(t.map((r) => r.name), ['b']);
});

test('a change that would break the table is refused as a whole and the table is unchanged', () => {
  const t = Object.freeze([row('a', 1), row('b', 2)]) as FleetRow[];
  assert.match(problemsOf(() => applyChange(t, { op: 'add', row: row('c', 2) }, ctx)), /row 3 \(c\), field "unitId": unit id 2 on line "feeder-1" is already used in row 2 \(b\)/);
  assert.match(problemsOf(() => applyChange(t, { op: 'add', row: row('a', 9) }, ctx)), /row 3 \(a\), field "name"/);
  assert.match(problemsOf(() => applyChange(t, { op: 'update', name: 'b', row: { line: 'nowhere' } }, ctx)), /row 2 \(b\), field "line": unknown line "nowhere"/);
  assert.match(problemsOf(() => applyChange(t, { op: 'remove', name: 'zz' }, ctx)), /there is no device "zz"/);
  assert.deepEqual(t.map((r) => r.unitId), [1, 2]);
});

test('CSV round trip, with quotes, semicolons and column aliases', () => {
  const rows = [row('pm, "main"', 1), row('pm-2', 2, { line: 'feeder-2', enabled: false, interval: 0.5 })];
  const csv = rowsToCsv(rows);
  assert.deepEqual(rowsFromCsv(csv), rows);
  const semi = `device;line;unit_id;model;profile\r\npm-9;feeder-1;9;${MODEL};energy\r\n`;
  assert.deepEqual(rowsFromCsv(semi), [row('pm-9', 9, { profile: 'energy' })]);
});

test('CSV problems name the line and the column', () => {
  assert.match(problemsOf(() => rowsFromCsv('name,line,unitId,model,profile,colour\n')), /unknown column "colour"/);
  assert.match(problemsOf(() => rowsFromCsv('name,line,model,profile\n')), /no column "unitId"/);
  assert.match(problemsOf(() => rowsFromCsv(`name,line,unitId,model,profile\nx,feeder-1,abc,${MODEL},energy\n`)), /row 1 \(x\), field "unitId": unit id "abc"/);
});

test('YAML round trip groups devices under their lines; line defaults fill devices', () => {
  const rows = [row('a', 1), row('b', 1, { line: 'feeder-2', enabled: false }), row('c', 2)];
  const text = rowsToYaml(rows);
  assert.match(text, /^lines:\n  - name: feeder-1\n    devices:\n/);
  const back = rowsFromYaml(text);
  assert.deepEqual(
    back.sort((x, y) => x.name.localeCompare(y.name)),
    rows,
  );
  const site = `lines:\n  - name: feeder-2\n    defaults: { model: ${MODEL}, profile: energy, interval: 5 }\n    devices:\n      - { name: m1, unit: 1 }\n      - { name: m2, unit: 2, profile: basic_power }\n`;
  assert.deepEqual(rowsFromYaml(site), [
    row('m1', 1, { line: 'feeder-2', profile: 'energy', interval: 5 }),
    row('m2', 2, { line: 'feeder-2', interval: 5 }),
  ]);
  assert.match(problemsOf(() => rowsFromYaml('devices: []')), /needs a "lines:" list/);
  assert.match(problemsOf(() => rowsFromYaml('lines:\n  - name: l\n    devices:\n      - { name: x, unit: 300 }\n')), /row 1 \(x\), field "unitId"/);
});

test('overlay: runtime changes on top of the base, kept across a new base, until cleared', () => {
  const base = [row('a', 1), row('b', 2), row('c', 3)];
  let table = applyChange(base, { op: 'update', name: 'a', row: { interval: 5 } }, ctx);
  table = applyChange(table, { op: 'remove', name: 'b' }, ctx);
  table = applyChange(table, { op: 'add', row: row('d', 4) }, ctx);
  const overlay = overlayBetween(base, table);
  assert.deepEqual(overlay, { rows: [row('a', 1, { interval: 5 }), row('d', 4)], removed: ['b'] });
  // Stored as JSON and read back after a restart.
  const stored = parseOverlay(JSON.parse(JSON.stringify(overlay)));
  assert.equal(stored.problem, undefined);
  assert.deepEqual(mergeOverlay(base, stored.overlay, ctx).table, table);
  // A redeploy with a new base: its new row e keeps, the overlay applies on top.
  const newBase = [...base, row('e', 5)];
  assert.deepEqual(mergeOverlay(newBase, overlay, ctx).table.map((r) => r.name), ['a', 'c', 'e', 'd']);
  // Cleared: the base alone.
  assert.deepEqual(mergeOverlay(base, { rows: [], removed: [] }, ctx).table, base);
});

test('an overlay row that no longer fits a new base is left out, reported, and kept in the overlay', () => {
  const base = [row('a', 1)];
  const overlay = overlayBetween(base, applyChange(base, { op: 'add', row: row('d', 4) }, ctx));
  const newBase = [row('a', 1), row('x', 4)];
  const merged = mergeOverlay(newBase, overlay, ctx);
  assert.deepEqual(merged.table.map((r) => r.name), ['a', 'x']);
  assert.equal(merged.skipped[0].row.name, 'd');
  assert.match(merged.skipped[0].problems.map((p) => p.message).join(), /unit id 4 on line "feeder-1" is already used/);
  const after = overlayBetween(newBase, applyChange(merged.table, { op: 'disable', name: 'a' }, ctx), merged.skipped.map((s) => s.row));
  assert.deepEqual(after.rows.map((r) => r.name), ['a', 'd']);
});

test('figure: a table of 5,000 devices reads and validates', () => {
  const lines = new Set(Array.from({ length: 25 }, (_, i) => `line-${i + 1}`));
  const big = Array.from({ length: 5000 }, (_, i) => ({ name: `meter-${i + 1}`, line: `line-${(i % 25) + 1}`, unitId: String(Math.floor(i / 25) + 1), model: MODEL, profile: 'basic_power', interval: '1', enabled: 'true' }));
  const started = process.hrtime.bigint();
  const rows = checkedTable(big, { ...ctx, lines });
  const csvRows = rowsFromCsv(rowsToCsv(rows));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.equal(rows.length, 5000);
  assert.equal(csvRows.length, 5000);
  console.log(`# 5000-device table: read + validated + CSV round trip in ${ms.toFixed(1)} ms`);
});
