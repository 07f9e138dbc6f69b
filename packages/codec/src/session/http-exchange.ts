/**
 * Plain HTTP beside WebSockets, the plumbing half: a plain request the codec parsed becomes a
 * WHATWG `Request` (its body a stream fed as bytes arrive, reading paused while the handler
 * does not read), the application's `fetch` handler is awaited, and its `Response` is written
 * back through the codec, which frames it (`Content-Length` when the body's length is known,
 * else chunked) and decides whether the connection stays open for the next request. The
 * protocol is the codec's (`http/server-exchange.ts`); nothing here parses or frames bytes.
 *
 * A handler that throws, rejects or returns something other than a `Response` gets a 500 (or,
 * once the response has started, the connection dropped) and a logged error; the process goes on.
 */
import { WebSocketUsageError } from '../errors.ts';
import type { RequestHead } from '../http/head-parser.ts';
import type { HeadersInit } from '../http/headers.ts';
import type { SessionRequest } from './connection-types.ts';
import { encodeUtf8 } from '../utf8.ts';
import type { Timers } from './options.ts';
import type { PeerInfo } from './transport.ts';
import { sessionInput } from './connection-wiring.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

// The codec is typed against ECMAScript alone: the WHATWG fetch types are the host's, seen
// through these aliases (the host's own `Request` and `Response` wherever its types declare
// them, as on Node, Deno, Bun and in the DOM), and reached at run time through `globalThis`.

/** What the session uses of a `Headers`. */
interface HeadersLike {
  append(name: string, value: string): void;
  forEach(callback: (value: string, name: string) => void): void;
  getSetCookie?(): string[];
}

interface ReaderLike {
  read(): Promise<{ done: boolean; value?: unknown }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

interface BodyStreamLike {
  getReader(): ReaderLike;
}

interface BodyController {
  enqueue(chunk: Uint8Array): void;
  close(): void;
  error(error: unknown): void;
  readonly desiredSize: number | null;
}

/** A WHATWG `Request`, where the host's types do not declare one. */
export interface RequestLike {
  readonly method: string;
  readonly url: string;
  readonly headers: HeadersLike;
  readonly body: BodyStreamLike | null;
}

/** A WHATWG `Response`, where the host's types do not declare one. */
export interface ResponseLike {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeadersLike;
  readonly body: BodyStreamLike | null;
}

/** The host's `Request` type (a WHATWG Request). */
export type FetchRequest = typeof globalThis extends { Request: { prototype: infer R } } ? R : RequestLike;
/** The host's `Response` type (a WHATWG Response). */
export type FetchResponse = typeof globalThis extends { Response: { prototype: infer R } } ? R : ResponseLike;

interface FetchGlobals {
  Request?: new (url: string, init: object) => RequestLike;
  Response?: abstract new (...args: never[]) => ResponseLike;
  Headers?: new () => HeadersLike;
  ReadableStream?: new (
    source: { start(controller: BodyController): void; pull(): void; cancel(): void },
    strategy: { highWaterMark: number },
  ) => BodyStreamLike;
  AbortController?: new () => { readonly signal: unknown; abort(): void };
}

const host = globalThis as unknown as FetchGlobals;

/** The host's globals once {@link fetchHost} has checked that the fetch classes are there. */
type CheckedHost = FetchGlobals & Required<Pick<FetchGlobals, 'Request' | 'Response' | 'Headers' | 'ReadableStream'>>;

/** The host's fetch classes; throws unless the host has what a `fetch` handler needs. */
function fetchHost(): CheckedHost {
  if (
    typeof host.Request !== 'function' ||
    typeof host.Response !== 'function' ||
    typeof host.Headers !== 'function' ||
    typeof host.ReadableStream !== 'function'
  ) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      'the fetch option needs a host with Request, Response, Headers and ReadableStream (Node 18+, Deno, Bun, browsers)',
    );
  }
  return host as CheckedHost;
}

/** @internal Throws unless the host has what a `fetch` handler needs. */
export function checkFetchHost(): void {
  fetchHost();
}

/**
 * Answers plain HTTP requests (those that are not WebSocket upgrades), as Bun's and Deno's
 * `fetch` handlers do. May return a promise. `server` offers what the request's server can do
 * for it.
 */
export type FetchHandler = (
  request: FetchRequest,
  server: FetchServer,
) => FetchResponse | undefined | void | Promise<FetchResponse | undefined | void>;

/** The second argument of a {@link FetchHandler}. */
export interface FetchServer {
  /** The peer's address and port, and whether the connection is TLS. */
  readonly peer: Readonly<PeerInfo>;
  /**
   * With `fetchUpgrades`: accept `request`, a WebSocket upgrade, once the handler returns; the
   * connection's `data` is `options.data`, and `options.headers` go into the 101. Returns false
   * (and does nothing) for any other request: a plain one, or one already decided.
   */
  upgrade(request: FetchRequest, options?: { data?: unknown; headers?: HeadersInit }): boolean;
}

/** How `fetch` decided an upgrade request. */
export type UpgradeDecision =
  | { type: 'accept'; data: unknown; headers: HeadersInit | undefined }
  | { type: 'reject'; status: number; statusText?: string; headers?: HeadersInit; body?: Uint8Array };

/** A refused upgrade's body is cut at this (as the codec's maxRejectBodyBytes default). */
const MAX_REFUSAL_BODY = 64 * 1024;

const NO_UPGRADE = (): boolean => false;

/** @internal Where the session delivers a plain request's body, and says the connection went. */
export interface HttpBodySink {
  body(data: Uint8Array): void;
  end(): void;
  /** The connection closed (or failed) before the exchange finished. */
  gone(): void;
}

/** Chunks the request body's stream holds before reading from the peer pauses. */
const BODY_QUEUE = 16;

const INTERNAL_ERROR_BODY = 'Internal Server Error\n';

function logHandlerError(error: unknown): void {
  const console = (globalThis as { console?: { error(...args: unknown[]): void } }).console;
  console?.error('@ws: the fetch handler failed:', error);
}

/** The `Request`'s URL: an absolute-form target as it is, else from the scheme, Host and the target. */
function requestUrl(head: RequestHead, secure: boolean): string {
  const target = head.target;
  if (/^https?:\/\//i.test(target)) return target;
  const host = head.headers.get('host') ?? 'localhost';
  return `${secure ? 'https' : 'http'}://${host}${target.startsWith('/') ? target : '/'}`;
}

/**
 * @internal Start answering the plain request `head` on `connection` with `fetch`; returns
 * where its body goes (null when it has none).
 */
export function startExchange(
  connection: WebSocketConnection,
  head: RequestHead,
  hasBody: boolean,
  fetch: FetchHandler,
  peer: PeerInfo | null,
  timers: Timers,
): HttpBodySink {
  return new Exchange(connection, head, hasBody, fetch, peer ?? {}, timers);
}

class Exchange implements HttpBodySink {
  readonly #connection: WebSocketConnection;
  readonly #head: RequestHead;
  readonly #timers: Timers;
  #controller: BodyController | null = null;
  /** Reading is paused by this exchange. */
  #paused = false;
  #abort: { abort(): void; readonly signal: unknown } | null = null;
  /** The connection went before the answer was written. */
  #gone = false;
  /** The response head was sent. */
  #started = false;

  constructor(
    connection: WebSocketConnection,
    head: RequestHead,
    hasBody: boolean,
    fetch: FetchHandler,
    peer: PeerInfo,
    timers: Timers,
  ) {
    this.#connection = connection;
    this.#head = head;
    this.#timers = timers;
    const method = head.method;
    // A GET or HEAD cannot carry a body in a `Request`: its bytes are read and dropped.
    const streamBody = hasBody && method !== 'GET' && method !== 'HEAD';
    let request: RequestLike;
    try {
      const headers = new (fetchHost().Headers)();
      for (const [name, value] of head.headers) headers.append(name, value);
      this.#abort = typeof host.AbortController === 'function' ? new host.AbortController() : null;
      const init: { method: string; headers: HeadersLike; signal?: unknown; body?: BodyStreamLike; duplex?: 'half' } = {
        method,
        headers,
      };
      if (this.#abort !== null) init.signal = this.#abort.signal;
      if (streamBody) {
        init.body = new (fetchHost().ReadableStream)(
          {
            start: (controller) => {
              this.#controller = controller;
            },
            pull: () => {
              // The handler reads: the peer may send (Expect: 100-continue) and we read again.
              sessionInput.send(this.#connection, { type: 'http-continue' });
              this.#setPaused(false);
            },
            cancel: () => {
              this.#controller = null;
              this.#setPaused(false);
            },
          },
          { highWaterMark: BODY_QUEUE },
        );
        init.duplex = 'half';
      }
      request = new (fetchHost().Request)(requestUrl(head, peer.secure === true), init);
    } catch {
      // A target, header or method a `Request` will not take (e.g. CONNECT): the peer's request is at fault.
      this.#controller = null;
      this.#send(400, 'Bad Request\n');
      return;
    }
    if (!hasBody) this.#setPaused(true); // a pipelined request waits (unread) for its turn
    let result: ResponseLike | Promise<ResponseLike>;
    try {
      result = (
        fetch as unknown as (request: RequestLike, server: FetchServer) => ResponseLike | Promise<ResponseLike>
      )(request, { peer, upgrade: NO_UPGRADE });
    } catch (error) {
      this.#failed(error);
      return;
    }
    Promise.resolve(result).then(
      (response) => this.#respond(response),
      (error) => this.#failed(error),
    );
  }

  body(data: Uint8Array): void {
    const controller = this.#controller;
    if (controller === null) return; // not wanted: dropped
    controller.enqueue(data);
    if ((controller.desiredSize ?? 1) <= 0) this.#setPaused(true);
  }

  end(): void {
    const controller = this.#controller;
    this.#controller = null;
    controller?.close();
    // The request is complete: a pipelined one waits (unread) until this one is answered.
    this.#setPaused(true);
  }

  gone(): void {
    this.#gone = true;
    const controller = this.#controller;
    this.#controller = null;
    if (controller !== null) {
      try {
        controller.error(new Error('the connection closed before the request body ended'));
      } catch {
        // already closed or errored
      }
    }
    this.#abort?.abort();
  }

  #setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    if (paused) this.#connection.pause();
    else this.#connection.resume();
  }

  #failed(error: unknown): void {
    logHandlerError(error);
    if (this.#gone) return;
    if (this.#started) this.#connection.terminate();
    else this.#send(500, INTERNAL_ERROR_BODY);
  }

  /** A small answer of our own: a text body with its length. */
  #send(status: number, text: string): void {
    const body = encodeUtf8(text);
    this.#command({
      type: 'http-response',
      status,
      headers: [['Content-Type', 'text/plain; charset=utf-8']],
      bodyLength: body.length,
    });
    this.#command({ type: 'http-body', data: body });
    this.#finish();
  }

  /**
   * A command for the codec, written at the next {@link #flush}: a response's head, body and end
   * leave in one vectored write (separate small writes would meet Nagle and delayed ACKs).
   */
  #command(command: Parameters<typeof sessionInput.send>[1]): void {
    if (command.type === 'http-response') this.#started = true;
    sessionInput.queue(this.#connection, command);
  }

  #flush(): void {
    sessionInput.pump(this.#connection);
  }

  #finish(): void {
    this.#command({ type: 'http-end' });
    this.#flush();
    this.#setPaused(false);
  }

  async #respond(response: unknown): Promise<void> {
    if (this.#gone) return;
    if (!(response instanceof fetchHost().Response)) {
      this.#failed(
        new TypeError(
          `the fetch handler must return a Response (or a promise of one), got ${response === null ? 'null' : typeof response}`,
        ),
      );
      return;
    }
    const headers: Array<[string, string]> = [];
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers.push([name, value]);
    });
    const cookies = response.headers.getSetCookie?.() ?? [];
    for (const cookie of cookies) headers.push(['set-cookie', cookie]);
    const head = { type: 'http-response' as const, status: response.status, statusText: response.statusText, headers };
    const body = response.body;
    try {
      if (body === null) {
        this.#command({ ...head, bodyLength: 0 });
        this.#finish();
        return;
      }
      const reader = body.getReader();
      try {
        await this.#stream(reader, head);
      } finally {
        reader.releaseLock();
      }
    } catch (error) {
      this.#failed(error);
    }
  }

  /**
   * The body's first chunk, then whether the stream ends right after it (a body made from a
   * string or bytes does, at once): then its length is known and sent as `Content-Length`.
   */
  async #stream(
    reader: ReaderLike,
    head: { type: 'http-response'; status: number; statusText: string; headers: Array<[string, string]> },
  ): Promise<void> {
    const first = await reader.read();
    if (this.#gone) return void reader.cancel().catch(() => {});
    if (first.done) {
      this.#command({ ...head, bodyLength: 0 });
      this.#finish();
      return;
    }
    const firstBytes = toChunk(first.value);
    let next: Promise<{ done: boolean; value?: unknown }> | null = reader.read();
    // A body made from a string or bytes ends within a few microtasks (Node, Deno, Bun): then no
    // timer is made (one per request cost ≈ 2 % of a keep-alive GET's CPU on Node); a stream
    // still open after them gets until the next turn of the event loop.
    const soon = (await Promise.race([next, afterMicrotasks()])) ?? (await Promise.race([next, this.#nextTurn()]));
    if (this.#gone) return void reader.cancel().catch(() => {});
    if (soon !== null && soon.done) {
      this.#command({ ...head, bodyLength: firstBytes.length });
      this.#command({ type: 'http-body', data: firstBytes });
      this.#finish();
      return;
    }
    this.#command({ ...head, bodyLength: null });
    if (this.#head.method === 'HEAD') {
      // No body goes out: stop the handler's stream.
      void reader.cancel().catch(() => {});
      this.#finish();
      return;
    }
    this.#command({ type: 'http-body', data: firstBytes });
    this.#flush();
    for (;;) {
      await this.#writable();
      if (this.#gone) return void reader.cancel().catch(() => {});
      const result = await (next ?? reader.read());
      next = null;
      if (this.#gone) return void reader.cancel().catch(() => {});
      if (result.done) break;
      this.#command({ type: 'http-body', data: toChunk(result.value) });
      this.#flush();
    }
    this.#finish();
  }

  /** Resolves with null on a later turn of the event loop (a timer of 0 ms). */
  #nextTurn(): Promise<null> {
    return new Promise((resolve) => this.#timers.setTimeout(() => resolve(null), 0));
  }

  /** Wait while the peer is slow to read what was written. */
  async #writable(): Promise<void> {
    const connection = this.#connection;
    if (connection.bufferedAmount > 64 * 1024) await connection.drain();
  }
}

/** Microtask turns {@link afterMicrotasks} waits. */
const MICROTASK_TURNS = 8;

/** Resolves with null after a few turns of the microtask queue (no timer, no event-loop turn). */
async function afterMicrotasks(): Promise<null> {
  for (let i = 0; i < MICROTASK_TURNS; i++) await undefined;
  return null;
}

function toChunk(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encodeUtf8(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`a response body chunk must be bytes or a string, got ${value === null ? 'null' : typeof value}`);
}

/**
 * @internal `fetch` decides a valid upgrade request (`fetchUpgrades`): a `Request` without a
 * body, and a `server.upgrade()` that accepts it. A handler that throws, or returns neither an
 * upgrade nor a `Response` with a status from 400 to 599, gets a 500 and a logged error.
 */
export async function decideUpgradeInFetch(session: SessionRequest, fetch: FetchHandler): Promise<UpgradeDecision> {
  const internalError: UpgradeDecision = { type: 'reject', status: 500 };
  let accepted: UpgradeDecision | null = null;
  let request: RequestLike;
  try {
    const headers = new (fetchHost().Headers)();
    for (const [name, value] of session.headers) headers.append(name, value);
    request = new (fetchHost().Request)(
      requestUrl(
        { method: session.method, target: session.url, httpVersion: '1.1', headers: session.headers },
        session.secure,
      ),
      { method: session.method, headers },
    );
  } catch (error) {
    logHandlerError(error);
    return internalError;
  }
  const peer: PeerInfo = {
    remoteAddress: session.remoteAddress,
    remotePort: session.remotePort,
    secure: session.secure,
  };
  const server: FetchServer = {
    peer,
    upgrade(which, options) {
      if (which !== (request as unknown) || accepted !== null) return false;
      accepted = { type: 'accept', data: options?.data, headers: options?.headers };
      return true;
    },
  };
  let response: unknown;
  try {
    response = await (fetch as unknown as (request: RequestLike, server: FetchServer) => unknown)(request, server);
  } catch (error) {
    logHandlerError(error);
    return internalError;
  }
  if (accepted !== null) return accepted;
  if (!(response instanceof fetchHost().Response)) {
    logHandlerError(
      new TypeError('the fetch handler neither upgraded a WebSocket request (server.upgrade) nor returned a Response'),
    );
    return internalError;
  }
  if (response.status < 400 || response.status > 599) {
    logHandlerError(new TypeError(`a refused upgrade needs a status from 400 to 599, got ${response.status}`));
    return internalError;
  }
  const headers: Array<[string, string]> = [];
  response.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') headers.push([name, value]);
  });
  let body: Uint8Array | undefined;
  if (response.body !== null) {
    const reader = response.body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      while (size < MAX_REFUSAL_BODY) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = toChunk(value);
        parts.push(chunk);
        size += chunk.length;
      }
    } catch (error) {
      logHandlerError(error);
    } finally {
      void reader.cancel().catch(() => {});
    }
    body = new Uint8Array(Math.min(size, MAX_REFUSAL_BODY));
    let offset = 0;
    for (const part of parts) {
      if (offset >= body.length) break;
      body.set(part.subarray(0, body.length - offset), offset);
      offset += part.length;
    }
  }
  return { type: 'reject', status: response.status, statusText: response.statusText, headers, body };
}
