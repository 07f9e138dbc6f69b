/**
 * A WHATWG-compatible `WebSocket` client class (https://websockets.spec.whatwg.org/), written
 * once over the session layer; each adapter supplies how to connect. It uses the host's
 * `EventTarget`, `Event`, `MessageEvent`, `CloseEvent`, `DOMException` and `Blob` when they exist
 * and small stand-ins when they do not (a bare engine).
 *
 * As the standard says: constants and numeric `readyState`; `send()` throws InvalidStateError
 * while CONNECTING and silently counts bytes into `bufferedAmount` once closing; `close()` only
 * takes 1000 or 3000–4999 (InvalidAccessError) and a reason of ≤ 123 UTF-8 bytes (SyntaxError);
 * a connection the client fails (handshake refused, protocol violation, close() while
 * connecting) fires `error` and then `close` with `wasClean` false. The `error` event has the
 * same shape on every path: an `ErrorEvent` (or a stand-in) whose `error` is an `Error` (a
 * `HandshakeError`, a `WebSocketError`, or what `connect` threw) and `message` its message.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import { parseWsUrl } from '../handshake/client.ts';
import { isToken } from '../http/headers.ts';
import { foldAscii } from '../http/ascii-case.ts';
import { utf8ByteLength } from '../utf8.ts';
import type { ClientSessionOptions } from './client-session.ts';
import { microtask, reportError } from './emitter.ts';
import { WebSocketError, type SessionCloseInfo, closeError } from './errors.ts';
import { registryLinks, sessionInput } from './connection-wiring.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

// ─────────────────────────── host types (no DOM lib here) ───────────────────────────

export interface EventLike {
  readonly type: string;
}
type Listener = ((event: EventLike) => void) | { handleEvent(event: EventLike): void };
export interface EventTargetLike {
  addEventListener(type: string, listener: Listener | null, options?: boolean | { once?: boolean }): void;
  removeEventListener(type: string, listener: Listener | null, options?: boolean | object): void;
  dispatchEvent(event: EventLike): boolean;
}
interface BlobLike {
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}
type EventCtor = new (type: string, init?: Record<string, unknown>) => EventLike;
interface Host {
  EventTarget?: new () => EventTargetLike;
  Event?: EventCtor;
  MessageEvent?: EventCtor;
  CloseEvent?: EventCtor;
  ErrorEvent?: EventCtor;
  DOMException?: new (message: string, name: string) => Error;
  Blob?: new (parts: unknown[]) => BlobLike;
}
const host = globalThis as Host;
/** The host's `Blob`, if it has one (for `binaryType` `blob`). */
const HostBlob = host.Blob;

// ─────────────────────────── stand-ins for bare engines ───────────────────────────

class StandInEvent implements EventLike {
  readonly type: string;
  target: unknown = null;
  currentTarget: unknown = null;
  constructor(type: string, init: Record<string, unknown> = {}) {
    this.type = type;
    Object.assign(this, init);
  }
}

class StandInEventTarget implements EventTargetLike {
  #listeners = new Map<string, Array<{ listener: Listener; once: boolean }>>();

  addEventListener(type: string, listener: Listener | null, options?: boolean | { once?: boolean }): void {
    if (listener === null || listener === undefined) return;
    const list = this.#listeners.get(type) ?? [];
    if (list.some((entry) => entry.listener === listener)) return;
    this.#listeners.set(type, [...list, { listener, once: typeof options === 'object' && options?.once === true }]);
  }

  removeEventListener(type: string, listener: Listener | null): void {
    const list = this.#listeners.get(type);
    if (list !== undefined)
      this.#listeners.set(
        type,
        list.filter((entry) => entry.listener !== listener),
      );
  }

  dispatchEvent(event: EventLike): boolean {
    if (event instanceof StandInEvent) event.target = event.currentTarget = this;
    for (const entry of this.#listeners.get(event.type) ?? []) {
      if (!(this.#listeners.get(event.type) ?? []).includes(entry)) continue; // removed meanwhile
      if (entry.once) this.removeEventListener(event.type, entry.listener);
      try {
        if (typeof entry.listener === 'function') entry.listener.call(this, event);
        else entry.listener.handleEvent(event);
      } catch (error) {
        reportError(error);
      }
    }
    return true;
  }
}

const EventBase: EventCtor = host.Event ?? StandInEvent;
const EventTargetBase: new () => EventTargetLike = host.EventTarget ?? StandInEventTarget;

function makeEvent(type: string, init: Record<string, unknown>, ctor: EventCtor | undefined): EventLike {
  if (ctor !== undefined) return new ctor(type, init);
  const event = new EventBase(type);
  for (const [key, value] of Object.entries(init)) Object.defineProperty(event, key, { value, enumerable: true });
  return event;
}

class StandInDOMException extends Error {
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
  }
}

function domException(message: string, name: 'SyntaxError' | 'InvalidStateError' | 'InvalidAccessError'): Error {
  return new (host.DOMException ?? StandInDOMException)(message, name);
}

// ─────────────────────────── the class ───────────────────────────

// ─────────────────────────── the events, typed as the DOM's ───────────────────────────

/** Every event of the class: `type`, and `target` (the socket) once dispatched. */
export interface WebSocketEvent extends EventLike {
  readonly target: unknown;
}

/** `message`: `data` is a string for text, else per `binaryType` (`any`, as the DOM's `MessageEvent`). */
export interface WebSocketMessageEvent extends WebSocketEvent {
  // biome-ignore lint/suspicious/noExplicitAny: the DOM's MessageEvent.data is `any`; this class is typed like the DOM's
  readonly data: any;
  readonly origin: string;
}

/** `error`, on every failure path: `error` is an `Error` saying what happened, `message` its message. */
export interface WebSocketErrorEvent extends WebSocketEvent {
  readonly error: Error;
  readonly message: string;
}

/** `close`: the close code and reason, and whether the closing handshake completed. */
export interface WebSocketCloseEvent extends WebSocketEvent {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** The class's events, as the DOM's `WebSocketEventMap`. */
export interface WebSocketEventMap {
  open: WebSocketEvent;
  message: WebSocketMessageEvent;
  error: WebSocketErrorEvent;
  close: WebSocketCloseEvent;
}

/**
 * An `on…` handler or a listener of event `E`. Method syntax on purpose: a handler typed with the
 * host's own event class (`(e: MessageEvent) => …`) is accepted, as the DOM accepts it.
 */
type Handler<E> = { bivariant(this: WhatwgWebSocket, event: E): unknown }['bivariant'];

/** `addEventListener`'s options. */
export interface ListenerOptions {
  once?: boolean;
  capture?: boolean;
  passive?: boolean;
  signal?: unknown;
}

/** Options beyond the standard's, passed as the second argument: `new WebSocket(url, { protocols, headers })`. */
export interface WebSocketInit extends Omit<ClientSessionOptions, 'protocols'> {
  protocols?: string | readonly string[];
}

export type BinaryConverter = (data: Uint8Array) => unknown;

export interface WebSocketClassOptions {
  /** Open a client connection (in `connecting`) for the parsed URL; may be async. */
  connect(url: string, options: ClientSessionOptions): WebSocketConnection | Promise<WebSocketConnection>;
  /** Extra `binaryType`s, e.g. Node's `nodebuffer`. */
  binaryTypes?: Readonly<Record<string, BinaryConverter>>;
  /** Default `binaryType`: `'blob'` (the standard's) when the host has `Blob`, else `'arraybuffer'`. */
  defaultBinaryType?: string;
}

type ReadyStateNumber = 0 | 1 | 2 | 3;
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer)
    return data.buffer;
  // Copy with the Uint8Array constructor: a Node.js buffer's slice() is a view, not a copy.
  return new Uint8Array(data).buffer as ArrayBuffer;
}

const BUILT_IN_TYPES: Readonly<Record<string, BinaryConverter>> = {
  arraybuffer: toArrayBuffer,
  ...(HostBlob !== undefined ? { blob: (data: Uint8Array) => new HostBlob([data]) } : {}),
};

function isBlob(data: unknown): data is BlobLike {
  return host.Blob !== undefined && data instanceof host.Blob;
}

function byteLength(data: unknown): number {
  if (typeof data === 'string') return utf8ByteLength(data);
  if (isBlob(data)) return data.size;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  throw new TypeError('WebSocket.send: data must be a string, Blob, ArrayBuffer or ArrayBufferView');
}

interface Config {
  connect: WebSocketClassOptions['connect'];
  binaryTypes: Readonly<Record<string, BinaryConverter>>;
  defaultBinaryType: string;
}

const HANDLERS = ['open', 'message', 'error', 'close'] as const;
type HandlerName = (typeof HANDLERS)[number];

/** The standard WebSocket interface; classes from {@link createWebSocketClass} extend it. */
export class WhatwgWebSocket extends EventTargetBase {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  readonly #url: string;
  readonly #origin: string;
  readonly #config: Config;
  /** All it adds to the codec's state: close() before the connection existed, the close task queued, run. */
  #ending: 'none' | 'close-requested' | 'close-queued' | 'closed' = 'none';
  #connection: WebSocketConnection | null = null;
  #binaryType: string;
  #protocol = '';
  #protocolsOffered = false;
  #extensions = '';
  /** Bytes of sends made while closing, and of Blobs being read: the standard counts them. */
  #extraBuffered = 0;
  #outbox: unknown[] | null = null;
  #failed = false;
  /** Why we failed the connection ourselves (no subprotocol chosen), or null. */
  #failure: Error | null = null;
  /** The connection's last `error` event: what failed it once open. */
  #lastError: WebSocketError | null = null;
  #handlers: Partial<Record<HandlerName, { value: unknown; wrapper: (event: EventLike) => void }>> = {};

  /** @internal Use a class from `createWebSocketClass` (e.g. an adapter's `WebSocket`). */
  constructor(
    url: string | { href: string },
    protocols: string | readonly string[] | WebSocketInit | undefined,
    config: Config,
  ) {
    super();
    this.#config = config;
    this.#binaryType = config.defaultBinaryType;
    let parsed;
    try {
      parsed = parseWsUrl(typeof url === 'string' || (typeof url === 'object' && url !== null) ? url : String(url));
    } catch (error) {
      throw domException(error instanceof Error ? error.message : String(error), 'SyntaxError');
    }
    const scheme = parsed.secure ? 'wss' : 'ws';
    this.#url = `${scheme}://${parsed.hostHeader}${parsed.target}`;
    this.#origin = `${parsed.secure ? 'https' : 'http'}://${parsed.hostHeader}`;

    const init: WebSocketInit =
      typeof protocols === 'object' && protocols !== null && !Array.isArray(protocols)
        ? { ...(protocols as WebSocketInit) }
        : { protocols: protocols as string | readonly string[] | undefined };
    const list =
      init.protocols === undefined ? [] : typeof init.protocols === 'string' ? [init.protocols] : [...init.protocols];
    const seen = new Set<string>();
    for (const protocol of list) {
      const lower = foldAscii(String(protocol));
      if (!isToken(String(protocol)) || seen.has(lower)) {
        throw domException(`invalid or repeated subprotocol ${JSON.stringify(protocol)}`, 'SyntaxError');
      }
      seen.add(lower);
    }
    const options: ClientSessionOptions = { ...init, protocols: list };
    delete (options as WebSocketInit).protocols;
    if (list.length > 0) options.protocols = list;
    this.#protocolsOffered = list.length > 0;

    let pending: WebSocketConnection | Promise<WebSocketConnection>;
    try {
      pending = config.connect(this.#url, options);
    } catch (error) {
      // A wrong option (an unknown key, a bad value) is the caller's mistake: thrown here, as a
      // bad URL or subprotocol is. Anything else (no route…) fails the connection.
      if (error instanceof TypeError || error instanceof RangeError || error instanceof WebSocketUsageError)
        throw error;
      microtask(() => this.#failBeforeConnection(error));
      return;
    }
    if (typeof (pending as Promise<WebSocketConnection>).then === 'function') {
      (pending as Promise<WebSocketConnection>).then(
        (connection) => this.#attach(connection),
        (error) => this.#failBeforeConnection(error),
      );
    } else {
      this.#attach(pending as WebSocketConnection);
    }
  }

  get url(): string {
    return this.#url;
  }

  /**
   * The codec's state (`Connection.state`, through the connection's), CLOSED once the close task
   * ran. CLOSING comes from close() or a closing handshake (a Close frame sent or received): a
   * connection failed before it opened (refused, a bad answer, no subprotocol chosen…) had none and
   * stays CONNECTING until then, and an open one whose transport ended without one (the peer's
   * TCP went away) stays OPEN until then.
   */
  get readyState(): ReadyStateNumber {
    const ending = this.#ending;
    if (ending === 'closed') return CLOSED;
    const connection = this.#connection;
    const state = ending !== 'none' ? 'closed' : connection === null ? 'connecting' : connection.readyState;
    if (state === 'open' || state === 'connecting') return state === 'open' ? OPEN : CONNECTING;
    if (this.#failed && this.#failure === null) return CLOSING; // close() while connecting
    if (connection === null || this.#failure !== null || !registryLinks.wasOpen(connection)) return CONNECTING;
    return registryLinks.closingStarted(connection) ? CLOSING : OPEN;
  }

  get bufferedAmount(): number {
    return (this.#connection?.bufferedAmount ?? 0) + this.#extraBuffered;
  }

  get protocol(): string {
    return this.#protocol;
  }

  get extensions(): string {
    return this.#extensions;
  }

  get binaryType(): string {
    return this.#binaryType;
  }

  set binaryType(value: string) {
    // WebIDL enum attribute: an unknown value is ignored.
    if (Object.hasOwn(this.#config.binaryTypes, value)) this.#binaryType = value;
  }

  get onopen(): Handler<WebSocketEvent> | null {
    return this.#getHandler('open') as Handler<WebSocketEvent> | null;
  }
  set onopen(value: Handler<WebSocketEvent> | null) {
    this.#setHandler('open', value);
  }
  get onmessage(): Handler<WebSocketMessageEvent> | null {
    return this.#getHandler('message') as Handler<WebSocketMessageEvent> | null;
  }
  set onmessage(value: Handler<WebSocketMessageEvent> | null) {
    this.#setHandler('message', value);
  }
  get onerror(): Handler<WebSocketErrorEvent> | null {
    return this.#getHandler('error') as Handler<WebSocketErrorEvent> | null;
  }
  set onerror(value: Handler<WebSocketErrorEvent> | null) {
    this.#setHandler('error', value);
  }
  get onclose(): Handler<WebSocketCloseEvent> | null {
    return this.#getHandler('close') as Handler<WebSocketCloseEvent> | null;
  }
  set onclose(value: Handler<WebSocketCloseEvent> | null) {
    this.#setHandler('close', value);
  }

  send(data: string | ArrayBuffer | ArrayBufferView | BlobLike): void {
    const state = this.readyState;
    if (state === CONNECTING) throw domException('WebSocket.send() while still CONNECTING', 'InvalidStateError');
    if (typeof data !== 'string') byteLength(data); // a TypeError for anything else, in every state
    const connection = this.#connection;
    const open = state === OPEN && connection !== null;
    if (open && this.#outbox === null && !isBlob(data)) {
      connection.send(data as string | ArrayBuffer | ArrayBufferView);
      return;
    }
    // Held back (not open, or behind a Blob being read): only now is a string's UTF-8 length
    // counted, a loop over it that the common case above never pays.
    this.#extraBuffered += byteLength(data);
    if (!open) return;
    const start = this.#outbox === null;
    (this.#outbox ??= []).push(data);
    if (start) void this.#flushOutbox();
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined) {
      code = Number(code);
      if (!(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
        throw domException(`close code must be 1000 or 3000–4999, got ${code}`, 'InvalidAccessError');
      }
    }
    if (reason !== undefined) {
      reason = String(reason);
      if (utf8ByteLength(reason) > 123)
        throw domException('close reason must be at most 123 UTF-8 bytes', 'SyntaxError');
    }
    const state = this.readyState;
    if (state === CLOSING || state === CLOSED) return;
    const connection = this.#connection;
    // CONNECTING: "fail the WebSocket connection and set readyState to CLOSING" (#failed: see readyState).
    if (connection === null) {
      this.#failed = true;
      this.#ending = 'close-requested'; // still connecting through an async connect: handled once it lands
      return;
    }
    if (state === CONNECTING) {
      this.#failed = true;
      if (connection.readyState === 'connecting') connection.terminate(); // (else it failed already)
    } else {
      connection.close(code ?? (reason !== undefined ? 1000 : undefined), reason);
    }
  }

  #attach(connection: WebSocketConnection): void {
    this.#connection = connection;
    if (this.#ending === 'close-requested') {
      // close() was called before the connection existed.
      this.#failed = true;
      connection.terminate();
    }
    connection.on('open', () => {
      if (this.#ending !== 'none') return;
      // WHATWG "establish a WebSocket connection": protocols were requested but the server
      // chose none → fail the connection (RFC 6455 alone would allow it; browsers do not).
      if (this.#protocolsOffered && connection.protocol === '') {
        this.#failed = true;
        this.#failure = new Error('the server chose none of the subprotocols offered (the standard requires one)');
        connection.terminate();
        return;
      }
      this.#protocol = connection.protocol;
      this.#extensions = connection.extensions;
      this.dispatchEvent(makeEvent('open', {}, undefined));
    });
    connection.on('message', (data, isBinary) => {
      if (this.readyState !== OPEN) return;
      // (#binaryType is always one of binaryTypes' keys: its setter checks.)
      const convert = isBinary ? this.#config.binaryTypes[this.#binaryType] : undefined;
      const value = convert === undefined ? data : convert(data as Uint8Array);
      this.dispatchEvent(makeEvent('message', { data: value, origin: this.#origin }, host.MessageEvent));
    });
    connection.on('error', (error) => (this.#lastError = error));
    connection.on('close', (info) => this.#onClose(connection, info));
    if (connection.readyState === 'closed' && connection.closeInfo !== null)
      this.#onClose(connection, connection.closeInfo);
  }

  #onClose(connection: WebSocketConnection, info: SessionCloseInfo): void {
    const failed =
      this.#failed ||
      sessionInput.openError(connection) !== null || // it never opened
      (info.error !== null && info.error !== 'TRANSPORT_ERROR');
    const error = failed
      ? (this.#failure ?? sessionInput.openError(connection) ?? this.#lastError ?? closeError(info))
      : null;
    this.#fireClose(error, info.code, info.reason, info.wasClean);
  }

  #failBeforeConnection(error: unknown): void {
    const reason =
      error instanceof Error
        ? error
        : new Error(`could not connect to ${this.#url}: ${typeof error === 'string' ? error : describe(error)}`, {
            cause: error,
          });
    this.#fireClose(reason, 1006, '', false);
  }

  /** `error` (if the connection failed) then `close`, in a later task as browsers do (never inside close()). */
  #fireClose(error: Error | null, code: number, reason: string, wasClean: boolean): void {
    if (this.#ending === 'close-queued' || this.#ending === 'closed') return;
    this.#ending = 'close-queued';
    this.#outbox = null;
    microtask(() => {
      this.#ending = 'closed';
      if (error !== null) this.dispatchEvent(makeEvent('error', { error, message: error.message }, host.ErrorEvent));
      this.dispatchEvent(makeEvent('close', { code, reason, wasClean }, host.CloseEvent));
    });
  }

  async #flushOutbox(): Promise<void> {
    const outbox = this.#outbox;
    if (outbox === null) return;
    while (outbox.length > 0 && this.#outbox === outbox) {
      const item = outbox[0];
      const data = isBlob(item)
        ? new Uint8Array(await item.arrayBuffer())
        : (item as string | ArrayBuffer | ArrayBufferView);
      if (this.#outbox !== outbox) return; // closed meanwhile: stays counted, as the standard says
      outbox.shift();
      this.#extraBuffered -= byteLength(data);
      if (this.#connection?.readyState === 'open') this.#connection.send(data);
      else this.#extraBuffered += byteLength(data);
    }
    if (this.#outbox === outbox) this.#outbox = null;
  }

  #getHandler(type: HandlerName): unknown {
    return this.#handlers[type]?.value ?? null;
  }

  #setHandler(type: HandlerName, value: unknown): void {
    const handler = typeof value === 'function' ? value : null;
    const current = this.#handlers[type];
    if (current !== undefined) {
      current.value = handler;
      return;
    }
    if (handler === null) return;
    const entry = {
      value: handler as unknown,
      wrapper: (event: EventLike): void => {
        if (typeof entry.value === 'function') (entry.value as (event: EventLike) => void).call(this, event);
      },
    };
    this.#handlers[type] = entry;
    this.addEventListener(type, entry.wrapper);
  }
}

// The standard's listener types for `addEventListener` (merged into the class's type).
export interface WhatwgWebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: Handler<WebSocketEventMap[K]> | { handleEvent(event: WebSocketEventMap[K]): unknown } | null,
    options?: boolean | ListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: Handler<WebSocketEvent> | { handleEvent(event: WebSocketEvent): unknown } | null,
    options?: boolean | ListenerOptions,
  ): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: Handler<WebSocketEventMap[K]> | { handleEvent(event: WebSocketEventMap[K]): unknown } | null,
    options?: boolean | ListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: Handler<WebSocketEvent> | { handleEvent(event: WebSocketEvent): unknown } | null,
    options?: boolean | ListenerOptions,
  ): void;
}

for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(WhatwgWebSocket.prototype, name, { value, enumerable: true });
}

/** The constructor an adapter exports as `WebSocket`. */
export interface WebSocketClass {
  new (url: string | { href: string }, protocols?: string | readonly string[] | WebSocketInit): WhatwgWebSocket;
  readonly prototype: WhatwgWebSocket;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
}

/** A WHATWG `WebSocket` class over `connect` (an adapter's: socket, TLS, session). */
export function createWebSocketClass(
  options: WebSocketClassOptions | WebSocketClassOptions['connect'],
): WebSocketClass {
  const {
    connect,
    binaryTypes = {},
    defaultBinaryType,
  } = typeof options === 'function' ? { connect: options } : options;
  if (typeof connect !== 'function')
    throw new WebSocketUsageError('INVALID_ARGUMENT', 'createWebSocketClass needs a connect function');
  const types = { ...BUILT_IN_TYPES, ...binaryTypes };
  const fallback = defaultBinaryType ?? ('blob' in types ? 'blob' : 'arraybuffer');
  if (!Object.hasOwn(types, fallback))
    throw new WebSocketUsageError('INVALID_ARGUMENT', `unknown default binaryType ${fallback}`);
  const config: Config = { connect, binaryTypes: types, defaultBinaryType: fallback };
  return class WebSocket extends WhatwgWebSocket {
    constructor(url: string | { href: string }, protocols?: string | readonly string[] | WebSocketInit) {
      super(url, protocols, config);
    }
  };
}
