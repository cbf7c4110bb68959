/**
 * Readings to an MQTT broker: shaped (interval, aggregate, report by exception), turned into
 * one message per device or per point, queued durably, and drained in order over the shared
 * broker link with up to `maxInFlight` messages awaiting their PUBACK/PUBCOMP.
 *
 * Every payload carries `id` (the queue id, stable across retries and restarts); on MQTT 5
 * the id and the test flag are also user properties.
 */
import { Backoff, RateLimiter } from './backoff';
import { LinkDown, LinkState, MqttLink, PublishRejected, QoS } from './mqtt-link';
import { LaneControl, PublisherOptions, PublisherState, QueuedPublisher } from './publisher';
import type { PublishRecord } from './record';
import { deviceBody, pointBodies } from './bodies';
import { Shaper, ShaperOptions } from './shaper';
import { renderTopic } from './template';
import type { QueueEntry } from '../queue/durable-queue';

export interface MqttItem {
  /** Topic without the test prefix. */
  topic: string;
  body: Record<string, unknown>;
  test?: boolean;
}

export interface MqttPublisherOptions extends PublisherOptions {
  link: MqttLink;
  /** e.g. `site/{device}/measurements`; see template.ts. */
  topic: string;
  split: 'device' | 'point';
  qos: QoS;
  retain: boolean;
  /** Prefix for test-mode topics (e.g. `test/`); empty = test messages only go to the dry-run output. */
  testTopicPrefix: string;
  shaping: ShaperOptions;
  /** QoS 1/2 messages awaiting acknowledgement at once (capped by the broker's receive maximum). */
  maxInFlight?: number;
}

export interface MqttPreview {
  topic: string;
  payload: Record<string, unknown>;
  qos: QoS;
  retain: boolean;
}

const LINK_TO_STATE: Record<LinkState, PublisherState> = {
  idle: 'connecting',
  connecting: 'connecting',
  connected: 'connected',
  down: 'down',
  failed: 'failed',
};

export class MqttPublisher extends QueuedPublisher<MqttItem> {
  private readonly shaper: Shaper;
  private readonly onLinkState = (state: LinkState, error: string | null): void => {
    if (this.state !== 'stopped') this.setState(LINK_TO_STATE[state], error);
    this.wake();
  };

  constructor(private readonly opt: MqttPublisherOptions) {
    super(opt);
    this.shaper = new Shaper(opt.shaping, (r) => this.publishRecord(r));
    opt.link.on('state', this.onLinkState);
    this.setState(LINK_TO_STATE[opt.link.state], opt.link.lastError);
  }

  get target(): string {
    return this.opt.link.target;
  }

  /** Takes one reading record; what comes out (and when) depends on the shaping options. */
  add(record: PublishRecord): void {
    this.shaper.add(record);
  }

  override async stop(): Promise<void> {
    // Windows collected so far are published (queued) rather than lost on a redeploy.
    this.shaper.flush();
    this.shaper.stop();
    this.opt.link.off('state', this.onLinkState);
    await super.stop();
  }

  private itemsFor(r: PublishRecord): MqttItem[] {
    const fields = { device: r.device, line: r.line, model: r.model, profile: r.profile, unitId: r.unitId };
    if (this.opt.split === 'device') {
      return [{ topic: renderTopic(this.opt.topic, fields), body: deviceBody(r), test: r.test || undefined }];
    }
    return pointBodies(r).map(({ point, body }) => ({ topic: renderTopic(this.opt.topic, { ...fields, point }), body, test: r.test || undefined }));
  }

  private publishRecord(r: PublishRecord): void {
    for (const item of this.itemsFor(r)) {
      try {
        this.enqueue(item, !!item.test);
      } catch (err) {
        this.emit('error-log', `${this.opt.owner}: cannot queue the message for ${item.topic}: ${(err as Error).message}`);
        continue;
      }
      if (item.test) {
        const preview: MqttPreview = { topic: this.topicFor(item), payload: item.body, qos: this.opt.qos, retain: this.opt.retain };
        this.emit('dry-run', preview);
      }
    }
  }

  private topicFor(item: MqttItem): string {
    return item.test ? `${this.opt.testTopicPrefix}${item.topic}` : item.topic;
  }

  protected async runLane(ctl: LaneControl<MqttItem>): Promise<void> {
    const link = this.opt.link;
    const queue = ctl.queue;
    const rate = new RateLimiter(this.opt.maxRatePerS ?? 0);
    const hold = new Backoff({ minMs: 1000, maxMs: 60_000 });
    let holdUntil = 0;
    let inFlight = 0;
    // Seq of the oldest message that failed while newer ones were on the wire: until the window
    // has drained, nothing new is sent and the newer ones go back to the queue even when the
    // broker took them, so they are sent again after it and the last copy of each arrives in order.
    let rewindFrom = Infinity;
    let settled: (() => void) | undefined;
    const oneSettled = (): Promise<void> => new Promise<void>((resolve) => (settled = resolve));
    // Wakes on a settled message, on stop (the sleeper) or after a second: a broker that never
    // acknowledges must not hold a close.
    const settledOrStop = (): Promise<void> => Promise.race([oneSettled(), ctl.sleeper.sleep(1000)]);

    const send = (e: QueueEntry<MqttItem>): void => {
      inFlight++;
      const payload = JSON.stringify({ id: e.id, ...e.item.body });
      const userProperties: Record<string, string> = { id: e.id };
      if (e.item.test) userProperties.test = 'true';
      link.publish(this.topicFor(e.item), payload, { qos: this.opt.qos, retain: this.opt.retain, userProperties }).then(
        () => {
          if (e.seq > rewindFrom) {
            queue.nack(e);
            return;
          }
          queue.ack(e);
          this.delivered++;
          hold.reset();
        },
        async (err: Error) => {
          if (err instanceof PublishRejected && err.permanent) {
            const aside = await this.setAside({ reason: err.message, target: this.target, items: [{ id: e.id, item: e.item }] });
            if (aside) queue.ack(e);
            else {
              rewindFrom = Math.min(rewindFrom, e.seq);
              queue.nack(e);
            }
            return;
          }
          rewindFrom = Math.min(rewindFrom, e.seq);
          queue.nack(e);
          if (err instanceof PublishRejected) {
            // Not authorized, quota exceeded...: keep the messages and try again later.
            holdUntil = Date.now() + hold.next();
            this.setState('blocked', err.message);
          } else if (!(err instanceof LinkDown)) {
            this.emit('error-log', `${this.opt.owner}: publish failed: ${err.message}`);
          }
        },
      ).finally(() => {
        inFlight--;
        if (inFlight === 0) rewindFrom = Infinity;
        const s = settled;
        settled = undefined;
        if (s) s();
      });
    };

    while (!ctl.stopping()) {
      const wait = holdUntil - Date.now();
      if (ctl.paused() || !link.connected || wait > 0) {
        await ctl.sleeper.sleep(wait > 0 ? Math.min(wait, 1000) : 500);
        continue;
      }
      if (this.state === 'blocked') this.setState('connected', null);
      const window = this.opt.qos === 0 ? 1000 : Math.max(1, Math.min(this.opt.maxInFlight ?? 500, link.receiveMaximum));
      if (inFlight >= window || rewindFrom !== Infinity) {
        await settledOrStop();
        continue;
      }
      const batch = await queue.take(Math.min(window - inFlight, 500));
      if (!batch.length) {
        await queue.waitForItems(500);
        continue;
      }
      for (let i = 0; i < batch.length; i++) {
        const delay = rate.delay();
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (!link.connected || ctl.stopping() || holdUntil > Date.now()) {
          queue.nack(batch.slice(i));
          break;
        }
        send(batch[i]);
      }
    }
    // Give messages already on the wire a moment to be confirmed; the rest are sent again next time.
    const deadline = Date.now() + 2000;
    while (inFlight > 0 && Date.now() < deadline) {
      await Promise.race([oneSettled(), new Promise((r) => setTimeout(r, 100))]);
    }
  }
}
