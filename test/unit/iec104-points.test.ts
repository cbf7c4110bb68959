import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePointTable, pointRowsFromCsv } from '../../nodes/lib/iec104/point-table';
import { beyondDeadband, qualityBits, readingQuality, wireValue } from '../../nodes/lib/iec104/values';
import { packObjects } from '../../nodes/lib/iec104/pack';
import { TYPE_BY_NAME } from '../../nodes/lib/iec104/types';
import { decodeAsdu, encodeAsdu, DEFAULT_SIZES } from '../../nodes/lib/iec104/asdu';
import net from 'net';
import { once } from 'events';
import { HealthRegistry } from '../../nodes/lib/health/registry';
import { toPrometheus } from '../../nodes/lib/health/prometheus';
import { Iec104Outstation } from '../../nodes/lib/iec104/outstation';
import { outstationHealth } from '../../nodes/lib/iec104/health';

test('point table: duplicate IOAs, unknown types and bad IOAs are refused naming the row', () => {
  assert.throws(
    () => parsePointTable([{ device: 'm', point: 'a', ioa: 1, type: 'M_ME_NC_1' }, { device: 'm', point: 'b', ioa: 1, type: 'M_SP_NA_1' }]),
    /row 2 \(m\.b\): IOA 1 is already used by row 1 \(m\.a\)/,
  );
  assert.throws(() => parsePointTable([{ device: 'm', point: 'a', ioa: 1, type: 'M_XX' }]), /row 1 \(m\.a\): type "M_XX"/);
  assert.throws(() => parsePointTable([{ device: 'm', point: 'a', ioa: 300, type: 'M_SP_NA_1' }], 1), /IOA 300 must be an integer 1\.\.255/);
  assert.throws(() => parsePointTable([{ device: 'm', point: 'a', ioa: 1, type: 'M_SP_NA_1', group: 17 }]), /group 17/);
  // The same IOA may be a monitor point and a command point.
  const t = parsePointTable([{ device: 'm', point: 'a', ioa: 1, type: 'm_sp_na_1' }, { device: 'm', point: 'a_cmd', ioa: 1, type: 'C_SC_NA_1', sbo: true }]);
  assert.equal(t.monitor.length, 1);
  assert.equal(t.commands[0].sbo, true);
});

test('point table from CSV: header names the columns, ; or , separated, comments skipped', () => {
  const rows = pointRowsFromCsv('device;point;ioa;type;deadband;sbo\n# comment\nmeter1;voltage;100;M_ME_NC_1;0.5;\nmeter1;relay;5000;C_SC_NA_1;;yes\n');
  assert.deepEqual(rows, [
    { device: 'meter1', point: 'voltage', ioa: 100, type: 'M_ME_NC_1', deadband: 0.5, group: undefined, sbo: undefined },
    { device: 'meter1', point: 'relay', ioa: 5000, type: 'C_SC_NA_1', deadband: undefined, group: undefined, sbo: true },
  ]);
  assert.throws(() => pointRowsFromCsv('device,point,type\nx,y,M_SP_NA_1'), /header must name ioa/);
  assert.throws(() => pointRowsFromCsv('device,point,ioa,type\nx,y,abc,M_SP_NA_1'), /line 2: IOA "abc"/);
});

test('values: a type that cannot hold the value is a clear error naming the point', () => {
  const t = parsePointTable([
    { device: 'm', point: 'scaled', ioa: 1, type: 'M_ME_NB_1' },
    { device: 'm', point: 'norm', ioa: 2, type: 'M_ME_NA_1' },
    { device: 'm', point: 'dp', ioa: 3, type: 'M_DP_NA_1' },
    { device: 'm', point: 'sp', ioa: 4, type: 'M_SP_NA_1' },
  ]);
  const [scaled, norm, dp, sp] = t.monitor;
  assert.throws(() => wireValue(scaled, 40000), /m\.scaled \(IOA 1, M_ME_NB_1\): value 40000 does not fit -32768\.\.32767/);
  assert.throws(() => wireValue(norm, 1.5), /outside the normalized range/);
  assert.throws(() => wireValue(scaled, 'abc'), /is not a number/);
  assert.equal(wireValue(dp, true), 2);
  assert.equal(wireValue(sp, 0), false);
  assert.deepEqual(qualityBits('bad'), { iv: true, nt: false, sb: false, bl: false, ov: false });
  assert.equal(readingQuality(qualityBits('stale')), 'stale');
  assert.equal(beyondDeadband(1, 230, 230.9), false);
  assert.equal(beyondDeadband(1, 230, 231), true);
  assert.equal(beyondDeadband(0, 5, 5), false);
});

test('packing: runs of consecutive IOAs go SQ=1, others SQ=0, within the ASDU size', () => {
  const info = TYPE_BY_NAME.get('M_ME_NC_1')!;
  const objects = [...Array.from({ length: 100 }, (_, i) => ({ ioa: 1000 + i, value: i })), { ioa: 5, value: 1 }, { ioa: 9, value: 2 }];
  const asdus = packObjects(info, objects, { cot: 20, originator: 0, commonAddress: 1 }, DEFAULT_SIZES);
  assert.deepEqual(asdus.map((a) => [a.sq, a.objects.length]), [[true, 48], [true, 48], [true, 4], [false, 2]]);
  for (const a of asdus) assert.deepEqual(decodeAsdu(encodeAsdu(a)).objects.map((o) => o.ioa), a.objects.map((o) => o.ioa));
});

test('health: an outstation registered on the health registry appears in the snapshot and on the Prometheus endpoint', async () => {
  const registry = new HealthRegistry();
  assert.equal(registry.snapshot().iec104, undefined, 'no section without IEC 104 nodes');
  const o = new Iec104Outstation({ commonAddress: 1, points: parsePointTable([{ device: 'd', point: 'p', ioa: 1, type: 'M_ME_NB_1' }]), eventBufferSize: 2 });
  const port = await o.listen(0, '127.0.0.1');
  const sock = net.connect(port, '127.0.0.1');
  await once(o, 'connection');
  for (let i = 0; i < 5; i++) o.update('d', { p: i }, { quality: 'good' });
  const off = registry.registerIec104('scada', () => outstationHealth(o));
  const snap = registry.snapshot();
  assert.equal(snap.iec104?.scada.connections[0].dropped, 3);
  assert.equal(snap.iec104?.scada.connections[0].buffered, 2);
  const text = toPrometheus(snap);
  assert.match(text, /rtu_iec104_dropped_events_total\{iec104="scada",role="outstation",remote="127\.0\.0\.1:\d+"\} 3/);
  assert.match(text, /rtu_iec104_connections\{iec104="scada",role="outstation"\} 1/);
  off();
  sock.destroy();
  await o.close();
});
