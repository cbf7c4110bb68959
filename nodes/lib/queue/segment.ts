/**
 * The on-disk format of the durable queue: append-only segment files of framed records.
 *
 *   segment file  = "RTUQSEG1" (8 bytes) then records
 *   record        = u32 LE body length | u32 LE CRC-32 of body | body
 *   body          = f64 LE seq | f64 LE enqueued-at (ms) | UTF-8 JSON of the item
 *
 * A crash can only tear the last record of the last segment (writes are appends), so a
 * scan stops at the first record whose length runs past the end of the file or whose
 * CRC does not match; the caller truncates the file there.
 */
import fs from 'fs';
import path from 'path';
import zlib from 'zlib';

export const SEGMENT_MAGIC = Buffer.from('RTUQSEG1', 'ascii');
export const HEADER_BYTES = SEGMENT_MAGIC.length;
export const FRAME_BYTES = 8;
const BODY_FIXED = 16;

const crcTable = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32Js(buf: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < buf.length; i++) crc = crcTable[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** CRC-32 (IEEE); zlib's native one where the Node version has it (20.15+). */
export const crc32: (buf: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (buf) => (zlib as unknown as { crc32(b: Uint8Array): number }).crc32(buf) >>> 0
    : crc32Js;

export function encodeRecord(seq: number, enqueuedAt: number, json: string): Buffer {
  const jsonBytes = Buffer.byteLength(json);
  const buf = Buffer.allocUnsafe(FRAME_BYTES + BODY_FIXED + jsonBytes);
  buf.writeDoubleLE(seq, FRAME_BYTES);
  buf.writeDoubleLE(enqueuedAt, FRAME_BYTES + 8);
  buf.write(json, FRAME_BYTES + BODY_FIXED, 'utf8');
  const body = buf.subarray(FRAME_BYTES);
  buf.writeUInt32LE(body.length, 0);
  buf.writeUInt32LE(crc32(body), 4);
  return buf;
}

export interface DecodedRecord {
  seq: number;
  enqueuedAt: number;
  /** The JSON text of the item, still encoded. */
  json: Buffer;
  /** Offset of the record's first byte within the buffer that was parsed. */
  offset: number;
  bytes: number;
}

export type ParseStop = 'end' | 'partial' | 'corrupt';

export interface ParseResult {
  records: DecodedRecord[];
  /** Offset just past the last good record. */
  end: number;
  stop: ParseStop;
  reason?: string;
}

/**
 * Parses records from `buf` starting at `offset`. Stops at the end of the buffer, at a record
 * that is cut off ('partial': more bytes may follow in the file), or at a damaged one.
 */
export function parseRecords(buf: Buffer, offset: number, maxRecordBytes: number, limit = Infinity): ParseResult {
  const records: DecodedRecord[] = [];
  let pos = offset;
  while (records.length < limit) {
    if (pos === buf.length) return { records, end: pos, stop: 'end' };
    if (pos + FRAME_BYTES > buf.length) return { records, end: pos, stop: 'partial' };
    const length = buf.readUInt32LE(pos);
    if (length < BODY_FIXED || length > maxRecordBytes + BODY_FIXED) {
      return { records, end: pos, stop: 'corrupt', reason: `record length ${length} out of range` };
    }
    if (pos + FRAME_BYTES + length > buf.length) return { records, end: pos, stop: 'partial' };
    const body = buf.subarray(pos + FRAME_BYTES, pos + FRAME_BYTES + length);
    if (crc32(body) !== buf.readUInt32LE(pos + 4)) {
      return { records, end: pos, stop: 'corrupt', reason: 'CRC mismatch' };
    }
    records.push({
      seq: body.readDoubleLE(0),
      enqueuedAt: body.readDoubleLE(8),
      json: body.subarray(BODY_FIXED),
      offset: pos,
      bytes: FRAME_BYTES + length,
    });
    pos += FRAME_BYTES + length;
  }
  return { records, end: pos, stop: pos === buf.length ? 'end' : 'partial' };
}

export function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(16, '0')}.log`;
}

export function segmentFirstSeq(file: string): number | undefined {
  const m = /^seg-(\d{16})\.log$/.exec(path.basename(file));
  return m ? Number(m[1]) : undefined;
}

/** What a segment holds, as far as the queue needs to know without keeping records in memory. */
export interface SegmentInfo {
  file: string;
  /** The seq it was named after (the first record written to it). */
  firstSeq: number;
  /** Seq of the last good record, firstSeq - 1 while empty. */
  lastSeq: number;
  /** Good records in the file. */
  count: number;
  /** Bytes of the file up to the end of the last good record (where the next append goes). */
  bytes: number;
  /** Enqueue time of the first record, for the oldest-age estimate. */
  firstAt: number;
}

export interface SegmentScan {
  info: SegmentInfo;
  /** Good records with a seq above the `above` argument (not yet acknowledged). */
  pendingAbove: number;
  /** Bytes after the last good record: a torn tail or a damaged record and what follows. */
  trailingBytes: number;
  damage?: string;
}

/** Reads a whole segment to find its good records, where they end, and how many lie above seq `above`. */
export async function scanSegment(file: string, maxRecordBytes: number, above = 0): Promise<SegmentScan> {
  const firstSeq = segmentFirstSeq(file) ?? 0;
  const buf = await fs.promises.readFile(file);
  const info: SegmentInfo = { file, firstSeq, lastSeq: firstSeq - 1, count: 0, bytes: HEADER_BYTES, firstAt: 0 };
  if (buf.length < HEADER_BYTES || !buf.subarray(0, HEADER_BYTES).equals(SEGMENT_MAGIC)) {
    // A crash while creating the file leaves a short header: nothing in it was ever acknowledged.
    const damage = buf.length < HEADER_BYTES ? undefined : 'not a queue segment (bad header)';
    return { info: { ...info, bytes: 0 }, pendingAbove: 0, trailingBytes: buf.length, damage };
  }
  const parsed = parseRecords(buf, HEADER_BYTES, maxRecordBytes);
  if (parsed.records.length) {
    info.count = parsed.records.length;
    info.lastSeq = parsed.records[parsed.records.length - 1].seq;
    info.firstAt = parsed.records[0].enqueuedAt;
  }
  info.bytes = parsed.end;
  const damage = parsed.stop === 'corrupt' ? `${parsed.reason} at byte ${parsed.end}` : undefined;
  const pendingAbove = parsed.records.reduce((n, r) => (r.seq > above ? n + 1 : n), 0);
  return { info, pendingAbove, trailingBytes: buf.length - parsed.end, damage };
}
