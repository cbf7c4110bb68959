/**
 * One verification at a time per process: a second "verify" while a run is
 * going joins that run instead of reading every device twice. The session
 * keeps the last report, so a dashboard opened later still shows it.
 */
import { EventEmitter } from 'events';
import type { Fleet } from '../fleet';
import type { TestModeState } from '../test-mode';
import type { VerifyProgress, VerifyReport } from './types';
import { verifyDevices, VerifyOptions } from './verify';

/** What the test-mode panel renders: the switch and the verification, in one message. */
export interface TestModePanel {
  testMode: TestModeState;
  verification: {
    running: boolean;
    progress?: VerifyProgress;
    report?: VerifyReport;
  };
}

export class VerifySession extends EventEmitter {
  private running?: Promise<VerifyReport>;
  private starting = false;
  private progress?: VerifyProgress;
  private report?: VerifyReport;

  constructor(private readonly fleet: Pick<Fleet, 'list'>) {
    super();
  }

  /** True from the moment a run is asked for (progress listeners already see it). */
  get busy(): boolean {
    return !!this.running || this.starting;
  }

  get lastReport(): VerifyReport | undefined {
    return this.report;
  }

  /** Starts a run, or joins the one going; emits 'progress' and 'report'. */
  run(options: Omit<VerifyOptions, 'onProgress'> = {}): Promise<VerifyReport> {
    if (this.running) return this.running;
    const devices = this.fleet.list();
    this.progress = { done: 0, total: devices.length };
    this.starting = true;
    const run = verifyDevices(devices, {
      ...options,
      onProgress: (p) => {
        this.progress = p;
        this.emit('progress', p);
      },
    }).then((report) => {
      this.report = report;
      this.running = undefined;
      this.progress = undefined;
      this.emit('report', report);
      return report;
    });
    this.running = run;
    this.starting = false;
    return run;
  }

  panel(testMode: TestModeState): TestModePanel {
    return {
      testMode,
      verification: { running: this.busy, progress: this.progress, report: this.report },
    };
  }
}
