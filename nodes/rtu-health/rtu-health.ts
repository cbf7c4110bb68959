/**
 * rtu-health: periodic snapshots of devices, lines, queues and the system;
 * health readings for rtu-alert; an optional Prometheus endpoint. A thin
 * adapter over nodes/lib/health.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { Request, Response } from 'express';
import { HealthMonitor } from '../lib/health/monitor';
import { PROMETHEUS_CONTENT_TYPE, toPrometheus } from '../lib/health/prometheus';
import { healthReadings } from '../lib/health/readings';
import { health } from '../lib/health/registry';
import type { HealthSnapshot } from '../lib/health/types';
import { attachTestMode, shortText, status, userDirPath } from '../shared/runtime';

interface HealthConfig extends NodeDef {
  interval?: string | number;
  systemName?: string;
  diskPath?: string;
  ntpServer?: string;
  ntpInterval?: string | number;
  staleAfter?: string | number;
  offlineAfter?: string | number;
  prometheus?: boolean;
  prometheusPath?: string;
}

/** Express keeps routes on a stack (`_router` in 4, `router` in 5); a closed node's route must leave it, or a redeploy adds a second one. */
interface RouteStack {
  stack: { route?: { path?: string; methods?: Record<string, boolean> } }[];
}

function routeStack(app: unknown): RouteStack['stack'] | undefined {
  const a = app as { lazyrouter?: unknown; _router?: RouteStack; router?: RouteStack };
  try {
    // Express 4 throws on `app.router`; its router is `_router`, created with the first route.
    return typeof a.lazyrouter === 'function' ? a._router?.stack : a.router?.stack;
  } catch {
    return undefined;
  }
}

function removeRoute(app: unknown, path: string): void {
  const stack = routeStack(app);
  if (!stack) return;
  for (let i = stack.length - 1; i >= 0; i--) {
    if (stack[i].route?.path === path && stack[i].route?.methods?.get) stack.splice(i, 1);
  }
}

function positive(v: string | number | undefined, fallback: number): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function normalisePath(p: string | undefined): string {
  const path = (p || '/rtu/metrics').trim();
  return path.startsWith('/') ? path : `/${path}`;
}

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuHealthNode(this: Node, config: HealthConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `health "${config.name || node.id}"`;
    const systemName = config.systemName?.trim() || 'system';
    const monitor = new HealthMonitor({
      registry: health,
      diskPath: config.diskPath?.trim() || userDirPath(RED),
      ntpServer: config.ntpServer?.trim() || undefined,
      ntpIntervalMs: positive(config.ntpInterval, 10) * 60000,
      staleAfterMs: Number(config.staleAfter) > 0 ? Number(config.staleAfter) * 1000 : undefined,
      offlineAfterFailures: positive(config.offlineAfter, 3),
    });
    let seq = 0;
    let busy = false;
    let closed = false;
    const reported = new Set<string>();

    function warnOnce(text: string): void {
      if (reported.has(text)) return;
      reported.add(text);
      node.warn(`${label}: ${text}`);
    }

    function show(s: HealthSnapshot): void {
      const devices = Object.values(s.devices);
      const online = devices.filter((d) => d.status === 'online').length;
      const down = devices.filter((d) => d.status === 'offline' || d.status === 'stale').length;
      const text = RED._('rtu-health.status.summary', { online, down, cpu: s.system?.cpuPercent ?? 0 });
      if (s.errors.length) node.status(status.error(shortText(s.errors[0])));
      else if (testMode.enabled) node.status(status.test(`${RED._('rtu-health.status.test')} · ${text}`));
      else node.status(down ? status.warn(text) : status.ok(text));
      s.errors.forEach(warnOnce);
      if (s.system?.clock?.error) warnOnce(s.system.clock.error);
      if (s.system && 'error' in s.system.disk) warnOnce(s.system.disk.error);
    }

    async function emitSnapshot(): Promise<void> {
      if (busy) return;
      busy = true;
      try {
        const s = await monitor.snapshot();
        const readings = healthReadings(s, systemName, seq++, testMode.enabled);
        node.send([{ topic: 'health', payload: s }, readings]);
        show(s);
      } catch (err) {
        node.error(`${label}: ${(err as Error).message}`);
        node.status(status.error(shortText((err as Error).message)));
      } finally {
        busy = false;
      }
    }

    const timer = setInterval(() => void emitSnapshot(), positive(config.interval, 10) * 1000);
    const first = setTimeout(() => void emitSnapshot(), 200);
    node.status(status.idle(RED._('rtu-health.status.starting')));

    const route = config.prometheus ? normalisePath(config.prometheusPath) : undefined;
    if (route) {
      removeRoute(RED.httpNode, route);
      RED.httpNode.get(route, (_req: Request, res: Response, next: () => void) => {
        // A handler left behind by a runtime whose routes cannot be removed steps aside.
        if (closed) return next();
        // Written raw: Express would reorder the content type's parameters.
        res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE });
        res.end(toPrometheus(monitor.current()));
      });
    }

    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      // Readings count towards device health; anything else asks for a snapshot now.
      if (!monitor.observe(msg)) void emitSnapshot();
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearInterval(timer);
      clearTimeout(first);
      if (route) removeRoute(RED.httpNode, route);
      monitor.close();
      done();
    });
  }

  RED.nodes.registerType('rtu-health', RtuHealthNode);
};
