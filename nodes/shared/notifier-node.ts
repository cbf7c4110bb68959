/**
 * What the notifier nodes (rtu-discord, rtu-telegram) share: the common settings
 * (grouping, filters, test target, persistence) read from the node config with
 * defaults, and the wiring of a chat service to a NotifierRunner, the node's
 * input and its close. Each node only says how to build its service.
 */
import type { Node, NodeAPI, NodeCredentials, NodeDef, NodeMessageInFlow } from 'node-red';
import { SEVERITIES } from '../lib/alert/types';
import type { AlertState, Severity } from '../lib/alert/types';
import type { NotifierOptions } from '../lib/notify/notifier';
import { NotifierRunner, RunnerHooks, StatusKind } from '../lib/notify/runner';
import type { ChatService } from '../lib/notify/types';
import { attachTestMode, shortText, status, userDirPath } from './runtime';

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

/** How one notifier node type differs from the others. */
export interface NotifierNodeType<C extends CommonNotifyConfig, K extends object> {
  type: string;
  /** Names the node in errors: `<kind> "<name>"`. */
  kind: string;
  credentials: NodeCredentials<K>;
  /**
   * Builds the chat service; throws with a message for the user when the config is wrong.
   * `node` is there for values read at deploy (env variables, context).
   */
  service(config: C, credentials: Partial<K>, node: Node<K>): ChatService;
  /**
   * What is still missing for live delivery (no webhook, no token), if anything. The
   * node then deploys, warns once, and keeps alerts in its outbox until it is configured.
   */
  missing?(config: C, credentials: Partial<K>, node: Node<K>): string | undefined;
}

/** Message formatting settings, as the chat services take them (empty fields fall back to the defaults). */
export function formatSettings(config: CommonNotifyConfig): Pick<CommonNotifyConfig, 'template' | 'title' | 'timeZone'> {
  return { template: config.template || undefined, title: config.title || undefined, timeZone: config.timeZone || undefined };
}

function notifierOptions(config: CommonNotifyConfig): NotifierOptions {
  const window = Number(config.groupWindow);
  return {
    groupWindowMs: Number.isFinite(window) && window >= 0 ? window * 1000 : 2000,
    testTarget: config.testTarget === 'dry-run' ? 'dry-run' : 'channel',
  };
}

function states(config: CommonNotifyConfig): AlertState[] {
  const out: AlertState[] = [];
  if (config.notifyRaised !== false) out.push('raised');
  if (config.notifyCleared !== false) out.push('cleared');
  if (config.notifyAcknowledged !== false) out.push('acknowledged');
  return out;
}

function minSeverity(config: CommonNotifyConfig): Severity {
  return (SEVERITIES as readonly string[]).includes(config.minSeverity ?? '') ? (config.minSeverity as Severity) : 'info';
}

function queueDir(RED: NodeAPI, type: string, id: string, config: CommonNotifyConfig): string | undefined {
  return config.persist === false ? undefined : userDirPath(RED, 'energy-rtu', 'outbox', `${type}-${id}`);
}

function runnerHooks<C extends object>(RED: NodeAPI, type: string, node: Node<C>): RunnerHooks {
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

/** Registers a notifier node type: config errors show on the node and fail every message it receives. */
export function registerNotifierNode<C extends CommonNotifyConfig, K extends object>(RED: NodeAPI, spec: NotifierNodeType<C, K>): void {
  const testMode = attachTestMode(RED);

  function NotifierNode(this: Node<K>, config: C & NodeDef): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `${spec.kind} "${config.name || node.id}"`;
    let runner: NotifierRunner | undefined;
    let configError: string | undefined;
    try {
      runner = new NotifierRunner(
        spec.service(config, node.credentials ?? {}, node),
        {
          label,
          queueDir: queueDir(RED, spec.type, node.id, config),
          notifier: notifierOptions(config),
          states: states(config),
          minSeverity: minSeverity(config),
          testMode,
        },
        runnerHooks(RED, spec.type, node),
      );
    } catch (err) {
      configError = `${label}: ${(err as Error).message}`;
      node.error(configError);
      node.status(status.error(shortText((err as Error).message)));
    }
    const missing = runner ? spec.missing?.(config, node.credentials ?? {}, node) : undefined;
    if (missing) {
      node.warn(`${label}: ${missing}; alerts are kept in the outbox until it is configured (test mode dry-run still works)`);
      node.status(status.warn(shortText(missing)));
    }

    node.on('input', (msg: NodeMessageInFlow, _send: unknown, done: (err?: Error) => void) => {
      if (!runner) return done(new Error(configError));
      runner.accept(msg).then(
        (problem) => done(problem ? new Error(problem) : undefined),
        (err: Error) => done(err),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (!runner) return done();
      runner.close(removed).then(done, done);
    });
  }

  RED.nodes.registerType<Node<K>, C & NodeDef, unknown, K>(spec.type, NotifierNode, { credentials: spec.credentials });
}
