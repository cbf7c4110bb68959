/**
 * A small protobuf wire-format reader and writer for the Sparkplug B schema, written from the
 * specification (sparkplug_b.proto field numbers), independent of the payload library that the
 * node uses. Enough of the schema for an edge node's messages: Payload, Metric, PropertySet.
 */

export interface PropertyValue {
  type: number;
  isNull?: boolean;
  value?: number | bigint | boolean | string;
}

export interface Metric {
  name?: string;
  alias?: number;
  timestamp?: number;
  datatype?: number;
  isHistorical?: boolean;
  isTransient?: boolean;
  isNull?: boolean;
  properties?: Record<string, PropertyValue>;
  value?: number | bigint | boolean | string | null;
}

export interface Payload {
  timestamp?: number;
  seq?: number;
  uuid?: string;
  metrics: Metric[];
}

/** Sparkplug B DataType enum (spec, section 6.4.16). */
export const DataType = {
  Int8: 1, Int16: 2, Int32: 3, Int64: 4, UInt8: 5, UInt16: 6, UInt32: 7, UInt64: 8,
  Float: 9, Double: 10, Boolean: 11, String: 12, DateTime: 13, Text: 14,
} as const;

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly end = buf.length) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }

  tag(): [number, number] {
    const t = Number(this.varint());
    return [t >>> 3, t & 7];
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error('truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  fixed32(): DataView {
    if (this.pos + 4 > this.end) throw new Error('truncated fixed32');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
    this.pos += 4;
    return v;
  }

  fixed64(): DataView {
    if (this.pos + 8 > this.end) throw new Error('truncated fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`wire type ${wire} not supported`);
  }
}

const text = new TextDecoder();

/** int_value is uint32 on the wire; Int8/16/32 are two's complement in it. */
function intValue(raw: bigint, datatype: number | undefined): number {
  const u = Number(raw & 0xffffffffn);
  return datatype === DataType.Int8 || datatype === DataType.Int16 || datatype === DataType.Int32 ? u | 0 : u;
}

function longValue(raw: bigint, datatype: number | undefined): number | bigint {
  const v = datatype === DataType.Int64 ? BigInt.asIntN(64, raw) : raw;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function decodePropertyValue(bytes: Uint8Array): PropertyValue {
  const r = new Reader(bytes);
  const p: PropertyValue = { type: 0 };
  let raw: { kind: 'int' | 'long'; v: bigint } | undefined;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) p.type = Number(r.varint());
    else if (field === 2 && wire === 0) p.isNull = r.varint() !== 0n;
    else if (field === 3 && wire === 0) raw = { kind: 'int', v: r.varint() };
    else if (field === 4 && wire === 0) raw = { kind: 'long', v: r.varint() };
    else if (field === 5 && wire === 5) p.value = r.fixed32().getFloat32(0, true);
    else if (field === 6 && wire === 1) p.value = r.fixed64().getFloat64(0, true);
    else if (field === 7 && wire === 0) p.value = r.varint() !== 0n;
    else if (field === 8 && wire === 2) p.value = text.decode(r.bytes());
    else r.skip(wire);
  }
  if (raw) p.value = raw.kind === 'int' ? intValue(raw.v, p.type) : longValue(raw.v, p.type);
  return p;
}

function decodePropertySet(bytes: Uint8Array): Record<string, PropertyValue> {
  const r = new Reader(bytes);
  const keys: string[] = [];
  const values: PropertyValue[] = [];
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 2) keys.push(text.decode(r.bytes()));
    else if (field === 2 && wire === 2) values.push(decodePropertyValue(r.bytes()));
    else r.skip(wire);
  }
  if (keys.length !== values.length) throw new Error(`property set has ${keys.length} keys but ${values.length} values`);
  return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
}

function decodeMetric(bytes: Uint8Array): Metric {
  const r = new Reader(bytes);
  const m: Metric = {};
  let raw: { kind: 'int' | 'long'; v: bigint } | undefined;
  while (!r.done) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1: m.name = text.decode(r.bytes()); break;
      case 2: m.alias = Number(r.varint()); break;
      case 3: m.timestamp = Number(r.varint()); break;
      case 4: m.datatype = Number(r.varint()); break;
      case 5: m.isHistorical = r.varint() !== 0n; break;
      case 6: m.isTransient = r.varint() !== 0n; break;
      case 7: m.isNull = r.varint() !== 0n; break;
      case 9: m.properties = decodePropertySet(r.bytes()); break;
      case 10: raw = { kind: 'int', v: r.varint() }; break;
      case 11: raw = { kind: 'long', v: r.varint() }; break;
      case 12: m.value = r.fixed32().getFloat32(0, true); break;
      case 13: m.value = r.fixed64().getFloat64(0, true); break;
      case 14: m.value = r.varint() !== 0n; break;
      case 15: m.value = text.decode(r.bytes()); break;
      default: r.skip(wire);
    }
  }
  if (raw) m.value = raw.kind === 'int' ? intValue(raw.v, m.datatype) : longValue(raw.v, m.datatype);
  if (m.isNull) m.value = null;
  return m;
}

export function decodePayload(bytes: Uint8Array): Payload {
  const r = new Reader(bytes);
  const p: Payload = { metrics: [] };
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === 0) p.timestamp = Number(r.varint());
    else if (field === 2 && wire === 2) p.metrics.push(decodeMetric(r.bytes()));
    else if (field === 3 && wire === 0) p.seq = Number(r.varint());
    else if (field === 4 && wire === 2) p.uuid = text.decode(r.bytes());
    else r.skip(wire);
  }
  return p;
}

// ---- writing (commands sent by the test host) ----

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function field(num: number, wire: number): number[] {
  return varint(BigInt((num << 3) | wire));
}

function lengthDelimited(num: number, bytes: number[] | Uint8Array): number[] {
  return [...field(num, 2), ...varint(BigInt(bytes.length)), ...bytes];
}

export interface CommandMetric {
  name?: string;
  alias?: number;
  datatype: number;
  value: number | boolean | string;
}

/** An NCMD/DCMD payload. */
export function encodeCommand(metrics: CommandMetric[], timestamp = Date.now()): Buffer {
  const out: number[] = [...field(1, 0), ...varint(BigInt(timestamp))];
  for (const m of metrics) {
    const body: number[] = [];
    if (m.name !== undefined) body.push(...lengthDelimited(1, Buffer.from(m.name)));
    if (m.alias !== undefined) body.push(...field(2, 0), ...varint(BigInt(m.alias)));
    body.push(...field(4, 0), ...varint(BigInt(m.datatype)));
    if (typeof m.value === 'boolean') body.push(...field(14, 0), m.value ? 1 : 0);
    else if (typeof m.value === 'string') body.push(...lengthDelimited(15, Buffer.from(m.value)));
    else if (m.datatype === DataType.Double) {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(m.value);
      body.push(...field(13, 1), ...b);
    } else if (m.datatype === DataType.Float) {
      const b = Buffer.alloc(4);
      b.writeFloatLE(m.value);
      body.push(...field(12, 5), ...b);
    } else if (m.datatype === DataType.Int64 || m.datatype === DataType.UInt64 || m.datatype === DataType.UInt32) {
      body.push(...field(11, 0), ...varint(BigInt(Math.round(m.value))));
    } else body.push(...field(10, 0), ...varint(BigInt(Math.round(m.value) >>> 0)));
    out.push(...lengthDelimited(2, body));
  }
  return Buffer.from(out);
}
