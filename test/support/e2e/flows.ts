/**
 * The bundled flows, as shipped, with their localhost placeholders pointed at
 * the peers of one test run (free ports, the test's broker and receiver).
 */
import fs from 'fs';
import path from 'path';
import type { FlowNode } from './node-red';

export interface Targets {
  simulatorPort: number;
  gatewayPort: number;
  /** Port of the IEC 104 outstation; 0 (any free port) when not given. */
  iec104Port?: number;
  mqttPort: number;
  /** Base URL of the HTTP receiver. */
  httpUrl: string;
}

/** Reads an example as installed in the user dir (what Import -> Examples offers). */
export function installedExample(packageDir: string, name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(packageDir, 'examples', `${name}.json`), 'utf8')) as FlowNode[];
}

export function retarget(flows: FlowNode[], t: Targets): FlowNode[] {
  return flows.map((n) => {
    const c: FlowNode = { ...n };
    switch (n.type) {
      case 'rtu-simulator':
      case 'rtu-modbus-line':
        c.port = t.simulatorPort;
        break;
      case 'rtu-gateway':
        c.port = t.gatewayPort;
        break;
      case 'rtu-iec104-server':
        c.port = t.iec104Port ?? 0;
        break;
      case 'rtu-mqtt-broker':
        c.host = '127.0.0.1';
        c.port = t.mqttPort;
        break;
      case 'rtu-http-out':
        c.url = `${t.httpUrl}/rtu/readings`;
        c.testUrl = `${t.httpUrl}/rtu/test`;
        // Small batches, so the first readings arrive within a second or two.
        c.batchWait = 1;
        break;
    }
    return c;
  });
}
