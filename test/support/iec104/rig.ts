/**
 * An outstation and masters on loopback for engine tests, plus a raw 104
 * client that frames whatever ASDUs it is given (for fault injection).
 */
import net from 'net';
import { once } from 'events';
import { ApduReader, decodeApdu, encodeI, encodeS, encodeU } from '../../../nodes/lib/iec104/apci';
import { Asdu, decodeAsdu } from '../../../nodes/lib/iec104/asdu';
import { Iec104Master, MasterOptions } from '../../../nodes/lib/iec104/master';
import { Iec104Outstation, OutstationOptions } from '../../../nodes/lib/iec104/outstation';
import { PointRow, parsePointTable } from '../../../nodes/lib/iec104/point-table';
import type { PointValue } from '../../../nodes/lib/reading';

export const ROWS: PointRow[] = [
  { device: 'meter1', point: 'voltage', ioa: 100, type: 'M_ME_NC_1', deadband: 1 },
  { device: 'meter1', point: 'power', ioa: 101, type: 'M_ME_NC_1' },
  { device: 'meter1', point: 'current', ioa: 102, type: 'M_ME_NB_1', group: 2 },
  { device: 'meter1', point: 'breaker', ioa: 200, type: 'M_SP_NA_1' },
  { device: 'meter2', point: 'state', ioa: 201, type: 'M_DP_TB_1' },
  { device: 'meter1', point: 'energy', ioa: 300, type: 'M_IT_NA_1' },
  { device: 'meter1', point: 'relay', ioa: 5000, type: 'C_SC_NA_1' },
  { device: 'meter1', point: 'switch', ioa: 5001, type: 'C_DC_NA_1', sbo: true },
  { device: 'meter1', point: 'tap', ioa: 5002, type: 'C_RC_NA_1' },
  { device: 'meter1', point: 'limit_norm', ioa: 5003, type: 'C_SE_NA_1' },
  { device: 'meter1', point: 'limit_scaled', ioa: 5004, type: 'C_SE_NB_1' },
  { device: 'meter1', point: 'limit_kw', ioa: 5005, type: 'C_SE_NC_1', sbo: true },
  { device: 'meter1', point: 'relay_timed', ioa: 5006, type: 'C_SC_TA_1' },
];

export interface Write {
  device: string;
  point: string;
  value: PointValue;
}

export async function startOutstation(over: Partial<OutstationOptions> = {}, rows: PointRow[] = ROWS) {
  const writes: Write[] = [];
  let gate: Promise<void> | undefined;
  const outstation = new Iec104Outstation({
    commonAddress: 1,
    points: parsePointTable(rows),
    allowCommands: true,
    write: async (device, point, value) => {
      if (gate) await gate;
      writes.push({ device, point, value });
    },
    ...over,
  });
  const port = await outstation.listen(0, '127.0.0.1');
  return {
    outstation,
    port,
    writes,
    /** Holds device writes until the returned function is called. */
    holdWrites(): () => void {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

export function master(port: number, over: Partial<MasterOptions> = {}): Iec104Master {
  return new Iec104Master({ endpoints: [{ host: '127.0.0.1', port }], commonAddress: 1, originator: 3, reconnectMinMs: 50, reconnectMaxMs: 200, confirmTimeoutMs: 3000, ...over });
}

export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A bare 104 client: frames ASDUs with its own sequence numbers, records what comes back. */
export class RawClient {
  readonly socket: net.Socket;
  readonly received: Array<{ kind: string; asdu?: Asdu; bytes: Buffer }> = [];
  private readonly reader = new ApduReader();
  private sendSeq = 0;
  recvSeq = 0;
  closed = false;
  autoAck = true;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      for (const f of this.reader.push(chunk)) {
        const a = decodeApdu(f);
        if (a.kind === 'I') {
          this.recvSeq = (this.recvSeq + 1) % 32768;
          this.received.push({ kind: 'I', asdu: decodeAsdu(a.asdu), bytes: Buffer.from(a.asdu) });
        } else {
          this.received.push({ kind: a.kind === 'S' ? 'S' : a.fn, bytes: Buffer.from(f) });
        }
      }
    });
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  async ready(): Promise<void> {
    if (!this.socket.connecting) return;
    await once(this.socket, 'connect');
  }

  send(asdu: Buffer): void {
    this.socket.write(encodeI(this.sendSeq, this.recvSeq, asdu));
    this.sendSeq = (this.sendSeq + 1) % 32768;
  }

  u(fn: Parameters<typeof encodeU>[0]): void {
    this.socket.write(encodeU(fn));
  }

  ack(): void {
    this.socket.write(encodeS(this.recvSeq));
  }

  asdus(): Asdu[] {
    return this.received.flatMap((r) => (r.asdu ? [r.asdu] : []));
  }

  close(): void {
    this.socket.destroy();
  }
}
