/**
 * The decoder as a whole: an incoming message (a reading with raw blocks, or
 * the output of another Modbus node) becomes a reading message per the
 * contract in ../reading.ts.
 */
import { isReadingMessage, PointValue, Quality, ReadingMeta } from '../reading';
import type { ByteOrder, PointDef, RegisterBlock, RegisterType } from '../modbus/types';
import { registerCount } from '../modbus/codec';
import { decodeBlocks, DecodeResult } from './decode';
import { blockFromModbusOutput } from './modbus-output';

export interface DecoderSetup {
  points: PointDef[];
  model?: string;
  profile?: string;
  /** Device name for messages that do not name one (other Modbus nodes' output). */
  device?: string;
  /** For other Modbus nodes' output: the table, when the message has no function code. */
  registerType?: RegisterType;
  /** For other Modbus nodes' output: the start address, when the message has none. */
  address?: number;
  /** Put the raw blocks into msg.rtu.raw even when the input was not a reading. */
  keepRaw?: boolean;
}

export interface DecodeContext {
  now: number;
  seq: number;
  test: boolean;
}

export interface DecodedReading {
  topic: string;
  payload: Record<string, PointValue>;
  rtu: ReadingMeta;
  result: DecodeResult;
}

const RANK: Record<Quality, number> = { good: 0, stale: 1, bad: 2 };

function worst(a: Quality, b: Quality): Quality {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Gives points without an order the decoder's default order. */
export function withDefaultOrder(points: PointDef[], order: ByteOrder | undefined): PointDef[] {
  if (!order || order === 'ABCD') return points;
  return points.map((p) => (p.order ? p : { ...p, order }));
}

/**
 * Another Modbus node's message holds one block: decode the points that touch it
 * and leave the others out, so several read nodes can feed one decoder.
 */
function pointsTouching(points: PointDef[], block: RegisterBlock): PointDef[] {
  const end = block.address + block.values.length;
  return points.filter((p) => {
    if (p.registerType !== block.registerType) return false;
    let n = 1;
    try {
      n = registerCount(p);
    } catch {
      // A broken point is decoded anyway, so that its error is reported.
    }
    return p.address < end && p.address + n > block.address;
  });
}

function problemText(result: DecodeResult): string | undefined {
  const entries = Object.entries(result.problems);
  if (!entries.length) return undefined;
  const shown = entries.slice(0, 3).map(([name, why]) => `${name}: ${why}`);
  const more = entries.length > 3 ? `; and ${entries.length - 3} more` : '';
  return `${entries.length} point${entries.length === 1 ? '' : 's'} not decoded (${shown.join('; ')}${more})`;
}

/**
 * Decodes one message. A reading keeps its metadata and payload (decoded values
 * are added over it); other Modbus nodes' output becomes a fresh reading with
 * the points that lie in its block.
 * Throws when the message holds no usable registers.
 */
export function decodeMessage(msg: Record<string, unknown>, setup: DecoderSetup, ctx: DecodeContext): DecodedReading {
  if (isReadingMessage(msg) && Array.isArray(msg.rtu.raw)) {
    const input = msg.rtu;
    const result = decodeBlocks(setup.points, input.raw as RegisterBlock[]);
    const pointQuality = { ...(input.pointQuality ?? {}), ...result.pointQuality };
    const error = [input.error, problemText(result)].filter(Boolean).join('; ');
    const rtu: ReadingMeta = {
      ...input,
      model: setup.model ?? input.model,
      profile: setup.profile ?? input.profile,
      quality: worst(input.quality ?? 'good', result.quality),
      units: { ...(input.units ?? {}), ...result.units },
    };
    if (Object.keys(pointQuality).length) rtu.pointQuality = pointQuality;
    if (error) rtu.error = error;
    const base = msg.payload && typeof msg.payload === 'object' ? msg.payload : {};
    return { topic: typeof msg.topic === 'string' && msg.topic ? msg.topic : input.device, payload: { ...base, ...result.values }, rtu, result };
  }
  if (msg.rtu !== undefined && isReadingMessage(msg)) {
    throw new Error('the reading has no raw registers (msg.rtu.raw): ask the poller to include them');
  }
  const { block, unitId } = blockFromModbusOutput(msg, { registerType: setup.registerType, address: setup.address });
  const touched = pointsTouching(setup.points, block);
  if (!touched.length) {
    const last = block.address + block.values.length - 1;
    throw new Error(`no point of the decoder lies in ${block.registerType} ${block.address}..${last}: check the register type and start address`);
  }
  const result = decodeBlocks(touched, [block]);
  const device = setup.device || (typeof msg.topic === 'string' && msg.topic ? msg.topic : 'modbus');
  const rtu: ReadingMeta = {
    device,
    protocol: 'modbus',
    timestamp: ctx.now,
    quality: result.quality,
    latencyMs: 0,
    units: result.units,
    seq: ctx.seq,
  };
  if (setup.model) rtu.model = setup.model;
  if (setup.profile) rtu.profile = setup.profile;
  if (unitId !== undefined) rtu.unitId = unitId;
  if (Object.keys(result.pointQuality).length) rtu.pointQuality = result.pointQuality;
  const error = problemText(result);
  if (error) rtu.error = error;
  if (setup.keepRaw) rtu.raw = [block];
  if (ctx.test) rtu.test = true;
  return { topic: device, payload: result.values, rtu, result };
}
