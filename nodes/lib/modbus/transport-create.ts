/** Builds the transport of a line from its configuration, with clear errors for bad settings. */
import { TcpLink, SerialLink } from './transport-link';
import { RtuTransport } from './transport-rtu';
import { TcpTransport } from './transport-tcp';
import { describeTransport, Parity, Transport, TransportConfig } from './transport-types';

const PARITIES: readonly Parity[] = ['none', 'even', 'odd', 'mark', 'space'];
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Converters re-packetise serial bytes by their own gap timers; give them room. */
const RTU_OVER_TCP_FRAME_GAP_MS = 20;
/** Below this a USB adapter's latency timer splits frames (FTDI default is 16 ms, but bursts are usually tighter). */
const MIN_SERIAL_FRAME_GAP_MS = 5;

/** One character on the wire: start bit + data bits + parity + stop bits. */
export function charTimeMs(baudRate: number, dataBits = 8, parity: Parity = 'none', stopBits = 1): number {
  return ((1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits) * 1000) / baudRate;
}

/** The 3.5-character silent interval; fixed at 1.75 ms above 19200 baud (Modbus over serial line, 2.5.1.1). */
export function silentIntervalMs(baudRate: number, charMs: number): number {
  return baudRate > 19200 ? 1.75 : 3.5 * charMs;
}

/** Returns why the configuration cannot work, or undefined. */
function transportConfigProblem(cfg: TransportConfig): string | undefined {
  if (cfg.kind === 'tcp' || cfg.kind === 'rtu-tcp') {
    if (!cfg.host || typeof cfg.host !== 'string') return `host "${String(cfg.host)}" is empty`;
    if (!Number.isInteger(cfg.port) || cfg.port < 1 || cfg.port > 65535) return `port ${cfg.port} is not in 1..65535`;
    return undefined;
  }
  if (cfg.kind !== 'rtu') return `transport kind "${String((cfg as { kind: unknown }).kind)}" is not tcp, rtu or rtu-tcp`;
  if (!cfg.path || typeof cfg.path !== 'string') return `serial port path "${String(cfg.path)}" is empty`;
  if (!Number.isInteger(cfg.baudRate) || cfg.baudRate < 50 || cfg.baudRate > 4000000) {
    return `baud rate ${cfg.baudRate} is not an integer in 50..4000000`;
  }
  if (cfg.parity !== undefined && !PARITIES.includes(cfg.parity)) return `parity "${cfg.parity}" is not one of ${PARITIES.join(', ')}`;
  if (cfg.dataBits !== undefined && ![5, 6, 7, 8].includes(cfg.dataBits)) return `data bits ${cfg.dataBits} is not 5, 6, 7 or 8`;
  if (cfg.stopBits !== undefined && ![1, 1.5, 2].includes(cfg.stopBits)) return `stop bits ${cfg.stopBits} is not 1, 1.5 or 2`;
  return undefined;
}

export function createTransport(cfg: TransportConfig): Transport {
  const problem = transportConfigProblem(cfg);
  if (problem) throw new Error(`${describeTransportSafe(cfg)}: ${problem}`);
  const description = describeTransport(cfg);
  switch (cfg.kind) {
    case 'tcp':
      return new TcpTransport(new TcpLink(cfg.host, cfg.port, cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, description), description);
    case 'rtu-tcp': {
      const link = new TcpLink(cfg.host, cfg.port, cfg.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, description);
      return new RtuTransport(link, description, {
        kind: 'rtu-tcp',
        frameGapMs: cfg.frameGapMs ?? RTU_OVER_TCP_FRAME_GAP_MS,
        charTimeMs: 0,
      });
    }
    case 'rtu': {
      const parity = cfg.parity ?? 'none';
      const dataBits = cfg.dataBits ?? 8;
      const stopBits = cfg.stopBits ?? 1;
      const charMs = charTimeMs(cfg.baudRate, dataBits, parity, stopBits);
      const link = new SerialLink({ path: cfg.path, baudRate: cfg.baudRate, parity, dataBits, stopBits }, description);
      return new RtuTransport(link, description, {
        kind: 'rtu',
        frameGapMs: cfg.frameGapMs ?? Math.max(MIN_SERIAL_FRAME_GAP_MS, silentIntervalMs(cfg.baudRate, charMs)),
        charTimeMs: charMs,
      });
    }
  }
}

function describeTransportSafe(cfg: TransportConfig): string {
  try {
    return describeTransport(cfg);
  } catch {
    return 'transport';
  }
}
