/**
 * The JSON shapes of a reading on the wire, shared by MQTT (payloads) and HTTP (the
 * document format): one document per device reading, or one small document per point.
 */
import type { PublishRecord } from './record';
import { own } from '../own';

export function deviceBody(r: PublishRecord): Record<string, unknown> {
  const body: Record<string, unknown> = { device: r.device };
  if (r.line) body.line = r.line;
  if (r.model) body.model = r.model;
  if (r.profile) body.profile = r.profile;
  if (r.unitId !== undefined) body.unitId = r.unitId;
  body.timestamp = new Date(r.ts).toISOString();
  body.ts = r.ts;
  body.quality = r.quality;
  body.values = r.values;
  body.units = r.units;
  if (r.pointQuality) body.pointQuality = r.pointQuality;
  if (r.window) body.window = r.window;
  if (r.seq !== undefined) body.seq = r.seq;
  if (r.test) body.test = true;
  return body;
}

export function pointBodies(r: PublishRecord): Array<{ point: string; body: Record<string, unknown> }> {
  return Object.entries(r.values).map(([point, value]) => {
    const body: Record<string, unknown> = { device: r.device, point, value };
    const unit = own(r.units, point);
    if (unit !== undefined) body.unit = unit;
    body.quality = r.pointQuality?.[point] ?? r.quality;
    body.timestamp = new Date(r.ts).toISOString();
    body.ts = r.ts;
    if (r.window) body.window = r.window;
    if (r.test) body.test = true;
    return { point, body };
  });
}
