/**
 * Commands at the outstation: single, double, regulating step and set-point
 * commands mapped to device writes. Read-only unless allowed; select before
 * operate with a select timeout; the act-con goes out only once the device
 * confirmed the write, then the act-term. In test mode a command is a dry run.
 */
import { EventEmitter } from 'events';
import type { PointValue } from '../reading';
import type { Asdu } from './asdu';
import type { MappedPoint, PointTable } from './point-table';
import { COT, TypeInfo } from './types';

/** Carries a command value to the device; resolves once the device confirmed the write. */
export type PointWriter = (device: string, point: string, value: PointValue) => Promise<void>;

export interface CommandOptions {
  points: PointTable;
  /** Commands are refused (negative act-con) unless true. */
  allowCommands?: boolean;
  write?: PointWriter;
  /** A select is forgotten after this many ms. Default 10 s. */
  selectTimeoutMs?: number;
  /** A device that does not confirm a write in this time fails the command. Default 10 s. */
  commandTimeoutMs?: number;
  /** True while the RTU is in test mode: commands are confirmed without writing. */
  testMode?: () => boolean;
}

export interface CommandEvent {
  remote: string;
  ioa: number;
  type: string;
  device?: string;
  point?: string;
  value?: PointValue;
  action: 'select' | 'execute' | 'cancel' | 'select-timeout';
  ok: boolean;
  dryRun?: boolean;
  error?: string;
}

interface Selection {
  conn: CommandConnection;
  typeId: number;
  value: PointValue;
  timer: NodeJS.Timeout;
}

export interface CommandConnection {
  remote: string;
}

type Reply = (conn: CommandConnection, asdu: Asdu, cot: number, negative: boolean) => void;

/** The device value a command carries: booleans for single/double, ±1 for a step, numbers for set-points. */
export function commandValue(info: TypeInfo, o: Asdu['objects'][number]): PointValue {
  switch (info.kind) {
    case 'sco':
      return o.value === true;
    case 'dco':
      // DCS 1 = OFF, 2 = ON; 0 and 3 are not permitted.
      return o.value === 2;
    case 'rco':
      return o.value === 2 ? 1 : -1;
    default:
      return typeof o.value === 'number' ? o.value : null;
  }
}

function validState(info: TypeInfo, o: Asdu['objects'][number]): boolean {
  if (info.kind === 'dco' || info.kind === 'rco') return o.value === 1 || o.value === 2;
  if (info.kind.startsWith('se-')) return typeof o.value === 'number' && Number.isFinite(o.value);
  return true;
}

export class CommandHandler extends EventEmitter {
  private readonly selections = new Map<number, Selection>();
  private readonly busy = new Set<number>();
  /** Element kinds of the command points: a command of any other type is refused with cause 44. */
  private readonly accepted: Set<string>;

  constructor(
    private readonly options: CommandOptions,
    private readonly replyTo: Reply,
  ) {
    super();
    this.accepted = new Set(options.points.commands.map((p) => p.info.kind));
  }

  private reply(conn: CommandConnection, asdu: Asdu, cot: number, negative: boolean): void {
    this.replyTo(conn, asdu, cot, negative);
  }

  handle(conn: CommandConnection, asdu: Asdu, info: TypeInfo): void {
    const o = asdu.objects[0];
    const base = { remote: conn.remote, ioa: o.ioa, type: info.name };
    const refuse = (cot: number, error: string, action: CommandEvent['action'] = o.select ? 'select' : 'execute', p?: MappedPoint): void => {
      this.reply(conn, asdu, cot, true);
      this.emit('command', { ...base, device: p?.device, point: p?.point, action, ok: false, error } satisfies CommandEvent);
    };
    // The time-tagged variant of a command type is accepted where the plain one is mapped, and vice versa.
    if (!this.accepted.has(info.kind)) return refuse(COT.UNKNOWN_TYPE, `no command point of this outstation accepts ${info.name}`);
    if (asdu.cot !== COT.ACTIVATION && asdu.cot !== COT.DEACTIVATION) return refuse(COT.UNKNOWN_COT, `cause of transmission ${asdu.cot} is not activation or deactivation`);
    if (asdu.objects.length !== 1) return refuse(COT.UNKNOWN_IOA, 'a command carries exactly one object');
    const p = this.options.points.commandByIoa.get(o.ioa);
    if (!p) return refuse(COT.UNKNOWN_IOA, `IOA ${o.ioa} is not a command point`);
    if (p.info.kind !== info.kind) return refuse(COT.UNKNOWN_TYPE, `IOA ${o.ioa} is mapped as ${p.type}, not ${info.name}`, undefined, p);
    if (asdu.cot === COT.DEACTIVATION) return this.cancel(conn, asdu, p);
    if (!this.options.allowCommands) return refuse(COT.ACTIVATION_CON, 'commands are not allowed (read-only outstation)', undefined, p);
    if (!validState(info, o)) return refuse(COT.ACTIVATION_CON, `state ${String(o.value)} is not permitted`, undefined, p);
    const value = commandValue(info, o);
    const ev = { ...base, device: p.device, point: p.point, value };
    if (o.select) {
      if (!p.sbo) return refuse(COT.ACTIVATION_CON, 'point is direct-execute; select not configured', 'select', p);
      const held = this.selections.get(p.ioa);
      if (held && held.conn !== conn) return refuse(COT.ACTIVATION_CON, `selected by ${held.conn.remote}`, 'select', p);
      if (held) clearTimeout(held.timer);
      const timeout = this.options.selectTimeoutMs ?? 10000;
      const timer = setTimeout(() => {
        this.selections.delete(p.ioa);
        this.emit('command', { ...ev, action: 'select-timeout', ok: false, error: `select expired after ${timeout} ms` } satisfies CommandEvent);
      }, timeout);
      this.selections.set(p.ioa, { conn, typeId: asdu.typeId, value, timer });
      this.reply(conn, asdu, COT.ACTIVATION_CON, false);
      this.emit('command', { ...ev, action: 'select', ok: true } satisfies CommandEvent);
      return;
    }
    if (p.sbo) {
      const held = this.selections.get(p.ioa);
      if (!held || held.conn !== conn) return refuse(COT.ACTIVATION_CON, 'execute without a valid select', 'execute', p);
      if (held.value !== value) return refuse(COT.ACTIVATION_CON, `execute value ${String(value)} differs from the selected ${String(held.value)}`, 'execute', p);
      clearTimeout(held.timer);
      this.selections.delete(p.ioa);
    }
    if (this.busy.has(p.ioa)) return refuse(COT.ACTIVATION_CON, 'a command on this point is still running', 'execute', p);
    void this.execute(conn, asdu, p, value);
  }

  private cancel(conn: CommandConnection, asdu: Asdu, p: MappedPoint): void {
    const held = this.selections.get(p.ioa);
    const ok = !!held && held.conn === conn;
    if (ok) {
      clearTimeout(held.timer);
      this.selections.delete(p.ioa);
    }
    this.reply(conn, asdu, COT.DEACTIVATION_CON, !ok);
    this.emit('command', { remote: conn.remote, ioa: p.ioa, type: p.type, device: p.device, point: p.point, action: 'cancel', ok, error: ok ? undefined : 'nothing selected' } satisfies CommandEvent);
  }

  private async execute(conn: CommandConnection, asdu: Asdu, p: MappedPoint, value: PointValue): Promise<void> {
    const ev: CommandEvent = { remote: conn.remote, ioa: p.ioa, type: p.type, device: p.device, point: p.point, value, action: 'execute', ok: false };
    if (this.options.testMode?.()) {
      this.reply(conn, asdu, COT.ACTIVATION_CON, false);
      this.reply(conn, asdu, COT.ACTIVATION_TERM, false);
      this.emit('command', { ...ev, ok: true, dryRun: true });
      return;
    }
    const write = this.options.write;
    if (!write) {
      this.reply(conn, asdu, COT.ACTIVATION_CON, true);
      this.emit('command', { ...ev, error: `no writer carries commands to ${p.device}` });
      return;
    }
    this.busy.add(p.ioa);
    const ms = this.options.commandTimeoutMs ?? 10000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        write(p.device, p.point, value),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${p.device} did not confirm within ${ms} ms`)), ms);
        }),
      ]);
      this.reply(conn, asdu, COT.ACTIVATION_CON, false);
      this.reply(conn, asdu, COT.ACTIVATION_TERM, false);
      this.emit('command', { ...ev, ok: true });
    } catch (err) {
      this.reply(conn, asdu, COT.ACTIVATION_CON, true);
      this.emit('command', { ...ev, error: (err as Error).message });
    } finally {
      if (timer) clearTimeout(timer);
      this.busy.delete(p.ioa);
    }
  }

  /** A connection closed: its selections go. */
  forget(conn: CommandConnection): void {
    for (const [ioa, s] of this.selections) {
      if (s.conn === conn) {
        clearTimeout(s.timer);
        this.selections.delete(ioa);
      }
    }
  }

  dispose(): void {
    for (const s of this.selections.values()) clearTimeout(s.timer);
    this.selections.clear();
  }
}
