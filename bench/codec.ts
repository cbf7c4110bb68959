/**
 * Register codec throughput: values decoded per second, per data type, over
 * a block of registers the size of a full read (125 registers).
 * Run: npm run build && node dist/bench/codec.js
 */
import { decodePoint, encodePoint, registerCount } from '../nodes/lib/modbus/codec';
import { DataType, PointDef } from '../nodes/lib/modbus/types';

type Sample = number | string | boolean;
// A spread of float32 values that need up to 9 digits: the slow path of shortestFloat32.
let seed = 7;
const randomFloat = (): number => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.fround((seed / 2147483648 - 0.5) * 10 ** ((seed % 13) - 4));
};

const cases: Array<{ dataType: DataType; sample: Sample | (() => Sample); label?: string; extra?: Partial<PointDef> }> = [
  { dataType: 'int16', sample: -1234 },
  { dataType: 'uint16', sample: 2301, extra: { scale: 0.1 } },
  { dataType: 'int32', sample: -123456 },
  { dataType: 'uint32', sample: 305419896, extra: { order: 'CDAB' } },
  { dataType: 'int64', sample: -1234567890123 },
  { dataType: 'uint64', sample: 1234567890123, extra: { order: 'DCBA' } },
  { dataType: 'float32', sample: 230.5 },
  { dataType: 'float32', sample: 230.5, extra: { order: 'BADC' } },
  { dataType: 'float32', sample: randomFloat, label: 'float32 random' },
  { dataType: 'float64', sample: 49.98 },
  { dataType: 'bcd16', sample: 1234 },
  { dataType: 'bcd32', sample: 12345678 },
  { dataType: 'bitfield', sample: 5, extra: { bit: 4, bits: 3 } },
  { dataType: 'bool', sample: true, extra: { bit: 7 } },
  { dataType: 'string', sample: 'SN12345678', extra: { length: 5 } },
];

const results: string[] = [];
let slowest = Infinity;
for (const c of cases) {
  const point: PointDef = { name: c.dataType, registerType: 'holding', address: 0, dataType: c.dataType, ...c.extra };
  const n = registerCount(point);
  const perBlock = Math.floor(125 / n);
  const block: number[] = [];
  for (let i = 0; i < perBlock; i++) block.push(...encodePoint(point, typeof c.sample === 'function' ? c.sample() : c.sample));
  let sink = 0;
  const run = (rounds: number): void => {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < perBlock; i++) {
        const v = decodePoint(point, block, i * n);
        if (v === null) sink++;
      }
    }
  };
  run(2000); // warm-up
  const rounds = 20000;
  const t0 = process.hrtime.bigint();
  run(rounds);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSecond = (rounds * perBlock) / seconds;
  slowest = Math.min(slowest, perSecond);
  const label = c.label ?? `${c.dataType}${c.extra?.order ? ` ${c.extra.order}` : ''}${c.extra?.scale ? ' scaled' : ''}`;
  results.push(`${label.padEnd(18)} ${(perSecond / 1e6).toFixed(2).padStart(7)} M values/s${sink ? '' : ''}`);
}
console.log('codec: decodePoint throughput (target >= 5 M values/s)');
for (const line of results) console.log(`  ${line}`);
console.log(`  slowest: ${(slowest / 1e6).toFixed(2)} M values/s`);
