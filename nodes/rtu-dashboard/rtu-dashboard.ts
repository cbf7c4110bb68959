/**
 * rtu-dashboard: feeds the dashboard widgets with ready-to-render models. It
 * reads the process-wide health registry and fleet by itself (no wiring from
 * the pollers needed), takes alerts and optional readings on its input, and
 * answers the widgets' actions (select a device, read now, trend a point,
 * acknowledge an alert).
 *
 * Outputs: 1 device table and detail, 2 overview (system, lines, queues,
 * alerts), 3 trend chart (ui_chart), 4 acknowledge requests for rtu-alert.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { AlertPayload } from '../lib/alert/types';
import { DashboardModel } from '../lib/dashboard';
import { fleet } from '../lib/fleet';
import { health } from '../lib/health/registry';
import { SystemSampler } from '../lib/health/system';
import type { ReadingMessage } from '../lib/reading';
import { shortText, status, userDirPath } from '../shared/runtime';
import { classify } from './input';

interface DashboardConfig extends NodeDef {
  refresh?: string | number;
  keyPoints?: string;
  trendDevice?: string;
  trendPoint?: string;
  readTimeout?: string | number;
}

type Outputs = [NodeMessage | null, NodeMessage | null, NodeMessage[] | NodeMessage | null, NodeMessage | null];

export = function (RED: NodeAPI): void {
  function RtuDashboardNode(this: Node, config: DashboardConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `dashboard node "${config.name || node.id}"`;
    const refreshMs = Math.max(500, (Number(config.refresh) || 2) * 1000);
    const keyPoints = String(config.keyPoints ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const model = new DashboardModel({ fleet, health, keyPoints, readTimeoutMs: Math.max(500, (Number(config.readTimeout) || 10) * 1000) });
    const sampler = new SystemSampler({ diskPath: userDirPath(RED) });
    const wires = (node as unknown as { wires?: string[][] }).wires ?? [];
    let closed = false;
    let ticking = false;
    // Each browser session's selected device (by socket id): a viewer never sees another's selection.
    const sessions = new Map<string, string>();
    const MAX_SESSIONS = 1000;

    const devicesMsg = (): NodeMessage => ({ topic: 'devices', payload: model.devicesView(Date.now()) }) as NodeMessage;
    // One device's detail for the viewer that asked: msg._client makes Dashboard 2 send it to that browser only.
    const clientDetailMsg = (device: string, asked: NodeMessageInFlow): NodeMessage =>
      ({ topic: 'detail', payload: model.detail(device, Date.now()), _client: (asked as { _client?: unknown })._client }) as NodeMessage;
    // The table goes to everyone; each browser session gets its own device's detail (topic "detail", msg.socketid).
    const detailMsg = (session: string, device: string): NodeMessage =>
      ({ topic: 'detail', socketid: session, payload: model.detail(device, Date.now()) }) as NodeMessage;
    const sessionDetails = (): NodeMessage[] => [...sessions].map(([session, device]) => detailMsg(session, device));
    const choose = (session: string, device: string | undefined) => {
      if (!device) sessions.delete(session);
      else if (sessions.has(session) || sessions.size < MAX_SESSIONS) sessions.set(session, device);
    };
    const overviewMsg = (): NodeMessage => ({ topic: 'overview', payload: model.overviewView(Date.now()) }) as NodeMessage;
    const chart = (msgs: Array<{ topic: string; payload: unknown; timestamp?: number }>): NodeMessage[] | null =>
      msgs.length ? (msgs as NodeMessage[]) : null;
    const out = (o: Partial<{ devices: NodeMessage; overview: NodeMessage; chart: NodeMessage[] | null; ack: NodeMessage }>) =>
      // An array in one output's slot sends its messages one after the other (chart reset, then points).
      node.send([o.devices ?? null, o.overview ?? null, o.chart?.length ? o.chart : null, o.ack ?? null] as Outputs as unknown as NodeMessage[]);

    const tick = async () => {
      if (ticking || closed) return;
      ticking = true;
      try {
        model.setSystem(await sampler.sample());
        if (closed) return;
        const snap = model.refresh(Date.now());
        const view = devicesMsg();
        out({ devices: view, overview: overviewMsg(), chart: chart(model.trendUpdate()) });
        if (sessions.size) node.send([sessionDetails(), null, null, null] as unknown as NodeMessage[]);
        const c = (view.payload as { counts: Record<string, number> }).counts;
        const total = c.online + c.offline + c.stale + c.unknown;
        const bad = c.offline + c.stale;
        if (snap.errors.length) node.status(status.warn(shortText(snap.errors[0])));
        else node.status((bad ? status.warn : status.ok)(RED._('rtu-dashboard.status.devices', { online: c.online, total })));
      } catch (err) {
        node.status(status.error(shortText((err as Error).message)));
        node.error(`${label}: ${(err as Error).message}`);
      } finally {
        ticking = false;
      }
    };
    const timer = setInterval(() => void tick(), refreshMs);
    const first = setTimeout(() => {
      if (config.trendDevice && config.trendPoint) out({ chart: chart(model.selectTrend(config.trendDevice, config.trendPoint)) });
      // Alerts raised before this deploy: ask the alert node for its list (it answers on the input).
      if (wires[3]?.length) out({ ack: { topic: 'list' } as NodeMessage });
      void tick();
    }, 200);

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const input = classify(msg as unknown as Record<string, unknown>);
      switch (input.kind) {
        case 'reading':
          model.addReading(msg as unknown as ReadingMessage);
          out({ chart: chart(model.trendUpdate()) });
          return done();
        case 'alert':
          model.addAlert(input.alert as AlertPayload);
          out({ overview: overviewMsg() });
          return done();
        case 'alerts':
          model.setAlerts(input.alerts);
          out({ overview: overviewMsg() });
          return done();
        case 'select':
          if (input.session) {
            choose(input.session, input.device);
            if (input.device) out({ devices: detailMsg(input.session, input.device) });
            return done();
          }
          model.select(input.device);
          out({ devices: devicesMsg() });
          return done();
        case 'trend':
          if (input.session) choose(input.session, input.device);
          else model.select(input.device);
          out({ devices: input.session ? detailMsg(input.session, input.device) : devicesMsg(), chart: chart(model.selectTrend(input.device, input.point)) });
          return done();
        case 'detail':
          out({ devices: clientDetailMsg(input.device, msg) });
          return done();
        case 'read': {
          // A viewer of Dashboard 2 (msg._client) gets the answer alone and keeps the others' selection.
          const client = (msg as { _client?: unknown })._client;
          const session = client ? undefined : input.session;
          if (session) choose(session, input.device);
          else if (!client) model.select(input.device);
          model.readNow(input.device).then(
            () => {
              if (!closed) out({ devices: client ? clientDetailMsg(input.device, msg) : session ? detailMsg(session, input.device) : devicesMsg() });
              done();
            },
            (err: Error) => done(err),
          );
          return;
        }
        case 'session-ended':
          sessions.delete(input.session);
          return done();
        case 'ack': {
          if (!wires[3]?.length) {
            const text = RED._('rtu-dashboard.errors.ackNotWired');
            model.problem(text);
            out({ overview: overviewMsg() });
            return done(new Error(`${label}: ${text}`));
          }
          // rtu-alert's acknowledge command: topic "ack", the id or pattern, and who.
          const ack = { topic: 'ack', payload: input.id, ackBy: input.by } as NodeMessage;
          out({ ack });
          return done();
        }
        case 'refresh':
          void tick().then(() => done());
          return;
        default: {
          const text = `${label}: ${input.error}`;
          model.problem(input.error);
          return done(new Error(text));
        }
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearInterval(timer);
      clearTimeout(first);
      sampler.close();
      done();
    });
  }

  RED.nodes.registerType('rtu-dashboard', RtuDashboardNode);
};
