/**
 * A node's status, sent to the editor only when it changes: a change of
 * colour or shape at once, a new text on the same colour at most once per
 * `minGapMs` (a poller's latency changes with every reading; a thousand
 * pollers would otherwise send a thousand status events a second).
 */
import type { NodeStatus } from 'node-red';

export interface StatusSink {
  status(s: NodeStatus): void;
}

export interface ThrottledStatus {
  set(s: NodeStatus): void;
  /** Stops the pending update (on close). */
  stop(): void;
}

export function throttledStatus(node: StatusSink, minGapMs = 1000): ThrottledStatus {
  let shown: NodeStatus | undefined;
  let shownAt = -Infinity;
  let pending: NodeStatus | undefined;
  let timer: NodeJS.Timeout | undefined;

  const show = (s: NodeStatus) => {
    shown = s;
    shownAt = Date.now();
    pending = undefined;
    node.status(s);
  };
  const same = (a: NodeStatus | undefined, b: NodeStatus) => !!a && a.fill === b.fill && a.shape === b.shape;

  return {
    set(s) {
      if (same(shown, s) && shown?.text === s.text) {
        pending = undefined;
        return;
      }
      const wait = shownAt + minGapMs - Date.now();
      if (!same(shown, s) || wait <= 0) {
        if (timer) clearTimeout(timer);
        timer = undefined;
        return show(s);
      }
      pending = s;
      timer ??= setTimeout(() => {
        timer = undefined;
        if (pending) show(pending);
      }, wait);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}
