/**
 * A bare MQTT server over TCP for fault injection (MQTT 3.1.1 and 5): it answers CONNECT and
 * PINGREQ, and for each QoS 1 PUBLISH asks `decide` whether to acknowledge it, refuse it with an
 * MQTT 5 reason code, or never answer. Not a broker: the real brokers (aedes, mosquitto) are
 * the peers for normal delivery; this one misbehaves on purpose.
 */
import net from 'net';
import { listenLoopback } from './loopback';

export interface StubPublish {
  topic: string;
  payload: Buffer;
  qos: number;
  packetId: number;
  /** What the stub did: 'ack', a reason code it refused with, or 'ignore' (no PUBACK ever). */
  answer: 'ack' | 'ignore' | number;
}

export type PublishDecision = 'ack' | 'ignore' | number;

export interface MqttStub {
  port: number;
  publishes: StubPublish[];
  connects: number;
  decide: (p: Omit<StubPublish, 'answer'>) => PublishDecision;
  stop(): Promise<void>;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type << 4]), varint(body.length), body]);
}

/** Reads one packet from `buf` at 0: its first byte, body and total size, or undefined when incomplete. */
function readPacket(buf: Buffer): { first: number; body: Buffer; size: number } | undefined {
  let len = 0;
  let mult = 1;
  let i = 1;
  for (;;) {
    if (i >= buf.length) return undefined;
    const b = buf[i++];
    len += (b & 0x7f) * mult;
    mult *= 128;
    if (!(b & 0x80)) break;
  }
  if (buf.length < i + len) return undefined;
  return { first: buf[0], body: buf.subarray(i, i + len), size: i + len };
}

function readVarint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let mult = 1;
  let i = at;
  for (;;) {
    const b = buf[i++];
    value += (b & 0x7f) * mult;
    mult *= 128;
    if (!(b & 0x80)) return { value, next: i };
  }
}

export async function startMqttStub(decide: MqttStub['decide'] = () => 'ack'): Promise<MqttStub> {
  const stub: MqttStub = { port: 0, publishes: [], connects: 0, decide, stop: async () => undefined };
  const server = net.createServer((socket) => {
    let version = 4;
    let pending = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      for (let p = readPacket(pending); p; p = readPacket(pending)) {
        pending = pending.subarray(p.size);
        const type = p.first >> 4;
        if (type === 1) {
          const nameLen = p.body.readUInt16BE(0);
          version = p.body[2 + nameLen];
          stub.connects++;
          socket.write(packet(2, version === 5 ? Buffer.from([0, 0, 0]) : Buffer.from([0, 0])));
        } else if (type === 3) {
          const qos = (p.first >> 1) & 3;
          const topicLen = p.body.readUInt16BE(0);
          const topic = p.body.subarray(2, 2 + topicLen).toString('utf8');
          let at = 2 + topicLen;
          const packetId = qos > 0 ? p.body.readUInt16BE(at) : 0;
          if (qos > 0) at += 2;
          if (version === 5) {
            const props = readVarint(p.body, at);
            at = props.next + props.value;
          }
          const seen = { topic, payload: Buffer.from(p.body.subarray(at)), qos, packetId };
          const answer = qos > 0 ? stub.decide(seen) : 'ack';
          stub.publishes.push({ ...seen, answer });
          if (qos === 0 || answer === 'ignore') continue;
          const id = [packetId >> 8, packetId & 0xff];
          const reason = answer === 'ack' ? 0 : answer;
          socket.write(packet(4, Buffer.from(version === 5 ? [...id, reason, 0] : id)));
        } else if (type === 12) {
          socket.write(Buffer.from([0xd0, 0]));
        } else if (type === 14) {
          socket.end();
        }
      }
    });
  });
  const { port, sockets } = await listenLoopback(server);
  stub.port = port;
  stub.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return stub;
}
