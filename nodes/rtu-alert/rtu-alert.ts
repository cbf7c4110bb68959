/**
 * rtu-alert: threshold rules over readings, with hysteresis, delays and an
 * alert lifecycle that survives redeploys and restarts. A thin adapter over
 * nodes/lib/alert.
 */
import path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { AlertEngine } from '../lib/alert/engine';
import { parseAlertRequest } from '../lib/alert/input';
import { buildRuleSet, RuleSources } from '../lib/alert/ruleset';
import { ActiveAlertStore } from '../lib/alert/store';
import { alertTopic, AlertPayload, RuleProblem } from '../lib/alert/types';
import { attachTestMode, shortText, status, userDirPath } from '../shared/runtime';

interface AlertConfig extends NodeDef {
  rules?: unknown[];
  rulesYaml?: string;
  rulesFile?: string;
  persist?: boolean;
  reannounce?: boolean;
}

type Send = (msgs: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;

function serveCheck(RED: NodeAPI): void {
  // The editor's "Check" button: validates the rows and YAML as the runtime would.
  RED.httpAdmin.post('/rtu-alert/check', RED.auth.needsPermission('rtu-alert.write'), (req, res) => {
    const body = (req.body ?? {}) as { rules?: unknown; yaml?: unknown };
    const set = buildRuleSet({ rules: Array.isArray(body.rules) ? body.rules : [], yaml: typeof body.yaml === 'string' ? body.yaml : undefined });
    res.json({ rules: set.rules.map((r) => r.id), problems: set.problems });
  });
}

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);
  serveCheck(RED);

  function RtuAlertNode(this: Node, config: AlertConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `alert "${config.name || node.id}"`;
    const file = config.rulesFile?.trim();
    const sources: RuleSources = {
      rules: Array.isArray(config.rules) ? config.rules : [],
      yaml: config.rulesYaml,
      file: file ? path.resolve(userDirPath(RED), file) : undefined,
    };
    const store = config.persist === false ? undefined : new ActiveAlertStore(userDirPath(RED, 'energy-rtu', `alerts-${node.id}.json`));
    const reported = new Set<string>();
    let ruleErrors = 0;
    let warnings = 0;

    const engine: AlertEngine = new AlertEngine([], {
      onChange: () => store?.schedule(() => engine.active()),
      onProblem: (p) => report(p),
    });

    function report(p: RuleProblem): void {
      if (reported.has(p.message)) return;
      reported.add(p.message);
      if (p.level === 'error') {
        ruleErrors++;
        node.error(`${label}: ${p.message}`);
      } else {
        warnings++;
        node.warn(`${label}: ${p.message}`);
      }
      showStatus();
    }

    function showStatus(): void {
      const rules = engine.rules.length;
      const active = engine.activeCount;
      if (store?.lastError) return node.status(status.error(shortText(store.lastError.message)));
      if (ruleErrors) return node.status(status.error(RED._('rtu-alert.status.ruleErrors', { errors: ruleErrors, rules, active })));
      const text = RED._('rtu-alert.status.active', { rules, active });
      if (testMode.enabled) return node.status(status.test(`${RED._('rtu-alert.status.test')} · ${text}`));
      if (warnings) return node.status(status.warn(`${text} · ${RED._('rtu-alert.status.warnings', { count: warnings })}`));
      node.status(active ? status.warn(text) : status.ok(text));
    }

    function emit(events: AlertPayload[], send: Send = (m) => node.send(m)): void {
      if (!events.length) return;
      const test = testMode.enabled;
      const msgs = events.map((a) => ({ topic: alertTopic(a.device, a.point), payload: test ? { ...a, test: true as const } : a }));
      send([msgs]);
      showStatus();
    }

    function load(next: RuleSources): AlertPayload[] {
      const set = buildRuleSet(next);
      ruleErrors = 0;
      warnings = 0;
      reported.clear();
      for (const p of set.problems) report(p);
      return engine.setRules(set.rules);
    }

    const startup = load(sources);
    if (store) {
      const saved = store.load();
      if (saved.error) node.warn(`${label}: ${saved.error}`);
      startup.push(...engine.restore(saved.alerts));
    }
    if (config.reannounce) startup.push(...engine.reannounce());
    showStatus();
    // Let the flow finish starting before the first messages go out.
    const startTimer = setTimeout(() => emit(startup), 50);
    const tick = setInterval(() => emit(engine.tick()), 1000);
    const onTestMode = () => showStatus();
    testMode.on('change', onTestMode);

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      const request = parseAlertRequest(msg, Date.now());
      switch (request.kind) {
        case 'reading':
          emit(engine.evaluate(request.reading), send);
          return done();
        case 'ack': {
          const acked = engine.acknowledge(request.selectors, request.by);
          if (!acked.length) return done(new Error(`${label}: no raised alert matches ${request.selectors.join(', ')}`));
          emit(acked, send);
          return done();
        }
        case 'reannounce':
          emit(engine.reannounce(), send);
          return done();
        case 'list':
          send({ topic: 'alerts/active', payload: engine.active() });
          return done();
        case 'rules':
          emit(load({ ...sources, rules: request.rules ?? sources.rules, yaml: request.yaml ?? sources.yaml }), send);
          showStatus();
          return done();
        case 'invalid':
          return done(new Error(`${label}: ${request.error}`));
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearTimeout(startTimer);
      clearInterval(tick);
      testMode.off('change', onTestMode);
      if (store) {
        if (removed) store.remove();
        else store.flush();
      }
      done();
    });
  }

  RED.nodes.registerType('rtu-alert', RtuAlertNode);
};
