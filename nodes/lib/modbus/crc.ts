/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), table driven. */
const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  TABLE[i] = c;
}

export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]) & 0xff];
  return crc;
}

/** Appends the CRC (low byte first, as on the wire) to an RTU frame body. */
export function withCrc(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + 2);
  body.copy(out, 0);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

export function crcMatches(frame: Uint8Array, length = frame.length): boolean {
  if (length < 4) return false;
  const expected = frame[length - 2] | (frame[length - 1] << 8);
  return crc16(frame, 0, length - 2) === expected;
}
