/**
 * A {@link Broker} over Redis pub/sub (through `ioredis`), for servers in many processes — on
 * Node, Deno or Bun — sharing one Redis: a publish on any of them reaches the subscribers of
 * every one.
 *
 * - One Redis channel per topic (`prefix + topic`). A process subscribes to a channel only while
 *   one of its servers has a local subscriber to the topic (counted across the servers that
 *   joined this broker), and unsubscribes when the last one goes.
 * - Every message carries this broker's id: the process that published it has already delivered
 *   it to its own servers (synchronously, in `publish`) and ignores it when Redis echoes it back,
 *   so no one gets it twice.
 * - Delivery is **at most once**, as Redis pub/sub's: a message published while Redis (or the
 *   connection to it) is down, or while a subscriber process is reconnecting, is lost for the
 *   processes that did not get it. Order is kept per publishing process. For stronger guarantees
 *   (replay after a reconnect, acknowledgements), carry messages in a Redis Stream (`XADD` with
 *   a bounded `MAXLEN`, each process reading with `XREAD BLOCK` from the last id it saw) behind
 *   this same `Broker` interface.
 * - When Redis goes away, servers keep serving their local subscribers and local publishes;
 *   publishes meant for other processes are dropped (counted in `dropped`). ioredis reconnects
 *   with a bounded back-off; once both connections are ready again every wanted channel is
 *   subscribed again and fan-out resumes. Each change of `status` is an event and one log line,
 *   never one per message.
 */
// The emitter alone: `@ws/codec/session` would bring the session layer into the bundle (its connection
// wires itself up as its module loads, which a bundler keeps).
import { Emitter } from '@ws/codec/emitter';
import type { Broker, BrokerLink, BrokerMember, BrokerMessage } from '@ws/codec/session';
import { Buffer } from 'node:buffer';
import { Redis, type RedisOptions } from 'ioredis';

export type RedisBrokerStatus = 'connecting' | 'ready' | 'down' | 'closed';

export interface RedisBrokerOptions {
  /** Where Redis is, e.g. `redis://127.0.0.1:6379` (the default). */
  url?: string;
  /** Prefix of every channel name (default `'ws:'`): lets several applications share a Redis. */
  prefix?: string;
  /** Longest wait between two reconnection attempts, in ms (default 2000). */
  maxReconnectDelay?: number;
  /** Where the status changes are logged, one line each (default `console.warn`); null: silent. */
  log?: ((message: string) => void) | null;
  /** More ioredis options, for both connections (TLS, password, …). */
  redis?: RedisOptions;
}

export interface RedisBrokerEvents {
  [event: string]: unknown[];
  /** `status` changed; `error` is the connection's last error when it went down. */
  status: [status: RedisBrokerStatus, error: Error | null];
}

const VERSION = 1;
const BINARY = 1;
const HAS_COMPRESS = 2;
const COMPRESS = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** 16 hex digits, random: this broker's (this process's) id on the wire. */
function randomId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface Joined {
  member: BrokerMember;
  topics: Set<string>;
}

export class RedisBroker extends Emitter<RedisBrokerEvents> implements Broker {
  /** This broker's id, carried by every message it publishes. */
  readonly id: string = randomId();
  readonly url: string;
  readonly prefix: string;
  #status: RedisBrokerStatus = 'connecting';
  /** Publishes not carried to other processes because Redis was not ready. */
  dropped = 0;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #log: ((message: string) => void) | null;
  readonly #members = new Set<Joined>();
  /** Topic → how many joined servers have local subscribers to it. */
  readonly #wanted = new Map<string, number>();
  readonly #idBytes: Uint8Array;
  #lastError: Error | null = null;
  #wasReady = false;
  #readyWaiters: Array<() => void> = [];

  constructor(options: RedisBrokerOptions = {}) {
    super();
    this.url = options.url ?? 'redis://127.0.0.1:6379';
    this.prefix = options.prefix ?? 'ws:';
    if (typeof this.prefix !== 'string') throw new TypeError(`prefix must be a string, got ${typeof this.prefix}`);
    const maxDelay = options.maxReconnectDelay ?? 2000;
    if (typeof maxDelay !== 'number' || !(maxDelay > 0))
      throw new RangeError(`maxReconnectDelay must be a number > 0, got ${String(maxDelay)}`);
    this.#log = options.log === undefined ? (message) => console.warn(message) : options.log;
    this.#idBytes = encoder.encode(this.id);
    const common: RedisOptions = {
      ...options.redis,
      // We resubscribe ourselves once ready, and never queue: a message that cannot go now is
      // dropped (at most once), not delivered late in a burst.
      autoResubscribe: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    };
    this.#pub = new Redis(this.url, { ...common, connectionName: `ws-pub-${this.id}` });
    this.#sub = new Redis(this.url, { ...common, connectionName: `ws-sub-${this.id}` });
    for (const connection of [this.#pub, this.#sub]) {
      connection.on('error', (error: Error) => (this.#lastError = error));
      connection.on('ready', () => this.#onReady());
      connection.on('close', () => this.#onDown());
    }
    this.#sub.on('messageBuffer', (channel: Uint8Array, payload: Uint8Array) => this.#onMessage(channel, payload));
  }

  /** `connecting` (never ready yet), `ready`, `down` (reconnecting), `closed`. */
  get status(): RedisBrokerStatus {
    return this.#status;
  }

  /** Resolves once both connections are ready (at once if they are). */
  ready(): Promise<void> {
    if (this.#status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  /** The topics this process listens to on Redis now. */
  get channels(): string[] {
    return [...this.#wanted.keys()];
  }

  join(member: BrokerMember): BrokerLink {
    const joined: Joined = { member, topics: new Set() };
    this.#members.add(joined);
    return {
      subscribe: (topic) => {
        if (joined.topics.has(topic)) return;
        joined.topics.add(topic);
        this.#want(topic, +1);
      },
      unsubscribe: (topic) => {
        if (!joined.topics.delete(topic)) return;
        this.#want(topic, -1);
      },
      publish: (topic, message) => this.#publish(joined, topic, message),
      close: () => {
        if (!this.#members.delete(joined)) return;
        for (const topic of joined.topics) this.#want(topic, -1);
        joined.topics.clear();
      },
    };
  }

  /** Leave Redis: both connections quit. Servers keep their local topics. */
  async close(): Promise<void> {
    if (this.#status === 'closed') return;
    this.#setStatus('closed', null);
    await Promise.all(
      [this.#pub, this.#sub].map((connection) =>
        connection.quit().then(
          () => undefined,
          () => connection.disconnect(),
        ),
      ),
    );
  }

  #want(topic: string, delta: number): void {
    const count = (this.#wanted.get(topic) ?? 0) + delta;
    const channel = this.prefix + topic;
    if (count > 0) {
      this.#wanted.set(topic, count);
      if (count === 1 && delta > 0 && this.#status === 'ready') this.#sub.subscribe(channel).catch(() => {});
      return;
    }
    this.#wanted.delete(topic);
    if (this.#status === 'ready') this.#sub.unsubscribe(channel).catch(() => {});
  }

  #publish(from: Joined, topic: string, message: BrokerMessage): void {
    // The other servers of this process first, synchronously (Redis' echo of it is ignored).
    for (const joined of this.#members)
      if (joined !== from && joined.topics.has(topic)) joined.member.deliver(topic, message);
    if (this.#status !== 'ready') {
      this.dropped++;
      return;
    }
    this.#pub.publish(this.prefix + topic, Buffer.from(this.#encode(message))).catch(() => this.dropped++);
  }

  /** [version][flags][id length][id][data]. */
  #encode(message: BrokerMessage): Uint8Array {
    const binary = typeof message.data !== 'string';
    const data = typeof message.data === 'string' ? encoder.encode(message.data) : message.data;
    const id = this.#idBytes;
    const out = new Uint8Array(3 + id.length + data.length);
    out[0] = VERSION;
    out[1] =
      (binary ? BINARY : 0) | (message.compress === undefined ? 0 : HAS_COMPRESS | (message.compress ? COMPRESS : 0));
    out[2] = id.length;
    out.set(id, 3);
    out.set(data, 3 + id.length);
    return out;
  }

  #onMessage(channelBytes: Uint8Array, payload: Uint8Array): void {
    // Not ours, malformed, or our own echo: ignored.
    if (payload.length < 3 || payload[0] !== VERSION) return;
    const idLength = payload[2] ?? 0; // at least three bytes here
    if (payload.length < 3 + idLength) return;
    const id = this.#idBytes;
    if (idLength === id.length) {
      let same = true;
      for (let i = 0; i < idLength; i++) {
        if (payload[3 + i] !== id[i]) {
          same = false;
          break;
        }
      }
      if (same) return;
    }
    const channel = decoder.decode(channelBytes);
    if (!channel.startsWith(this.prefix)) return;
    const topic = channel.slice(this.prefix.length);
    const flags = payload[1] ?? 0;
    // Bytes of its own: ioredis' buffer may be a view of a larger one it reuses.
    const body = payload.slice(3 + idLength);
    const message: BrokerMessage = { data: (flags & BINARY) !== 0 ? body : decoder.decode(body) };
    if ((flags & HAS_COMPRESS) !== 0) message.compress = (flags & COMPRESS) !== 0;
    for (const joined of this.#members) if (joined.topics.has(topic)) joined.member.deliver(topic, message);
  }

  #onReady(): void {
    if (this.#status === 'closed' || this.#pub.status !== 'ready' || this.#sub.status !== 'ready') return;
    const channels = [...this.#wanted.keys()].map((topic) => this.prefix + topic);
    if (channels.length > 0) this.#sub.subscribe(...channels).catch(() => {});
    const again = this.#wasReady;
    this.#wasReady = true;
    this.#setStatus('ready', null);
    if (again)
      this.#log?.(
        `@ws/redis: Redis at ${this.url} is back; ${channels.length} channel(s) subscribed again, fan-out resumed`,
      );
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #onDown(): void {
    if (this.#status === 'closed' || this.#status === 'down') return;
    if (this.#status === 'connecting' && this.#lastError === null) return; // not tried yet
    const error = this.#lastError;
    this.#setStatus('down', error);
    this.#log?.(
      `@ws/redis: lost Redis at ${this.url}${error === null ? '' : ` (${error.message})`}; serving local subscribers only, reconnecting (publishes to other processes are dropped meanwhile)`,
    );
  }

  #setStatus(status: RedisBrokerStatus, error: Error | null): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status, error);
  }
}
