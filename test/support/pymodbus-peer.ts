/**
 * Starts test/support/pymodbus-device.py: a Modbus device whose framing, CRC,
 * decoding and datastore are pymodbus's (Debian python3-pymodbus), over TCP or
 * RTU on a pty. The device's executed writes are collected from its output.
 */
import { ChildProcess, spawn } from 'child_process';
import path from 'path';
import readline from 'readline';

/** Debian's python, which has pymodbus (a `python3` on PATH may be another one). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
const ROOT = path.resolve(__dirname, '../../..');

export function supportScript(name: string): string {
  return path.join(ROOT, 'test', 'support', name);
}

export interface PyWrite {
  fc: number;
  address: number;
  values: number[];
}

export interface PyDevice {
  /** TCP port (0 on serial). */
  readonly port: number;
  /** Writes the device executed, in order. */
  readonly writes: PyWrite[];
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface PyDeviceOptions {
  tcp?: boolean;
  /** TCP port to listen on (0: a free one); a restarted device asks for its old one. */
  port?: number;
  serial?: string;
  units?: number[];
  /** Damaged answers to reads of holding 90..93 (see pymodbus-device.py). */
  faults?: boolean;
}

/** Runs a python script that prints "READY <port>" once serving; stdin closing stops it. */
export function startPythonPeer(script: string, args: string[], onLine: (line: string) => void = () => undefined): Promise<{ port: number; process: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(SYSTEM_PYTHON, [supportScript(script), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    child.stdin?.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} did not start within 10 s: ${stderr}`));
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${stderr}`));
    });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const ready = /^READY (\d+)/.exec(line);
      if (ready) {
        clearTimeout(timer);
        resolve({ port: Number(ready[1]), process: child, stop });
      } else onLine(line);
    });
  });
}

export async function startPyDevice(options: PyDeviceOptions): Promise<PyDevice> {
  const args = ['--units', (options.units ?? [1]).join(',')];
  if (options.faults) args.push('--faults');
  if (options.serial) args.push('--serial', options.serial);
  else args.push('--tcp', '--port', String(options.port ?? 0));
  const writes: PyWrite[] = [];
  const peer = await startPythonPeer('pymodbus-device.py', args, (line) => {
    const m = /^SET (\d+) (\d+) ([\d,]+)/.exec(line);
    if (m) writes.push({ fc: Number(m[1]), address: Number(m[2]), values: m[3].split(',').map(Number) });
  });
  return { port: peer.port, writes, process: peer.process, stop: peer.stop };
}
