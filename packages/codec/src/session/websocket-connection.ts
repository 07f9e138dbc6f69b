/**
 * The connection users hold, the same on every runtime, and the driver behind it.
 *
 * The driver runs the codec against a {@link Transport}: after every input (bytes, EOF, a
 * timer) and every command (send, close) it takes the codec's outputs and writes them in one
 * vectored `write`, dispatches the codec's events to listeners and to the `for await` queue,
 * and re-arms one timer for the earliest deadline (the codec's, or the drain timeout). A
 * listener that calls back into the connection (send inside 'message') does not recurse: its
 * output is picked up by the loop already running.
 *
 * Memory is bounded both ways: the send buffer by `maxBufferedAmount` (beyond it the peer is
 * taken to have stopped reading and the connection is terminated), the receive side by pausing
 * the transport while the iteration queue is full. Protocol rules all live in the codec.
 */
import type { Connection } from '../connection.ts';
import { WebSocketUsageError } from '../errors.ts';
import type { CloseInfo, Event, HandshakeRequest, HandshakeResponse, MessageKind } from '../events.ts';
import { encodeUtf8 } from '../utf8.ts';
import { formatExtensionHeader } from '../handshake/header-values.ts';
import type { HttpHeaders } from '../http/headers.ts';
import { controlBytes, toBytes, type SendData } from './data.ts';
import { Emitter, reportError } from './emitter.ts';
import { HandshakeError, WebSocketError, type SessionCloseInfo, type SessionErrorCode } from './errors.ts';
import { MessageQueue, type Message } from './message-queue.ts';
import type { ResolvedSessionOptions } from './options.ts';
import type { PeerInfo, Transport, TransportHandlers } from './transport.ts';

export type ReadyState = 'connecting' | 'open' | 'closing' | 'closed';

/** A server connection's upgrade request, as the application sees it. */
export interface SessionRequest {
  method: string;
  /** The request-target as sent, e.g. `/chat?room=1`. */
  url: string;
  path: string;
  /** Without the `?`; `''` when absent. */
  query: string;
  headers: HttpHeaders;
  host: string;
  origin: string | null;
  /** Subprotocols the client offered, most preferred first. */
  protocols: readonly string[];
  remoteAddress: string | null;
  remotePort: number | null;
  secure: boolean;
}

export interface FragmentInfo {
  kind: MessageKind;
  /** The message's first chunk. */
  first: boolean;
  /** The message's last chunk. */
  fin: boolean;
}

export interface ConnectionEvents {
  [event: string]: unknown[];
  open: [];
  /** A whole message: a string for text, bytes for binary. */
  message: [data: string | Uint8Array, isBinary: boolean];
  /** Streaming mode (`assembleMessages: false`): part of a message as it arrived. */
  fragment: [data: Uint8Array, info: FragmentInfo];
  ping: [data: Uint8Array];
  pong: [data: Uint8Array];
  /** `bufferedAmount` fell to the low-water mark after `send()` returned false. */
  drain: [];
  /** A violation, limit, timeout or transport failure; `close` follows. */
  error: [error: WebSocketError];
  /** The connection is gone (TCP closed). Always the last event. */
  close: [info: SessionCloseInfo];
}

export interface SendOptions {
  /** Per-message compression wish when an extension such as permessage-deflate is active. */
  compress?: boolean;
}

export interface FragmentOptions extends SendOptions {
  /**
   * The message's kind when `data` is bytes (default `'binary'`). `'text'` sends bytes as part of
   * a text message unchanged, e.g. a proxy forwarding a 'fragment' event whose chunk may end in
   * the middle of a UTF-8 character (the receiving codec validated it). A string is always text.
   */
  kind?: MessageKind;
}

/** @internal Built by `ServerSession` and `connectSession`. */
export interface ConnectionInit {
  codec: Connection;
  transport: Transport;
  options: ResolvedSessionOptions;
  /** The codec delivers whole messages (its `assembleMessages` option). */
  assembleMessages: boolean;
  peer?: PeerInfo | null;
  /** Server: the codec accepted a request; the callee answers with accept/reject commands. */
  onRequest?: (request: SessionRequest) => void;
  /** Called just before the `open` event is dispatched. */
  onOpen?: () => void;
}

/** @internal What `ServerSession` and `connectSession` need beyond the public API. */
export interface Driver {
  handlers: TransportHandlers;
  /** Run the codec until it has nothing to say (e.g. write a client's request). */
  pump(): void;
  /** A handshake command (accept/reject), then `pump()`. */
  send(command: Parameters<Connection['send']>[0]): void;
  /** A request head parsed elsewhere (node:http), then `pump()`. */
  receiveRequestHead(head: Parameters<Connection['receiveRequestHead']>[0]): void;
}

let driverOf: (connection: WebSocketConnection) => Driver;

/** The handlers an adapter wires its socket's events to. */
export function transportHandlers(connection: WebSocketConnection): TransportHandlers {
  return driverOf(connection).handlers;
}

/** @internal */
export function driver(connection: WebSocketConnection): Driver {
  return driverOf(connection);
}

export class WebSocketConnection extends Emitter<ConnectionEvents> implements AsyncIterable<Message> {
  /** Resolves with this connection once open; rejects with a {@link HandshakeError} (client). */
  readonly opened: Promise<WebSocketConnection>;
  /** Resolves once the connection is gone, with how it ended. Never rejects. */
  readonly closed: Promise<SessionCloseInfo>;

  readonly #codec: Connection;
  readonly #transport: Transport;
  readonly #options: ResolvedSessionOptions;
  readonly #peer: PeerInfo | null;
  readonly #assemble: boolean;
  readonly #onRequest: ((request: SessionRequest) => void) | undefined;
  readonly #onOpen: (() => void) | undefined;
  readonly #handlers: TransportHandlers;

  #request: SessionRequest | null = null;
  #wasOpen = false;
  #resolveOpened!: (connection: WebSocketConnection) => void;
  #rejectOpened!: (error: HandshakeError) => void;
  #resolveClosed!: (info: SessionCloseInfo) => void;
  #rejection: { response: HandshakeResponse; body: Uint8Array } | null = null;
  #lastProblem = '';

  // Driver
  #pumping = false;
  #timer: unknown = null;
  #timerAt = Infinity;

  // Transport and ending
  #eof = false;
  #ended = false;
  #destroyed = false;
  #transportClosed = false;
  #terminated = false;
  #sessionError: SessionErrorCode | null = null;
  #cause: unknown = undefined;
  #info: SessionCloseInfo | null = null;

  // Flow control
  #needDrain = false;
  #drainWaiters: Array<() => void> = [];
  #drainDeadline = Infinity;
  #queue: MessageQueue | null = null;
  #userPaused = false;
  #queuePaused = false;
  #transportPaused = false;

  static {
    driverOf = (c) => ({
      handlers: c.#handlers,
      pump: () => c.#pump(),
      send: (command) => {
        c.#codec.send(command);
        c.#pump();
      },
      receiveRequestHead: (head) => {
        c.#codec.receiveRequestHead(head);
        c.#pump();
      },
    });
  }

  /** @internal Use `ServerSession` or `connectSession` (or an adapter's `createServer`/`connect`). */
  constructor(init: ConnectionInit) {
    super();
    this.#codec = init.codec;
    this.#transport = init.transport;
    this.#options = init.options;
    this.#peer = init.peer ?? null;
    this.#assemble = init.assembleMessages;
    this.#onRequest = init.onRequest;
    this.#onOpen = init.onOpen;
    this.opened = new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    // A failed handshake is reported through `opened`, `error` and `close`: awaiting `opened` is optional.
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#handlers = {
      onData: (chunk) => this.#onData(chunk),
      onDrain: () => this.#onDrain(),
      onEnd: () => this.#onEnd(),
      onClose: (error) => this.#onClose(error),
    };
  }

  // ───────────────────────────── state ─────────────────────────────

  get readyState(): ReadyState {
    if (this.#info !== null) return 'closed';
    switch (this.#codec.state) {
      case 'handshake':
      case 'awaiting-accept':
        return 'connecting';
      case 'open':
        return this.#terminated ? 'closing' : 'open';
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
    return extensions.length === 0 ? '' : formatExtensionHeader(extensions.map((e) => ({ name: e.name, params: e.params })));
  }

  /** Server: the upgrade request. Null on a client. */
  get request(): SessionRequest | null {
    return this.#request;
  }

  /** Client: the server's handshake response, once it arrived. */
  get response(): HandshakeResponse | null {
    return this.#codec.response;
  }

  /** Client: the URL connected to. */
  get url(): string | null {
    const url = this.#codec.url;
    return url === null ? null : `${url.secure ? 'wss' : 'ws'}://${url.hostHeader}${url.target}`;
  }

  /** Wire bytes accepted by `send()` (and control frames) and not yet handed to the OS. */
  get bufferedAmount(): number {
    return this.#codec.pendingOutputBytes + this.#transport.bufferedAmount;
  }

  /** How the connection ended, once `close` has fired; else null. */
  get closeInfo(): SessionCloseInfo | null {
    return this.#info;
  }

  // ───────────────────────────── sending ─────────────────────────────

  /**
   * Send a message: a string as text, bytes as binary. Returns false when the message was
   * dropped (closing or closed, as browsers drop silently) or when `bufferedAmount` has reached
   * `highWaterMark`: then wait for `drain()` before sending more. Large byte payloads are sent
   * without a copy on a server: do not change them until drained.
   */
  send(data: SendData, options?: SendOptions): boolean {
    const compress = options?.compress;
    const command =
      typeof data === 'string' ? ({ type: 'text', data, compress } as const) : ({ type: 'binary', data: toBytes(data, 'data'), compress } as const);
    if (!this.#mayWrite('send')) return false;
    this.#codec.send(command);
    return this.#afterSend();
  }

  /**
   * Streaming send: one frame of a message (`fin` ends it). A message in progress must be
   * finished before another starts. Bytes are binary unless `options.kind` is `'text'`. Same
   * return value as `send()`.
   */
  sendFragment(data: SendData, fin: boolean, options?: FragmentOptions): boolean {
    const kind: MessageKind = typeof data === 'string' ? 'text' : (options?.kind ?? 'binary');
    const bytes = typeof data === 'string' ? encodeUtf8(data) : toBytes(data, 'data');
    if (!this.#mayWrite('sendFragment')) return false;
    this.#codec.send({ type: 'fragment', kind, data: bytes, fin, compress: options?.compress });
    return this.#afterSend();
  }

  /** Send a ping (≤ 125 bytes; a string is sent as UTF-8). False if the connection is closing. */
  ping(data?: SendData): boolean {
    const bytes = controlBytes(data, 'ping data');
    if (!this.#mayWrite('ping')) return false;
    this.#codec.send({ type: 'ping', data: bytes });
    return this.#afterSend();
  }

  /** Send an unsolicited pong (≤ 125 bytes). False if the connection is closing. */
  pong(data?: SendData): boolean {
    const bytes = controlBytes(data, 'pong data');
    if (!this.#mayWrite('pong')) return false;
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
    this.#codec.send({ type: 'close', code, reason });
    if (before === 'handshake' || before === 'awaiting-accept') this.#sessionError ??= 'ABORTED';
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
    if (this.#info !== null || this.#destroyed || this.bufferedAmount <= this.#options.lowWaterMark) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  // ───────────────────────────── receiving ─────────────────────────────

  /** Stop reading from the peer (the transport's own backpressure reaches the peer). */
  pause(): void {
    this.#userPaused = true;
    this.#applyFlow();
  }

  resume(): void {
    this.#userPaused = false;
    this.#applyFlow();
  }

  /**
   * Iterate over messages (strings for text, bytes for binary) until the connection closes.
   * Messages are queued only while iterating; when `maxQueuedMessages` wait, reading pauses.
   * Breaking out of the loop does not close the connection. One loop at a time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    if (this.#queue !== null) throw new WebSocketUsageError('INVALID_STATE', 'this connection is already being iterated');
    if (!this.#assemble) {
      throw new WebSocketUsageError('INVALID_STATE', "iteration needs whole messages: listen to 'fragment' events when assembleMessages is false");
    }
    const queue = new MessageQueue(this.#options.maxQueuedMessages, (full) => {
      this.#queuePaused = full;
      this.#applyFlow();
    });
    this.#queue = queue;
    if (this.#info !== null) queue.end();
    const release = (): void => {
      if (this.#queue === queue) this.#queue = null;
      queue.close();
    };
    const iterator: AsyncIterableIterator<Message> = {
      next: () => queue.next(),
      return: (): Promise<IteratorResult<Message, undefined>> => {
        release();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // ───────────────────────────── transport handlers ─────────────────────────────

  #onData(chunk: Uint8Array): void {
    if (this.#eof) return;
    this.#codec.receiveData(chunk);
    this.#pump();
  }

  #onEnd(): void {
    if (!this.#eof) {
      this.#eof = true;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  #onDrain(): void {
    if (this.#drainWaiters.length === 0 && !this.#needDrain && this.#drainDeadline === Infinity) return;
    const buffered = this.bufferedAmount;
    if (buffered <= this.#options.highWaterMark) this.#drainDeadline = Infinity;
    if (buffered > this.#options.lowWaterMark) return;
    this.#drained();
  }

  #onClose(error?: unknown): void {
    if (this.#transportClosed) return;
    this.#transportClosed = true;
    this.#destroyed = true;
    if (this.#codec.closeInfo === null && !this.#terminated && error !== undefined && error !== null) {
      this.#sessionError ??= 'TRANSPORT_ERROR';
      this.#cause = error;
      this.#lastProblem = error instanceof Error ? error.message : String(error);
      this.emit('error', new WebSocketError('TRANSPORT_ERROR', `transport failed: ${this.#lastProblem}`, null, error));
    }
    if (!this.#eof) {
      this.#eof = true;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  // ───────────────────────────── the driver ─────────────────────────────

  #mayWrite(what: string): boolean {
    const state = this.#codec.state;
    if (state === 'handshake' || state === 'awaiting-accept') {
      throw new WebSocketUsageError('INVALID_STATE', `${what}() before the connection is open: await connection.opened first`);
    }
    return state === 'open' && !this.#terminated;
  }

  #afterSend(): boolean {
    this.#pump();
    if (this.#terminated || !this.#codec.canSend) return false;
    if (this.bufferedAmount < this.#options.highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  /** Take outputs and events until the codec has none; then bound the buffer and re-arm the timer. */
  #pump(): void {
    if (this.#pumping) return; // the loop already running picks it up
    this.#pumping = true;
    const codec = this.#codec;
    try {
      // Every pending event first, then every output in one transport write: the echoes of a
      // read that held many frames (and the pongs, and what listeners sent) leave together.
      for (;;) {
        for (let event = codec.nextEvent(); event !== null; event = codec.nextEvent()) this.#dispatch(event);
        const outputs = codec.takeOutput();
        if (outputs.length === 0) break;
        this.#perform(outputs);
      }
    } finally {
      this.#pumping = false;
    }
    this.#afterPump();
  }

  #perform(outputs: ReturnType<Connection['takeOutput']>): void {
    let chunks: Uint8Array[] | null = null;
    for (const output of outputs) {
      if (output.type === 'write') {
        if (chunks === null) chunks = [output.data];
        else chunks.push(output.data);
        continue;
      }
      if (chunks !== null) this.#write(chunks);
      chunks = null;
      if (output.type === 'shutdown') this.#end();
      else this.#destroy();
    }
    if (chunks !== null) this.#write(chunks);
  }

  #write(chunks: Uint8Array[]): void {
    if (!this.#destroyed && !this.#ended) this.#transport.write(chunks);
  }

  #end(): void {
    if (this.#destroyed || this.#ended) return;
    this.#ended = true;
    this.#transport.end();
  }

  #destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#transport.destroy();
  }

  #dispatch(event: Event): void {
    switch (event.type) {
      case 'text':
        if (this.#terminated) return;
        this.#queue?.push(event.data);
        this.emit('message', event.data, false);
        return;
      case 'binary':
        if (this.#terminated) return;
        this.#queue?.push(event.data);
        this.emit('message', event.data, true);
        return;
      case 'fragment':
        if (this.#terminated) return;
        this.emit('fragment', event.data, { kind: event.kind, first: event.first, fin: event.fin });
        return;
      case 'ping':
        this.emit('ping', event.data);
        return;
      case 'pong':
        this.emit('pong', event.data);
        return;
      case 'close':
        return; // the peer's Close; the codec answers it, `close` fires once TCP is gone.
      case 'request':
        this.#request = this.#buildRequest(event.request);
        this.#callHook(this.#onRequest, this.#request);
        return;
      case 'open':
        this.#wasOpen = true;
        this.#callHook(this.#onOpen, undefined);
        this.#resolveOpened(this);
        this.emit('open');
        return;
      case 'rejected':
        this.#rejection = { response: event.response, body: event.body };
        return;
      case 'protocol-error':
        this.#lastProblem = event.message;
        if (this.#terminated || this.#sessionError !== null) return; // our own abort caused it
        this.emit('error', new WebSocketError(event.code, event.message, event.closeCode));
        return;
      case 'closed':
        if (!this.#wasOpen) this.#rejectOpened(this.#handshakeError(event.info));
        return;
    }
  }

  /** Run an owner's hook (which may run application code) without letting it unwind the driver. */
  #callHook<T>(hook: ((arg: T) => void) | undefined, arg: T): void {
    if (hook === undefined) return;
    try {
      hook(arg);
    } catch (error) {
      reportError(error);
    }
  }

  #afterPump(): void {
    if (this.#info !== null) return;
    const options = this.#options;
    if (!this.#destroyed) {
      const buffered = this.bufferedAmount;
      if (buffered > options.maxBufferedAmount) {
        this.#fail('SEND_BUFFER_OVERFLOW', `${buffered} bytes wait to be sent, over maxBufferedAmount (${options.maxBufferedAmount}): the peer is not reading`);
        return;
      }
      if (options.drainTimeout > 0 && buffered > options.highWaterMark && this.#drainDeadline === Infinity) {
        this.#drainDeadline = options.clock() + options.drainTimeout;
      }
      // Bytes the codec held (a send() from a listener while this loop ran) may have gone through a
      // transport that took them all at once (Bun, Deno): no onDrain will come for them.
      this.#onDrain();
    }
    if (this.#transportClosed && this.#codec.closeInfo !== null) {
      this.#finish(this.#codec.closeInfo);
      return;
    }
    this.#arm();
  }

  /** One timer, for the earliest deadline. A later deadline leaves an armed timer alone: it fires, finds nothing due, and re-arms. */
  #arm(): void {
    const deadline = Math.min(this.#codec.nextDeadline() ?? Infinity, this.#drainDeadline);
    const timers = this.#options.timers;
    if (deadline === Infinity) {
      if (this.#timer !== null) {
        timers.clearTimeout(this.#timer);
        this.#timer = null;
        this.#timerAt = Infinity;
      }
      return;
    }
    if (this.#timer !== null) {
      if (this.#timerAt <= deadline) return;
      timers.clearTimeout(this.#timer);
    }
    this.#timerAt = deadline;
    this.#timer = timers.setTimeout(this.#onTimer, Math.max(0, deadline - this.#options.clock()));
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#options.clock();
    if (now >= this.#drainDeadline) {
      if (this.bufferedAmount > this.#options.highWaterMark) {
        this.#fail('DRAIN_TIMEOUT', `bufferedAmount stayed above highWaterMark (${this.#options.highWaterMark}) for ${this.#options.drainTimeout} ms`);
        return;
      }
      this.#drainDeadline = Infinity;
    }
    this.#codec.tick(now);
    this.#pump();
  };

  /** The session's own failure: report it, then terminate. */
  #fail(code: SessionErrorCode, message: string): void {
    if (this.#codec.closeInfo === null) {
      this.#sessionError ??= code;
      this.#lastProblem = message;
      this.emit('error', new WebSocketError(code, message));
    }
    this.#abort(null);
  }

  #abort(error: SessionErrorCode | null): void {
    if (error !== null && this.#codec.closeInfo === null) this.#sessionError ??= error;
    this.#terminated = true;
    this.#destroy();
    if (!this.#eof) {
      this.#eof = true;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.#needDrain) {
      this.#needDrain = false;
      if (this.#info === null) this.emit('drain');
    }
  }

  #applyFlow(): void {
    const pause = (this.#userPaused || this.#queuePaused) && this.#info === null;
    if (pause === this.#transportPaused) return;
    this.#transportPaused = pause;
    if (pause) this.#transport.pause?.();
    else this.#transport.resume?.();
  }

  #finish(codecInfo: CloseInfo): void {
    const info: SessionCloseInfo = { ...codecInfo, error: this.#sessionError ?? codecInfo.error };
    if (this.#cause !== undefined) info.cause = this.#cause;
    this.#info = info;
    if (this.#timer !== null) {
      this.#options.timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#drained();
    this.#queue?.end();
    this.#userPaused = this.#queuePaused = false;
    this.#resolveClosed(info);
    this.emit('close', info);
  }

  #handshakeError(info: CloseInfo): HandshakeError {
    const code = this.#sessionError ?? info.error ?? 'ABORTED';
    const rejection = this.#rejection;
    if (rejection !== null) {
      const { status, statusText, headers } = rejection.response;
      return new HandshakeError(code, `the server refused the upgrade: ${status} ${statusText}`.trimEnd(), { status, headers, body: rejection.body });
    }
    const response = this.#codec.response;
    const message = code === 'ABORTED' ? 'the connection was closed before the handshake completed' : this.#lastProblem || code;
    return new HandshakeError(code, message, { status: response?.status ?? null, headers: response?.headers ?? null, cause: this.#cause });
  }

  #buildRequest(request: HandshakeRequest): SessionRequest {
    const peer = this.#peer;
    return {
      method: request.method,
      url: request.target,
      path: request.path,
      query: request.query,
      headers: request.headers,
      host: request.host,
      origin: request.origin,
      protocols: request.protocols,
      remoteAddress: peer?.remoteAddress ?? null,
      remotePort: peer?.remotePort ?? null,
      secure: peer?.secure ?? false,
    };
  }
}
