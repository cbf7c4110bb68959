import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { listSerialPorts } from '../../nodes/lib/modbus/serial-ports';

test('Linux listing: by-id links first, then real devices in natural order, phantom ttyS left out', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-list-'));
  try {
    const dev = path.join(root, 'dev');
    const sys = path.join(root, 'sys');
    fs.mkdirSync(path.join(dev, 'serial', 'by-id'), { recursive: true });
    for (const name of ['ttyUSB10', 'ttyUSB2', 'ttyUSB0', 'ttyACM0', 'ttyS0', 'ttyS1', 'ttyAMA0', 'ttymxc1', 'tty0', 'null']) {
      fs.writeFileSync(path.join(dev, name), '');
    }
    fs.symlinkSync(path.join(dev, 'ttyUSB0'), path.join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R-if00-port0'));
    fs.symlinkSync(path.join(dev, 'gone'), path.join(dev, 'serial', 'by-id', 'usb-dangling'));
    for (const [name, type] of [['ttyS0', '4'], ['ttyS1', '0']]) {
      fs.mkdirSync(path.join(sys, name), { recursive: true });
      fs.writeFileSync(path.join(sys, name, 'type'), `${type}\n`);
    }
    const ports = await listSerialPorts({ platform: 'linux', devDir: dev, sysDir: sys });
    assert.deepEqual(
      ports.map((p) => path.relative(dev, p.path)),
      ['serial/by-id/usb-FTDI_FT232R-if00-port0', 'ttyACM0', 'ttyAMA0', 'ttyS0', 'ttyUSB0', 'ttyUSB2', 'ttyUSB10', 'ttymxc1'],
    );
    assert.equal(ports[0].device, fs.realpathSync(path.join(dev, 'ttyUSB0')));
    assert.match(ports[0].label, /usb-FTDI_FT232R-if00-port0 \(.*ttyUSB0\)/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('listing this machine and a missing tree never throws', async () => {
  const ports = await listSerialPorts();
  assert.ok(Array.isArray(ports));
  for (const p of ports) assert.match(p.path, /^\/dev\//);
  assert.deepEqual(await listSerialPorts({ platform: 'linux', devDir: '/nonexistent', sysDir: '/nonexistent' }), []);
});

test('ports named in the settings are offered after the by-id names when they exist', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'serial-extra-'));
  try {
    const dev = path.join(root, 'dev');
    fs.mkdirSync(path.join(dev, 'serial', 'by-id'), { recursive: true });
    fs.writeFileSync(path.join(dev, 'ttyUSB0'), '');
    fs.writeFileSync(path.join(dev, 'ttySC0'), '');
    fs.symlinkSync(path.join(dev, 'ttyUSB0'), path.join(dev, 'serial', 'by-id', 'usb-FTDI-port0'));
    fs.symlinkSync(path.join(dev, 'ttySC0'), path.join(root, 'rs485'));
    const ports = await listSerialPorts({ platform: 'linux', devDir: dev, sysDir: root, extra: [path.join(root, 'rs485'), path.join(root, 'missing'), path.join(dev, 'ttyUSB0')] });
    assert.deepEqual(
      ports.map((p) => path.relative(root, p.path)),
      ['dev/serial/by-id/usb-FTDI-port0', 'rs485', 'dev/ttyUSB0'],
    );
    assert.equal(ports[1].device, fs.realpathSync(path.join(dev, 'ttySC0')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
