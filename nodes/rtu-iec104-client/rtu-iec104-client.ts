/**
 * rtu-iec104-client: reads an IEC 104 outstation through an
 * rtu-iec104-connection. Received data (spontaneous, interrogated, periodic)
 * leave as readings, one message per device with the point table's names.
 * Input messages send commands and interrogations.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { Asdu } from '../lib/iec104/asdu';
import type { CommandRequest, Iec104Master, MasterState } from '../lib/iec104/master';
import { readingsFromAsdu } from '../lib/iec104/master-readings';
import { PointTable, parsePointTable } from '../lib/iec104/point-table';
import { pointRowsFrom } from '../lib/iec104/settings';
import { testMode } from '../lib/test-mode';
import { shortText, status } from '../shared/runtime';
import type { ConnectionNode } from '../rtu-iec104-connection/connection-node';

interface ClientConfig extends NodeDef {
  connection?: string;
  points?: string;
}

interface ClientMessage extends NodeMessage {
  command?: { point?: string; device?: string; ioa?: number; type?: string; value?: number | boolean; sbo?: boolean };
}

/** The command a message asks for: by device+point from the table, or by IOA and type. */
function commandOf(msg: ClientMessage, table: PointTable): CommandRequest {
  const c = msg.command ?? (msg.payload as ClientMessage['command']);
  if (!c || typeof c !== 'object') throw new Error('msg.command (or msg.payload) must be { point | ioa, value }');
  const row = c.point ? table.commands.find((r) => r.point === c.point && (!c.device || r.device === c.device)) : c.ioa !== undefined ? table.commandByIoa.get(Number(c.ioa)) : undefined;
  const ioa = row?.ioa ?? Number(c.ioa);
  const type = c.type ?? row?.type;
  if (!Number.isInteger(ioa) || !type) throw new Error(`command ${JSON.stringify(c)}: point not in the command table, and no ioa + type given`);
  if (c.value === undefined || (typeof c.value !== 'number' && typeof c.value !== 'boolean')) throw new Error(`command for IOA ${ioa}: value must be a number or boolean`);
  return { ioa, type, value: c.value, sbo: c.sbo ?? row?.sbo ?? false };
}

export = function register(RED: NodeAPI): void {
  function RtuIec104ClientNode(this: Node, config: ClientConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const where = `IEC 104 client "${config.name || node.id}"`;
    const conn = config.connection ? (RED.nodes.getNode(config.connection) as ConnectionNode | null) : null;
    let table: PointTable;
    let master: Iec104Master | undefined;
    try {
      if (!conn) throw new Error(RED._('rtu-iec104-client.errors.noConnection'));
      if (conn.configError) throw new Error(conn.configError);
      table = parsePointTable(pointRowsFrom(config.points));
      master = conn.acquire(node.id);
      if (!master) throw new Error(RED._('rtu-iec104-client.errors.notAvailable'));
    } catch (err) {
      node.error(`${where}: ${(err as Error).message}`);
      node.status(status.error(shortText((err as Error).message)));
      return;
    }
    const m = master;
    const seq = new Map<string, number>();
    const line = conn!.connectionName;
    const onAsdu = (asdu: Asdu): void => {
      const { readings, unmapped } = readingsFromAsdu(asdu, table, { line, seq });
      for (const r of readings) {
        if (testMode.enabled) r.rtu.test = true;
        node.send(r as unknown as NodeMessage);
      }
      if (unmapped.length) node.debug(`${where}: ${unmapped.length} object(s) not in the point table, e.g. IOA ${unmapped[0].ioa} ${unmapped[0].type}`);
    };
    const onState = (s: MasterState): void => {
      const lastError = m.stats().lastError;
      if (s === 'started') node.status(status.ok(RED._('rtu-iec104-client.status.started', { line })));
      else if (s === 'connecting') node.status(status.connecting(RED._('rtu-iec104-client.status.connecting')));
      else if (s === 'connected') node.status(status.connecting(RED._('rtu-iec104-client.status.starting')));
      else if (s === 'stopped') node.status(status.idle(RED._('rtu-iec104-client.status.stopped')));
      else node.status(status.error(shortText(`${RED._('rtu-iec104-client.status.disconnected')}${lastError ? `: ${lastError}` : ''}`)));
    };
    m.on('asdu', onAsdu);
    m.on('state', onState);
    onState(m.state);

    node.on('input', (msg: ClientMessage, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      const topic = String(msg.topic ?? '');
      let job: Promise<unknown>;
      try {
        if (topic === 'interrogate') job = m.interrogate(Number((msg.payload as number) || 20));
        else if (topic === 'counter') job = m.counterInterrogate(Number((msg.payload as number) || 5 | (1 << 6)));
        else if (topic === 'clock') job = m.clockSync();
        else job = m.command(commandOf(msg, table));
      } catch (err) {
        done(new Error(`${where}: ${(err as Error).message}`));
        return;
      }
      job.then(
        (result) => {
          send({ ...msg, topic: `iec104/${topic || 'command'}`, payload: result ?? { ok: true } } as NodeMessage);
          done();
        },
        (err: Error) => done(new Error(`${where}: ${err.message}`)),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      m.off('asdu', onAsdu);
      m.off('state', onState);
      conn!.release(node.id).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('rtu-iec104-client', RtuIec104ClientNode);
};
