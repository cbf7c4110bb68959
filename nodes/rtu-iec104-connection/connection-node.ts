/** What client nodes see of an rtu-iec104-connection config node. */
import type { Node } from 'node-red';
import type { Iec104Master } from '../lib/iec104/master';

export interface ConnectionNode extends Node {
  master?: Iec104Master;
  configError?: string;
  connectionName: string;
  acquire(userId: string): Iec104Master | undefined;
  release(userId: string): Promise<void>;
}
