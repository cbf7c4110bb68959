/**
 * rtu-simulator: simulated energy meters behind a Modbus TCP server, driven by
 * meter-registry models; the embedded default for demos and tests. Messages
 * switch units dead or alive, set answer latency and inject exceptions.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { listenRetrying, ModbusTcpServer } from '../lib/modbus/server-tcp';
import { simulatorSettings, SimulatorNodeFields, SimulatorSettings } from '../lib/simulator/config';
import type { Fault, MeterSimulator } from '../lib/simulator/simulator';
import { RunningSimulator, startSimulator } from '../lib/simulator/start';
import { registryFromSettings, serveRegistry } from '../shared/registry-endpoint';
import { shortText, status } from '../shared/runtime';

type SimulatorConfig = NodeDef & SimulatorNodeFields;

interface SimulatorNode extends Node {
  /** The running simulator, once it listens (tests and other nodes read the port here). */
  simulator?: RunningSimulator;
}

interface Control {
  dead?: unknown;
  latency?: unknown;
  faults?: unknown;
  reset?: unknown;
}

/** Applies a control message; returns what changed, or throws naming the bad field. */
function applyControl(sim: MeterSimulator, settings: SimulatorSettings, control: Control): string[] {
  const changed: string[] = [];
  if (control.reset === true) {
    sim.setDeadUnits(settings.deadUnitIds);
    sim.setLatency(settings.latencyMs);
    sim.setFaults([]);
    changed.push('reset');
  }
  if (control.dead !== undefined) {
    const ids = Array.isArray(control.dead) ? control.dead : [control.dead];
    if (!ids.every((id) => Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 255)) {
      throw new Error(`payload.dead ${JSON.stringify(control.dead)} is not a list of unit ids`);
    }
    sim.setDeadUnits(ids as number[]);
    changed.push(`dead [${(ids as number[]).join(', ')}]`);
  }
  if (control.latency !== undefined) {
    const ms = Number(control.latency);
    if (!Number.isFinite(ms) || ms < 0 || ms > 60_000) throw new Error(`payload.latency ${JSON.stringify(control.latency)} is not a number of ms in 0..60000`);
    sim.setLatency(ms);
    changed.push(`latency ${ms} ms`);
  }
  if (control.faults !== undefined) {
    const faults = control.faults;
    const ok = Array.isArray(faults) && faults.every((f) => f && Number.isInteger(f.address) && Number.isInteger(f.exception) && f.exception >= 1 && f.exception <= 255);
    if (!ok) throw new Error('payload.faults must be a list of { unitId?, registerType?, address, quantity?, exception }');
    sim.setFaults(faults as Fault[]);
    changed.push(`${(faults as Fault[]).length} faults`);
  }
  return changed;
}

export = function register(RED: NodeAPI): void {
  const registry = registryFromSettings(RED);
  serveRegistry(RED, registry);

  function RtuSimulatorNode(this: SimulatorNode, config: SimulatorConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const where = `simulator "${config.name || node.id}"`;
    let settings: SimulatorSettings;
    try {
      settings = simulatorSettings(config);
    } catch (err) {
      const text = `${where}: ${(err as Error).message}`;
      node.error(text);
      node.status(status.error(shortText((err as Error).message)));
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(text)));
      return;
    }
    let closed = false;
    let server: ModbusTcpServer | undefined;
    const show = (): void => {
      if (!node.simulator || !server) return;
      const dead = node.simulator.simulator.deadUnitIds().length;
      node.status(
        status.ok(
          RED._('rtu-simulator.status.listening', {
            address: `${settings.host}:${node.simulator.port}`,
            units: settings.units.length - dead,
            clients: server.stats.clients,
          }),
        ),
      );
    };
    node.status(status.connecting(RED._('rtu-simulator.status.starting')));
    const started = listenRetrying(() => startSimulator({ ...settings, registry: registry(false), maxConnections: 64 })).then(
      (running) => {
        if (closed) return running.close();
        node.simulator = running;
        server = running.server;
        server.on('connect', show);
        server.on('disconnect', show);
        for (const m of running.simulator.meters()) {
          for (const p of m.problems) node.warn(`${where}: ${p}`);
        }
        node.log(`${where}: ${settings.units.length} simulated meters on ${settings.host}:${running.port}`);
        show();
      },
      (err: Error) => {
        node.error(`${where}: ${err.message}`);
        node.status(status.error(shortText(err.message)));
      },
    );

    node.on('input', (msg: NodeMessage, _send, done) => {
      if (!node.simulator) return done(new Error(`${where}: not running yet`));
      try {
        const changed = applyControl(node.simulator.simulator, settings, (msg.payload ?? {}) as Control);
        if (!changed.length) throw new Error(`${where}: payload has none of dead, latency, faults, reset`);
        node.log(`${where}: ${changed.join(', ')}`);
        show();
        done();
      } catch (err) {
        done(err instanceof Error && err.message.startsWith(where) ? err : new Error(`${where}: ${(err as Error).message}`));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      started
        .then(() => node.simulator?.close())
        .catch(() => undefined)
        .then(() => {
          node.simulator = undefined;
          node.status(status.clear());
          done();
        });
    });
  }

  RED.nodes.registerType('rtu-simulator', RtuSimulatorNode);
};
