/**
 * Serial ports to offer in the editor. On Linux the device directory is read
 * directly: /dev/serial/by-id names survive reboots and re-plugging (the path
 * to put in a line), ttyUSB/ttyACM/ttyS/ttyAMA/ttymxc are the raw devices.
 * Elsewhere serialport's list() is used, guarded by a timeout, since it spawns
 * helper programs that may be missing. Listing never throws.
 */
import fs from 'fs';
import path from 'path';

export interface SerialPortInfo {
  /** What to put in the line's serial path. */
  path: string;
  /** Shown in the editor: the by-id name with its device, or the device itself. */
  label: string;
  /** For a by-id link: the device it points to, e.g. /dev/ttyUSB0. */
  device?: string;
  manufacturer?: string;
}

export interface ListOptions {
  platform?: NodeJS.Platform;
  /** Roots, for tests. */
  devDir?: string;
  sysDir?: string;
  timeoutMs?: number;
  /** Ports the scan cannot find (RS485 hats with their own names, virtual ports), offered after the by-id names when they exist. */
  extra?: string[];
}

const DEVICE_NAME = /^(ttyUSB|ttyACM|ttyS|ttyAMA|ttymxc)\d+$/;

export async function listSerialPorts(options: ListOptions = {}): Promise<SerialPortInfo[]> {
  const platform = options.platform ?? process.platform;
  try {
    const found = platform === 'linux' ? listLinux(options.devDir ?? '/dev', options.sysDir ?? '/sys/class/tty') : await listWithSerialPort(options.timeoutMs ?? 3000);
    return withExtra(found, options.extra ?? []);
  } catch {
    return [];
  }
}

function withExtra(found: SerialPortInfo[], extra: string[]): SerialPortInfo[] {
  const listed = new Set(found.map((p) => p.path));
  const added: SerialPortInfo[] = [];
  for (const p of extra) {
    if (typeof p !== 'string' || listed.has(p) || !fs.existsSync(p)) continue;
    listed.add(p);
    let device: string | undefined;
    try {
      device = fs.realpathSync(p);
    } catch {
      continue;
    }
    added.push(device === p ? { path: p, label: p } : { path: p, label: `${p} (${device})`, device });
  }
  const byId = found.filter((p) => p.path.includes('/serial/by-id/'));
  return [...byId, ...added, ...found.filter((p) => !p.path.includes('/serial/by-id/'))];
}

function listLinux(devDir: string, sysDir: string): SerialPortInfo[] {
  const out: SerialPortInfo[] = [];
  const byIdDir = path.join(devDir, 'serial', 'by-id');
  for (const name of readDir(byIdDir).sort()) {
    const link = path.join(byIdDir, name);
    let device: string | undefined;
    try {
      device = fs.realpathSync(link);
    } catch {
      continue; // dangling link: the adapter is being unplugged
    }
    out.push({ path: link, label: `${name} (${device})`, device });
  }
  const devices = readDir(devDir)
    .filter((name) => DEVICE_NAME.test(name) && isPresent(sysDir, name))
    .sort(naturalOrder);
  for (const name of devices) {
    const device = path.join(devDir, name);
    out.push({ path: device, label: device });
  }
  return out;
}

/** 8250 UARTs get a ttyS node whether or not hardware is behind it; type 0 (PORT_UNKNOWN) means none. */
function isPresent(sysDir: string, name: string): boolean {
  if (!name.startsWith('ttyS')) return true;
  try {
    return fs.readFileSync(path.join(sysDir, name, 'type'), 'utf8').trim() !== '0';
  } catch {
    return true;
  }
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function naturalOrder(a: string, b: string): number {
  const [, pa, na] = /^(\D+)(\d+)$/.exec(a) ?? [a, a, '0'];
  const [, pb, nb] = /^(\D+)(\d+)$/.exec(b) ?? [b, b, '0'];
  return pa === pb ? Number(na) - Number(nb) : pa < pb ? -1 : 1;
}

interface ListedPort {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
}

async function listWithSerialPort(timeoutMs: number): Promise<SerialPortInfo[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require('serialport') as { SerialPort: { list(): Promise<ListedPort[]> } };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ListedPort[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs);
  });
  try {
    const ports = await Promise.race([SerialPort.list().catch(() => [] as ListedPort[]), timeout]);
    return ports.map((p) => ({
      path: p.path,
      label: p.manufacturer ? `${p.path} (${p.manufacturer})` : p.path,
      manufacturer: p.manufacturer,
    }));
  } finally {
    if (timer) clearTimeout(timer);
  }
}
