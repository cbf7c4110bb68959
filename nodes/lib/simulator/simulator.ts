/**
 * A bus of simulated meters behind one Modbus server: routes requests by unit
 * id, and injects the faults tests need (a dead unit, exceptions at chosen
 * addresses, answer latency).
 */
import { ModbusException, ModbusRequest } from '../modbus/pdu';
import { HandlerResult, NO_RESPONSE, RequestHandler } from '../modbus/server-handler';
import type { RegisterType } from '../modbus/types';
import { MeterSpec, SimulatedMeter } from './meter';

/** Answer `exception` to any request of `unitId` (all units when absent) touching the range. */
export interface Fault {
  unitId?: number;
  registerType?: RegisterType;
  address: number;
  quantity?: number;
  exception: number;
}

export interface SimulatorOptions {
  units: MeterSpec[];
  /** Units that never answer, as a meter that is switched off. */
  deadUnitIds?: number[];
  faults?: Fault[];
  /** Delay before every normal answer (ms). */
  latencyMs?: number;
  /** Clock for tests; Date.now by default. */
  now?: () => number;
}

export interface SimulatorStats {
  requests: number;
  exceptions: number;
  writes: number;
}

const TABLE_OF_FC: Record<number, RegisterType> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input', 5: 'coil', 6: 'holding', 15: 'coil', 16: 'holding' };

function requestSpan(req: ModbusRequest): number {
  if ('quantity' in req) return req.quantity;
  if ('values' in req) return req.values.length;
  return 1;
}

export class MeterSimulator {
  readonly stats: SimulatorStats = { requests: 0, exceptions: 0, writes: 0 };
  /** Indexed by unit id: a lookup per request without hashing. */
  private readonly byUnit: (SimulatedMeter | undefined)[] = new Array(256);
  private readonly dead = new Set<number>();
  private faults: Fault[];
  private latencyMs: number;
  private readonly now: () => number;

  constructor(options: SimulatorOptions) {
    this.now = options.now ?? Date.now;
    for (const spec of options.units) {
      if (this.byUnit[spec.unitId]) throw new RangeError(`simulator: unit id ${spec.unitId} is configured twice`);
      this.byUnit[spec.unitId] = new SimulatedMeter(spec);
    }
    for (const id of options.deadUnitIds ?? []) this.dead.add(id);
    this.faults = [...(options.faults ?? [])];
    this.latencyMs = options.latencyMs ?? 0;
  }

  meter(unitId: number): SimulatedMeter | undefined {
    return this.byUnit[unitId];
  }

  meters(): SimulatedMeter[] {
    return this.byUnit.filter((m): m is SimulatedMeter => !!m);
  }

  /** Whether a slave on a serial bus should answer this unit id at all. */
  answers(unitId: number): boolean {
    return !!this.byUnit[unitId] && !this.dead.has(unitId);
  }

  setDead(unitId: number, dead: boolean): void {
    if (dead) this.dead.add(unitId);
    else this.dead.delete(unitId);
  }

  /** Replaces the set of dead units. */
  setDeadUnits(unitIds: readonly number[]): void {
    this.dead.clear();
    for (const id of unitIds) this.dead.add(id);
  }

  deadUnitIds(): number[] {
    return [...this.dead].sort((a, b) => a - b);
  }

  setFaults(faults: Fault[]): void {
    this.faults = [...faults];
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** The RequestHandler for a ModbusTcpServer or ModbusRtuServer. */
  readonly handler: RequestHandler = (unitId, req) => this.handle(unitId, req);

  private handle(unitId: number, req: ModbusRequest): HandlerResult | Promise<HandlerResult> {
    this.stats.requests++;
    if (this.dead.has(unitId)) return NO_RESPONSE;
    if (unitId === 0 && req.fc > 4) return this.broadcast(req);
    const meter = this.byUnit[unitId];
    // Behind a TCP gateway an absent unit is reported at once rather than timing out.
    if (!meter) return this.fail(req.fc, 0x0b);
    const type = TABLE_OF_FC[req.fc];
    if (this.faults.length) {
      const end = req.address + requestSpan(req);
      for (const f of this.faults) {
        if (f.unitId !== undefined && f.unitId !== unitId) continue;
        if (f.registerType !== undefined && f.registerType !== type) continue;
        if (req.address < f.address + (f.quantity ?? 1) && f.address < end) return this.fail(req.fc, f.exception);
      }
    }
    let result: HandlerResult;
    try {
      result = this.serve(meter, type, req);
    } catch (err) {
      if (err instanceof ModbusException) this.stats.exceptions++;
      throw err;
    }
    if (this.latencyMs > 0) {
      const delay = this.latencyMs;
      return new Promise((resolve) => setTimeout(resolve, delay, result));
    }
    return result;
  }

  private serve(meter: SimulatedMeter, type: RegisterType, req: ModbusRequest): HandlerResult {
    switch (req.fc) {
      case 1:
      case 2:
      case 3:
      case 4:
        return meter.read(type, req.address, req.quantity, this.now());
      case 5:
        this.stats.writes++;
        return meter.write('coil', req.address, [req.value ? 1 : 0], 5);
      case 6:
        this.stats.writes++;
        return meter.write('holding', req.address, [req.value], 6);
      case 15:
        this.stats.writes++;
        return meter.write('coil', req.address, req.values, 15);
      case 16:
        this.stats.writes++;
        return meter.write('holding', req.address, req.values, 16);
    }
  }

  /** A write to unit 0 reaches every meter that has the register; an RTU server never answers it. */
  private broadcast(req: ModbusRequest): void {
    const type = TABLE_OF_FC[req.fc];
    for (const meter of this.meters()) {
      if (this.dead.has(meter.unitId)) continue;
      try {
        this.serve(meter, type, req);
      } catch {
        // Meters without that writable register ignore a broadcast, as real ones do.
      }
    }
  }

  private fail(fc: number, code: number): never {
    this.stats.exceptions++;
    throw new ModbusException(fc, code);
  }
}
