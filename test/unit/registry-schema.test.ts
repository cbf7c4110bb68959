/** meter-registry/schema.json and the runtime loader must agree on what a valid model file is. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import * as yaml from 'js-yaml';
import { checkModelDocument, packageRegistryDir } from '../../nodes/lib/registry';
import { brokenModel, GOOD_MODEL } from './registry-fixtures';

const dir = packageRegistryDir();
const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

function shippedFiles(): string[] {
  const out: string[] = [];
  for (const maker of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!maker.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(dir, maker.name))) if (/\.ya?ml$/.test(f)) out.push(path.join(dir, maker.name, f));
  }
  return out;
}

test('every shipped model file is valid against schema.json', () => {
  const files = shippedFiles();
  assert.ok(files.length >= 3);
  for (const file of files) {
    const doc = yaml.load(fs.readFileSync(file, 'utf8'));
    const ok = validate(doc);
    assert.ok(ok, `${path.relative(dir, file)}: ${JSON.stringify(validate.errors, null, 1)}`);
    assert.deepEqual(checkModelDocument(doc).issues, [], path.relative(dir, file));
  }
});

const broken: Record<string, string> = {
  'unknown top-level field': brokenModel('model: PM-1', 'model: PM-1\ncolour: red'),
  'unknown point field': brokenModel('    unit: A\n', '    unit: A\n    colour: red\n'),
  'unknown data type': brokenModel('dataType: int32', 'dataType: int33'),
  'unknown register type': brokenModel('registerType: holding', 'registerType: holdings'),
  'unknown byte order': brokenModel('model: PM-1', 'model: PM-1\nbyteOrder: ABDC'),
  'unknown protocol': brokenModel('[modbus-tcp]', '[modbus-udp]'),
  'unknown addressing': brokenModel('addressing: protocol', 'addressing: zero'),
  'missing manufacturer': brokenModel('manufacturer: Acme\n', ''),
  'source without document or version': brokenModel('  version: "1.0"\n', ''),
  'bad parity': brokenModel('[modbus-tcp]', '[modbus-rtu]\nserial: { baudRate: 9600, parity: mark, dataBits: 8, stopBits: 1 }'),
  'odd baud rate': brokenModel('[modbus-tcp]', '[modbus-rtu]\nserial: { baudRate: 9601, parity: none, dataBits: 8, stopBits: 1 }'),
  'string without length': brokenModel('dataType: int32', 'dataType: string'),
  'bitfield without bits': brokenModel('dataType: int32', 'dataType: bitfield\n    bit: 2'),
  'register type missing with protocol addressing': brokenModel('    registerType: holding\n    address: 0\n', '    address: 0\n'),
  'point name not snake_case': brokenModel('name: current_l1', 'name: CurrentL1'),
  'profile name not snake_case': brokenModel('  energy:\n', '  Energy:\n'),
  'profile without points or extends': brokenModel('  energy:\n    points: [active_power_total]\n', '  energy:\n    description: nothing\n'),
  'unit id out of range': brokenModel('model: PM-1', 'model: PM-1\nunitId: 256'),
  'maxRegisters beyond the protocol limit': brokenModel('model: PM-1', 'model: PM-1\nmaxRegisters: 126'),
  'scale of zero': brokenModel('scale: 1000', 'scale: 0'),
  'empty points': GOOD_MODEL.replace(/points:\n(  - [\s\S]*?)profiles:/, 'points: []\nprofiles:'),
};

for (const [name, text] of Object.entries(broken)) {
  test(`schema.json and the loader both reject: ${name}`, () => {
    const doc = yaml.load(text);
    assert.equal(validate(doc), false, 'schema.json accepted it');
    assert.ok(checkModelDocument(doc).issues.length > 0, 'the loader accepted it');
  });
}

test('the good fixture passes both', () => {
  const doc = yaml.load(GOOD_MODEL);
  assert.ok(validate(doc), JSON.stringify(validate.errors));
  assert.deepEqual(checkModelDocument(doc).issues, []);
});
