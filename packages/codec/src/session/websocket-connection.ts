/**
 * The connection users hold, the same on every runtime, and the driver behind it.
 *
 * The driver runs the codec against a {@link Transport}: after every input (bytes, EOF, a
 * timer) and every command (send, close) it takes the codec's outputs and writes them in one
 * vectored `write`, dispatches the codec's events to listeners and to the `for await` queue,
 * and keeps one deadline, the earliest (the codec's, or the drain timeout), in the sweep its
 * server's connections share (`deadline-sweep.ts`: one host timer for them all). A
 * listener that calls back into the connection (send inside 'message') does not recurse: its
 * output is picked up by the loop already running.
 *
 * Nothing received is dropped for want of a consumer: a message that finds no 'message'
 * listener and no `for await` loop is held, in order, and the first consumer to come gets the
 * held ones on a microtask (the rules are in {@link WebSocketConnection}'s doc).
 *
 * Memory is bounded both ways: the send buffer by `maxBufferedAmount` (beyond it the peer is
 * taken to have stopped reading and the connection is terminated), the receive side by
 * `maxQueuedMessages`: while that many messages are held, or wait in the iteration queue, the
 * transport is paused and the codec's already-received bytes stay unparsed (so the count never
 * passes the bound until the peer's EOF). Protocol rules all live in the codec.
 */
import type { Connection } from '../connection.ts';
import { WebSocketUsageError } from '../errors.ts';
import type { CloseInfo, Event, HandshakeResponse, MessageKind } from '../events.ts';
import { formatExtensionHeader } from '../handshake/header-values.ts';
import { encodeUtf8 } from '../utf8.ts';
import {
  ASSEMBLE,
  BACKLOG,
  DESTROYED,
  ENDED,
  EOF,
  FLUSH_QUEUED,
  HELD_FULL,
  HOLDING,
  LOCAL_CLOSE,
  NEED_DRAIN,
  PONGS_HELD,
  PUBLISHED,
  PUMPING,
  QUEUE_PAUSED,
  READ_ALL,
  RECEIVE_FULL,
  SERVER_PAUSED,
  TERMINATED,
  TRANSPORT_CLOSED,
  TRANSPORT_PAUSED,
  USER_PAUSED,
} from './connection-flags.ts';
import { Trouble, handshakeError, sessionCloseInfo } from './connection-end.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import type {
  ConnectionEvents,
  FragmentOptions,
  ReadyState,
  SendOptions,
  SendResult,
  SessionRequest,
} from './connection-types.ts';
import { ConnectionDriver, type ConnectionInit, type Driver, wireConnections } from './connection-wiring.ts';
import { controlBytes, toBytes, type SendData } from './data.ts';
import { Emitter, microtask, reportError } from './emitter.ts';
import { WebSocketError, type SessionCloseInfo, type SessionErrorCode } from './errors.ts';
import { Fifo } from './fifo.ts';
import { type Held, flush, hasConsumer, hold, iterate, provideReceiveAccess, scheduleFlush } from './held-messages.ts';
import { HandshakeState } from './handshake-state.ts';
import type { Message, MessageQueue } from './message-queue.ts';
import type { ResolvedSessionOptions } from './options.ts';
import { publishDelivery, publishedBytes, writePublished } from './publish-batch.ts';
import type { ServerBudget } from './server-budget.ts';
import { UNSCHEDULED } from './deadline-sweep.ts';
import { OutputProgress, armDeadline, cancelDeadline, provideSweepHooks } from './session-timer.ts';
import { describeTransportError } from './transport-error.ts';
import type { Transport } from './transport.ts';
import { Subscription, Topics, checkTopic, setTopicDelivery, type PublishOptions } from './topics.ts';

const ignore = (): void => {};

/** The array `#perform` lends the transport for its writes, while not lent. */
let spareChunks: Uint8Array[] | null = [];

/**
 * Pongs are held once the transport holds this many bytes (or `highWaterMark`, when lower): a ping
 * flood from a peer that does not read then costs that much plus one pong, and a transport that
 * keeps a few frames for a moment still answers every ping.
 */
const PONG_HOLD_BYTES = 16 * 1024;

/** The promises `opened` and `closed`: made when first asked for (most connections are never awaited). */
interface Promises {
  opened: Promise<WebSocketConnection> | null;
  closed: Promise<SessionCloseInfo> | null;
  resolveClosed: ((info: SessionCloseInfo) => void) | null;
}

/**
 * A WebSocket connection, client or server, on any transport. `T` is the type of {@link data},
 * the application's per-connection value (`createServer<T>()`).
 *
 * **Receiving: nothing is dropped for want of a consumer.** The consumers of messages are the
 * 'message' listeners and one `for await` loop (`'fragment'` listeners when `assembleMessages`
 * is false). From the moment the connection opens:
 * - a message that arrives while there is no consumer is *held*, in arrival order; so are the
 *   ones after it, while any are held (nothing overtakes a held message);
 * - attaching a consumer (`on`/`once('message')`, starting a `for await` loop) delivers the held
 *   messages in order on a microtask, so the caller's synchronous setup (more listeners, a
 *   'close' listener) finishes first. A listener and a loop present together each get every
 *   message, as a listener and the loop do for live messages;
 * - reading pauses while `maxQueuedMessages` are held (or wait in the loop's queue) and
 *   resumes once a quarter of that is left: memory stays bounded by what the application lets
 *   in, as with a Node `Readable` before it flows;
 * - close: messages that arrived before it reach the consumers present before `close` fires
 *   and before the loop ends. With no consumer at all, they stay held (`close` is not delayed):
 *   a consumer attached later still gets them, and a loop started later yields them, then ends;
 * - a loop left early (`break`) puts the messages it had not taken back in front of the held
 *   ones (unless 'message' listeners, which have seen them, are attached);
 * - after `terminate()`, or a failure that terminates, new messages are dropped; held ones stay.
 */
export class WebSocketConnection<T = unknown> extends Emitter<ConnectionEvents> implements AsyncIterable<Message> {
  // Fields are few on purpose: an idle server holds one of these per connection. What only some
  // connections need (promises, drain waiters, the driver) is made on first use.
  readonly #codec: Connection;
  readonly #transport: Transport;
  readonly #options: ResolvedSessionOptions;
  /**
   * The handshake phase: what only the handshake needs, let go of once open (kept after a failed
   * handshake, for `opened`). Null exactly when the handshake succeeded.
   */
  #hs: HandshakeState | null;
  #driver: Driver | null = null;

  #request: SessionRequest | null = null;
  #promises: Promises | null = null;

  #flags = 0;
  /** Where the connection waits in its server's deadline sweep (`session-timer.ts`), or UNSCHEDULED. */
  #slot = UNSCHEDULED;

  // Transport and ending
  #troubleState: Trouble | null = null;
  #trouble(): Trouble {
    return (this.#troubleState ??= new Trouble());
  }
  #info: SessionCloseInfo | null = null;

  // Flow control
  #drainWaiters: Array<() => void> | null = null;
  /** When `bufferedAmount` must have fallen to `highWaterMark`, or -1: a small integer, not a boxed Infinity. */
  #drainDeadline = -1;
  #queue: MessageQueue | null = null;
  /** Messages (or fragment events) no consumer has taken yet: made on the first one held. */
  #held: Fifo<Held> | null = null;
  /** With idle or keepalive on, once open: see {@link OutputProgress}. */
  #live: OutputProgress | null = null;
  /** Server: its registry, replaced by a {@link Subscription} at the first subscribe; null on a client. */
  #topics: Topics | Subscription | null = null;

  // A server's registry of live connections (see connection-registry.ts) and the neighbours there.
  #tracker: ConnectionRegistry | null = null;
  #prevTracked: WebSocketConnection | null = null;
  #nextTracked: WebSocketConnection | null = null;
  /** Server: the budget shared by the server's connections, and our backlog as last reported to it. */
  readonly #budget: ServerBudget | null;
  #reported = 0;

  /**
   * The application's value for this connection: on a server, what `verifyClient` answered as
   * `{ data }` (before the `connection` event), else undefined until you set it.
   */
  data: T = undefined as T;

  static {
    provideSweepHooks({
      slot: (c) => c.#slot,
      setSlot: (c, slot) => {
        c.#slot = slot;
      },
      fire: (c) => c.#fire(),
    });
    wireConnections(
      {
        data: (c, chunk) => c.#onData(chunk),
        drain: (c) => {
          c.#moved();
          c.#onDrain();
          if (c.#budget !== null && c.#reported !== 0) c.#report(c.#budget, c.bufferedAmount);
        },
        end: (c) => c.#onEnd(),
        close: (c, error) => c.#onClose(error),
        pump: (c) => c.#pump(),
        send: (c, command) => {
          c.#codec.send(command);
          c.#pump();
        },
        queue: (c, command) => c.#codec.send(command),
        receiveRequestHead: (c, head) => {
          c.#codec.receiveRequestHead(head);
          c.#pump();
        },
        headers: (c, headers) => {
          c.#codec.receiveHeaders(headers);
          c.#pump();
        },
        transport: (c) => c.#transport,
        reportBacklog: (c, bytes = c.bufferedAmount) => {
          if (c.#budget !== null) c.#report(c.#budget, bytes);
          return bytes;
        },
        serverPause: (c, on) => {
          c.#set(SERVER_PAUSED, on);
          c.#applyFlow();
        },
        serverEvict: (c, message) => {
          if (c.#info !== null) return;
          if (c.#codec.state === 'open') c.#codec.send({ type: 'close', code: 1013 });
          c.#fail('SERVER_BUFFER_OVERFLOW', message);
        },
        openError: (c) => c.#hs?.openError ?? null,
      },
      {
        join: (c, registry) => {
          const tail = registry.tail;
          c.#tracker = registry;
          c.#prevTracked = tail;
          if (tail !== null) tail.#nextTracked = c;
          else registry.head = c;
          registry.tail = c;
          registry.size++;
        },
        registryOf: (c) => c.#tracker,
        next: (c) => c.#nextTracked,
        wasOpen: (c) => c.#hs === null,
      },
      (c) => (c.#driver ??= new ConnectionDriver(c)),
    );
    provideReceiveAccess({
      has: (c, bits) => (c.#flags & bits) !== 0,
      set: (c, bit, on) => c.#set(bit, on),
      held: (c) => c.#held,
      makeHeld: (c) => (c.#held = new Fifo()),
      queue: (c) => c.#queue,
      setQueue: (c, queue) => (c.#queue = queue),
      maxQueuedMessages: (c) => c.#options.maxQueuedMessages,
      closed: (c) => c.#info !== null,
      emitMessage: (c, data, isBinary) => c.emit2('message', data, isBinary as true),
      emitFragment: (c, event) =>
        c.emit('fragment', event.data, { kind: event.kind, first: event.first, fin: event.fin }),
      applyFlow: (c) => c.#applyFlow(),
      pump: (c) => c.#pump(),
    });
    setTopicDelivery(
      publishDelivery({
        codec: (c) => c.#codec,
        topics: (c) => c.#topics,
        published: (c) => (c.#flags & PUBLISHED) !== 0,
        setPublished: (c, on) => c.#set(PUBLISHED, on),
        writable: (c) => (c.#flags & TERMINATED) === 0,
        mayPublish: (c, bytes, topics) => c.#mayPublish(bytes, topics),
        afterSend: (c) => c.#afterSend(),
      }),
    );
  }

  /** Leave the registry (the connection has ended). */
  #leaveRegistry(): void {
    const registry = this.#tracker;
    if (registry === null) return;
    const prev = this.#prevTracked;
    const next = this.#nextTracked;
    if (prev !== null) prev.#nextTracked = next;
    else registry.head = next;
    if (next !== null) next.#prevTracked = prev;
    else registry.tail = prev;
    this.#prevTracked = this.#nextTracked = null;
    this.#tracker = null;
    registry.size--;
    if (this.#hs === null) registry.openCount--; // it had opened
    registry.left();
  }

  /** @internal Use `ServerSession` or `connectSession` (or an adapter's `createServer`/`connect`). */
  constructor(init: ConnectionInit) {
    super();
    this.#codec = init.codec;
    this.#transport = init.transport;
    this.#options = init.options;
    if (init.assembleMessages) this.#flags = ASSEMBLE;
    this.#budget = init.budget ?? null;
    this.#hs = new HandshakeState(init.peer ?? null, init.owner, init.hooks ?? null);
    if (init.topics !== undefined) this.#topics = init.topics;
  }

  // Flags are read and written through these, never through private accessors (`get #x()`):
  // V8 calls the runtime for every use of a private accessor, even in optimized code.
  /** Any of `bits` is set. */
  #flag(bits: number): boolean {
    return (this.#flags & bits) !== 0;
  }

  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** Resolves with this connection once open; rejects with a {@link HandshakeError} (client). */
  get opened(): Promise<WebSocketConnection> {
    const promises = (this.#promises ??= { opened: null, closed: null, resolveClosed: null });
    if (promises.opened === null) {
      const hs = this.#hs;
      promises.opened = hs === null ? Promise.resolve(this) : hs.openedPromise(this);
      // A failed handshake is reported through `opened`, `error` and `close`: awaiting `opened` is optional.
      promises.opened.catch(ignore);
    }
    return promises.opened;
  }

  /** Resolves once the connection is gone, with how it ended. Never rejects. */
  get closed(): Promise<SessionCloseInfo> {
    const promises = (this.#promises ??= { opened: null, closed: null, resolveClosed: null });
    if (promises.closed === null) {
      const info = this.#info;
      promises.closed =
        info !== null ? Promise.resolve(info) : new Promise((resolve) => (promises.resolveClosed = resolve));
    }
    return promises.closed;
  }

  // ───────────────────────────── state ─────────────────────────────

  get readyState(): ReadyState {
    if (this.#info !== null) return 'closed';
    switch (this.#codec.state) {
      case 'handshake':
      case 'awaiting-accept':
        return 'connecting';
      case 'open':
        return this.#flag(TERMINATED) ? 'closing' : 'open';
      default:
        return 'closing';
    }
  }

  /** The negotiated subprotocol, or `''`. */
  get protocol(): string {
    return this.#codec.protocol ?? '';
  }

  /** The negotiated extensions as a `Sec-WebSocket-Extensions` value, or `''`. */
  get extensions(): string {
    const extensions = this.#codec.extensions;
    return extensions.length === 0
      ? ''
      : formatExtensionHeader(extensions.map((e) => ({ name: e.name, params: e.params })));
  }

  /** Server: the upgrade request. Null on a client. */
  get request(): SessionRequest | null {
    return this.#request;
  }

  /** Client: the server's handshake response, once it arrived. */
  get response(): HandshakeResponse | null {
    return this.#codec.response;
  }

  /**
   * The HTTP version of the handshake: `'2'` for an extended CONNECT on an HTTP/2 stream (RFC
   * 8441; many WebSockets then share one TCP connection), `'1.1'` for an upgrade.
   */
  get httpVersion(): '1.1' | '2' {
    return this.#codec.http2 ? '2' : '1.1';
  }

  /** Client: the URL connected to. */
  get url(): string | null {
    const url = this.#codec.url;
    return url === null ? null : `${url.secure ? 'wss' : 'ws'}://${url.hostHeader}${url.target}`;
  }

  /** Wire bytes accepted by `send()` (and control frames, and publishes) and not yet handed to the OS. */
  get bufferedAmount(): number {
    const queued = this.#codec.pendingOutputBytes + this.#transport.bufferedAmount;
    return (this.#flags & PUBLISHED) === 0 ? queued : queued + publishedBytes(this);
  }

  /**
   * Messages received and not yet taken by the application: held for want of a consumer, plus
   * those waiting in the `for await` loop's queue. Reading pauses while this is at
   * `maxQueuedMessages` (fragments, in streaming mode, count one each).
   */
  get queuedMessages(): number {
    return (this.#held?.length ?? 0) + (this.#queue?.length ?? 0);
  }

  /** How the connection ended, once `close` has fired; else null. */
  get closeInfo(): SessionCloseInfo | null {
    return this.#info;
  }

  // ───────────────────────────── sending ─────────────────────────────

  /**
   * Send a message: a string as text, bytes as binary. Returns what became of it (see
   * {@link SendResult}): `'sent'`; `'buffered'` when `bufferedAmount` has reached
   * `highWaterMark` (it will go out: wait for `drain()` before sending more); `'dropped'` when
   * the connection is closing or closed (as browsers drop silently). Large byte payloads are
   * sent without a copy on a server: do not change them until drained.
   */
  send(data: SendData, options?: SendOptions): SendResult {
    const compress = options?.compress;
    // Checked before the state, as before: a bad argument throws even on a closed connection.
    const bytes = typeof data === 'string' ? null : toBytes(data, 'data');
    if (!this.#mayWrite('send')) return 'dropped';
    if (bytes === null) this.#codec.sendText(data as string, compress);
    else this.#codec.sendBinary(bytes, compress);
    return this.#afterSend();
  }

  /**
   * Streaming send: one frame of a message (`fin` ends it). A message in progress must be
   * finished before another starts. Bytes are binary unless `options.kind` is `'text'`. Same
   * result as `send()`.
   */
  sendFragment(data: SendData, fin: boolean, options?: FragmentOptions): SendResult {
    const kind: MessageKind = typeof data === 'string' ? 'text' : (options?.kind ?? 'binary');
    const bytes = typeof data === 'string' ? encodeUtf8(data) : toBytes(data, 'data');
    if (!this.#mayWrite('sendFragment')) return 'dropped';
    this.#codec.send({ type: 'fragment', kind, data: bytes, fin, compress: options?.compress });
    return this.#afterSend();
  }

  /** Send a ping (≤ 125 bytes; a string is sent as UTF-8). Same result as `send()` (`'dropped'` once closing). */
  ping(data?: SendData): SendResult {
    const bytes = controlBytes(data, 'ping data');
    if (!this.#mayWrite('ping')) return 'dropped';
    this.#codec.send({ type: 'ping', data: bytes });
    return this.#afterSend();
  }

  /** Send an unsolicited pong (≤ 125 bytes). Same result as `send()` (`'dropped'` once closing). */
  pong(data?: SendData): SendResult {
    const bytes = controlBytes(data, 'pong data');
    if (!this.#mayWrite('pong')) return 'dropped';
    this.#codec.send({ type: 'pong', data: bytes });
    return this.#afterSend();
  }

  /**
   * Start the closing handshake (RFC 6455 §7): send a Close frame with `code` and `reason`
   * (≤ 123 UTF-8 bytes); `closed` resolves once the peer answered and TCP is gone. Before the
   * handshake completes, aborts it. Invalid arguments throw, even when already closing.
   */
  close(code?: number, reason?: string): void {
    const before = this.#codec.state;
    if ((this.#flags & PUBLISHED) !== 0) writePublished(this); // what was published to it goes before the Close
    this.#codec.send({ type: 'close', code, reason });
    if (before === 'handshake' || before === 'awaiting-accept') this.#trouble().error ??= 'ABORTED';
    if (before === 'open') {
      // Read on to the peer's Close even with messages held (the loop below takes the backlog).
      this.#flags = (this.#flags | LOCAL_CLOSE) & ~BACKLOG;
      this.#applyFlow();
    }
    this.#pump();
  }

  /** Drop the connection now, without a closing handshake. */
  terminate(): void {
    if (this.#info !== null) return;
    const state = this.#codec.state;
    this.#abort(state === 'handshake' || state === 'awaiting-accept' ? 'ABORTED' : null);
  }

  /** Resolves once `bufferedAmount` is at most the low-water mark (at once if it is), or the connection is gone. */
  drain(): Promise<void> {
    if (this.#info !== null || this.#flag(DESTROYED) || this.bufferedAmount <= this.#options.lowWaterMark)
      return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  // ───────────────────────────── topics ─────────────────────────────

  #registry(what: string): Topics {
    const topics = this.#topics;
    if (topics === null) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `${what}() needs a server connection with topics: a client has none, and handleUpgrade needs the option topics: createTopics()`,
      );
    }
    return topics instanceof Subscription ? topics.registry : topics;
  }

  /** Server: receive what is published to `topic` (on this server, or any through its broker). */
  subscribe(topic: string): void {
    checkTopic(topic);
    const registry = this.#registry('subscribe');
    if (this.#info !== null) return; // closed: it would never leave the topic
    let subscription = this.#topics;
    if (!(subscription instanceof Subscription)) this.#topics = subscription = new Subscription(registry);
    registry.subscribe(this, subscription, topic);
  }

  /** Server: stop receiving `topic`. Closing leaves every topic. */
  unsubscribe(topic: string): void {
    checkTopic(topic);
    const registry = this.#registry('unsubscribe');
    const subscription = this.#topics;
    if (subscription instanceof Subscription) registry.unsubscribe(this, subscription, topic);
  }

  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    const subscription = this.#topics;
    return subscription instanceof Subscription && subscription.names.has(topic);
  }

  /** The topics this connection subscribes to, in the order subscribed. */
  get topics(): string[] {
    const subscription = this.#topics;
    return subscription instanceof Subscription ? [...subscription.names] : [];
  }

  /** The same as `topics` (Bun's name). */
  get subscriptions(): string[] {
    return this.topics;
  }

  /**
   * Server: publish `data` to every subscriber of `topic` but this connection (which need not
   * subscribe), here and through the server's broker. Returns how many local subscribers it
   * was written to. `options` may be Bun's `compress` boolean.
   */
  publish(topic: string, data: SendData, options?: PublishOptions | boolean): number {
    return this.#registry('publish').publishFrom(this, topic, data, options);
  }

  /** A published message of `bytes` may be written: else dropped for this one (or, as configured, terminate). */
  #mayPublish(bytes: number, topics: Topics): boolean {
    if (this.#flag(TERMINATED) || this.#info !== null) return false;
    const buffered = this.bufferedAmount;
    if (buffered === 0 || buffered + bytes <= topics.backpressureLimit) return true;
    if (topics.closeOnBackpressureLimit) {
      this.#fail(
        'BACKPRESSURE_LIMIT',
        `${buffered} bytes wait to be sent: a published message would pass backpressureLimit (${topics.backpressureLimit})`,
      );
    }
    return false;
  }

  // ───────────────────────────── receiving ─────────────────────────────

  /** Stop reading from the peer (the transport's own backpressure reaches the peer). */
  pause(): void {
    this.#flags |= USER_PAUSED;
    this.#applyFlow();
  }

  resume(): void {
    this.#flags &= ~USER_PAUSED;
    this.#applyFlow();
  }

  /**
   * Iterate over messages (strings for text, bytes for binary) until the connection closes:
   * first those held because nobody consumed them yet (a loop started after an `await` misses
   * nothing), then each as it arrives. While `maxQueuedMessages` wait for the loop, reading
   * pauses. Breaking out of the loop does not close the connection, and the messages it had
   * not taken wait for the next consumer. One loop at a time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return iterate(this);
  }

  // ───────────────────────────── transport handlers ─────────────────────────────

  #onData(chunk: Uint8Array): void {
    if ((this.#flags & EOF) !== 0) return;
    this.#codec.receiveData(chunk);
    this.#pump();
  }

  #onEnd(): void {
    if (!this.#flag(EOF)) {
      this.#flags |= EOF;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  #onDrain(): void {
    if (this.#flag(PONGS_HELD) && this.#transport.bufferedAmount === 0) {
      // Drained: pongs are queued one per ping again, and the one held goes now.
      this.#flags &= ~PONGS_HELD;
      this.#codec.holdPongs(false);
      if (this.#codec.hasOutput && !this.#flag(PUMPING)) {
        this.#pump(); // comes back here through #afterPump
        return;
      }
    }
    if (this.#drainWaiters === null && !this.#flag(NEED_DRAIN) && this.#drainDeadline < 0) return;
    const buffered = this.bufferedAmount;
    if (buffered <= this.#options.highWaterMark) this.#drainDeadline = -1;
    if (buffered > this.#options.lowWaterMark) return;
    this.#drained();
  }

  #onClose(error?: unknown): void {
    if (this.#flag(TRANSPORT_CLOSED)) return;
    this.#flags |= TRANSPORT_CLOSED | DESTROYED;
    if (this.#codec.closeInfo === null && !this.#flag(TERMINATED) && error !== undefined && error !== null) {
      const trouble = this.#trouble();
      trouble.error ??= 'TRANSPORT_ERROR';
      trouble.cause = error;
      trouble.lastProblem = describeTransportError(error).text;
      this.emit(
        'error',
        new WebSocketError('TRANSPORT_ERROR', `the connection failed: ${trouble.lastProblem}`, null, error),
      );
    }
    if (!this.#flag(EOF)) {
      this.#flags |= EOF;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  // ───────────────────────────── the driver ─────────────────────────────

  #mayWrite(what: string): boolean {
    const state = this.#codec.state;
    if (state === 'handshake' || state === 'awaiting-accept') {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `${what}() before the connection is open: await connection.opened first`,
      );
    }
    if (state !== 'open' || this.#flag(TERMINATED)) return false;
    if ((this.#flags & PUBLISHED) !== 0) writePublished(this); // what was published to it comes first
    return true;
  }

  #afterSend(): SendResult {
    this.#pump();
    // Terminated meanwhile (the send overflowed maxBufferedAmount): it will never leave.
    if (this.#flag(DESTROYED)) return 'dropped';
    if (this.bufferedAmount < this.#options.highWaterMark) return 'sent';
    this.#flags |= NEED_DRAIN;
    return 'buffered';
  }

  /** Take outputs and events until the codec has none; then bound the buffer and re-arm the timer. */
  #pump(): void {
    if ((this.#flags & PUMPING) !== 0) return; // the loop already running picks it up
    this.#flags |= PUMPING;
    const codec = this.#codec;
    try {
      // Every pending event first, then every output in one transport write: the echoes of a
      // read that held many frames (and the pongs, and what listeners sent) leave together.
      for (;;) {
        // While the application holds maxQueuedMessages unconsumed, the rest stays in the codec
        // (one read's bytes at most: the transport is paused), until the peer's EOF.
        while ((this.#flags & RECEIVE_FULL) === 0 || (this.#flags & READ_ALL) !== 0) {
          const next = codec.nextEventOrMessage();
          if (next === null) break;
          // A whole message comes as its data alone (no event object): the hot path.
          if (typeof next === 'string') this.#onMessage(next, false);
          else if (next instanceof Uint8Array) this.#onMessage(next, true);
          else this.#dispatch(next);
        }
        if ((this.#flags & RECEIVE_FULL) !== 0 && (this.#flags & READ_ALL) === 0) this.#flags |= BACKLOG;
        if (!codec.hasOutput) break;
        this.#perform();
      }
    } finally {
      this.#flags &= ~PUMPING;
    }
    this.#afterPump();
  }

  /** Hand the codec's output to the transport: its writes as one vectored write, then a shutdown or destroy. */
  #perform(): void {
    const codec = this.#codec;
    // One array for every connection's writes, lent to the transport for the call (a write that
    // re-enters a session meanwhile gets an array of its own).
    const chunks = spareChunks ?? [];
    spareChunks = null;
    if (codec.hasPendingPong) {
      // Bytes go to the transport anyway: the held pong goes with them (never held indefinitely
      // behind a stream whose buffer does not run dry), and holding goes on for the next ones.
      codec.holdPongs(false);
      codec.holdPongs(true);
    }
    codec.takeWrites(chunks);
    if (chunks.length > 0) this.#write(chunks);
    // Emptied with pop(): `length = 0` is a runtime call in V8, pop() of one or two is inline.
    while (chunks.length > 0) chunks.pop();
    spareChunks = chunks;
    if (!codec.hasOutput) return;
    // What follows the writes: a shutdown, a destroy (takeWrites took every write before them).
    for (const output of codec.takeOutput()) {
      if (output.type === 'write') this.#write([output.data]);
      else if (output.type === 'shutdown') this.#end();
      else if (output.type === 'head') this.#head(output.headers);
      else this.#destroy();
    }
  }

  #write(chunks: Uint8Array[]): void {
    if ((this.#flags & (DESTROYED | ENDED)) !== 0) return;
    if (this.#live !== null) this.#live.written(chunks);
    this.#transport.write(chunks);
  }

  /** The transport handed queued bytes to the OS: activity, and maybe our ping has left. */
  #moved(): void {
    this.#live?.moved(this.#transport.bufferedAmount, this.#codec);
  }

  /** HTTP/2: a header list for the transport (one that cannot send one cannot carry this connection). */
  #head(headers: Array<[string, string]>): void {
    if ((this.#flags & (DESTROYED | ENDED)) !== 0) return;
    const transport = this.#transport;
    if (transport.head === undefined) this.#destroy();
    else transport.head(headers);
  }

  #end(): void {
    if (this.#flag(DESTROYED | ENDED)) return;
    this.#flags |= ENDED;
    this.#transport.end();
  }

  #destroy(): void {
    if (this.#flag(DESTROYED)) return;
    this.#flags |= DESTROYED;
    this.#transport.destroy();
  }

  #onMessage(data: string | Uint8Array, isBinary: boolean): void {
    // One test for the common case: nothing held, not terminated.
    if ((this.#flags & (TERMINATED | HOLDING)) !== 0) {
      if ((this.#flags & TERMINATED) === 0) hold(this, data);
      return;
    }
    const queue = this.#queue;
    if (queue !== null) queue.push(data);
    if (!this.emit2('message', data, isBinary) && queue === null) hold(this, data);
  }

  protected override listenerAdded(type: string): void {
    if ((this.#flags & HOLDING) !== 0 && type === ((this.#flags & ASSEMBLE) !== 0 ? 'message' : 'fragment'))
      scheduleFlush(this);
  }

  #dispatch(event: Event): void {
    switch (event.type) {
      case 'text':
        this.#onMessage(event.data, false);
        return;
      case 'binary':
        this.#onMessage(event.data, true);
        return;
      case 'fragment':
        if (this.#flag(TERMINATED)) return;
        if (this.#flag(HOLDING) || this.listenerCount('fragment') === 0) hold(this, event);
        else this.emit('fragment', event.data, { kind: event.kind, first: event.first, fin: event.fin });
        return;
      case 'ping':
        this.emit('ping', event.data);
        return;
      case 'pong':
        this.emit('pong', event.data);
        return;
      case 'close':
        return; // the peer's Close; the codec answers it, `close` fires once TCP is gone.
      case 'open':
        this.#opened();
        return;
      case 'protocol-error':
        // A failure the session already knows of (the transport's, our own abort) caused it: keep its message.
        if (this.#flag(TERMINATED) || this.#trouble().error !== null) return;
        this.#trouble().lastProblem = event.message;
        this.emit('error', new WebSocketError(event.code, event.message, event.closeCode));
        return;
      case 'closed': {
        const hs = this.#hs;
        if (hs !== null) hs.failed(handshakeError(event.info, this.#troubleState, hs, this.#codec));
        return;
      }
      default:
        if (this.#hs !== null) this.#handshakeEvent(this.#hs, event);
        return;
    }
  }

  /** An event of the handshake phase (the codec yields them only then). */
  #handshakeEvent(hs: HandshakeState, event: Event): void {
    switch (event.type) {
      case 'request':
        this.#request = hs.request(event.request);
        hs.requested(this, this.#request);
        return;
      case 'rejected':
        hs.rejection = { response: event.response, body: event.body };
        return;
      case 'http-request':
        hs.httpRequest(this, event.request, event.body);
        return;
      case 'http-body':
        hs.exchange?.body(event.data);
        return;
      case 'http-body-end':
        hs.exchange?.end();
        return;
    }
  }

  /** The handshake succeeded: let go of its phase, start the open connection's parts, tell everyone. */
  #opened(): void {
    const hs = this.#hs;
    if (hs === null) return;
    this.#hs = null;
    if (this.#tracker !== null) this.#tracker.openCount++;
    const options = this.#options;
    if (options.idleTimeout > 0 || options.keepaliveInterval > 0) this.#live = new OutputProgress();
    hs.opened(this);
    this.#budget?.opened(this);
    this.emit('open');
  }

  #afterPump(): void {
    if (this.#info !== null) return;
    const options = this.#options;
    if (!this.#flag(DESTROYED)) {
      const transportBuffered = this.#transport.bufferedAmount;
      const buffered = this.#codec.pendingOutputBytes + transportBuffered;
      const holdAt = options.highWaterMark < PONG_HOLD_BYTES ? options.highWaterMark : PONG_HOLD_BYTES;
      if (transportBuffered > 0 && transportBuffered >= holdAt && !this.#flag(PONGS_HELD)) {
        // Backed up: until it drains, pongs wait in the codec, one for the latest ping (§5.5.3),
        // so that a peer flooding pings while it does not read costs one pong, not one per ping.
        // Not from the first queued byte: a transport keeps a few frames for a moment in normal
        // traffic (Bun's socket before it takes them, an HTTP/2 stream waiting for its window),
        // and a peer that reads wants a pong for each ping (conformance 2.10: ten of them).
        this.#flags |= PONGS_HELD;
        this.#codec.holdPongs(true);
      }
      if (buffered > options.maxBufferedAmount) {
        this.#fail(
          'SEND_BUFFER_OVERFLOW',
          `${buffered} bytes wait to be sent, over maxBufferedAmount (${options.maxBufferedAmount}): the peer is not reading`,
        );
        return;
      }
      if (this.#budget !== null && buffered !== this.#reported) this.#report(this.#budget, buffered);
      if (options.drainTimeout > 0 && buffered > options.highWaterMark && this.#drainDeadline < 0) {
        this.#drainDeadline = options.clock() + options.drainTimeout;
      }
      // Bytes the codec held (a send() from a listener while this loop ran) may have gone through a
      // transport that took them all at once (Bun, Deno): no onDrain will come for them.
      this.#onDrain();
    }
    if (this.#flag(TRANSPORT_CLOSED) && this.#codec.closeInfo !== null) {
      this.#finish(this.#codec.closeInfo);
      return;
    }
    this.#arm();
  }

  /** Tell the server's budget our backlog (it may pause reading everywhere, or terminate us). */
  #report(budget: ServerBudget, buffered: number): void {
    const before = this.#reported;
    this.#reported = buffered;
    budget.report(buffered, before);
  }

  /**
   * One deadline in the sweep, the earliest (the codec's, or the drain timeout): see
   * `armDeadline`. Asked after every pump, so it reads two numbers and compares: no clock, and
   * no heap update while the deadline stays where it is (the codec moves its keepalive and idle
   * deadlines only at a deadline).
   */
  #arm(): void {
    const codec = this.#codec;
    let due = codec.nextDeadline();
    if (due === 0) {
      // A timed wait began in the codec (a close, the open connection's keepalive): its clock starts now.
      codec.tick(this.#options.clock());
      if (codec.hasOutput) {
        this.#pump(); // comes back here, with the wait started
        return;
      }
      due = codec.nextDeadline();
    }
    const scheduled = this.#slot >= 0;
    // Most connections need no deadline once open: nothing more to work out.
    if (!scheduled && due === null && this.#drainDeadline < 0) return;
    armDeadline(this, scheduled, due, this.#drainDeadline, this.#options);
  }

  /** The deadline came (the sweep has taken the connection out: `#arm` puts it back for the next). */
  #fire(): void {
    const now = this.#options.clock();
    if (this.#drainDeadline >= 0 && now >= this.#drainDeadline) {
      if (this.bufferedAmount > this.#options.highWaterMark) {
        this.#fail(
          'DRAIN_TIMEOUT',
          `bufferedAmount stayed above highWaterMark (${this.#options.highWaterMark}) for ${this.#options.drainTimeout} ms`,
        );
        return;
      }
      this.#drainDeadline = -1;
    }
    const codec = this.#codec;
    const live = this.#live;
    if (live === null) {
      codec.tick(now);
      this.#pump();
      return;
    }
    const backlog = this.#transport.bufferedAmount;
    const newPing = live.tick(codec, now, backlog);
    this.#pump();
    if (newPing && codec.awaitingPong) live.pingQueued(backlog, this.#transport.bufferedAmount);
  }

  /** The session's own failure: report it, then terminate. */
  #fail(code: SessionErrorCode, message: string): void {
    if (this.#codec.closeInfo === null) {
      this.#trouble().error ??= code;
      this.#trouble().lastProblem = message;
      this.emit('error', new WebSocketError(code, message));
    }
    this.#abort(null);
  }

  #abort(error: SessionErrorCode | null): void {
    if (error !== null && this.#codec.closeInfo === null) this.#trouble().error ??= error;
    this.#flags |= TERMINATED;
    this.#destroy();
    if (!this.#flag(EOF)) {
      this.#flags |= EOF;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    if (waiters !== null) {
      this.#drainWaiters = null;
      for (const resolve of waiters) resolve();
    }
    if (this.#flag(NEED_DRAIN)) {
      this.#flags &= ~NEED_DRAIN;
      if (this.#info === null) this.emit('drain');
    }
  }

  #applyFlow(): void {
    const pause =
      (this.#flag(USER_PAUSED | SERVER_PAUSED) || (this.#flag(RECEIVE_FULL) && !this.#flag(LOCAL_CLOSE))) &&
      this.#info === null;
    if (pause === this.#flag(TRANSPORT_PAUSED)) return;
    this.#set(TRANSPORT_PAUSED, pause);
    if (pause) {
      this.#codec.pauseLiveness(true);
      this.#transport.pause?.();
      return;
    }
    // Idle and keepalive stood still while we did not read: they start afresh.
    this.#codec.pauseLiveness(false);
    if (this.#live !== null) this.#live.behind = 0;
    this.#transport.resume?.();
    if (this.#info === null && !this.#flag(PUMPING)) this.#arm();
  }

  #finish(codecInfo: CloseInfo): void {
    const info = sessionCloseInfo(codecInfo, this.#troubleState);
    this.#info = info;
    const topics = this.#topics;
    if (topics instanceof Subscription) topics.registry.leaveAll(this, topics);
    if (this.#slot !== UNSCHEDULED) cancelDeadline(this, this.#options);
    this.#drained();
    // What arrived before the close reaches the consumers there are before `close` fires (with
    // none, it stays held for the first to come).
    if (this.#flag(HOLDING) && hasConsumer(this)) flush(this);
    if (!this.#flag(HOLDING)) this.#queue?.end();
    this.#flags &= ~(USER_PAUSED | QUEUE_PAUSED | HELD_FULL | BACKLOG | SERVER_PAUSED);
    this.#leaveRegistry();
    if (this.#budget !== null) {
      const before = this.#reported;
      this.#reported = 0;
      this.#budget.closed(this, before);
    }
    const promises = this.#promises;
    if (promises !== null) {
      promises.resolveClosed?.(info);
      promises.resolveClosed = null;
    }
    this.emit('close', info);
  }
}
