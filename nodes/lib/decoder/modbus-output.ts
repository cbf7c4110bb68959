/**
 * Reads the output of other Modbus nodes (node-red-contrib-modbus Read,
 * Getter and Flex-Getter, or a plain array of words) into a RegisterBlock.
 *
 * Those nodes send the values in msg.payload (an array; booleans for coils)
 * with msg.responseBuffer = { data, buffer }; their second output sends
 * { data, buffer } as the payload. The request (unit id, function code,
 * start address) travels in msg.input.payload or msg.modbusRequest.
 */
import { isBitTable, RegisterBlock, RegisterType } from '../modbus/types';

export interface ModbusOutputConfig {
  /** Table the words come from; when absent, taken from the function code in the message. */
  registerType?: RegisterType;
  /** Start address when the message does not carry one. */
  address?: number;
}

export interface ModbusOutput {
  block: RegisterBlock;
  unitId?: number;
}

const TABLE_BY_FC: Record<number, RegisterType> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };

type Bag = Record<string, unknown>;

function bag(v: unknown): Bag | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Bag) : undefined;
}

/** A Buffer, or a Buffer that went through JSON ({ type: 'Buffer', data }). */
function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  const b = bag(v);
  if (b && b.type === 'Buffer' && Array.isArray(b.data)) return Uint8Array.from(b.data as number[]);
  return undefined;
}

function valuesFrom(v: unknown): unknown[] | Uint8Array | undefined {
  if (Array.isArray(v)) return v;
  const bytes = bytesOf(v);
  if (bytes) return bytes;
  const b = bag(v);
  if (b) {
    if (Array.isArray(b.data)) return b.data;
    const inner = bytesOf(b.buffer);
    if (inner) return inner;
  }
  return undefined;
}

/** The request the Modbus node answered, wherever that node version keeps it. */
function requestOf(msg: Bag): Bag {
  return bag(bag(msg.input)?.payload) ?? bag(msg.modbusRequest) ?? bag(msg.input) ?? msg;
}

function numberOf(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function wordsFromBytes(bytes: Uint8Array): number[] {
  if (bytes.length % 2) throw new Error(`the response buffer has ${bytes.length} bytes, not whole 16-bit registers`);
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  return words;
}

function bitsFromBytes(bytes: Uint8Array): number[] {
  const bits: number[] = [];
  for (const byte of bytes) for (let i = 0; i < 8; i++) bits.push((byte >> i) & 1);
  return bits;
}

function normalize(values: unknown[], registerType: RegisterType): number[] {
  return values.map((v, i) => {
    if (isBitTable(registerType)) {
      if (v === true || v === 1 || v === '1') return 1;
      if (v === false || v === 0 || v === '0') return 0;
      throw new Error(`value #${i} ${JSON.stringify(v)} is not a bit (true/false or 0/1)`);
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= -0x8000 && n <= 0xffff) return n < 0 ? n + 0x10000 : n;
    throw new Error(`value #${i} ${JSON.stringify(v)} is not a 16-bit register value`);
  });
}

/**
 * Turns the message of another Modbus node into a block. Throws an error
 * naming what is missing: the values, the table or the address.
 */
export function blockFromModbusOutput(msg: Record<string, unknown>, config: ModbusOutputConfig = {}): ModbusOutput {
  const raw = valuesFrom(msg.payload) ?? valuesFrom(msg.values) ?? valuesFrom(msg.responseBuffer);
  if (!raw) {
    throw new Error('msg.payload holds no register values: expected an array of words, { data, buffer } or a Buffer');
  }
  const request = requestOf(msg);
  const fc = numberOf(request.fc) ?? numberOf(msg.fc);
  const registerType = config.registerType ?? (fc !== undefined ? TABLE_BY_FC[fc] : undefined);
  if (!registerType) {
    throw new Error(`the register type is unknown: set it in the decoder or send msg.fc 1..4${fc !== undefined ? ` (got fc ${fc})` : ''}`);
  }
  const address = numberOf(request.address) ?? numberOf(msg.address) ?? config.address;
  if (address === undefined || !Number.isInteger(address) || address < 0 || address > 0xffff) {
    throw new Error(`the start address ${address === undefined ? 'is missing' : `${address} is outside 0..65535`}: set it in the decoder or send msg.address`);
  }
  let values: number[];
  if (raw instanceof Uint8Array) values = isBitTable(registerType) ? bitsFromBytes(raw) : wordsFromBytes(raw);
  else values = normalize(raw, registerType);
  const quantity = numberOf(request.quantity);
  // Coils come back padded to whole bytes; keep only what was asked for.
  if (quantity !== undefined && Number.isInteger(quantity) && quantity > 0 && quantity < values.length) values = values.slice(0, quantity);
  if (address + values.length > 0x10000) throw new Error(`${values.length} values from address ${address} run past 65535`);
  const unitId = numberOf(request.unitid) ?? numberOf(request.unitId) ?? numberOf(msg.unitid);
  return { block: { registerType, address, values }, unitId };
}
