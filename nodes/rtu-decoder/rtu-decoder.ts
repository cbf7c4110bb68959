/**
 * rtu-decoder: registers -> engineering values, by an explicit point list or a
 * meter model + profile from the registry. Accepts readings with msg.rtu.raw
 * and the output of node-red-contrib-modbus read nodes.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { decodeMessage, DecoderSetup, importPointCsv, withDefaultOrder } from '../lib/decoder';
import { validatePoints } from '../lib/modbus/points';
import { BYTE_ORDERS, ByteOrder, PointDef, REGISTER_TYPES, RegisterType } from '../lib/modbus/types';
import { registryFromSettings, serveRegistry } from '../shared/registry-endpoint';
import { attachTestMode, shortText, status } from '../shared/runtime';
import { templatedText } from '../shared/status-text';

interface DecoderConfig extends NodeDef {
  source?: 'points' | 'profile';
  model?: string;
  profile?: string;
  points?: unknown[];
  order?: string;
  registerType?: string;
  address?: string | number;
  device?: string;
  keepRaw?: boolean;
}

/** Resolves the configured points; returns them or the configuration error. */
function setupFrom(RED: NodeAPI, config: DecoderConfig, label: string): DecoderSetup | string {
  let points: PointDef[];
  let model: string | undefined;
  let profile: string | undefined;
  if (config.source === 'profile') {
    if (!config.model || !config.profile) return RED._('rtu-decoder.errors.noProfile');
    try {
      points = registryFromSettings(RED)().profilePoints(config.model, config.profile);
    } catch (err) {
      return (err as Error).message;
    }
    model = config.model;
    profile = config.profile;
  } else {
    const checked = validatePoints(config.points ?? [], label);
    if (checked.errors.length) return checked.errors.join('; ');
    if (!checked.points.length) return RED._('rtu-decoder.errors.noPoints');
    const order = BYTE_ORDERS.includes(config.order as ByteOrder) ? (config.order as ByteOrder) : undefined;
    points = withDefaultOrder(checked.points, order);
  }
  const registerType = REGISTER_TYPES.includes(config.registerType as RegisterType) ? (config.registerType as RegisterType) : undefined;
  const address = config.address === '' || config.address === undefined ? undefined : Number(config.address);
  if (address !== undefined && !(Number.isInteger(address) && address >= 0 && address <= 65535)) {
    return RED._('rtu-decoder.errors.address', { value: String(config.address) });
  }
  return { points, model, profile, registerType, address, device: config.device || undefined, keepRaw: !!config.keepRaw };
}

function serveImport(RED: NodeAPI): void {
  // The editor sends CSV text or its point rows here and gets back checked points and errors.
  RED.httpAdmin.post('/rtu-decoder/points', RED.auth.needsPermission('rtu-decoder.write'), (req: Request, res: Response) => {
    const body = (req.body ?? {}) as { csv?: unknown; points?: unknown };
    if (typeof body.csv === 'string') return void res.json(importPointCsv(body.csv, 'CSV'));
    if (Array.isArray(body.points)) return void res.json({ ...validatePoints(body.points, ''), warnings: [] });
    res.status(400).json({ error: 'send { csv: "..." } or { points: [...] }' });
  });
}

export = function (RED: NodeAPI): void {
  serveRegistry(RED as unknown as Parameters<typeof serveRegistry>[0], registryFromSettings(RED));
  serveImport(RED);
  const testMode = attachTestMode(RED);
  const decodedText = templatedText(RED._, 'rtu-decoder.status');

  function RtuDecoderNode(this: Node, config: DecoderConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const setup = setupFrom(RED, config, `decoder "${config.name || node.id}"`);
    let seq = 0;
    // The engine's text is appended untranslated: it names the point, field and value.
    const configError = typeof setup === 'string' ? `${RED._('rtu-decoder.errors.config')}: ${setup}` : '';
    if (typeof setup === 'string') {
      node.error(configError);
      node.status(status.error(shortText(setup)));
    } else {
      node.status(status.idle(RED._('rtu-decoder.status.ready', { count: setup.points.length })));
    }

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      if (typeof setup === 'string') return done(new Error(configError));
      try {
        const out = decodeMessage(msg as unknown as Record<string, unknown>, setup, { now: Date.now(), seq: ++seq, test: testMode.enabled });
        const reply = msg as unknown as Record<string, unknown>;
        reply.topic = out.topic;
        reply.payload = out.payload;
        reply.rtu = out.rtu;
        const total = Object.keys(out.result.values).length;
        const bad = Object.keys(out.result.problems).length;
        const time = new Date().toLocaleTimeString();
        if (bad === 0) node.status(status.ok(decodedText('decoded', { count: total, time })));
        else if (bad < total) node.status(status.warn(decodedText('partial', { good: total - bad, count: total, time })));
        else node.status(status.error(shortText(out.rtu.error ?? RED._('rtu-decoder.status.failed'))));
        send(msg);
        done();
      } catch (err) {
        node.status(status.error(shortText((err as Error).message)));
        done(err as Error);
      }
    });
  }

  RED.nodes.registerType('rtu-decoder', RtuDecoderNode);
};
