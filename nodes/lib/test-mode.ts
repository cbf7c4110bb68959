/**
 * The RTU-wide test-mode switch. Publishers and notifiers consult it before
 * every delivery; the dashboard and msg-driven nodes flip it. Its state is kept
 * in a small JSON file so that it survives a restart.
 */
import { EventEmitter } from 'events';
import fs from 'fs';
import path from 'path';

export interface TestModeState {
  enabled: boolean;
  changedAt: number;
  changedBy: string;
}

export class TestModeSwitch extends EventEmitter {
  private state: TestModeState = { enabled: false, changedAt: 0, changedBy: 'default' };
  private file?: string;

  /** Binds the switch to a state file (inside the Node-RED user dir) and loads it. */
  attach(file: string): void {
    if (this.file === file) return;
    this.file = file;
    try {
      const loaded = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<TestModeState>;
      if (typeof loaded.enabled === 'boolean') {
        this.state = {
          enabled: loaded.enabled,
          changedAt: Number(loaded.changedAt) || 0,
          changedBy: String(loaded.changedBy ?? 'file'),
        };
      }
    } catch {
      // No file yet (first start) or unreadable: production mode until switched.
    }
  }

  get enabled(): boolean {
    return this.state.enabled;
  }

  snapshot(): TestModeState {
    return { ...this.state };
  }

  set(enabled: boolean, changedBy: string): void {
    if (enabled === this.state.enabled) return;
    this.state = { enabled, changedAt: Date.now(), changedBy };
    if (this.file) {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.state));
      fs.renameSync(tmp, this.file);
    }
    this.emit('change', this.snapshot());
  }
}

/** One switch per process: every node of the package shares it. */
export const testMode = new TestModeSwitch();
