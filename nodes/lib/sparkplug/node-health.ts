/** The edge node's own metrics: CPU, memory, queue depth and test mode, as Sparkplug node metrics. */
import type { PointValue } from '../reading';
import type { NodeMetricDef } from './edge-node';

export const NODE_METRICS: NodeMetricDef[] = [
  { name: 'Node Info/CPU Percent', type: 'Double' },
  { name: 'Node Info/Memory RSS Bytes', type: 'UInt64' },
  { name: 'Node Info/Queue Depth', type: 'UInt64' },
  { name: 'Node Info/Test Mode', type: 'Boolean' },
];

/** Reads the values of NODE_METRICS; CPU is the process's share of one core since the last read. */
export function nodeHealthReader(queueDepth: () => number, testMode: () => boolean): () => PointValue[] {
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  return () => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(lastCpu);
    const elapsedUs = Number(now - lastAt) / 1000;
    lastCpu = process.cpuUsage();
    lastAt = now;
    const percent = elapsedUs > 0 ? Math.round(((cpu.user + cpu.system) / elapsedUs) * 1000) / 10 : 0;
    return [percent, process.memoryUsage.rss(), queueDepth(), testMode()];
  };
}
