/**
 * One IEC 61850 device on the reading pipeline: a thin adapter over IedPoller.
 * Emits a reading per poll and per report, reads on demand, writes attributes,
 * and enters the device in the fleet and health registries.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { fleet } from '../lib/fleet';
import { pollHealthInput } from '../lib/health/poll-input';
import { health } from '../lib/health/registry';
import type { IedLink, LinkState } from '../lib/iec61850/ied-link';
import { IedPoller, PollerConfigError } from '../lib/iec61850/ied-poller';
import type { IedReading } from '../lib/iec61850/readings';
import type { ReadingMessage } from '../lib/reading';
import { attachTestMode, shortText, status, userDirPath, writeRequest } from '../shared/runtime';
import { templatedText } from '../shared/status-text';
import { entryIdStore } from '../lib/iec61850/entry-ids';
import type { IedConfigNode } from '../rtu-iec61850-ied/ied-config';
import { IedPollerNodeConfig, pollerOptionsFrom } from '../lib/iec61850/poller-config';

type Done = (err?: Error) => void;

export = function register(RED: NodeAPI): void {
  const readingText = templatedText(RED._, 'rtu-iec61850-poller.status');
  function RtuIec61850PollerNode(this: Node, config: NodeDef & IedPollerNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const name = config.name || `ied device ${config.id}`;
    const where = `device "${name}"`;
    attachTestMode(RED);

    const fail = (text: string) => {
      node.status(status.error(shortText(text)));
      node.error(text);
      node.on('input', (_msg: NodeMessage, _send: unknown, done: Done) => done(new Error(text)));
    };

    const iedNode = RED.nodes.getNode(config.ied) as IedConfigNode | null;
    if (!iedNode) return fail(`${where}: no IED is configured`);
    if (iedNode.configError || !iedNode.link) return fail(`${where}: ${iedNode.configError ?? 'IED configuration is invalid'}`);

    let poller: IedPoller;
    try {
      poller = new IedPoller({ ...pollerOptionsFrom(config, name, iedNode.link), entryIds: entryIdStore(userDirPath(RED, 'energy-rtu', 'iec61850-entry-ids.json')) });
    } catch (err) {
      return fail(err instanceof PollerConfigError ? err.problems.join('\n') : (err as Error).message);
    }
    const link = iedNode.acquire(node.id) as IedLink;
    let last: ReadingMessage | undefined;

    const showReading = (r: IedReading) => {
      const count = Object.keys(r.payload).length;
      const bad = Object.values(r.rtu.pointQuality ?? {}).filter((q) => q === 'bad').length;
      const label = r.iec61850.source === 'report' ? readingText('report', { count, rptId: r.iec61850.rptId ?? '' }) : readingText('values', { count, ms: r.rtu.latencyMs });
      if (r.rtu.quality === 'bad') node.status(status.error(shortText(r.rtu.error ?? RED._('rtu-iec61850-poller.status.failed'))));
      else if (bad > 0 || r.rtu.quality === 'stale') node.status(status.warn(shortText(readingText('partial', { bad, count }))));
      else node.status((r.rtu.test ? status.test : status.ok)(label));
    };

    const emit = (r: IedReading) => {
      last = r;
      showReading(r);
      node.send(r as unknown as NodeMessage);
    };
    poller.on('reading', emit);
    poller.on('report-notice', (text) => node.log(text));
    poller.on('report-state', (enabled, err) => {
      if (enabled) node.log(`${where}: report ${config.controlBlock} enabled`);
      else if (err) {
        node.warn(err.message);
        node.status(status.warn(shortText(err.message)));
      }
    });

    const onState = (state: LinkState, detail?: string) => {
      if (state === 'connecting') node.status(status.connecting(RED._('rtu-iec61850-poller.status.connecting')));
      else if (state === 'connected') node.status(status.ok(RED._('rtu-iec61850-poller.status.connected')));
      else if (state === 'waiting') node.status(status.error(shortText(detail ?? RED._('rtu-iec61850-poller.status.disconnected'))));
    };
    link.on('state', onState);
    onState(link.state);

    const leaveFleet = fleet.register({
      name,
      protocol: 'iec61850',
      line: link.name,
      intervalMs: Math.round(Number(config.interval ?? 1) * 1000),
      points: poller.points.map((p) => ({ name: p.name })),
      readOnce: () => poller.readNow(),
      lastReading: () => last,
    });
    const leaveHealth = health.registerDevice(name, () => { const s = poller.stats(); return pollHealthInput(s, s.ied); });
    poller.start();

    node.on('input', (msg: NodeMessage, _send: unknown, done: Done) => {
      const writes = writeRequest(msg);
      const action = writes
        ? Object.entries(writes)
            .reduce<Promise<unknown>>((chain, [target, value]) => chain.then(() => poller.write(target, value)), Promise.resolve())
            .then(() => poller.readNow())
        : poller.readNow();
      action.then(
        (reading) => {
          emit(reading);
          done();
        },
        (err: Error) => {
          node.status(status.error(shortText(err.message)));
          done(new Error(`${where}: ${err.message}`));
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      link.off('state', onState);
      leaveFleet();
      leaveHealth();
      poller
        .stop()
        .catch(() => undefined)
        .then(() => iedNode.release(node.id))
        .then(
          () => done(),
          () => done(),
        );
    });
  }

  RED.nodes.registerType('rtu-iec61850-poller', RtuIec61850PollerNode);
};
