/** A running Notifier over a chat service and its stand-in receiver, recording what the notifier reports. */
import { MemoryOutbox } from '../../nodes/lib/notify/memory-outbox';
import { Notifier, NotifierOptions, NotifierStatus } from '../../nodes/lib/notify/notifier';
import type { ChatService, Delivery, OutgoingMessage } from '../../nodes/lib/notify/types';

export interface NotifierRig<R> {
  receiver: R;
  notifier: Notifier;
  outbox: MemoryOutbox;
  problems: Exclude<Delivery, { kind: 'sent' }>[];
  dryRun: OutgoingMessage[];
  statuses: NotifierStatus[];
  close(): Promise<void>;
}

/** Starts a notifier with short group and retry times (overridable) on an in-memory outbox. */
export function startNotifier<R extends { stop(): Promise<void> }>(receiver: R, service: ChatService, options: NotifierOptions = {}): NotifierRig<R> {
  const outbox = new MemoryOutbox();
  const problems: NotifierRig<R>['problems'] = [];
  const dryRun: OutgoingMessage[] = [];
  const statuses: NotifierStatus[] = [];
  const notifier = new Notifier(service, outbox, { groupWindowMs: 200, backoffMs: 50, ...options }, {
    onProblem: (d) => problems.push(d),
    onDryRun: (m) => dryRun.push(m),
    onStatus: (s) => statuses.push(s),
  });
  notifier.start();
  return {
    receiver,
    notifier,
    outbox,
    problems,
    dryRun,
    statuses,
    close: async () => {
      await notifier.close();
      await receiver.stop();
    },
  };
}
