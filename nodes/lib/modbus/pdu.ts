/**
 * Modbus PDUs (function code + data), shared by the client (line, poller) and
 * the servers (simulator, gateway). Framing (MBAP or RTU+CRC) lives elsewhere.
 */
import { MAX_READ_BITS, MAX_READ_REGISTERS, MAX_WRITE_BITS, MAX_WRITE_REGISTERS } from './types';

export type ReadFunction = 1 | 2 | 3 | 4;

export type ModbusRequest =
  | { fc: ReadFunction; address: number; quantity: number }
  | { fc: 5; address: number; value: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 15; address: number; values: number[] }
  | { fc: 16; address: number; values: number[] }
  /** Mask write register: the device sets the register to (current AND andMask) OR (orMask AND NOT andMask) in one step. */
  | { fc: 22; address: number; andMask: number; orMask: number };

const EXCEPTION_TEXT: Record<number, string> = {
  0x01: 'illegal function',
  0x02: 'illegal data address',
  0x03: 'illegal data value',
  0x04: 'server device failure',
  0x05: 'acknowledge',
  0x06: 'server device busy',
  0x08: 'memory parity error',
  0x0a: 'gateway path unavailable',
  0x0b: 'gateway target device failed to respond',
};

/** The device answered with a Modbus exception response. */
export class ModbusException extends Error {
  constructor(
    readonly fc: number,
    readonly code: number,
  ) {
    super(`exception ${code.toString(16).padStart(2, '0')} (${EXCEPTION_TEXT[code] ?? 'unknown'}) to FC${fc}`);
    this.name = 'ModbusException';
  }
}

/** A frame that does not follow the protocol (wrong length, function, byte count...). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export function describeRequest(req: ModbusRequest): string {
  if ('quantity' in req) return `FC${req.fc} @${req.address} x${req.quantity}`;
  if ('values' in req) return `FC${req.fc} @${req.address} x${req.values.length}`;
  return `FC${req.fc} @${req.address}`;
}

/** Checks a request against protocol limits; returns a reason, or undefined when valid. */
export function requestProblem(req: ModbusRequest): string | undefined {
  if (!Number.isInteger(req.address) || req.address < 0 || req.address > 0xffff) {
    return `address ${req.address} outside 0..65535`;
  }
  let count = 1;
  let max = 1;
  if ('quantity' in req) {
    count = req.quantity;
    max = req.fc <= 2 ? MAX_READ_BITS : MAX_READ_REGISTERS;
  } else if (req.fc === 15) {
    count = req.values.length;
    max = MAX_WRITE_BITS;
  } else if (req.fc === 16) {
    count = req.values.length;
    max = MAX_WRITE_REGISTERS;
  } else if (req.fc === 6 && (!Number.isInteger(req.value) || req.value < 0 || req.value > 0xffff)) {
    return `register value ${req.value} outside 0..65535`;
  } else if (req.fc === 22) {
    for (const mask of [req.andMask, req.orMask]) if (!Number.isInteger(mask) || mask < 0 || mask > 0xffff) return `mask ${mask} outside 0..65535`;
  }
  if (!Number.isInteger(count) || count < 1 || count > max) return `quantity ${count} outside 1..${max}`;
  if (req.address + count > 0x10000) return `address ${req.address} + quantity ${count} runs past 65535`;
  return undefined;
}

export function encodeRequest(req: ModbusRequest): Buffer {
  switch (req.fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const b = Buffer.allocUnsafe(5);
      b[0] = req.fc;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.quantity, 3);
      return b;
    }
    case 5: {
      const b = Buffer.allocUnsafe(5);
      b[0] = 5;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.value ? 0xff00 : 0x0000, 3);
      return b;
    }
    case 6: {
      const b = Buffer.allocUnsafe(5);
      b[0] = 6;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.value, 3);
      return b;
    }
    case 15: {
      const bytes = Math.ceil(req.values.length / 8);
      const b = Buffer.alloc(6 + bytes);
      b[0] = 15;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.values.length, 3);
      b[5] = bytes;
      req.values.forEach((v, i) => {
        if (v) b[6 + (i >> 3)] |= 1 << (i & 7);
      });
      return b;
    }
    case 16: {
      const b = Buffer.allocUnsafe(6 + req.values.length * 2);
      b[0] = 16;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.values.length, 3);
      b[5] = req.values.length * 2;
      req.values.forEach((v, i) => b.writeUInt16BE(v & 0xffff, 6 + i * 2));
      return b;
    }
    case 22: {
      const b = Buffer.allocUnsafe(7);
      b[0] = 22;
      b.writeUInt16BE(req.address, 1);
      b.writeUInt16BE(req.andMask, 3);
      b.writeUInt16BE(req.orMask, 5);
      return b;
    }
  }
}

/** Length of the normal (non-exception) response PDU to a request. */
export function expectedResponseLength(req: ModbusRequest): number {
  if ('quantity' in req) {
    return 2 + (req.fc <= 2 ? Math.ceil(req.quantity / 8) : req.quantity * 2);
  }
  // FC22 echoes its request whole.
  return req.fc === 22 ? 7 : 5;
}

/**
 * Decodes the response PDU to `req`. Reads return their values (words, or 0/1
 * per bit); writes return an empty array once their echo is checked.
 * Throws ModbusException for an exception response, FrameError for anything malformed.
 */
export function decodeResponse(req: ModbusRequest, pdu: Buffer): number[] {
  if (pdu.length < 2) throw new FrameError(`response of ${pdu.length} bytes is too short`);
  const fc = pdu[0];
  if (fc === (req.fc | 0x80)) throw new ModbusException(req.fc, pdu[1]);
  if (fc !== req.fc) throw new FrameError(`response function ${fc} does not match request FC${req.fc}`);
  const expected = expectedResponseLength(req);
  if (pdu.length !== expected) {
    throw new FrameError(`FC${req.fc} response is ${pdu.length} bytes, expected ${expected}`);
  }
  if ('quantity' in req) {
    const byteCount = pdu[1];
    if (byteCount !== expected - 2) {
      throw new FrameError(`FC${req.fc} byte count ${byteCount}, expected ${expected - 2}`);
    }
    const out = new Array<number>(req.quantity);
    if (req.fc <= 2) {
      for (let i = 0; i < req.quantity; i++) out[i] = (pdu[2 + (i >> 3)] >> (i & 7)) & 1;
    } else {
      for (let i = 0; i < req.quantity; i++) out[i] = (pdu[2 + i * 2] << 8) | pdu[3 + i * 2];
    }
    return out;
  }
  if (pdu.readUInt16BE(1) !== req.address) {
    throw new FrameError(`FC${req.fc} echo address ${pdu.readUInt16BE(1)}, expected ${req.address}`);
  }
  if (req.fc === 22 && (pdu.readUInt16BE(3) !== req.andMask || pdu.readUInt16BE(5) !== req.orMask)) {
    throw new FrameError(`FC22 echo masks ${pdu.readUInt16BE(3)}/${pdu.readUInt16BE(5)}, expected ${req.andMask}/${req.orMask}`);
  }
  return [];
}

/** Server side: length of a complete request PDU given its first bytes, or 0 if more bytes are needed. */
export function requestLengthFromHead(head: Buffer, offset = 0): number {
  if (head.length - offset < 1) return 0;
  const fc = head[offset];
  if (fc === 15 || fc === 16) {
    if (head.length - offset < 6) return 0;
    return 6 + head[offset + 5];
  }
  return fc === 22 ? 7 : 5;
}

/** Server side: parses a request PDU; throws ModbusException with the code to answer. */
export function decodeRequest(pdu: Buffer): ModbusRequest {
  const fc = pdu[0];
  if (![1, 2, 3, 4, 5, 6, 15, 16].includes(fc)) throw new ModbusException(fc ?? 0, 0x01);
  if (pdu.length < 5) throw new ModbusException(fc, 0x03);
  const address = pdu.readUInt16BE(1);
  const word = pdu.readUInt16BE(3);
  let req: ModbusRequest;
  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4:
      if (pdu.length !== 5) throw new ModbusException(fc, 0x03);
      req = { fc, address, quantity: word };
      break;
    case 5:
      if (pdu.length !== 5 || (word !== 0xff00 && word !== 0)) throw new ModbusException(fc, 0x03);
      req = { fc, address, value: word === 0xff00 };
      break;
    case 6:
      if (pdu.length !== 5) throw new ModbusException(fc, 0x03);
      req = { fc, address, value: word };
      break;
    case 15:
    case 16: {
      const byteCount = pdu.length > 5 ? pdu[5] : -1;
      const wanted = fc === 15 ? Math.ceil(word / 8) : word * 2;
      if (byteCount !== wanted || pdu.length !== 6 + byteCount) throw new ModbusException(fc, 0x03);
      const values = new Array<number>(word);
      for (let i = 0; i < word; i++) {
        values[i] = fc === 15 ? (pdu[6 + (i >> 3)] >> (i & 7)) & 1 : pdu.readUInt16BE(6 + i * 2);
      }
      req = { fc, address, values };
      break;
    }
    default:
      throw new ModbusException(fc, 0x01);
  }
  const problem = requestProblem(req);
  if (problem) throw new ModbusException(fc, problem.startsWith('quantity') ? 0x03 : 0x02);
  return req;
}

/** Server side: the normal response to a request; `values` are the words or bits read. */
export function encodeResponse(req: ModbusRequest, values?: ArrayLike<number>): Buffer {
  if ('quantity' in req) {
    const bits = req.fc <= 2;
    const byteCount = bits ? Math.ceil(req.quantity / 8) : req.quantity * 2;
    const b = Buffer.alloc(2 + byteCount);
    b[0] = req.fc;
    b[1] = byteCount;
    for (let i = 0; i < req.quantity; i++) {
      const v = values ? values[i] : 0;
      if (bits) {
        if (v) b[2 + (i >> 3)] |= 1 << (i & 7);
      } else {
        b.writeUInt16BE(v & 0xffff, 2 + i * 2);
      }
    }
    return b;
  }
  const b = Buffer.allocUnsafe(5);
  b[0] = req.fc;
  b.writeUInt16BE(req.address, 1);
  if (req.fc === 22) return encodeRequest(req);
  if (req.fc === 5) b.writeUInt16BE(req.value ? 0xff00 : 0, 3);
  else if (req.fc === 6) b.writeUInt16BE(req.value, 3);
  else b.writeUInt16BE(req.values.length, 3);
  return b;
}

export function encodeException(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}
