/** Shared Modbus vocabulary used by the planner, codec, line, poller, cache and gateway. */

export type RegisterType = 'coil' | 'discrete' | 'holding' | 'input';

export type DataType =
  | 'bool'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'bcd16'
  | 'bcd32'
  | 'string'
  | 'bitfield';

/**
 * Byte/word order of a multi-register value, named by where the bytes of the
 * big-endian value A B C D land on the wire: ABCD is plain big-endian, CDAB
 * swaps 16-bit words, BADC swaps bytes inside each word, DCBA is little-endian.
 * For 64-bit values the same rule extends over four words.
 */
export type ByteOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';

export const REGISTER_TYPES: readonly RegisterType[] = ['coil', 'discrete', 'holding', 'input'];
export const BYTE_ORDERS: readonly ByteOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

/** One named value of a device: where it lives and how to turn it into engineering units. */
export interface PointDef {
  name: string;
  registerType: RegisterType;
  /** Zero-based protocol address (register 40001 is holding address 0). */
  address: number;
  dataType: DataType;
  order?: ByteOrder;
  /** Registers occupied; required for 'string', derived from dataType otherwise. */
  length?: number;
  /** For 'bool' on a register (bit of a holding/input register) or 'bitfield' extraction. */
  bit?: number;
  /** For 'bitfield': number of bits starting at `bit`. */
  bits?: number;
  scale?: number;
  offset?: number;
  unit?: string;
  description?: string;
  /** Whether the point may be written (FC5/6/15/16). */
  writable?: boolean;
}

/** A contiguous range of one register table. */
export interface RegisterRange {
  registerType: RegisterType;
  address: number;
  quantity: number;
}

/**
 * A block of raw values as read from a device: 16-bit unsigned words for
 * registers, 0/1 for coils and discrete inputs.
 */
export interface RegisterBlock {
  registerType: RegisterType;
  address: number;
  values: number[];
}

export const READ_FUNCTION: Record<RegisterType, 1 | 2 | 3 | 4> = {
  coil: 1,
  discrete: 2,
  holding: 3,
  input: 4,
};

export function isBitTable(type: RegisterType): boolean {
  return type === 'coil' || type === 'discrete';
}

/** Protocol limits per read request (Modbus Application Protocol v1.1b3, 6.1-6.4). */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;
export const MAX_WRITE_REGISTERS = 123;
export const MAX_WRITE_BITS = 1968;
