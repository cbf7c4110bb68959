/**
 * Settings both notifier nodes share (grouping, filters, test target,
 * persistence), read from the node config with defaults.
 */
import type { Node, NodeAPI } from 'node-red';
import { SEVERITIES } from '../lib/alert/types';
import type { AlertState, Severity } from '../lib/alert/types';
import type { NotifierOptions } from '../lib/notify/notifier';
import type { RunnerHooks, StatusKind } from '../lib/notify/runner';
import { shortText, status, userDirPath } from '../shared/runtime';

export interface CommonNotifyConfig {
  template?: string;
  title?: string;
  timeZone?: string;
  groupWindow?: string | number;
  testTarget?: 'channel' | 'dry-run';
  notifyRaised?: boolean;
  notifyCleared?: boolean;
  notifyAcknowledged?: boolean;
  minSeverity?: string;
  persist?: boolean;
}

export function notifierOptions(config: CommonNotifyConfig): NotifierOptions {
  const window = Number(config.groupWindow);
  return {
    groupWindowMs: Number.isFinite(window) && window >= 0 ? window * 1000 : 2000,
    testTarget: config.testTarget === 'dry-run' ? 'dry-run' : 'channel',
  };
}

export function states(config: CommonNotifyConfig): AlertState[] {
  const out: AlertState[] = [];
  if (config.notifyRaised !== false) out.push('raised');
  if (config.notifyCleared !== false) out.push('cleared');
  if (config.notifyAcknowledged !== false) out.push('acknowledged');
  return out;
}

export function minSeverity(config: CommonNotifyConfig): Severity {
  return (SEVERITIES as readonly string[]).includes(config.minSeverity ?? '') ? (config.minSeverity as Severity) : 'info';
}

export function queueDir(RED: NodeAPI, type: string, id: string, config: CommonNotifyConfig): string | undefined {
  return config.persist === false ? undefined : userDirPath(RED, 'energy-rtu', 'outbox', `${type}-${id}`);
}

export function runnerHooks<C extends object>(RED: NodeAPI, type: string, node: Node<C>): RunnerHooks {
  const shapes: Record<StatusKind, (text: string) => ReturnType<typeof status.ok>> = {
    ok: status.ok,
    warn: status.warn,
    error: status.error,
    idle: status.idle,
    test: status.test,
    connecting: status.connecting,
  };
  return {
    status: (kind, text) => node.status(shapes[kind](shortText(text))),
    error: (text) => node.error(text),
    warn: (text) => node.warn(text),
    output: (msg) => node.send(msg),
    t: (key, vars) => RED._(`${type}.status.${key}`, vars),
  };
}
