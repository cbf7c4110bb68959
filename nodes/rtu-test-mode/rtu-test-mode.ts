/**
 * rtu-test-mode: switches the RTU-wide test mode (by message or from the
 * dashboard) and runs "verify configuration" over every deployed device.
 * Every message it sends carries the whole test-mode panel, so a dashboard
 * opened later shows the switch and the last verification.
 */
import fs from 'fs';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { fleet } from '../lib/fleet';
import { PlausibilityChecker, validateLimits } from '../lib/plausibility';
import type { TestModeState } from '../lib/test-mode';
import { VerifySession } from '../lib/verify';
import { attachTestMode, shortText, status, userDirPath } from '../shared/runtime';
import { parseCommand } from './command';

interface TestModeConfig extends NodeDef {
  timeout?: string | number;
  concurrency?: string | number;
  limits?: unknown;
  announce?: boolean;
  /** 'test': a fresh install (no state file yet) starts in test mode; a state once switched is kept. */
  initial?: string;
}

/** Fewest milliseconds between two progress messages, so 500 devices do not send 500 messages. */
const PROGRESS_EVERY_MS = 500;

export = function (RED: NodeAPI): void {
  const testMode = attachTestMode(RED);

  function RtuTestModeNode(this: Node, config: TestModeConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `test mode node "${config.name || node.id}"`;
    const checked = validateLimits(config.limits, label);
    if (checked.errors.length) node.warn(checked.errors.join('; '));
    const checker = new PlausibilityChecker(checked.limits);
    const timeoutMs = Math.max(100, (Number(config.timeout) || 10) * 1000);
    const concurrency = Math.max(1, Number(config.concurrency) || 16);
    const session = new VerifySession(fleet);
    let lastProgressAt = 0;

    const panelMessage = (topic: string): NodeMessage => ({ topic, payload: session.panel(testMode.snapshot()) }) as NodeMessage;

    const showStatus = () => {
      const report = session.lastReport;
      if (session.busy) return;
      const mode = testMode.enabled ? RED._('rtu-test-mode.status.test') : RED._('rtu-test-mode.status.production');
      const verified = report
        ? ` · ${RED._('rtu-test-mode.status.verified', { reachable: report.summary.reachable, devices: report.summary.devices, flagged: report.summary.flaggedValues })}`
        : '';
      node.status((testMode.enabled ? status.test : status.ok)(shortText(mode + verified)));
    };

    const onChange = (state: TestModeState) => {
      node.log(RED._(state.enabled ? 'rtu-test-mode.log.on' : 'rtu-test-mode.log.off', { by: state.changedBy }));
      showStatus();
      node.send(panelMessage('test-mode'));
    };
    const onProgress = (p: { done: number; total: number }) => {
      node.status(status.connecting(RED._('rtu-test-mode.status.verifying', { done: p.done, total: p.total })));
      const now = Date.now();
      if (now - lastProgressAt < PROGRESS_EVERY_MS || p.done === p.total) return;
      lastProgressAt = now;
      node.send(panelMessage('verify-progress'));
    };
    if (config.initial === 'test' && !fs.existsSync(userDirPath(RED, 'rtu-test-mode.json'))) {
      testMode.set(true, RED._('rtu-test-mode.label.firstStart'));
    }
    testMode.on('change', onChange);
    session.on('progress', onProgress);
    showStatus();
    if (config.announce !== false) {
      // After a deploy or restart the dashboard learns the (persisted) state without being asked.
      const timer = setTimeout(() => node.send(panelMessage('test-mode')), 100);
      node.on('close', () => clearTimeout(timer));
    }

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      const command = parseCommand(msg as unknown as Record<string, unknown>);
      if ('error' in command) return done(new Error(`${label}: ${command.error}`));
      if (command.kind === 'show') {
        send(panelMessage('test-mode'));
        return done();
      }
      if (command.kind === 'set') {
        const by = typeof (msg as { by?: unknown }).by === 'string' ? String((msg as { by?: unknown }).by) : (msg as { socketid?: unknown }).socketid ? 'dashboard' : 'message';
        if (command.enabled === testMode.enabled) send(panelMessage('test-mode'));
        testMode.set(command.enabled, by);
        return done();
      }
      const devices = fleet.list().length;
      if (!devices) node.warn(RED._('rtu-test-mode.errors.noDevices'));
      const run = session.run({ timeoutMs, concurrency, checker, testMode: testMode.enabled });
      send(panelMessage('verify-progress'));
      run
        .then((report) => {
          const s = report.summary;
          if (s.unreachable || s.flaggedValues) {
            node.warn(RED._('rtu-test-mode.log.problems', { unreachable: s.unreachable, devices: s.devices, flagged: s.flaggedValues }));
          }
          showStatus();
          send(panelMessage('verify'));
          done();
        })
        .catch((err: Error) => {
          showStatus();
          done(new Error(`${label}: verification failed: ${err.message}`));
        });
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      testMode.off('change', onChange);
      session.off('progress', onProgress);
      done();
    });
  }

  RED.nodes.registerType('rtu-test-mode', RtuTestModeNode);

  // The editor shows the live switch and the last verification in the node's dialog.
  RED.httpAdmin.get('/rtu-test-mode/state', RED.auth.needsPermission('rtu-test-mode.read'), (_req, res) => {
    res.json({ testMode: testMode.snapshot(), devices: fleet.list().length });
  });
};
