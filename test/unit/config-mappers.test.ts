/** The editor-form mappers of the line, poller, broker and IED nodes, tested in the engine without a runtime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iedOptionsFrom, reconnectMaxMs } from '../../nodes/lib/iec61850/ied-config';
import type { IedLink } from '../../nodes/lib/iec61850/ied-link';
import { pollerOptionsFrom } from '../../nodes/lib/iec61850/poller-config';
import { describeTransport, lineOptionsFrom } from '../../nodes/lib/modbus/line-config';
import { DeviceConfigError, planForEditor, pollIntervalMs, resolveDevice } from '../../nodes/lib/modbus/poller-config';
import { linkOptions } from '../../nodes/lib/publish/broker-config';
import { sharedRegistry } from '../../nodes/lib/registry';

const registry = () => sharedRegistry();

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DeviceConfigError, String(err));
    return err.problems;
  }
  throw new Error('expected a DeviceConfigError');
}

test('Modbus poller: a model and profile become points and a plan within the model\'s limits', () => {
  const d = resolveDevice({ model: 'eastron/sdm630', profile: 'basic_power', byteOrder: 'CDAB', maxRegisters: '100' }, registry, 'device "pm1"');
  assert.equal(d.model, 'eastron/sdm630');
  assert.equal(d.points.length, 9);
  assert.ok(d.points.every((p) => p.order === 'CDAB'), 'the dialog\'s byte order overrides the model\'s');
  assert.equal(d.planOptions.maxRegisters, 80, 'the model\'s limit (80) wins over a larger one typed in the dialog');
  assert.ok(d.plan.requests.every((r) => r.quantity <= 80));
  assert.equal(planForEditor(d.plan).requests[0].points[0], 'voltage_l1_n');
  assert.deepEqual(problems(() => resolveDevice({ source: 'model' }, registry, 'device "x"')), ['device "x": no meter model chosen']);
  assert.match(problems(() => resolveDevice({ model: 'eastron/sdm630', profile: 'nope' }, registry, 'device "x"'))[0], /^device "x": .*nope/);
});

test('Modbus poller: every bad field of a point list is reported at once', () => {
  const found = problems(() => resolveDevice({ source: 'points', points: [], maxGap: '200', maxRegisters: '0', neverRead: 'holding:5-x' }, registry, 'device "d"'));
  assert.equal(found.length, 4, found.join('\n'));
  assert.match(found[0], /the point list is empty/);
  assert.match(found[1], /max gap "200" is not a whole number in 0\.\.125/);
  assert.match(found[2], /max per read "0" is not a whole number in 1\.\.125/);
  assert.match(found[3], /holding:5-x/);
  const ok = resolveDevice({ source: 'points', points: [{ name: 'p', registerType: 'holding', address: 3, dataType: 'uint16' }], neverRead: 'holding:4' }, registry, 'device "d"');
  assert.deepEqual(ok.plan.requests.map((r) => [r.address, r.quantity]), [[3, 1]]);
});

test('Modbus line: defaults, units and every limit', () => {
  const tcp = lineOptionsFrom({ host: ' 10.0.0.5 ', port: '502', maxOutstanding: '4', unitBackoffMax: '120' }, 'line 1');
  assert.deepEqual(tcp.transport, { kind: 'tcp', host: '10.0.0.5', port: 502 });
  assert.equal(tcp.name, 'line 1');
  assert.equal(tcp.timeoutMs, 1000);
  assert.equal(tcp.retries, 1);
  assert.equal(tcp.maxOutstanding, 4);
  assert.equal(tcp.unitBackoff?.maxMs, 120_000, 'seconds in the form, ms in the engine');
  assert.equal(tcp.interRequestDelayMs, undefined, '0 keeps the protocol\'s own turnaround');
  const rtu = lineOptionsFrom({ name: 'bus', transport: 'rtu-serial', serialPath: '/dev/ttyUSB0', baudRate: 9600, parity: 'even', maxOutstanding: '8', interRequestDelay: '20' }, 'x');
  assert.deepEqual(rtu.transport, { kind: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'even', dataBits: 8, stopBits: 1 });
  assert.equal(rtu.maxOutstanding, 1, 'one request at a time on a serial bus');
  assert.equal(rtu.interRequestDelayMs, 20);
  assert.equal(describeTransport(rtu.transport), 'RTU /dev/ttyUSB0 9600 even');
  assert.throws(() => lineOptionsFrom({ host: '' }, 'x'), /host is empty/);
  assert.throws(() => lineOptionsFrom({ host: 'h', port: '70000' }, 'x'), /port "70000" is not a number in 1\.\.65535/);
  assert.throws(() => lineOptionsFrom({ transport: 'rtu-serial', serialPath: ' ' }, 'x'), /serialPath is empty/);
  assert.throws(() => lineOptionsFrom({ transport: 'rtu-serial', serialPath: '/dev/x', baudRate: 9600, parity: 'weird' }, 'x'), /parity "weird"/);
  assert.throws(() => lineOptionsFrom({ host: 'h', port: 502, timeout: '5' }, 'x'), /timeout "5" is not a number in 10\.\.120000/);
  assert.throws(() => lineOptionsFrom({ transport: 'udp' }, 'x'), /transport "udp" is not tcp, rtu-serial or rtu-tcp/);
});

test('MQTT broker: ports, client id, TLS material from credentials, status topic', () => {
  const o = linkOptions({ host: 'broker', tls: true, tlsCa: 'CA', statusTopic: 'site/status' }, { user: 'u', password: 'p', tlsKey: 'KEY' }, 'a1.b2');
  assert.equal(o.port, 8883, 'TLS defaults to 8883');
  assert.equal(o.clientId, 'rtu-a1b2', 'a fixed id per config node');
  assert.equal(o.username, 'u');
  assert.equal(o.tlsMaterial?.key, 'KEY');
  assert.equal(o.tlsMaterial?.rejectUnauthorized, true);
  assert.deepEqual(o.status, { topic: 'site/status', online: 'online', offline: 'offline', qos: 1, retain: true, testPrefix: 'test/' });
  assert.equal(linkOptions({ host: 'b' }, {}, 'n').port, 1883);
  assert.throws(() => linkOptions({ host: ' ' }, {}, 'n'), /broker host is empty/);
  assert.throws(() => linkOptions({ host: 'b', port: '99999' }, {}, 'n'), /broker port "99999"/);
  assert.throws(() => linkOptions({ host: 'b', protocolVersion: 3 }, {}, 'n'), /MQTT version "3" must be 4 \(3\.1\.1\) or 5/);
  assert.throws(() => linkOptions({ host: 'b', statusTopic: 'site/+/status' }, {}, 'n'), /contains a wildcard/);
});

test('IEC 61850 IED and poller: numbers named when bad, seconds become ms', () => {
  const ied = iedOptionsFrom({ host: ' 10.0.0.9 ', port: '102', timeout: '2000' }, { password: 'secret' }, 'ied1');
  assert.equal(ied.host, '10.0.0.9');
  assert.equal(ied.timeoutMs, 2000);
  assert.equal(ied.password, 'secret');
  assert.throws(() => iedOptionsFrom({ host: 'h', maxPduSize: 'big' }, undefined, 'ied1'), /max PDU size "big" is not a number/);
  assert.equal(reconnectMaxMs({}), 30_000);
  assert.throws(() => reconnectMaxMs({ reconnectMax: 0 }), /reconnect max 0 s is outside 1\.\.3600/);
  const link = {} as IedLink;
  const p = pollerOptionsFrom({ ied: 'x', interval: '2.5', points: [{ reference: ' LD/MMXU1.TotW.mag.f [MX] ', name: ' p ' }, { reference: ' ' }] }, 'inv1', link);
  assert.equal(p.intervalMs, 2500);
  assert.deepEqual(p.points, [{ reference: 'LD/MMXU1.TotW.mag.f [MX]', name: 'p', unit: undefined }]);
  assert.equal(pollerOptionsFrom({ ied: 'x' }, 'inv1', link).intervalMs, 1000);
  const r = pollerOptionsFrom({ ied: 'x', report: true, controlBlock: 'LD/LLN0.RP.urcb01', triggers: ['dataChange', 'bogus'], integrityPeriod: '10' }, 'inv1', link);
  assert.equal(r.report?.integrityPeriodMs, 10_000);
  assert.equal(r.report?.triggers?.dataChange, true);
  assert.equal(r.report?.triggers?.integrity, false);
  assert.throws(() => pollerOptionsFrom({ ied: 'x', report: true, controlBlock: 'cb', integrityPeriod: '-1' }, 'inv1', link), /integrity period "-1" is not a number of seconds/);
});

test('interval fields are checked in seconds, their own unit, and two bad fields are both named', () => {
  assert.equal(pollIntervalMs('2.5', 'device "d"'), 2500);
  assert.equal(pollIntervalMs('abc', 'device "d"'), 'device "d": interval "abc" is not a number of seconds >= 0');
  assert.equal(pollIntervalMs(-1, 'device "d"'), 'device "d": interval -1 is not a number of seconds >= 0');
  assert.throws(
    () => pollerOptionsFrom({ ied: 'x', interval: 'soon', report: true, controlBlock: 'cb', integrityPeriod: '-5' }, 'inv1', {} as IedLink),
    (err: Error) => /interval "soon" is not a number of seconds >= 0/.test(err.message) && /integrity period "-5" is not a number of seconds >= 0/.test(err.message),
  );
});
