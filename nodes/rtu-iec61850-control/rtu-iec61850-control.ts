/**
 * Operates an IEC 61850 control object per input message: a thin adapter over
 * operate() (nodes/lib/iec61850/control-client.ts). One result message per input;
 * a failed control also goes to Catch nodes. In test mode nothing is sent.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { IedLink } from '../lib/iec61850/ied-link';
import { ControlError, ControlResult, describeDryRun, operate, parseControlObject } from '../lib/iec61850/control-client';
import { attachTestMode, shortText, status } from '../shared/runtime';
import type { IedConfigNode } from '../rtu-iec61850-ied/ied-config';
import { ControlMessage, ControlNodeConfig, controlRequestFrom } from './control-config';

type Done = (err?: Error) => void;
type Send = (msg: NodeMessage) => void;

export = function register(RED: NodeAPI): void {
  function RtuIec61850ControlNode(this: Node, config: NodeDef & ControlNodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const testMode = attachTestMode(RED);
    const where = `control "${config.name || config.object || config.id}"`;

    const iedNode = RED.nodes.getNode(config.ied) as IedConfigNode | null;
    const problem = !iedNode ? `${where}: no IED is configured` : iedNode.configError || !iedNode.link ? `${where}: ${iedNode.configError ?? 'IED configuration is invalid'}` : undefined;
    if (!problem && String(config.object ?? '').trim()) {
      try {
        parseControlObject(String(config.object));
      } catch (err) {
        return fail(`${where}: ${(err as Error).message}`);
      }
    }
    if (problem) return fail(problem);

    function fail(text: string): void {
      node.status(status.error(shortText(text)));
      node.error(text);
      node.on('input', (_msg: NodeMessage, _send: Send, done: Done) => done(new Error(text)));
    }

    const ied = iedNode as IedConfigNode;
    const link = ied.acquire(node.id) as IedLink;
    node.status(status.idle(RED._('rtu-iec61850-control.status.ready')));

    node.on('input', (msg: NodeMessage & ControlMessage, send: Send, done: Done) => {
      let request;
      try {
        request = controlRequestFrom(config, msg);
      } catch (err) {
        const text = `${where}: IED "${link.name}": ${(err as Error).message}`;
        node.status(status.error(shortText(text)));
        done(new Error(text));
        return;
      }
      const out = msg as NodeMessage & { control?: unknown };
      out.topic = request.object;
      if (testMode.enabled) {
        const text = describeDryRun(request);
        out.control = { outcome: 'dry-run', ied: link.name, object: request.object, dryRun: true, wouldSend: text, durationMs: 0 };
        node.status(status.test(shortText(RED._('rtu-iec61850-control.status.dryRun', { object: request.object }))));
        send(out);
        done();
        return;
      }
      node.status(status.connecting(RED._('rtu-iec61850-control.status.operating', { object: request.object })));
      const report = (r: ControlResult): void => {
        out.payload = request.cancel ? false : request.value;
        out.control = {
          outcome: r.ok ? (request.cancel ? 'cancelled' : 'success') : 'failed',
          ied: r.ied,
          object: r.object,
          ctlModel: r.ctlModel,
          ctlNum: r.ctlNum,
          steps: r.steps,
          durationMs: r.durationMs,
          ...(r.ok ? {} : { error: r.error, addCause: r.addCause, addCauseText: r.addCauseText, lastApplError: r.lastApplError && { ...r.lastApplError, orIdent: r.lastApplError.orIdent.toString('latin1') } }),
        };
      };
      operate(link, request).then(
        (r) => {
          report(r);
          node.status(status.ok(RED._('rtu-iec61850-control.status.done', { object: r.object, ms: r.durationMs })));
          send(out);
          done();
        },
        (err: Error) => {
          const r = err instanceof ControlError ? err.result : undefined;
          if (r) report(r);
          const text = r?.error ?? `${where}: ${err.message}`;
          node.status(status.error(shortText(r?.addCauseText ? `${r.addCauseText}: ${r.object}` : text)));
          send(out);
          done(new Error(text));
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      ied.release(node.id).then(
        () => done(),
        () => done(),
      );
    });
  }

  RED.nodes.registerType('rtu-iec61850-control', RtuIec61850ControlNode);
};
