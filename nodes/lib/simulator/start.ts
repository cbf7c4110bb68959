/**
 * Ready-to-run simulators: a Modbus TCP server with simulated meters (for the
 * node, tests and benchmarks), and the same meters as an RTU slave on a serial
 * stream (a pty from socat, a real port).
 */
import type { Duplex } from 'stream';
import { ModbusRtuServer, RtuServerOptions } from '../modbus/server-rtu';
import { ModbusTcpServer, TcpServerOptions } from '../modbus/server-tcp';
import type { MeterRegistry } from '../registry';
import { resolveUnits, UnitSpec } from './models';
import { MeterSimulator, SimulatorOptions } from './simulator';

export interface RunningSimulator {
  simulator: MeterSimulator;
  server: ModbusTcpServer;
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface StartSimulatorOptions extends Omit<SimulatorOptions, 'units'>, TcpServerOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Unit ids (the simulated energy meter), registry references, or explicit point lists. */
  units: UnitSpec[];
  /** Registry to resolve model ids in; the package registry by default. */
  registry?: MeterRegistry;
}

/** Simulator options with the units as given to the start helpers. */
export type SimulatedBusOptions = Omit<SimulatorOptions, 'units'> & { units: UnitSpec[]; registry?: MeterRegistry };

/** Starts a Modbus TCP server with simulated meters; resolves once it listens. */
export async function startSimulator(options: StartSimulatorOptions): Promise<RunningSimulator> {
  const simulator = new MeterSimulator({ ...options, units: resolveUnits(options.units, options.registry) });
  const server = new ModbusTcpServer(simulator.handler, options);
  const host = options.host ?? '127.0.0.1';
  const address = await server.listen(options.port ?? 0, host);
  return {
    simulator,
    server,
    host,
    port: address.port,
    close: () => server.close(),
  };
}

export interface RtuSimulator {
  simulator: MeterSimulator;
  server: ModbusRtuServer;
  /** Stops answering; the stream stays open and belongs to the caller. */
  detach(): void;
}

/** Serves simulated meters as RTU slaves on an already open serial stream. */
export function serveSimulatorRtu(stream: Duplex, options: SimulatedBusOptions & RtuServerOptions): RtuSimulator {
  const simulator = new MeterSimulator({ ...options, units: resolveUnits(options.units, options.registry) });
  const server = new ModbusRtuServer(stream, simulator.handler, {
    frameGapMs: options.frameGapMs,
    answers: options.answers ?? ((unitId) => simulator.answers(unitId)),
  });
  return { simulator, server, detach: () => server.detach() };
}

export interface RunningRtuSimulator extends RtuSimulator {
  path: string;
  /** Stops answering and closes the serial port. */
  close(): Promise<void>;
}

/** Opens a serial port (or a pty) and serves simulated meters on it as RTU slaves. */
export async function startRtuSimulator(
  options: SimulatedBusOptions & RtuServerOptions & { path: string; baudRate?: number },
): Promise<RunningRtuSimulator> {
  // Loaded here so TCP-only users never load the native serial binding.
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path: options.path, baudRate: options.baudRate ?? 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new Error(`RTU simulator cannot open ${options.path}: ${err.message}`)) : resolve()));
  });
  const served = serveSimulatorRtu(port, options);
  return {
    ...served,
    path: options.path,
    close: () =>
      new Promise<void>((resolve) => {
        served.detach();
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
