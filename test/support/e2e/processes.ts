/**
 * Child processes of the end-to-end tests. Each child runs in its own process
 * group so that stopping it also stops whatever it started (npm starts a shell
 * that starts node); every child is stopped when the test ends, and when the
 * test process itself exits, even on failure.
 */
import { ChildProcess, spawn, SpawnOptions } from 'child_process';

export interface Child {
  name: string;
  proc: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `re` in the output from offset `from` on; rejects after `ms` or when the process exits. */
  waitFor(re: RegExp, ms: number, from?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const running = new Set<Child>();

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => {
  for (const c of running) killGroup(c.proc, 'SIGKILL');
});
// The test runner stops a file that runs too long with a signal: take the children along.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of running) killGroup(c.proc, 'SIGKILL');
    process.exit(130);
  });
}

export function start(name: string, command: string, args: string[], options: SpawnOptions = {}): Child {
  const proc = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    // Keep memory bounded on chatty children; the tail is what matters for a failure report.
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
    for (const w of watchers) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => {
      running.delete(child);
      for (const w of watchers) w();
      resolve(code);
    });
    proc.on('error', (err) => {
      out += `\n[spawn error] ${err.message}\n`;
      running.delete(child);
      resolve(null);
    });
  });

  const child: Child = {
    name,
    proc,
    exited,
    output: () => out,
    waitFor(re: RegExp, ms: number, from = 0): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.slice(from).match(re);
          if (m) {
            done();
            resolve(m);
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            done();
            reject(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before printing ${re}; output:\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${re} within ${ms} ms; output:\n${out.slice(-4000)}`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    async stop(): Promise<void> {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      killGroup(proc, 'SIGTERM');
      const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      // Whatever the child left behind in its group.
      killGroup(proc, 'SIGKILL');
    },
  };
  running.add(child);
  return child;
}

/** Runs a command to completion with a hard time limit; rejects with its output on failure. */
export async function run(name: string, command: string, args: string[], options: SpawnOptions & { timeoutMs: number }): Promise<string> {
  const child = start(name, command, args, options);
  const timer = setTimeout(() => void child.stop(), options.timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${name} failed (exit ${code}):\n${child.output().slice(-4000)}`);
  return child.output();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
}
