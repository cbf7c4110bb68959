/**
 * rtu-derive: derived points, site totals, interval energy and demand, as
 * readings. A thin adapter over nodes/lib/derive; its interval state is kept in
 * the user dir so a restart inside an interval resumes it.
 */
import fs from 'fs';
import path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { DeriveEngine, DeriveSnapshot } from '../lib/derive/engine';
import { problemText } from '../lib/derive/spec';
import { isReadingMessage, ReadingMessage } from '../lib/reading';
import { registryFromSettings } from '../shared/registry-endpoint';
import { attachTestMode, shortText, status, userDirPath } from '../shared/runtime';

interface DeriveConfig extends NodeDef {
  points?: unknown[];
  intervals?: unknown[];
  siteInterval?: number | string;
  staleAfter?: number | string;
  persist?: boolean;
  useProfiles?: boolean;
}

type Send = (msgs: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;

function seconds(v: unknown, fallback: number): number {
  const n = Number(v);
  return v === '' || v === undefined || !Number.isFinite(n) || n <= 0 ? fallback : n;
}

function readState(file: string): { snapshot?: DeriveSnapshot; error?: string } {
  try {
    return { snapshot: JSON.parse(fs.readFileSync(file, 'utf8')) as DeriveSnapshot };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOENT' ? {} : { error: `interval state ${file} unreadable (${e.message}); starting afresh` };
  }
}

function writeState(file: string, snapshot: DeriveSnapshot): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(snapshot));
  fs.renameSync(tmp, file);
}

export = function register(RED: NodeAPI): void {
  const testMode = attachTestMode(RED);
  const registry = registryFromSettings(RED);

  function RtuDeriveNode(this: Node, config: DeriveConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const label = `derive "${config.name || node.id}"`;
    const siteMs = seconds(config.siteInterval, 1) * 1000;
    const engine = new DeriveEngine({
      points: Array.isArray(config.points) ? config.points : [],
      intervals: Array.isArray(config.intervals) ? config.intervals : [],
      staleAfterMs: seconds(config.staleAfter, 60) * 1000,
      profilePoints: config.useProfiles === false ? undefined : (model, profile) => (profile && registry(false).models.has(model) ? registry(false).profileDerived(model, profile) : undefined),
    });
    const stateFile = config.persist === false ? undefined : userDirPath(RED, 'energy-rtu', `derive-${node.id}.json`);
    let reported = 0;
    let lastError = '';

    function reportProblems(): void {
      for (; reported < engine.problems.length; reported++) node.error(`${label}: ${problemText(engine.problems[reported])}`);
    }

    function showStatus(): void {
      if (engine.problems.length) return node.status(status.error(RED._('rtu-derive.status.problems', { count: engine.problems.length })));
      if (lastError) return node.status(status.error(shortText(lastError)));
      const text = RED._('rtu-derive.status.devices', { devices: engine.deviceCount, sites: engine.siteDevices.length });
      node.status(testMode.enabled ? status.test(text) : status.ok(text));
    }

    if (stateFile) {
      const saved = readState(stateFile);
      if (saved.error) node.warn(`${label}: ${saved.error}`);
      engine.restore(saved.snapshot);
    }
    reportProblems();
    showStatus();

    function mark(msgs: ReadingMessage[]): NodeMessage[] {
      if (testMode.enabled) for (const m of msgs) if (m.rtu.protocol === 'derived') m.rtu.test = true;
      return msgs as unknown as NodeMessage[];
    }

    function save(): void {
      if (!stateFile) return;
      try {
        writeState(stateFile, engine.snapshot());
        if (lastError) {
          lastError = '';
          showStatus();
        }
      } catch (err) {
        lastError = `${label}: cannot save interval state to ${stateFile}: ${(err as Error).message}`;
        node.error(lastError);
        showStatus();
      }
    }

    let devices = 0;
    const tick = setInterval(() => {
      const out = mark(engine.tick(Date.now()));
      if (out.length) node.send([out]);
      if (engine.problems.length > reported) {
        reportProblems();
        showStatus();
      } else if (engine.deviceCount !== devices) {
        devices = engine.deviceCount;
        showStatus();
      }
    }, siteMs);
    const saver = setInterval(save, 10_000);

    node.on('input', (msg: NodeMessageInFlow, send: Send, done: (err?: Error) => void) => {
      if (!isReadingMessage(msg)) return done(new Error(`${label}: not a reading (needs msg.payload and msg.rtu.device); topic "${String(msg.topic ?? '')}"`));
      send([mark(engine.onReading(msg as unknown as ReadingMessage))]);
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      clearInterval(tick);
      clearInterval(saver);
      if (stateFile) {
        if (removed) fs.rmSync(stateFile, { force: true });
        else save();
      }
      done();
    });
  }

  RED.nodes.registerType('rtu-derive', RtuDeriveNode);
};
