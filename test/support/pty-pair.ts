/**
 * A pair of connected pseudo-terminals from socat: what one side writes, the
 * other reads, like two serial adapters joined by a cable. Killing socat is
 * the adapter being unplugged.
 */
import { ChildProcess, spawn } from 'child_process';

export interface PtyPair {
  /** The client side (or the `link` symlink pointing at it when one was asked for). */
  readonly clientPath: string;
  /** The device side. */
  readonly devicePath: string;
  /** The two /dev/pts paths as socat printed them. */
  readonly ptys: [string, string];
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface PtyPairOptions {
  /** Symlink to create for the client side (socat `link=`), e.g. a stable path that survives a restart. */
  link?: string;
  timeoutMs?: number;
}

export function startPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const first = options.link ? `pty,raw,echo=0,link=${options.link}` : 'pty,raw,echo=0';
  const child = spawn('socat', ['-d', '-d', first, 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    let stderr = '';
    const ptys: string[] = [];
    const timer = setTimeout(() => {
      stop().catch(() => undefined);
      reject(new Error(`socat did not report two ptys within ${options.timeoutMs ?? 5000} ms: ${stderr}`));
    }, options.timeoutMs ?? 5000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start socat: ${err.message}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
      for (const m of text.matchAll(/PTY is (\S+)/g)) ptys.push(m[1]);
      if (ptys.length === 2 && stderr.includes('starting data transfer loop')) {
        clearTimeout(timer);
        child.stderr?.removeAllListeners('data');
        child.stderr?.resume();
        resolve({
          clientPath: options.link ?? ptys[0],
          devicePath: ptys[1],
          ptys: [ptys[0], ptys[1]],
          process: child,
          stop,
        });
      }
    });
  });
}
