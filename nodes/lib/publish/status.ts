/**
 * One line of node status from a publisher's figures: the state of the target, what waits
 * in the queue (and since when), drops and disk trouble. The node turns `key` into text from
 * its locale catalogue, and `kind` into the status shape every node uses.
 */
import type { PublisherStats } from './publisher';

export type StatusKind = 'ok' | 'connecting' | 'error' | 'warn' | 'test' | 'idle';

export interface StatusSummary {
  kind: StatusKind;
  /** connected | draining | connecting | down | blocked | failed | diskError | testTarget | testDryRun | stopped */
  key: string;
  params: { queued: number; oldest: string; dropped: number; reason: string };
}

function shortAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** The error without the target in front (the target is in the node's config already). */
function reasonOf(error: string | null, target: string): string {
  if (!error) return '';
  const i = error.indexOf(target);
  const rest = i >= 0 ? error.slice(i + target.length) : error;
  return rest.replace(/^[\s:]+/, '').replace(/^test target:\s*/, '') || error;
}

export function summarize(s: PublisherStats, testModeOn: boolean, hasTestTarget: boolean): StatusSummary {
  const main = s.queue;
  const test = s.testQueue;
  const queued = (main?.depth ?? 0) + (test?.depth ?? 0);
  const oldest = Math.max(main?.oldestAgeMs ?? 0, test?.oldestAgeMs ?? 0);
  const params = { queued, oldest: shortAge(oldest), dropped: (main?.drops ?? 0) + (test?.drops ?? 0), reason: reasonOf(s.lastError, s.target) };
  const diskError = main?.diskError ?? test?.diskError;
  if (s.state === 'stopped') return { kind: 'idle', key: 'stopped', params };
  if (s.state === 'failed') return { kind: 'error', key: 'failed', params };
  if (diskError) return { kind: 'error', key: 'diskError', params: { ...params, reason: diskError } };
  if (s.state === 'down') return { kind: 'error', key: 'down', params };
  if (s.state === 'blocked') return { kind: 'error', key: 'blocked', params };
  if (s.state === 'connecting' || s.state === 'starting') return { kind: 'connecting', key: 'connecting', params };
  if (testModeOn) return { kind: 'test', key: hasTestTarget ? 'testTarget' : 'testDryRun', params };
  if (queued > 0 && oldest > 5000) return { kind: 'ok', key: 'draining', params };
  return { kind: 'ok', key: 'connected', params };
}
