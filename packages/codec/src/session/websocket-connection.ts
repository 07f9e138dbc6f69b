/**
 * The connection users hold, the same on every runtime: its events, its state (read from the
 * codec's), sending with backpressure, closing, topics and iteration. The driver behind it (the
 * loop that runs the codec against a transport, timers, flow control, how it ends) is a
 * {@link SessionCore} it holds privately; receiving when messages wait is in held-messages.ts.
 *
 * Nothing received is dropped for want of a consumer: a message that finds no 'message'
 * listener and no `for await` loop is held, in order, and the first consumer to come gets the
 * held ones on a microtask (the rules are in {@link WebSocketConnection}'s doc).
 */
import { WebSocketUsageError } from '../errors.ts';
import type { HandshakeResponse, MessageKind } from '../events.ts';
import { formatExtensionHeader } from '../handshake/header-values.ts';
import { encodeUtf8 } from '../utf8.ts';
import { SessionCore, provideFacadeAccess } from './session-core.ts';
import {
  ASSEMBLE,
  BACKLOG,
  DESTROYED,
  HOLDING,
  LOCAL_CLOSE,
  PUBLISHED,
  SERVER_PAUSED,
  TERMINATED,
  USER_PAUSED,
} from './connection-flags.ts';
import type {
  ConnectionEvents,
  FragmentOptions,
  ReadyState,
  SendOptions,
  SendResult,
  SessionRequest,
} from './connection-types.ts';
import { type ConnectionInit, wireConnections } from './connection-wiring.ts';
import { controlBytes, toBytes, type SendData } from './data.ts';
import { Emitter } from './emitter.ts';
import type { SessionCloseInfo } from './errors.ts';
import { iterate, scheduleFlush } from './held-messages.ts';
import type { Message } from './message-queue.ts';
import { publishDelivery, writePublished } from './publish-batch.ts';
import { fireTimer, provideSweepHooks } from './session-timer.ts';
import { Subscription, type Topics, checkTopic, setTopicDelivery, type PublishOptions } from './topics.ts';

const ignore = (): void => {};

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
  /** The driver and all the connection's state: private, so the application sees only the API. */
  readonly #core: SessionCore;

  /**
   * The application's value for this connection: on a server, what `verifyClient` answered as
   * `{ data }` (before the `connection` event), else undefined until you set it.
   */
  data: T = undefined as T;

  static {
    provideSweepHooks({
      slot: (c) => c.#core.slot,
      setSlot: (c, slot) => {
        c.#core.slot = slot;
      },
      fire: (c) => fireTimer(c.#core),
    });
    provideFacadeAccess({
      emit: (c, type, args) => c.emit(type, ...(args as ConnectionEvents[typeof type])),
      emitMessage: (c, data, isBinary) => c.emit2('message', data, isBinary as true),
      emit1: (c, type, a) => c.emit1(type, a as never),
      emit0: (c, type) => c.emit0(type),
      coreOf: (c) => c.#core,
    });
    wireConnections(
      {
        data: (c, chunk) => c.#core.onData(chunk),
        drain: (c) => c.#core.onDrain(),
        end: (c) => c.#core.onEnd(),
        close: (c, error) => c.#core.onClose(error),
        pump: (c) => c.#core.pump(),
        send: (c, command) => c.#core.send(command),
        queue: (c, command) => c.#core.codec.send(command),
        receiveRequestHead: (c, head) => c.#core.receiveRequestHead(head),
        headers: (c, headers) => c.#core.onHeaders(headers),
        transport: (c) => c.#core.transport,
        reportBacklog: (c, bytes = c.bufferedAmount) => {
          if (c.#core.budget !== null) c.#core.report(c.#core.budget, bytes);
          return bytes;
        },
        serverPause: (c, on) => {
          c.#core.set(SERVER_PAUSED, on);
          c.#core.applyFlow();
        },
        serverEvict: (c, message) => {
          if (c.#core.info !== null) return;
          if (c.#core.codec.state === 'open') c.#core.codec.send({ type: 'close', code: 1013 });
          c.#core.fail('SERVER_BUFFER_OVERFLOW', message);
        },
        openError: (c) => c.#core.hs?.openError ?? null,
      },
      {
        join: (c, registry) => {
          const tail = registry.tail;
          c.#core.tracker = registry;
          c.#core.prevTracked = tail;
          if (tail !== null) tail.#core.nextTracked = c;
          else registry.head = c;
          registry.tail = c;
          registry.size++;
        },
        registryOf: (c) => c.#core.tracker,
        next: (c) => c.#core.nextTracked,
        wasOpen: (c) => c.#core.hs === null,
        closingStarted: (c) =>
          c.#core.codec.state === 'closing' || (c.#core.codec.closeInfo?.initiator ?? null) !== null,
      },
      (c) => c.#core,
    );
    setTopicDelivery(publishDelivery((c) => c.#core));
  }

  /** @internal Use `ServerSession` or `connectSession` (or an adapter's `createServer`/`connect`). */
  constructor(init: ConnectionInit) {
    super();
    this.#core = new SessionCore(this, init);
  }

  /** Resolves with this connection once open; rejects with a {@link HandshakeError} (client). */
  get opened(): Promise<WebSocketConnection> {
    const promises = (this.#core.promises ??= { opened: null, closed: null, resolveClosed: null });
    if (promises.opened === null) {
      const hs = this.#core.hs;
      promises.opened = hs === null ? Promise.resolve(this) : hs.openedPromise(this);
      // A failed handshake is reported through `opened`, `error` and `close`: awaiting `opened` is optional.
      promises.opened.catch(ignore);
    }
    return promises.opened;
  }

  /** Resolves once the connection is gone, with how it ended. Never rejects. */
  get closed(): Promise<SessionCloseInfo> {
    const promises = (this.#core.promises ??= { opened: null, closed: null, resolveClosed: null });
    if (promises.closed === null) {
      const info = this.#core.info;
      promises.closed =
        info !== null ? Promise.resolve(info) : new Promise((resolve) => (promises.resolveClosed = resolve));
    }
    return promises.closed;
  }

  // ───────────────────────────── state ─────────────────────────────

  get readyState(): ReadyState {
    if (this.#core.info !== null) return 'closed';
    switch (this.#core.codec.state) {
      case 'handshake':
      case 'awaiting-accept':
        return 'connecting';
      case 'open':
        return this.#core.flag(TERMINATED) ? 'closing' : 'open';
      default:
        return 'closing';
    }
  }

  /** The negotiated subprotocol, or `''`. */
  get protocol(): string {
    return this.#core.codec.protocol ?? '';
  }

  /** The negotiated extensions as a `Sec-WebSocket-Extensions` value, or `''`. */
  get extensions(): string {
    const extensions = this.#core.codec.extensions;
    return extensions.length === 0
      ? ''
      : formatExtensionHeader(extensions.map((e) => ({ name: e.name, params: e.params })));
  }

  /** Server: the upgrade request. Null on a client. */
  get request(): SessionRequest | null {
    return this.#core.request;
  }

  /** Client: the server's handshake response, once it arrived. */
  get response(): HandshakeResponse | null {
    return this.#core.codec.response;
  }

  /**
   * The HTTP version of the handshake: `'2'` for an extended CONNECT on an HTTP/2 stream (RFC
   * 8441; many WebSockets then share one TCP connection), `'1.1'` for an upgrade.
   */
  get httpVersion(): '1.1' | '2' {
    return this.#core.codec.http2 ? '2' : '1.1';
  }

  /** Client: the URL connected to. */
  get url(): string | null {
    const url = this.#core.codec.url;
    return url === null ? null : `${url.secure ? 'wss' : 'ws'}://${url.hostHeader}${url.target}`;
  }

  /** Wire bytes accepted by `send()` (and control frames, and publishes) and not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.#core.bufferedAmount;
  }

  /**
   * Messages received and not yet taken by the application: held for want of a consumer, plus
   * those waiting in the `for await` loop's queue. Reading pauses while this is at
   * `maxQueuedMessages` (fragments, in streaming mode, count one each).
   */
  get queuedMessages(): number {
    return (this.#core.held?.length ?? 0) + (this.#core.queue?.length ?? 0);
  }

  /** How the connection ended, once `close` has fired; else null. */
  get closeInfo(): SessionCloseInfo | null {
    return this.#core.info;
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
    if (!this.#core.mayWrite('send')) return 'dropped';
    if (bytes === null) this.#core.codec.sendText(data as string, compress);
    else this.#core.codec.sendBinary(bytes, compress);
    return this.#core.afterSend();
  }

  /**
   * Streaming send: one frame of a message (`fin` ends it). A message in progress must be
   * finished before another starts. Bytes are binary unless `options.kind` is `'text'`. Same
   * result as `send()`.
   */
  sendFragment(data: SendData, fin: boolean, options?: FragmentOptions): SendResult {
    const kind: MessageKind = typeof data === 'string' ? 'text' : (options?.kind ?? 'binary');
    const bytes = typeof data === 'string' ? encodeUtf8(data) : toBytes(data, 'data');
    if (!this.#core.mayWrite('sendFragment')) return 'dropped';
    this.#core.codec.send({ type: 'fragment', kind, data: bytes, fin, compress: options?.compress });
    return this.#core.afterSend();
  }

  /** Send a ping (≤ 125 bytes; a string is sent as UTF-8). Same result as `send()` (`'dropped'` once closing). */
  ping(data?: SendData): SendResult {
    const bytes = controlBytes(data, 'ping data');
    if (!this.#core.mayWrite('ping')) return 'dropped';
    this.#core.codec.send({ type: 'ping', data: bytes });
    return this.#core.afterSend();
  }

  /** Send an unsolicited pong (≤ 125 bytes). Same result as `send()` (`'dropped'` once closing). */
  pong(data?: SendData): SendResult {
    const bytes = controlBytes(data, 'pong data');
    if (!this.#core.mayWrite('pong')) return 'dropped';
    this.#core.codec.send({ type: 'pong', data: bytes });
    return this.#core.afterSend();
  }

  /**
   * Start the closing handshake (RFC 6455 §7): send a Close frame with `code` and `reason`
   * (≤ 123 UTF-8 bytes); `closed` resolves once the peer answered and TCP is gone. Before the
   * handshake completes, aborts it. Invalid arguments throw, even when already closing.
   */
  close(code?: number, reason?: string): void {
    const before = this.#core.codec.state;
    if ((this.#core.flags & PUBLISHED) !== 0) writePublished(this.#core); // what was published to it goes before the Close
    this.#core.codec.send({ type: 'close', code, reason });
    if (before === 'handshake' || before === 'awaiting-accept') this.#core.trouble().error ??= 'ABORTED';
    if (before === 'open') {
      // Read on to the peer's Close even with messages held (the loop below takes the backlog).
      this.#core.flags = (this.#core.flags | LOCAL_CLOSE) & ~BACKLOG;
      this.#core.applyFlow();
    }
    this.#core.pump();
  }

  /** Drop the connection now, without a closing handshake. */
  terminate(): void {
    if (this.#core.info !== null) return;
    const state = this.#core.codec.state;
    this.#core.abort(state === 'handshake' || state === 'awaiting-accept' ? 'ABORTED' : null);
  }

  /** Resolves once `bufferedAmount` is at most the low-water mark (at once if it is), or the connection is gone. */
  drain(): Promise<void> {
    if (
      this.#core.info !== null ||
      this.#core.flag(DESTROYED) ||
      this.bufferedAmount <= this.#core.options.lowWaterMark
    )
      return Promise.resolve();
    return new Promise((resolve) => (this.#core.drainWaiters ??= []).push(resolve));
  }

  // ───────────────────────────── topics ─────────────────────────────

  #registry(what: string): Topics {
    const topics = this.#core.topics;
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
    if (this.#core.info !== null) return; // closed: it would never leave the topic
    let subscription = this.#core.topics;
    if (!(subscription instanceof Subscription)) this.#core.topics = subscription = new Subscription(registry);
    registry.subscribe(this, subscription, topic);
  }

  /** Server: stop receiving `topic`. Closing leaves every topic. */
  unsubscribe(topic: string): void {
    checkTopic(topic);
    const registry = this.#registry('unsubscribe');
    const subscription = this.#core.topics;
    if (subscription instanceof Subscription) registry.unsubscribe(this, subscription, topic);
  }

  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    const subscription = this.#core.topics;
    return subscription instanceof Subscription && subscription.names.has(topic);
  }

  /** The topics this connection subscribes to, in the order subscribed. */
  get topics(): string[] {
    const subscription = this.#core.topics;
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

  // ───────────────────────────── receiving ─────────────────────────────

  /** Stop reading from the peer (the transport's own backpressure reaches the peer). */
  pause(): void {
    this.#core.flags |= USER_PAUSED;
    this.#core.applyFlow();
  }

  resume(): void {
    this.#core.flags &= ~USER_PAUSED;
    this.#core.applyFlow();
  }

  /**
   * Iterate over messages (strings for text, bytes for binary) until the connection closes:
   * first those held because nobody consumed them yet (a loop started after an `await` misses
   * nothing), then each as it arrives. While `maxQueuedMessages` wait for the loop, reading
   * pauses. Breaking out of the loop does not close the connection, and the messages it had
   * not taken wait for the next consumer. One loop at a time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return iterate(this.#core);
  }

  protected override listenerAdded(type: string): void {
    if ((this.#core.flags & HOLDING) !== 0 && type === ((this.#core.flags & ASSEMBLE) !== 0 ? 'message' : 'fragment'))
      scheduleFlush(this.#core);
  }
}
