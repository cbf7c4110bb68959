import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importDeviceList, importPointCsv, parseCsv } from '../../nodes/lib/decoder';

test('CSV parsing: quotes, escaped quotes, CRLF, BOM, comments, blank lines, record line numbers', () => {
  const text = '\ufeffname,description\r\n# a comment\r\n\r\na,"one, two"\r\nb,"say ""hi"""\r\nc,"two\nlines"\r\nd, spaced \r\n';
  assert.deepEqual(parseCsv(text), [
    { line: 1, cells: ['name', 'description'] },
    { line: 4, cells: ['a', 'one, two'] },
    { line: 5, cells: ['b', 'say "hi"'] },
    { line: 6, cells: ['c', 'two\nlines'] },
    { line: 8, cells: ['d', 'spaced'] },
  ]);
  assert.deepEqual(parseCsv('a;b\n1;2,5'), [
    { line: 1, cells: ['a', 'b'] },
    { line: 2, cells: ['1', '2,5'] },
  ]);
  assert.throws(() => parseCsv('a,"b\n'), /line 1: a quoted cell is never closed/);
});

test('CSV point table with the documented header', () => {
  const csv = [
    'name,register_type,address,data_type,order,scale,unit,description',
    'voltage_l1,holding,0,float32,ABCD,1,V,"Voltage L1-N"',
    'energy,input,10,uint32,CDAB,0.1,kWh,Active energy import',
    'breaker,coil,5,bool,,,,',
  ].join('\n');
  const { points, errors, warnings } = importPointCsv(csv, 'meter.csv');
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  assert.deepEqual(points, [
    { name: 'voltage_l1', registerType: 'holding', address: 0, dataType: 'float32', order: 'ABCD', scale: 1, unit: 'V', description: 'Voltage L1-N' },
    { name: 'energy', registerType: 'input', address: 10, dataType: 'uint32', order: 'CDAB', scale: 0.1, unit: 'kWh', description: 'Active energy import' },
    { name: 'breaker', registerType: 'coil', address: 5, dataType: 'bool' },
  ]);
});

test('CSV header aliases, ; separator, Modicon addresses when there is no register type, access column', () => {
  const csv = ['Parameter;Register;Type;Factor;UoM;Access;Notes', 'frequency;30011;int16;0.01;Hz;R;x', 'setpoint;400101;uint16;;%;RW;', 'relay;00002;bool;;;RW;'].join('\r\n');
  const { points, errors, warnings } = importPointCsv(csv, 'list.csv');
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, ['list.csv line 1: column "Notes" is not a point field and is ignored']);
  assert.deepEqual(points, [
    { name: 'frequency', registerType: 'input', address: 10, dataType: 'int16', scale: 0.01, unit: 'Hz', writable: false },
    { name: 'setpoint', registerType: 'holding', address: 100, dataType: 'uint16', unit: '%', writable: true },
    { name: 'relay', registerType: 'coil', address: 1, dataType: 'bool', writable: true },
  ]);
});

test('CSV errors name the file, the line, the column and the point', () => {
  const csv = [
    'name,register_type,address,data_type,scale',
    'voltage_l1,holding,70000,float32,1', // line 2
    'current,,123,uint16,', // line 3: no type, not a Modicon reference
    'power,holding,10,float33,', // line 4
    'power_b,holding,12,float32,abc', // line 5
    'voltage_l1,holding,20,uint16,', // line 6: duplicate
    'p1,holding,30,float32,', // line 7
    'p2,holding,31,uint16,', // line 8: overlaps p1
    'p3,holding,40,uint16,,extra', // line 9
  ].join('\n');
  const { points, errors } = importPointCsv(csv, 'meter.csv');
  assert.deepEqual(errors, [
    'meter.csv line 2 (point "voltage_l1"), column "address": address 70000 is outside 0..65535',
    'meter.csv line 3 (point "current"), column "address": "123" is not a Modicon address: expected 5 digits like 40001 or 6 digits like 400001, and the row has no register type',
    'meter.csv line 4 (point "power"), column "data_type": data type "float33" is not one of bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, bcd16, bcd32, string, bitfield',
    'meter.csv line 5 (point "power_b"), column "scale": scale "abc" is not a number',
    'meter.csv line 6 (point "voltage_l1"): point "voltage_l1" is already defined at meter.csv line 2 (point "voltage_l1")',
    'meter.csv line 9 (point "p3"): 6 cells but the header has 5 (a separator inside an unquoted cell?)',
    'meter.csv line 8 (point "p2"): point "p2": holding 31 overlaps point "p1" (holding 30..31)',
  ]);
  assert.deepEqual(points, [], 'a table with bad lines is refused as a whole, not kept in part');
});

test('CSV without name or address column, or empty, is one clear error', () => {
  assert.match(importPointCsv('tag_id,reg_type\n', 'x.csv').errors[0], /^x.csv line 1: no name or address column \(headers tried: name, parameter/);
  assert.deepEqual(importPointCsv('\n\n', 'x.csv').errors, ['x.csv: the file is empty']);
});

const deviceList = [
  {
    device_id: 'inverter_1',
    ip: '192.168.1.20',
    port: 502,
    slave_id: 3,
    registers: [
      { address: 40001, parameter: 'ac_power', data_type: 'float32', scale: 1, unit: 'W' },
      { address: '30011', parameter: 'frequency', data_type: 'uint16', scale: 0.01, unit: 'Hz' },
      { address: 5, register_type: 'holding', parameter: 'mode', data_type: 'uint16' },
    ],
  },
  { device_id: 'meter_2', ip: 'meter2.local', registers: [{ address: 400011, parameter: 'energy', data_type: 'uint32', scale: 0.1, unit: 'kWh' }] },
];

test('device list of simple pollers becomes device configs with points', () => {
  const { devices, errors } = importDeviceList(JSON.stringify(deviceList));
  assert.deepEqual(errors, []);
  assert.deepEqual(devices, [
    {
      device: 'inverter_1',
      host: '192.168.1.20',
      port: 502,
      unitId: 3,
      points: [
        { name: 'ac_power', registerType: 'holding', address: 0, dataType: 'float32', scale: 1, unit: 'W' },
        { name: 'frequency', registerType: 'input', address: 10, dataType: 'uint16', scale: 0.01, unit: 'Hz' },
        { name: 'mode', registerType: 'holding', address: 5, dataType: 'uint16' },
      ],
    },
    { device: 'meter_2', host: 'meter2.local', port: 502, unitId: 1, points: [{ name: 'energy', registerType: 'holding', address: 10, dataType: 'uint32', scale: 0.1, unit: 'kWh' }] },
  ]);
});

test('device list errors name the device and the register index', () => {
  const broken = [
    {
      device_id: 'inverter_1',
      ip: '10.0.0.1',
      port: 70000,
      slave_id: 300,
      registers: [
        { address: 40001, parameter: 'ac_power', data_type: 'float32' },
        { address: 20001, parameter: 'bad_table', data_type: 'uint16' },
        { address: 40010, data_type: 'uint16' },
        { address: 40001, parameter: 'ac_power', data_type: 'uint16' },
        'junk',
      ],
    },
    { device_id: 'inverter_1', ip: '', registers: [] },
    { ip: '10.0.0.3', registers: [{ address: 40001, parameter: 'x', data_type: 'int16' }] },
    42,
  ];
  const { devices, errors } = importDeviceList(broken, 'sites.json');
  assert.deepEqual(devices, []);
  assert.deepEqual(errors, [
    'device "inverter_1": port 70000 is not a TCP port 1..65535',
    'device "inverter_1": slave_id: unit id 300 is not a whole number in 0..255',
    'device "inverter_1" register #2 (parameter "bad_table"): "20001" is not a Modicon address: the first digit 2 is not 0 (coil), 1 (discrete input), 3 (input) or 4 (holding); give a register_type to use a zero-based address',
    'device "inverter_1" register #3: name is missing',
    'device "inverter_1" register #4 (parameter "ac_power"): point "ac_power" is already defined at device "inverter_1" register #1 (parameter "ac_power")',
    'device "inverter_1" register #5: expected an object with address, parameter and data_type',
    'device "inverter_1": device_id is used twice',
    'device "inverter_1": ip "" is not a host name or address',
    'device "inverter_1": registers must be a non-empty list',
    'device #3: device_id is missing',
    'sites.json: device #4 is not an object',
  ]);
  assert.deepEqual(importDeviceList('{oops').errors.length, 1);
  assert.match(importDeviceList('{oops').errors[0], /^device list: not valid JSON/);
  assert.deepEqual(importDeviceList({}).errors, ['device list: expected a list of devices, got object']);
});

test('a CSV column headed with a name every object has is an unknown column, not a field', () => {
  const out = importPointCsv("name,address,constructor,dataType\nvoltage,40001,x,uint16\n");
  assert.deepEqual(out.errors, []);
  assert.deepEqual(out.warnings, ['CSV line 1: column "constructor" is not a point field and is ignored']);
  assert.equal(out.points.length, 1);
  assert.equal(out.points[0].name, 'voltage');
});

test('a European spreadsheet export imports: ";" with decimal commas and rows of empty cells', () => {
  const csv = [
    'Name;Address;Data type;Scale;Offset;Unit;Description',
    'voltage_l1;30001;float32;1;;V;Spannung L1',
    ';;;;;;',
    'energy;30073;uint32;0,001;-0,5;kWh;"Energie; gesamt"',
    '  ;  ;;;;;',
    'power;40001;int16;10;;W;',
    ';;;;;;',
    '',
  ].join('\r\n');
  const { points, errors, warnings } = importPointCsv(csv, 'zaehler.csv');
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings, []);
  assert.deepEqual(points.map((p) => [p.name, p.registerType, p.address, p.scale, p.offset]), [
    ['voltage_l1', 'input', 0, 1, undefined],
    ['energy', 'input', 72, 0.001, -0.5],
    ['power', 'holding', 0, 10, undefined],
  ]);
  assert.equal(points[1].description, 'Energie; gesamt');
});

test('a bad line refuses the whole table and every bad line is listed', () => {
  const csv = 'name;address;data_type;scale\nvoltage;30001;float32;1\ncurrent;30003;float32;1.2.3\npower;40001;int99;1\nfreq;30005;float32;0,01\n';
  const { points, errors } = importPointCsv(csv, 'x.csv');
  assert.deepEqual(points, []);
  assert.equal(errors.length, 2);
  assert.match(errors[0], /^x\.csv line 3 \(point "current"\), column "scale": scale "1\.2\.3" is not a number/);
  assert.match(errors[1], /^x\.csv line 4 \(point "power"\), column "data_type"/);
});
