/**
 * A device's last reading, kept compact and rebuilt when asked for.
 *
 * Every device keeps its last reading for the fleet, the dashboard and
 * verification. Kept as the message itself, a thousand readings live for one
 * interval each: they outlive the young generation's collections and pile up
 * as garbage in the old one, which V8 lets grow to a multiple of the live heap
 * (issue 14: 70 MiB of peak RSS at 1000 devices). Here the values go into typed
 * arrays made once per device and overwritten in place, so a reading that has
 * been sent on dies young. `get()` builds an equal message, a new one per call:
 * a reader cannot change what the next reader sees.
 *
 * Made for readings whose points stay the same from poll to poll (a Modbus
 * device's); a reading of another shape is learnt afresh, and one this store
 * cannot say exactly (an interval, a point quality other than 'bad' for a null
 * point) is kept as it came.
 */
import type { RegisterBlock } from './modbus/types';
import { countKeys } from './reading';
import type { PointInfo, PointValue, Quality, ReadingMessage, ReadingMeta } from './reading';

const NULL = 0;
const NUMBER = 1;
const FALSE = 2;
const TRUE = 3;
const OTHER = 4;

/** What stays the same from one reading of a device to the next. */
interface Shape {
  topic: string;
  keys: string[];
  /** Every point null, in point order, made by parsing so copies keep a compact layout. */
  emptyPayload: Record<string, PointValue>;
  device: string;
  line?: string;
  protocol: ReadingMeta['protocol'];
  model?: string;
  profile?: string;
  unitId?: number;
  units: Record<string, string>;
  points?: Record<string, PointInfo>;
}

/**
 * The parts of a shape that devices of one point list have in common, made
 * once for all of them (a thousand meters of one model and profile hold one
 * copy, not a thousand). Never changed after they are made; forgotten in bulk
 * when many kinds have been seen, since shapes in use keep their own.
 */
const commonParts = new Map<string, Pick<Shape, 'keys' | 'emptyPayload' | 'units'>>();
const COMMON_PARTS_LIMIT = 256;

function partsFor(keys: string[], units: Record<string, string>): Pick<Shape, 'keys' | 'emptyPayload' | 'units'> {
  const id = JSON.stringify([keys, units]);
  let parts = commonParts.get(id);
  if (!parts) {
    if (commonParts.size >= COMMON_PARTS_LIMIT) commonParts.clear();
    parts = {
      keys,
      emptyPayload: JSON.parse(JSON.stringify(Object.fromEntries(keys.map((k) => [k, null])))) as Record<string, PointValue>,
      units: JSON.parse(JSON.stringify(units)) as Record<string, string>,
    };
    commonParts.set(id, parts);
  }
  return parts;
}

interface RawBlock {
  registerType: RegisterBlock['registerType'];
  address: number;
  words: Uint16Array;
}

export class LastReading {
  private shape?: Shape;
  /** A reading kept as it came (see above). */
  private whole?: ReadingMessage;
  private numbers = new Float64Array(0);
  private kinds = new Uint8Array(0);
  /** Strings (and anything else not a number or boolean) by point index; made only when one comes. */
  private others?: PointValue[];
  private rawBlocks: RawBlock[] = [];
  /** Blocks in the last reading's rtu.raw; -1 when it had none. */
  private rawCount = -1;
  private timestamp = 0;
  private quality: Quality = 'bad';
  private latencyMs = 0;
  private seq = 0;
  private error?: string;
  private test = false;

  /** When the last reading was taken, without rebuilding it. */
  get at(): number | undefined {
    return this.whole ? this.whole.rtu.timestamp : this.shape ? this.timestamp : undefined;
  }

  store(reading: ReadingMessage): void {
    const rtu = reading.rtu;
    if (rtu.interval || rtu.quality === 'stale') return this.keepWhole(reading);
    const { keys } = this.fits(reading) ? (this.shape as Shape) : this.learn(reading);
    const payload = reading.payload;
    const marks = rtu.pointQuality;
    let nulls = 0;
    for (let i = 0; i < keys.length; i++) {
      const v = payload[keys[i]];
      if (typeof v === 'number') {
        this.kinds[i] = NUMBER;
        this.numbers[i] = v;
      } else if (v === null) {
        this.kinds[i] = NULL;
        nulls++;
        if (marks && marks[keys[i]] !== 'bad') return this.keepWhole(reading);
      } else if (v === true) this.kinds[i] = TRUE;
      else if (v === false) this.kinds[i] = FALSE;
      else {
        this.kinds[i] = OTHER;
        (this.others ??= new Array<PointValue>(keys.length))[i] = v;
      }
    }
    // get() marks exactly the null points 'bad' when the poll was good, and none when it failed.
    const exact = rtu.quality === 'bad' ? !marks : marks ? countKeys(marks) === nulls : nulls === 0;
    if (!exact) return this.keepWhole(reading);
    this.whole = undefined;
    this.timestamp = rtu.timestamp;
    this.quality = rtu.quality;
    this.latencyMs = rtu.latencyMs;
    this.seq = rtu.seq;
    this.error = rtu.error;
    this.test = rtu.test === true;
    this.storeRaw(rtu.raw);
  }

  get(): ReadingMessage | undefined {
    if (this.whole) return this.whole;
    const shape = this.shape;
    if (!shape) return undefined;
    const payload: Record<string, PointValue> = { ...shape.emptyPayload };
    let pointQuality: Record<string, Quality> | undefined;
    for (let i = 0; i < shape.keys.length; i++) {
      const kind = this.kinds[i];
      const key = shape.keys[i];
      if (kind === NUMBER) payload[key] = this.numbers[i];
      else if (kind === TRUE) payload[key] = true;
      else if (kind === FALSE) payload[key] = false;
      else if (kind === OTHER) payload[key] = (this.others as PointValue[])[i];
      else if (this.quality !== 'bad') (pointQuality ??= {})[key] = 'bad';
    }
    const rtu: ReadingMeta = {
      device: shape.device,
      protocol: shape.protocol,
      timestamp: this.timestamp,
      quality: this.quality,
      latencyMs: this.latencyMs,
      units: { ...shape.units },
      seq: this.seq,
    };
    if (shape.line !== undefined) rtu.line = shape.line;
    if (shape.unitId !== undefined) rtu.unitId = shape.unitId;
    if (shape.points) rtu.points = shape.points;
    if (shape.model !== undefined) rtu.model = shape.model;
    if (shape.profile !== undefined) rtu.profile = shape.profile;
    if (pointQuality) rtu.pointQuality = pointQuality;
    if (this.rawCount >= 0) rtu.raw = this.rawBlocks.slice(0, this.rawCount).map((b) => ({ registerType: b.registerType, address: b.address, values: Array.from(b.words) }));
    if (this.error !== undefined) rtu.error = this.error;
    if (this.test) rtu.test = true;
    return { topic: shape.topic, payload, rtu };
  }

  /** A reading get() could not give back exactly: kept as it came; the next one is learnt afresh. */
  private keepWhole(reading: ReadingMessage): void {
    this.whole = reading;
    this.shape = undefined;
  }

  private fits(reading: ReadingMessage): boolean {
    const s = this.shape;
    if (!s) return false;
    const r = reading.rtu;
    if (reading.topic !== s.topic || r.device !== s.device || r.line !== s.line || r.protocol !== s.protocol || r.unitId !== s.unitId) return false;
    if (r.model !== s.model || r.profile !== s.profile || r.points !== s.points) return false;
    let i = 0;
    for (const key in reading.payload) if (key !== s.keys[i++]) return false;
    if (i !== s.keys.length) return false;
    for (const key in r.units) if (r.units[key] !== s.units[key]) return false;
    return true;
  }

  private learn(reading: ReadingMessage): Shape {
    const r = reading.rtu;
    const { keys, emptyPayload, units } = partsFor(Object.keys(reading.payload), r.units);
    this.shape = {
      topic: reading.topic,
      keys,
      emptyPayload,
      units,
      device: r.device,
      line: r.line,
      protocol: r.protocol,
      model: r.model,
      profile: r.profile,
      unitId: r.unitId,
      points: r.points,
    };
    this.numbers = new Float64Array(keys.length);
    this.kinds = new Uint8Array(keys.length);
    this.others = undefined;
    return this.shape;
  }

  private storeRaw(raw: RegisterBlock[] | undefined): void {
    if (!raw) {
      this.rawCount = -1;
      return;
    }
    for (let i = 0; i < raw.length; i++) {
      const block = raw[i];
      const kept = this.rawBlocks[i];
      if (kept && kept.registerType === block.registerType && kept.address === block.address && kept.words.length === block.values.length) kept.words.set(block.values);
      else this.rawBlocks[i] = { registerType: block.registerType, address: block.address, words: Uint16Array.from(block.values) };
    }
    this.rawCount = raw.length;
  }
}
