/** What arrives at rtu-dashboard: readings, alerts, or an action from a dashboard widget. */
import type { AlertPayload } from '../lib/alert/types';
import { isReadingMessage } from '../lib/reading';

export type DashboardInput =
  | { kind: 'reading' }
  | { kind: 'alert'; alert: AlertPayload }
  | { kind: 'alerts'; alerts: AlertPayload[] }
  | { kind: 'select'; device: string | undefined; session?: string }
  | { kind: 'detail'; device: string }
  | { kind: 'trend'; device: string; point: string; session?: string }
  | { kind: 'read'; device: string; session?: string }
  | { kind: 'session-ended'; session: string }
  | { kind: 'ack'; id: string; by: string }
  | { kind: 'refresh' }
  | { kind: 'unknown'; error: string };

function isAlert(payload: unknown): payload is AlertPayload {
  const p = payload as Partial<AlertPayload> | null;
  return !!p && typeof p === 'object' && typeof p.id === 'string' && typeof p.device === 'string' && ['raised', 'cleared', 'acknowledged'].includes(String(p.state));
}

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

export function classify(msg: Record<string, unknown>): DashboardInput {
  if (isReadingMessage(msg)) return { kind: 'reading' };
  const topic = text(msg.topic);
  // The dashboard's browser session (node-red-dashboard sets msg.socketid on what a widget sends).
  const session = text(msg.socketid) || undefined;
  const from = session ? { session } : {};
  // ui_control reports a browser that went away: its selection goes with it.
  if (msg.payload === 'lost' && session) return { kind: 'session-ended', session };
  if (topic.startsWith('alert/') && isAlert(msg.payload)) return { kind: 'alert', alert: msg.payload };
  // rtu-alert's answer to "list": every active alert.
  if (topic === 'alerts/active' && Array.isArray(msg.payload)) return { kind: 'alerts', alerts: msg.payload.filter(isAlert) };
  const payload = msg.payload as Record<string, unknown> | string | undefined;
  const field = (name: string) => (payload && typeof payload === 'object' ? text(payload[name]) : '');
  const device = typeof payload === 'string' ? payload.trim() : field('device');
  switch (topic) {
    case 'select':
      return { kind: 'select', device: device || undefined, ...from };
    case 'detail':
      if (!device) return { kind: 'unknown', error: 'detail: msg.payload needs the device name' };
      return { kind: 'detail', device };
    case 'trend': {
      const point = field('point');
      if (!device || !point) return { kind: 'unknown', error: 'trend: msg.payload needs { device, point }' };
      return { kind: 'trend', device, point, ...from };
    }
    case 'read':
      if (!device) return { kind: 'unknown', error: 'read: msg.payload needs the device name' };
      return { kind: 'read', device, ...from };
    case 'ack': {
      const id = typeof payload === 'string' ? payload.trim() : field('id');
      if (!id) return { kind: 'unknown', error: 'ack: msg.payload needs the alert id (or "*" for every alert)' };
      const by = text(msg.by) || (msg.socketid ? 'dashboard' : 'message');
      return { kind: 'ack', id, by };
    }
    case 'refresh':
      return { kind: 'refresh' };
  }
  return {
    kind: 'unknown',
    error: `message with topic "${topic}" is neither a reading, an alert (topic alert/... or alerts/active), nor a dashboard action (select, detail, read, trend, ack, refresh)`,
  };
}
