/**
 * Topics: publish/subscribe over a server's connections, the same on every runtime, with the
 * meaning of Bun's (`ws.subscribe`, `ws.publish` to every subscriber but the sender,
 * `server.publish` to every subscriber).
 *
 * A publish frames a message once and writes the same bytes to every subscriber's transport: a
 * server's frames are unmasked, so they do not differ between connections. With an extension
 * such as permessage-deflate the codec says, per connection, under which key its frame is
 * shareable (`Connection.sharedFrameKey`): without context takeover a message is compressed
 * once per distinct setting; with context takeover each such subscriber compresses it through
 * its own stream (the only correct bytes for it). A subscriber whose backlog would pass
 * `backpressureLimit` does not get the message (or, with `closeOnBackpressureLimit`, is
 * terminated): a slow subscriber never holds back the others.
 *
 * Cross-process delivery goes through a {@link Broker}: the registry tells it which topics have
 * local subscribers and hands it every publish; the broker hands back what other servers
 * published. The codec knows nothing of topics.
 */
import type { Connection } from '../connection.ts';
import { WebSocketUsageError, describe } from '../errors.ts';
import type { MessageKind } from '../events.ts';
import { encodeUtf8 } from '../utf8.ts';
import type { Broker, BrokerLink, BrokerMessage } from './broker.ts';
import { toBytes, type SendData } from './data.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** Bun's default `backpressureLimit`: 16 MiB. */
export const DEFAULT_BACKPRESSURE_LIMIT = 16 * 1024 * 1024;

export interface PublishOptions {
  /** Per-message compression wish when permessage-deflate is active (as `send()`'s). */
  compress?: boolean;
}

export interface TopicOptions {
  /**
   * A published message is not written to a subscriber whose `bufferedAmount` would pass this
   * many bytes (a subscriber with nothing buffered always gets it). Default 16 MiB, as Bun's.
   */
  backpressureLimit?: number;
  /**
   * When a subscriber reaches `backpressureLimit`, terminate it (error `BACKPRESSURE_LIMIT`)
   * instead of skipping the message for it. Default false, as Bun's.
   */
  closeOnBackpressureLimit?: boolean;
  /**
   * Where publishes go beyond this server, and where other servers' publishes come from.
   * Default: none (this server's subscribers only). An `InProcessBroker` shared by several
   * servers of one process, or `RedisBroker` from `@ws/redis` across processes.
   */
  broker?: Broker;
}

/**
 * @internal What the registry needs of a connection's driver, set by `websocket-connection.ts`
 * (a setter rather than an import: the connection imports this module).
 */
export interface TopicDelivery {
  codec(connection: WebSocketConnection): Connection;
  /** Write frames made once for many; false when not written (closing, mid-fragment, backlog). */
  framed(connection: WebSocketConnection, frames: readonly Uint8Array[], bytes: number, topics: Topics): boolean;
  /** The connection frames the message itself (context takeover); same result as `framed`. */
  own(
    connection: WebSocketConnection,
    kind: MessageKind,
    payload: Uint8Array,
    compress: boolean | undefined,
    topics: Topics,
  ): boolean;
}

let delivery: TopicDelivery;

/** @internal */
export function setTopicDelivery(value: TopicDelivery): void {
  delivery = value;
}

/** A connection's topics, made at its first subscribe (an idle connection holds only the registry). */
export class Subscription {
  readonly registry: Topics;
  readonly names: Set<string> = new Set<string>();
  /**
   * @internal Frames published to this connection in the current task and not yet handed to its
   * codec: entries `from` to `to` (excluded) of the task's frame log, `bytes` in all (see
   * `publishedTo` in `publish-batch.ts`).
   */
  from = 0;
  /** @internal */
  to = 0;
  /** @internal */
  bytes = 0;
  constructor(registry: Topics) {
    this.registry = registry;
  }
}

/** A topic name: a string (any, including ''), checked once at the API. */
export function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string')
    throw new WebSocketUsageError('INVALID_ARGUMENT', `a topic must be a string, got ${describe(topic)}`);
  return topic;
}

/** The compress wish of `options`, which may be Bun's boolean. */
function compressOf(options: PublishOptions | boolean | undefined): boolean | undefined {
  if (options === undefined) return undefined;
  if (typeof options === 'boolean') return options;
  if (typeof options !== 'object' || options === null) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `publish options must be an object or a boolean (compress), got ${describe(options)}`,
    );
  }
  return options.compress;
}

/** Frames made for one publish: one entry per distinct shared-frame key. */
interface Framed {
  frames: Uint8Array[];
  bytes: number;
}

function framedOf(frames: Uint8Array[]): Framed {
  let bytes = 0;
  for (const frame of frames) bytes += frame.length;
  return { frames, bytes };
}

/**
 * One server's topics: which connections subscribe to what, and publishing to them. Made by
 * every adapter's server (`server.topics`); `createTopics()` makes one for connections upgraded
 * one by one (`handleUpgrade(..., { topics })`).
 */
export class Topics {
  readonly #subscribers = new Map<string, Set<WebSocketConnection>>();
  readonly backpressureLimit: number;
  readonly closeOnBackpressureLimit: boolean;
  readonly #link: BrokerLink | null;

  constructor(options: TopicOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `topic options must be an object, got ${describe(options)}`);
    }
    const limit = options.backpressureLimit ?? DEFAULT_BACKPRESSURE_LIMIT;
    if (typeof limit !== 'number' || !(limit >= 0) || !Number.isFinite(limit)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `backpressureLimit must be a finite number ≥ 0, got ${describe(limit)}`,
      );
    }
    const close = options.closeOnBackpressureLimit ?? false;
    if (typeof close !== 'boolean') {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `closeOnBackpressureLimit must be a boolean, got ${describe(close)}`,
      );
    }
    this.backpressureLimit = limit;
    this.closeOnBackpressureLimit = close;
    const broker = options.broker;
    if (broker !== undefined && (typeof broker !== 'object' || broker === null || typeof broker.join !== 'function')) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `broker must be a Broker (an object with join()), got ${describe(broker)}`,
      );
    }
    this.#link =
      broker === undefined ? null : broker.join({ deliver: (topic, message) => this.#deliverRemote(topic, message) });
  }

  /** Topics with at least one subscriber here. */
  get names(): string[] {
    return [...this.#subscribers.keys()];
  }

  /** How many connections here subscribe to `topic` (as Bun's `server.subscriberCount`). */
  subscriberCount(topic: string): number {
    return this.#subscribers.get(checkTopic(topic))?.size ?? 0;
  }

  /**
   * Send `data` (a string as text, bytes as binary) to every subscriber of `topic` here, and
   * through the broker to every other server's. Returns how many local subscribers it was
   * written to (Bun returns bytes; a count says more here: the frame is the same for all).
   * Delivery to other servers is at most once (see the broker).
   */
  publish(topic: string, data: SendData, options?: PublishOptions | boolean): number {
    return this.publishFrom(null, topic, data, options);
  }

  /** @internal `ws.publish`: every subscriber but `sender`. */
  publishFrom(
    sender: WebSocketConnection | null,
    topic: string,
    data: SendData,
    options?: PublishOptions | boolean,
  ): number {
    checkTopic(topic);
    const compress = compressOf(options);
    const bytes = typeof data === 'string' ? null : toBytes(data, 'data');
    if (this.#link !== null) {
      // The broker may keep the message: bytes of its own (the caller may reuse its buffer).
      const message: BrokerMessage = bytes === null ? { data: data as string } : { data: bytes.slice() };
      if (compress !== undefined) message.compress = compress;
      this.#link.publish(topic, message);
    }
    return this.#deliver(topic, bytes === null ? (data as string) : bytes, compress, sender);
  }

  /** Leave the broker (the server is closing). Subscriptions stay as they are. */
  close(): void {
    this.#link?.close();
  }

  /** @internal */
  subscribe(connection: WebSocketConnection, subscription: Subscription, topic: string): void {
    if (subscription.names.has(topic)) return;
    subscription.names.add(topic);
    let set = this.#subscribers.get(topic);
    if (set === undefined) {
      this.#subscribers.set(topic, (set = new Set()));
      this.#link?.subscribe(topic);
    }
    set.add(connection);
  }

  /** @internal */
  unsubscribe(connection: WebSocketConnection, subscription: Subscription, topic: string): void {
    if (!subscription.names.delete(topic)) return;
    this.#leave(connection, topic);
  }

  /** @internal The connection closed: out of every topic. */
  leaveAll(connection: WebSocketConnection, subscription: Subscription): void {
    for (const topic of subscription.names) this.#leave(connection, topic);
    subscription.names.clear();
  }

  #leave(connection: WebSocketConnection, topic: string): void {
    const set = this.#subscribers.get(topic);
    if (set === undefined) return;
    set.delete(connection);
    if (set.size === 0) {
      this.#subscribers.delete(topic);
      this.#link?.unsubscribe(topic);
    }
  }

  #deliverRemote(topic: string, message: BrokerMessage): void {
    this.#deliver(topic, message.data, message.compress, null);
  }

  /** Frame once per shared-frame key, write to every subscriber but `except`. */
  #deliver(
    topic: string,
    data: string | Uint8Array,
    compress: boolean | undefined,
    except: WebSocketConnection | null,
  ): number {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined) return 0;
    const kind: MessageKind = typeof data === 'string' ? 'text' : 'binary';
    const payload = typeof data === 'string' ? encodeUtf8(data) : data;
    const length = payload.length;
    let plain: Framed | null = null;
    let keyed: Map<string, Framed> | null = null;
    let written = 0;
    for (const connection of subscribers) {
      if (connection === except) continue;
      const codec = delivery.codec(connection);
      if (!codec.canSendFramed) continue; // closing, or sending a fragmented message: skipped
      const key = codec.sharedFrameKey(length, compress);
      let ok: boolean;
      if (key === null) {
        ok = delivery.own(connection, kind, payload, compress, this);
      } else if (key === '') {
        plain ??= framedOf(codec.frameShared(kind, payload, compress));
        ok = delivery.framed(connection, plain.frames, plain.bytes, this);
      } else {
        keyed ??= new Map();
        let framed = keyed.get(key);
        if (framed === undefined) keyed.set(key, (framed = framedOf(codec.frameShared(kind, payload, compress))));
        ok = delivery.framed(connection, framed.frames, framed.bytes, this);
      }
      if (ok) written++;
    }
    return written;
  }
}

/** A registry for connections upgraded one by one (e.g. `handleUpgrade`); servers make their own. */
export function createTopics(options?: TopicOptions): Topics {
  return new Topics(options);
}
