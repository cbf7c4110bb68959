/**
 * A minimal SNTP client (RFC 4330) to tell how far this machine's clock is
 * from an NTP server: readings carry timestamps, and a wrong clock puts them
 * in the wrong place on every chart.
 *
 * One 48-byte request (version 4, mode 3, our send time in the transmit
 * field); the answer must be mode 4 from a synchronised server (stratum 1-15)
 * and echo our send time as its originate time. With t1 send, t2 server
 * receive, t3 server transmit, t4 our receive:
 *   offset = ((t2 - t1) + (t3 - t4)) / 2,  delay = (t4 - t1) - (t3 - t2)
 */
import dgram from 'dgram';
import net from 'net';

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2208988800;
const PACKET = 48;

export interface SntpResult {
  server: string;
  /** Server clock minus local clock (ms): positive when this machine is behind. */
  offsetMs: number;
  /** Round trip minus server processing (ms). */
  delayMs: number;
  stratum: number;
}

export interface SntpOptions {
  port?: number;
  timeoutMs?: number;
  /** Local clock, for tests. */
  now?: () => number;
}

export class SntpError extends Error {}

export function writeNtpTime(buf: Buffer, offset: number, ms: number): void {
  const seconds = Math.floor(ms / 1000) + NTP_UNIX_OFFSET;
  const fraction = Math.round(((ms % 1000) / 1000) * 2 ** 32);
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(Math.min(fraction, 0xffffffff) >>> 0, offset + 4);
}

export function readNtpTime(buf: Buffer, offset: number): number {
  const seconds = buf.readUInt32BE(offset);
  const fraction = buf.readUInt32BE(offset + 4);
  return (seconds - NTP_UNIX_OFFSET) * 1000 + (fraction * 1000) / 2 ** 32;
}

export function sntpQuery(host: string, options: SntpOptions = {}): Promise<SntpResult> {
  const port = options.port ?? 123;
  const timeoutMs = options.timeoutMs ?? 3000;
  const now = options.now ?? Date.now;
  const where = `NTP server ${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    let t1 = 0;
    let sent: Buffer;
    const finish = (err: Error | undefined, result?: SntpResult) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.close();
      if (err) reject(err);
      else resolve(result as SntpResult);
    };
    const timer = setTimeout(() => finish(new SntpError(`${where}: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (err) => finish(new SntpError(`${where}: ${err.message}`)));
    socket.on('message', (msg) => {
      const t4 = now();
      const problem = checkAnswer(msg, sent);
      // A stray or forged datagram is ignored; the timeout reports silence.
      if (problem === 'not ours') return;
      if (problem) return finish(new SntpError(`${where}: ${problem}`));
      const t2 = readNtpTime(msg, 32);
      const t3 = readNtpTime(msg, 40);
      finish(undefined, {
        server: `${host}:${port}`,
        offsetMs: round((t2 - t1 + (t3 - t4)) / 2),
        delayMs: round(Math.max(0, t4 - t1 - (t3 - t2))),
        stratum: msg[1],
      });
    });
    const request = Buffer.alloc(PACKET);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    t1 = now();
    writeNtpTime(request, 40, t1);
    sent = request;
    socket.send(request, port, host, (err) => {
      if (err) finish(new SntpError(`${where}: ${err.message}`));
    });
  });
}

/** Why an answer cannot be used; 'not ours' for datagrams that do not answer our request. */
function checkAnswer(msg: Buffer, request: Buffer): string | undefined {
  if (msg.length < PACKET) return 'not ours';
  if (!msg.subarray(24, 32).equals(request.subarray(40, 48))) return 'not ours';
  const mode = msg[0] & 7;
  const version = (msg[0] >> 3) & 7;
  const leap = msg[0] >> 6;
  if (mode !== 4) return `answer has mode ${mode}, expected 4 (server)`;
  if (version < 1 || version > 4) return `answer has NTP version ${version}`;
  const stratum = msg[1];
  if (stratum === 0) {
    const code = msg.subarray(12, 16).toString('ascii').replace(/\0+$/, '');
    return `server refused (kiss-o'-death "${code}")`;
  }
  if (leap === 3 || stratum > 15) return 'server clock is not synchronised';
  if (msg.readUInt32BE(40) === 0 && msg.readUInt32BE(44) === 0) return 'answer has no transmit time';
  return undefined;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
