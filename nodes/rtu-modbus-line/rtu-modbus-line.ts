/**
 * Config node owning one Modbus line. Pollers `acquire()` it; the first one
 * starts the line, the last `release()` stops it, so redeploys free the port.
 */
import type { NodeAPI, NodeDef } from 'node-red';
import { health } from '../lib/health/registry';
import { lineHealthInput } from '../lib/modbus/health-input';
import { ModbusLine } from '../lib/modbus/line';
import { listSerialPorts } from '../lib/modbus/serial-ports';
import { RepeatGate } from '../lib/log-limit';
import { deployLookup } from '../shared/deploy-value';
import { describeTransport, lineOptionsFrom } from '../lib/modbus/line-config';
import { LineConfigNode, LineNodeFields, withSiteValues } from './line-config';

export = function register(RED: NodeAPI): void {
  function RtuModbusLineNode(this: LineConfigNode, config: NodeDef & LineNodeFields) {
    RED.nodes.createNode(this, config);
    const users = new Set<string>();
    let line: ModbusLine | undefined;
    this.lineName = config.name || `line ${config.id}`;

    try {
      const options = lineOptionsFrom(withSiteValues(config, deployLookup(RED, this)), this.lineName);
      line = new ModbusLine(options);
      const label = `line "${this.lineName}" (${describeTransport(options.transport)})`;
      // A port that stays missing is logged when its error changes and then every 10 minutes, not at every retry.
      const connectFailures = new RepeatGate(10 * 60_000);
      line.on('connect', () => {
        connectFailures.reset();
        this.log(`${label}: connected`);
      });
      line.on('disconnect', (err: Error) => this.warn(`${label}: disconnected: ${err.message}`));
      line.on('connect-failed', (err: Error) => {
        const gate = connectFailures.pass(err.message);
        const held = gate.held ? ` (failed ${gate.held} more times since it was last logged)` : '';
        if (gate.pass) this.error(`${label}: cannot connect: ${err.message}${held}; retrying`);
        else this.debug(`${label}: connect failed: ${err.message}`);
      });
      // A poll that failed outside the device's own error handling; the device's node reports its own failures.
      line.on('poll-error', (err: Error) => this.error(`${label}: ${err.message}`));
    } catch (err) {
      this.configError = `line "${this.lineName}": ${(err as Error).message}`;
      this.error(this.configError);
    }

    // The line reports to the health registry while it has users, once, whatever the number of pollers.
    let leaveHealth: (() => void) | undefined;

    this.acquire = (userId) => {
      if (!line) return undefined;
      const started = line;
      if (users.size === 0) {
        started.start();
        leaveHealth = health.registerLine(started.name, () => lineHealthInput(started.stats()));
      }
      users.add(userId);
      return started;
    };

    this.release = async (userId) => {
      users.delete(userId);
      if (users.size > 0 || !line) return;
      leaveHealth?.();
      leaveHealth = undefined;
      await line.stop();
    };

    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      leaveHealth?.();
      leaveHealth = undefined;
      const stopping = line ? line.stop() : Promise.resolve();
      stopping.then(() => done(), (err: Error) => {
        this.warn(`line "${this.lineName}": ${err.message}`);
        done();
      });
    });
  }

  RED.nodes.registerType('rtu-modbus-line', RtuModbusLineNode);

  RED.httpAdmin.get('/rtu-modbus-line/serial-ports', RED.auth.needsPermission('rtu-modbus-line.read'), (_req, res) => {
    // settings.js may name ports the scan cannot find: rtuSerialPorts: ['/dev/ttyRS485'].
    const extra = (RED.settings as unknown as { rtuSerialPorts?: unknown }).rtuSerialPorts;
    listSerialPorts({ extra: Array.isArray(extra) ? (extra as string[]) : [] }).then(
      (ports) => res.json(ports),
      (err: Error) => res.status(500).json({ error: err.message }),
    );
  });
};
