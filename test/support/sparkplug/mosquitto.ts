/** A private mosquitto for the Sparkplug tests: a free loopback port, restartable on the same port. */
import { spawn, ChildProcess } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(300, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export class TestMosquitto {
  private child?: ChildProcess;
  private constructor(readonly port: number, private readonly conf: string) {}

  static async start(dir: string): Promise<TestMosquitto> {
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    // `user`: a mosquitto started as root would switch to the "mosquitto" user otherwise.
    fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest none', `user ${os.userInfo().username}`, ''].join('\n'));
    const broker = new TestMosquitto(port, conf);
    await broker.resume();
    return broker;
  }

  /** Starts (again) on the same port. */
  async resume(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', this.conf], { stdio: 'ignore' });
    this.child = child;
    const end = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (Date.now() > end || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`mosquitto did not start on port ${this.port}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
}
