/**
 * A Modbus TCP device served by modbus-serial's ServerTCP (code we did not write), with
 * hooks a test can hold: a read or write of a chosen register waits until the test
 * releases it, so "the device is slow" is a state the test controls, not a timing.
 */
import net from 'net';
import { ServerTCP } from 'modbus-serial';

export interface Gate {
  /** Resolves when the device starts serving the held register. */
  readonly reached: Promise<void>;
  release(): void;
}

export interface SerialPeer {
  readonly port: number;
  readonly holding: number[];
  readonly coils: boolean[];
  /** Every register write the device executed, in order. */
  readonly writes: Array<{ address: number; value: number }>;
  /** Holds the next read of `address` until released. */
  holdRead(address: number): Gate;
  /** Holds the next write of `address` until released (the value is stored on release). */
  holdWrite(address: number): Gate;
  close(): Promise<void>;
}

function gate(): Gate & { enter(): Promise<void> } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  return { reached, release, enter: () => (reach(), released) };
}

export async function startSerialPeer(size = 64): Promise<SerialPeer> {
  const holding = Array.from({ length: size }, (_, i) => 1000 + i);
  const coils = Array.from({ length: size }, () => false);
  const writes: Array<{ address: number; value: number }> = [];
  const heldReads = new Map<number, ReturnType<typeof gate>>();
  const heldWrites = new Map<number, ReturnType<typeof gate>>();
  const take = (held: Map<number, ReturnType<typeof gate>>, address: number) => {
    const g = held.get(address);
    held.delete(address);
    return g;
  };
  const server = new ServerTCP(
    {
      getHoldingRegister: async (address: number) => {
        if (address >= holding.length) throw Object.assign(new Error('no such register'), { modbusErrorCode: 2 });
        await take(heldReads, address)?.enter();
        return holding[address];
      },
      getCoil: (address: number) => coils[address],
      setRegister: async (address: number, value: number) => {
        if (address >= holding.length) throw Object.assign(new Error('no such register'), { modbusErrorCode: 2 });
        await take(heldWrites, address)?.enter();
        holding[address] = value;
        writes.push({ address, value });
      },
      setCoil: (address: number, value: boolean) => {
        coils[address] = value;
      },
    },
    { host: '127.0.0.1', port: 0, unitID: 255 },
  );
  await new Promise<void>((resolve) => server.on('initialized', () => resolve()));
  const port = ((server as unknown as { _server: net.Server })._server.address() as net.AddressInfo).port;
  const hold = (held: Map<number, ReturnType<typeof gate>>) => (address: number) => {
    const g = gate();
    held.set(address, g);
    return g;
  };
  return {
    port,
    holding,
    coils,
    writes,
    holdRead: hold(heldReads),
    holdWrite: hold(heldWrites),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
