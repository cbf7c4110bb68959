/**
 * The Sparkplug engine without a broker: ids, datatype mapping, report by exception and device
 * state, command and STATE parsing, settings, the payloads as an independent decoder reads
 * them, and the node's editor files (locale keys, help sections).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import path from 'path';
import type { PointValue, Quality, ReadingMessage } from '../../nodes/lib/reading';
import { parseDeadbandRules } from '../../nodes/lib/publish/rules';
import { checkId, idProblem, sparkplugSettings, sparkplugType, parseWriteAllowList } from '../../nodes/lib/sparkplug';
import { DeviceTable } from '../../nodes/lib/sparkplug/devices';
import { parseDeviceCommand, parseHostState, parseNodeCommand } from '../../nodes/lib/sparkplug/commands';
import { dbirthPayload, ddataPayload } from '../../nodes/lib/sparkplug/payloads';
import { DataType, decodePayload, encodeCommand } from '../support/sparkplug/wire';

function reading(device: string, values: Record<string, PointValue>, quality: Quality = 'good', points: Record<string, { dataType?: string; scaled?: boolean }> = {}): ReadingMessage {
  return { topic: device, payload: values, rtu: { device, protocol: 'modbus', timestamp: 1000, quality, latencyMs: 0, units: { v: 'V' }, seq: 0, points } };
}

test('ids: empty, / + # are refused with the field named', () => {
  for (const bad of ['', 'a/b', 'a+', '#']) assert.ok(idProblem(bad), bad);
  assert.equal(idProblem('site-7.rtu_1'), undefined);
  assert.throws(() => checkId('group id', 'north/plant'), /group id "north\/plant" contains "\/"/);
  assert.throws(() => sparkplugSettings({ groupId: 'plant', edgeNodeId: '' }), /edge node id "" is empty/);
  assert.throws(() => sparkplugSettings({ groupId: 'plant', edgeNodeId: 'e', primaryHostId: 'scada#1' }), /primary host id "scada#1" contains "#"/);
  assert.throws(() => sparkplugSettings({ groupId: 'plant', edgeNodeId: 'e', deadbands: 'power' }), /deadbands: "power" is not name=value/);
});

test('datatypes from the point data type; scaled registers are Double; unmappable types are an error', () => {
  const cases: Array<[string, string]> = [
    ['bool', 'Boolean'], ['int16', 'Int16'], ['uint16', 'UInt16'], ['int32', 'Int32'], ['uint32', 'UInt32'],
    ['int64', 'Int64'], ['uint64', 'UInt64'], ['float32', 'Float'], ['float64', 'Double'], ['string', 'String'],
    ['bcd16', 'UInt16'], ['datetime', 'DateTime'], ['DateTime', 'DateTime'],
  ];
  for (const [from, to] of cases) assert.equal(sparkplugType({ dataType: from }, 1), to, from);
  assert.equal(sparkplugType({ dataType: 'int16', scaled: true }, 23.1), 'Double');
  assert.equal(sparkplugType(undefined, true), 'Boolean');
  assert.equal(sparkplugType(undefined, 'x'), 'String');
  assert.equal(sparkplugType(undefined, 1.5), 'Double');
  const err = sparkplugType({ dataType: 'complex128' }, 1);
  assert.ok(err instanceof Error && /complex128/.test(err.message));
});

test('device table: birth, data by exception with deadbands and quality, death, return, new points', () => {
  const table = new DeviceTable(10, parseDeadbandRules('v=1, p=10%'));
  const pts = { v: { dataType: 'float32' }, p: { dataType: 'float32' } };
  const first = table.update(reading('m', { v: 230, p: 100 }, 'good', pts));
  assert.equal(first.change.kind, 'birth');
  const dev = table.get('m')!;
  assert.deepEqual([...dev.metrics.values()].map((d) => [d.name, d.alias, d.type]), [['v', 10, 'Float'], ['p', 11, 'Float']]);
  assert.equal(table.update(reading('m', { v: 230.9, p: 109 }, 'good', pts)).change.kind, 'none', 'inside both deadbands');
  const moved = table.update(reading('m', { v: 231.5, p: 109 }, 'good', pts)).change;
  assert.ok(moved.kind === 'data');
  assert.deepEqual(moved.samples, [['v', 231.5, 192]]);
  const stale = table.update({ ...reading('m', { v: 231.5, p: 109 }, 'good', pts), rtu: { ...reading('m', {}).rtu, pointQuality: { p: 'stale' }, points: pts } }).change;
  assert.ok(stale.kind === 'data');
  assert.deepEqual(stale.samples, [['p', 109, 500]], 'a quality change is reported though the value stayed');
  assert.equal(table.update(reading('m', { v: null, p: null }, 'bad', pts)).change.kind, 'death');
  assert.equal(table.update(reading('m', { v: null, p: null }, 'bad', pts)).change.kind, 'none');
  assert.equal(table.update(reading('m', { v: 230, p: 100 }, 'good', pts)).change.kind, 'birth');
  assert.equal(table.update(reading('m', { v: 230, p: 100, q: 1 }, 'good', pts)).change.kind, 'birth', 'a new point needs a new birth');
  assert.equal(table.get('m')!.metrics.get('q')!.alias, 12);
  assert.throws(() => table.update(reading('a+b', { v: 1 })), /device id "a\+b" contains "\+"/);
  const odd = table.update(reading('n', { v: 1, w: 2 }, 'good', { w: { dataType: 'complex128' } }));
  assert.match(odd.rejected[0], /device "n" point "w": data type "complex128"/);
  assert.equal(table.update(reading('n', { v: 1, w: 3 }, 'good', { w: { dataType: 'complex128' } })).rejected.length, 0, 'said once');
});

test('payloads read back by an independent decoder: values, negatives, nulls, properties, is_historical', () => {
  const table = new DeviceTable(1);
  table.update({ ...reading('m', { v: -5, big: 2 ** 40, f: 1.5, s: 'on', b: true, t: 1_700_000_000_000, n: null }, 'good', { v: { dataType: 'int16' }, big: { dataType: 'uint64' }, f: { dataType: 'float32' }, t: { dataType: 'datetime' }, n: { dataType: 'float64' } }), rtu: { ...reading('m', {}).rtu, pointQuality: { n: 'bad' }, units: { f: 'kW' }, points: { v: { dataType: 'int16' }, big: { dataType: 'uint64' }, f: { dataType: 'float32', description: 'load' }, t: { dataType: 'datetime' }, n: { dataType: 'float64' } } } });
  const dev = table.get('m')!;
  const birth = decodePayload(dbirthPayload(dev, 3));
  assert.equal(birth.seq, 3);
  const m = Object.fromEntries(birth.metrics.map((x) => [x.name, x]));
  assert.equal(m.v.value, -5);
  assert.equal(m.v.datatype, DataType.Int16);
  assert.equal(m.big.value, 2 ** 40);
  assert.equal(m.f.value, 1.5);
  assert.equal(m.f.properties?.engUnit.value, 'kW');
  assert.equal(m.f.properties?.description.value, 'load');
  assert.equal(m.s.value, 'on');
  assert.equal(m.b.value, true);
  assert.equal(m.t.datatype, DataType.DateTime);
  assert.equal(m.t.value, 1_700_000_000_000);
  assert.equal(m.n.value, null);
  assert.equal(m.n.properties?.Quality.value, 0);
  assert.equal(m.v.properties?.Quality.value, 192);
  const data = decodePayload(ddataPayload(dev, 4, 2000, [['v', -6, 500]], true));
  assert.deepEqual(data.metrics.map((x) => [x.name, x.alias, x.value, x.isHistorical, x.timestamp, x.properties?.Quality.value]), [[undefined, m.v.alias, -6, true, 2000, 500]]);
});

test('commands: NCMD rebirth, DCMD by name and alias, unknown and mistyped metrics refused, malformed payloads named', () => {
  assert.deepEqual(parseNodeCommand(encodeCommand([{ name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: true }])), { rebirth: true, unknown: [] });
  assert.deepEqual(parseNodeCommand(encodeCommand([{ name: 'Node Control/Reboot', datatype: DataType.Boolean, value: true }])), { rebirth: false, unknown: ['Node Control/Reboot'] });
  const bad = parseNodeCommand(Buffer.from([0x12, 0xff]));
  assert.ok(bad instanceof Error && /NCMD: payload is not a Sparkplug B payload/.test(bad.message));
  const table = new DeviceTable(1);
  table.update(reading('m', { sp: 1, on: true }, 'good', { sp: { dataType: 'uint16' }, on: { dataType: 'bool' } }));
  const dev = table.get('m')!;
  const cmd = parseDeviceCommand(dev, encodeCommand([
    { alias: dev.metrics.get('sp')!.alias, datatype: DataType.UInt16, value: 7 },
    { name: 'on', datatype: DataType.String, value: 'yes' },
    { name: 'ghost', datatype: DataType.Double, value: 1 },
  ]));
  assert.ok(!(cmd instanceof Error));
  assert.deepEqual(cmd.writes, { sp: 7 });
  assert.match(cmd.refused[0], /metric "on" of device "m" expects a Boolean/);
  assert.match(cmd.refused[1], /metric "ghost" is not a metric of device "m"/);
  const broken = parseDeviceCommand(dev, Buffer.from('garbage'));
  assert.ok(broken instanceof Error && /DCMD for device "m"/.test(broken.message));
});

test('host STATE: Sparkplug 3.0 JSON; anything else is an error naming the host and field', () => {
  assert.deepEqual(parseHostState('scada', Buffer.from('{"online":true,"timestamp":5}')), { online: true, timestamp: 5 });
  const notJson = parseHostState('scada', Buffer.from('ONLINE'));
  assert.ok(notJson instanceof Error && /STATE of primary host "scada" is not JSON/.test(notJson.message));
  const noField = parseHostState('scada', Buffer.from('{"state":"up"}'));
  assert.ok(noField instanceof Error && /field "online"/.test(noField.message));
});

test('write allow-list: device/point with wildcards; a malformed entry is named', () => {
  const allowed = parseWriteAllowList('meter1/power_limit\npv_*/setpoint_?');
  assert.equal(allowed('meter1', 'power_limit'), true);
  assert.equal(allowed('pv_3', 'setpoint_a'), true);
  assert.equal(allowed('pv_3', 'setpoint_ab'), false);
  assert.equal(allowed('meter2', 'power_limit'), false);
  assert.throws(() => parseWriteAllowList('meter1'), /write allow-list: "meter1" is not device\/point/);
});

const root = path.resolve(__dirname, '..', '..', '..');
function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

test('rtu-sparkplug editor files: every key used exists in en-US and de; help sections in both', () => {
  const dir = path.join(root, 'nodes', 'rtu-sparkplug');
  const read = (...p: string[]) => fs.readFileSync(path.join(dir, ...p), 'utf8');
  const catalogues = ['en-US', 'de'].map((l) => new Set(keys(JSON.parse(read('locales', l, 'rtu-sparkplug.json')) as Record<string, unknown>)));
  assert.deepEqual([...catalogues[1]].sort(), [...catalogues[0]].sort());
  const sources = read('rtu-sparkplug.html') + read('rtu-sparkplug.ts');
  const used = new Set<string>();
  for (const m of sources.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) used.add(m[1]);
  for (const m of sources.matchAll(/_\('([a-z0-9-]+\.[a-zA-Z0-9.]+)'\s*[,)]/g)) used.add(m[1]);
  assert.ok(used.size >= 15, [...used].join(', '));
  for (const key of used) for (const cat of catalogues) assert.ok(cat.has(key), key);
  const sections: Record<string, string[]> = { 'en-US': ['Inputs', 'Outputs', 'Details', 'References'], de: ['Eingänge', 'Ausgänge', 'Details', 'Referenzen'] };
  for (const [l, want] of Object.entries(sections)) {
    const help = read('locales', l, 'rtu-sparkplug.html');
    for (const s of want) assert.match(help, new RegExp(`<h3>${s}</h3>`), `${l}: ${s}`);
  }
});
