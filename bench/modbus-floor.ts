/**
 * The machine's noise floor for polling flat out: a bare-socket Modbus TCP
 * client with nothing of the package in its path (no scheduler, no promises,
 * no decoding) polls the same fleet with the same requests, one in flight per
 * connection, strictly round-robin over the units, and the same staleness
 * figures are taken. It shows what loopback TCP, the simulator and the
 * operating system's scheduling allow on this machine; the pollers cannot
 * have a steadier cycle than this client.
 */
import { connect, Socket } from 'net';
import { performance } from 'perf_hooks';
import { encodeRequest, ModbusRequest } from '../nodes/lib/modbus/pdu';
import { SampleRing } from '../nodes/lib/modbus/line-stats';

export interface FloorSpec {
  portNumbers: number[];
  unitsPerPort: number;
  /** One device poll: the reads the pollers' plan makes. */
  requests: ModbusRequest[];
  warmupMs: number;
  durationMs: number;
  /** Paced: each connection starts a round of its units at most once per cycle (else flat out). */
  cycleMs?: number;
}

export interface FloorResult {
  readings: number;
  seconds: number;
  achievedCycleMs: number;
  worstStalenessMs: number;
  gapP99Ms: number;
  cpuSeconds: number;
  /** Of cpuSeconds, the part spent in the kernel (socket reads and writes). */
  systemSeconds: number;
}

interface Connection {
  socket: Socket;
  /** Position in the round: unit index * requests + request index. */
  step: number;
  tid: number;
  rx: Buffer;
  /** Paced: when the current round started. */
  roundAt?: number;
}

export async function runBareClient(spec: FloorSpec): Promise<FloorResult> {
  const units = spec.unitsPerPort;
  const perPoll = spec.requests.length;
  const pdus = spec.requests.map((r) => encodeRequest(r));
  const lastAt = new Float64Array(spec.portNumbers.length * units).fill(-1);
  const gaps = new SampleRing(200_000);
  let worstGap = 0;
  let readings = 0;
  let measuring = false;

  const send = (c: Connection): void => {
    const unitId = Math.floor(c.step / perPoll) + 1;
    const pdu = pdus[c.step % perPoll];
    c.tid = (c.tid + 1) & 0xffff;
    const frame = Buffer.allocUnsafe(7 + pdu.length);
    frame.writeUInt16BE(c.tid, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = unitId;
    pdu.copy(frame, 7);
    c.socket.write(frame);
  };

  const answered = (c: Connection, line: number): void => {
    if (c.step % perPoll === perPoll - 1) {
      const device = line * units + Math.floor(c.step / perPoll);
      const at = performance.now();
      if (measuring) {
        readings++;
        const previous = lastAt[device];
        if (previous >= 0) {
          const gap = at - previous;
          gaps.add(gap);
          if (gap > worstGap) worstGap = gap;
        }
      }
      lastAt[device] = at;
    }
    c.step = (c.step + 1) % (units * perPoll);
    if (c.step === 0 && spec.cycleMs) {
      const roundAt = (c.roundAt ?? performance.now()) + spec.cycleMs;
      c.roundAt = roundAt;
      setTimeout(() => send(c), Math.max(0, roundAt - performance.now()));
    } else send(c);
  };

  const connections = await Promise.all(
    spec.portNumbers.map(
      (port, line) =>
        new Promise<Connection>((resolve, reject) => {
          const socket = connect({ port, host: '127.0.0.1', noDelay: true });
          const c: Connection = { socket, step: 0, tid: 0, rx: Buffer.alloc(0) };
          socket.once('error', reject);
          socket.once('connect', () => resolve(c));
          socket.on('data', (chunk: Buffer) => {
            c.rx = c.rx.length ? Buffer.concat([c.rx, chunk]) : chunk;
            while (c.rx.length >= 7 && c.rx.length >= 6 + c.rx.readUInt16BE(4)) {
              c.rx = c.rx.subarray(6 + c.rx.readUInt16BE(4));
              answered(c, line);
            }
          });
        }),
    ),
  );
  for (const c of connections) {
    c.roundAt = performance.now();
    send(c);
  }
  await sleep(spec.warmupMs);
  const startedAt = performance.now();
  lastAt.fill(startedAt);
  measuring = true;
  const cpu0 = process.cpuUsage();
  await sleep(spec.durationMs);
  measuring = false;
  const endedAt = performance.now();
  const cpu = process.cpuUsage(cpu0);
  for (const at of lastAt) worstGap = Math.max(worstGap, endedAt - at);
  for (const c of connections) c.socket.destroy();
  const seconds = (endedAt - startedAt) / 1000;
  const perDevice = readings / lastAt.length;
  return {
    readings,
    seconds,
    achievedCycleMs: perDevice ? (seconds * 1000) / perDevice : Infinity,
    worstStalenessMs: worstGap,
    gapP99Ms: gaps.percentile(99) ?? Infinity,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    systemSeconds: cpu.system / 1e6,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
