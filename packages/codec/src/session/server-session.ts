/**
 * The server side of a session: one accepted socket, from the upgrade request to the open
 * connection handed to the application. The codec validates the request (and answers a bad one
 * with the right status); this module adds the application's decisions: `verifyClient` (which
 * may be async), the subprotocol choice, extra response headers.
 */
import { Connection, type ServerConnectionOptions } from '../connection.ts';
import { serverConnection } from '../handshake/server-connection.ts';
import { WebSocketUsageError, describe } from '../errors.ts';
import type { EngineTuning } from '../engine-tuning.ts';
import { isToken, type HeadersInit } from '../http/headers.ts';
import type { RequestHead } from '../http/head-parser.ts';
import { SERVER_OPTION_KEYS, checkOptionKeys } from './option-keys.ts';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionOptions } from './options.ts';
import { Topics, type TopicOptions } from './topics.ts';
import { ServerBudget } from './server-budget.ts';
import type { PeerInfo, Transport, TransportHandlers } from './transport.ts';
import type { SessionRequest } from './connection-types.ts';
import { driver, sessionInput, type ConnectionHooks, type ConnectionInit, type Driver } from './connection-wiring.ts';
import { WebSocketConnection } from './websocket-connection.ts';
import { checkFetchHost, decideUpgradeInFetch, startExchange, type FetchHandler } from './http-exchange.ts';
import { HttpHeaders } from '../http/headers.ts';
import { HttpServerPhase } from '../http/server-exchange.ts';

/** A refusal from `verifyClient`: this status (and headers, body) instead of 101. */
export interface VerifyRefusal {
  status: number;
  statusText?: string;
  headers?: HeadersInit;
  body?: string | Uint8Array;
}

/**
 * What `verifyClient` may answer: accept (true), accept with `data` for the connection (read
 * later as `ws.data`), refuse with 401 (false), or refuse with this response.
 */
export type VerifyResult<T = unknown> = boolean | { data: T } | VerifyRefusal;

/** A subprotocol chooser: one of `offered`, or null for none. */
export type ProtocolChooser = (offered: readonly string[], request: SessionRequest) => string | null;

export interface ServerSessionOptions<T = unknown> extends SessionOptions, TopicOptions {
  /**
   * The topics its connections' `subscribe`/`publish` use. A server makes its own from the
   * topic options (`server.topics`); pass one made by `createTopics()` to `handleUpgrade` (or to
   * several servers that should share topics in one process).
   */
  topics?: Topics;
  /**
   * Subprotocols we speak, most preferred first (the first one the client also offered wins):
   * a list, one as a string (`'chat'`), or a chooser returning one of `offered` or null. None
   * chosen: accepted without a subprotocol.
   */
  protocols?: string | readonly string[] | ProtocolChooser;
  /** Allowed `Origin`s (list or predicate); refused with 403. Absent: all allowed. */
  origins?: ServerConnectionOptions['origins'];
  /**
   * Decide whether to accept; may be async. Answer `{ data }` to accept and give the connection
   * its `ws.data`. Throwing or rejecting answers 500. Takes one argument (not `ws`'s
   * `(info, callback)`: return or resolve the verdict instead).
   */
  verifyClient?: (request: SessionRequest) => VerifyResult<T> | Promise<VerifyResult<T>>;
  /** Extra headers for the 101 response. */
  headers?: HeadersInit | ((request: SessionRequest) => HeadersInit | undefined);
  /**
   * Answer plain HTTP requests on the same port (a health check, the page that opens the
   * socket, a 404): every request that is not a WebSocket upgrade is passed as a WHATWG
   * `Request` (its body a stream) and the `Response` it returns is written back, with
   * keep-alive between requests. Limits: `limits.maxHeadBytes`, `maxHeaders` and
   * `maxBodyBytes` (413); timeouts: `timeouts.handshakeTimeout` for each head and
   * `httpKeepAliveTimeout` between requests. Absent: such requests are answered 426.
   */
  fetch?: FetchHandler;
  /**
   * Upgrade requests go to `fetch` too (once the codec has found them valid, and after
   * `verifyClient` if given), as on `Bun.serve`: `server.upgrade(request, { data, headers })`
   * accepts one (the connection's `data` and extra 101 headers), a returned `Response` (status
   * 400–599) refuses it. Default false: upgrades skip `fetch` (no `Request` is made for them).
   */
  fetchUpgrades?: boolean;
}

export type ConnectionHandler<T = unknown> = (connection: WebSocketConnection<T>, request: SessionRequest) => void;

/**
 * A server hands every socket the same options object: resolve it once. (Changing an options
 * object after its first connection does not affect the resolved values; pass a new object.)
 */
const resolvedCache = new WeakMap<ServerSessionOptions, Resolved>();

/** A server's options, resolved for the session and for the codec (which reads its options and keeps none of them). */
interface Resolved {
  session: ResolvedSessionOptions;
  codec: ServerConnectionOptions;
  /** `codec` with the engine tuning of the transports seen last (one server: one kind of transport). */
  tuned: { engine: EngineTuning; codec: ServerConnectionOptions } | null;
  /** For `ServerSession`s made one by one with these options: the budget they share (made on first use). */
  budget: ServerBudget | null | undefined;
  /** `options.protocols` as a list (or the chooser). */
  protocols: readonly string[] | ProtocolChooser | undefined;
  options: ServerSessionOptions;
}

function resolveOnce(options: ServerSessionOptions): Resolved {
  let resolved = resolvedCache.get(options);
  if (resolved === undefined) {
    checkOptionKeys(options, SERVER_OPTION_KEYS, 'server options');
    const session = resolveSessionOptions(options, 'server');
    const protocols = serverProtocols(options.protocols);
    const verify = options.verifyClient;
    if (verify !== undefined && typeof verify !== 'function') {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `verifyClient must be a function, got ${describe(verify)}`);
    }
    if (verify !== undefined && verify.length >= 2) {
      // ws's `verifyClient(info, callback)`: we never call the callback, every client would hang.
      throw new TypeError(
        "server options: verifyClient takes (request) and returns (or resolves to) true, false, { data } or { status }; ws's (info, callback) form is not supported",
      );
    }
    const codec: ServerConnectionOptions = {
      extensions: options.extensions,
      limits: options.limits,
      timeouts: session.codecTimeouts,
      assembleMessages: options.assembleMessages,
      autoPong: options.autoPong,
      utf8Validator: options.utf8Validator,
      random: options.random,
      origins: options.origins,
      http: options.fetch !== undefined ? HttpServerPhase : null,
    };
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new TypeError(
        `fetch must be a function (request) => Response, got ${options.fetch === null ? 'null' : typeof options.fetch}`,
      );
    }
    if (options.fetch !== undefined) checkFetchHost();
    if (options.fetchUpgrades === true && options.fetch === undefined)
      throw new TypeError('fetchUpgrades needs a fetch handler');
    resolved = { session, codec, tuned: null, budget: undefined, protocols, options };
    if (typeof options === 'object' && options !== null) resolvedCache.set(options, resolved);
  }
  return resolved;
}

/** The codec's options for a connection on a transport tuned with `engine` (see `Transport.engine`). */
function codecOptions(resolved: Resolved, engine: EngineTuning | undefined): ServerConnectionOptions {
  if (engine === undefined) return resolved.codec;
  let tuned = resolved.tuned;
  if (tuned === null || tuned.engine !== engine)
    resolved.tuned = tuned = { engine, codec: { ...resolved.codec, engine } };
  return tuned.codec;
}

/** What {@link SERVER_INIT} holds between connections (nothing of the last one). */
const EMPTY = null as never;
const SERVER_INIT: ConnectionInit = {
  codec: EMPTY,
  transport: EMPTY,
  options: EMPTY,
  assembleMessages: true,
  peer: EMPTY,
  owner: EMPTY,
  hooks: EMPTY,
  topics: EMPTY,
  budget: EMPTY,
};

/** A budget for one server's connections, or null when `maxServerBufferedAmount` is 0. */
function makeBudget(session: ResolvedSessionOptions): ServerBudget | null {
  return session.maxServerBufferedAmount > 0
    ? new ServerBudget(session.maxServerBufferedAmount, session.serverBufferGracePeriod, session.timers)
    : null;
}

/** A server connection on `transport`, its handshake timer armed. */
function openConnection<O>(
  transport: Transport,
  options: ServerSessionOptions,
  owner: O,
  hooks: ConnectionHooks<O>,
  peer: PeerInfo,
  topics: Topics | null,
  budget: ServerBudget | null,
  make: (options: ServerConnectionOptions) => Connection = serverConnection,
): WebSocketConnection {
  const resolved = resolveOnce(options);
  const base = codecOptions(resolved, transport.engine);
  // One init for every server connection, filled in and emptied around the constructor (which
  // copies what it needs): a server makes one connection per socket.
  const init = SERVER_INIT;
  init.codec = make(base);
  init.transport = transport;
  init.options = resolved.session;
  init.assembleMessages = options.assembleMessages ?? true;
  init.peer = peer;
  init.owner = owner;
  init.hooks = hooks as ConnectionHooks<unknown>;
  init.topics = topics;
  init.budget = budget;
  let connection: WebSocketConnection;
  try {
    connection = new WebSocketConnection(init);
  } finally {
    init.codec =
      init.transport =
      init.options =
      init.peer =
      init.owner =
      init.hooks =
      init.topics =
      init.budget =
        EMPTY;
  }
  // Arm the handshake timer now: a client that never sends its request must time out too.
  sessionInput.pump(connection);
  return connection;
}

/**
 * @internal A server's part in every handshake, made once per server: options resolved once,
 * the hooks shared, and no session object per socket.
 */
export interface ServerHandshakes<O> {
  /**
   * A server connection on `transport`, its handshake timer armed. Wire the transport to
   * `transportHandlers(connection)`; `owner` is passed to `onOpen` once the handshake succeeds.
   */
  open(
    transport: Transport,
    owner: O,
    peer: PeerInfo,
    make?: (options: ServerConnectionOptions) => Connection,
  ): WebSocketConnection;
  /** The server's topics: `options.topics`, or made from the topic options. */
  readonly topics: Topics;
  /** The server's budget for unsent bytes across its connections, or null (`maxServerBufferedAmount: 0`). */
  readonly budget: ServerBudget | null;
}

/**
 * Drive one server socket. Wire the socket's events to this object's handlers; once the
 * handshake succeeds, `onConnection` receives the open connection (before any of its messages).
 */
export class ServerSession implements TransportHandlers {
  readonly connection: WebSocketConnection;
  readonly #driver: Driver;
  readonly #options: ServerSessionOptions;
  readonly #onConnection: ConnectionHandler;

  /** The handshake hooks, shared by every server connection: the session they belong to is their owner. */
  static readonly #hooks: ConnectionHooks<ServerSession> = {
    onRequest: (session, connection, request) => decide(connection, request, resolveOnce(session.#options)),
    onOpen: (session, connection, request) => session.#onConnection(connection, request),
    // The codec yields plain HTTP requests only with a `fetch` handler (its HTTP phase is on then).
    onHttpRequest: (session, connection, head, body, peer) => {
      const fetch = session.#options.fetch;
      if (fetch === undefined) return null;
      return startExchange(connection, head, body, fetch, peer, resolveOnce(session.#options).session.timers);
    },
  };

  constructor(
    transport: Transport,
    // biome-ignore lint/suspicious/noExplicitAny: the per-connection data type is erased here; createServer<T> checks it
    options: ServerSessionOptions<any>,
    // biome-ignore lint/suspicious/noExplicitAny: as above
    onConnection: ConnectionHandler<any>,
    peer: PeerInfo = {},
  ) {
    this.#options = options;
    this.#onConnection = onConnection;
    // Sessions made one by one with the same options object share one budget (a server's).
    const resolved = resolveOnce(options);
    if (resolved.budget === undefined) resolved.budget = makeBudget(resolved.session);
    this.connection = openConnection(
      transport,
      options,
      this,
      ServerSession.#hooks,
      peer,
      options.topics ?? null,
      resolved.budget,
    );
    this.#driver = driver(this.connection);
  }

  /**
   * @internal For an adapter's server: what every socket of one server shares. `onOpen` runs
   * where `onConnection` would (before the connection's messages), with the socket's `owner`.
   */
  static handshakes<O>(
    // biome-ignore lint/suspicious/noExplicitAny: the per-connection data type is erased here; createServer<T> checks it
    options: ServerSessionOptions<any>,
    onOpen: (owner: O, connection: WebSocketConnection, request: SessionRequest) => void,
    topics: Topics = topicsOf(options),
  ): ServerHandshakes<O> {
    // Check every option now, the codec's too: a bad one throws from the server's constructor,
    // not from its first accept (where it would take the process down, or drop every socket).
    const resolved = resolveOnce(options);
    serverConnection(resolved.codec);
    // One budget per server (`maxServerBufferedAmount`), shared by all its connections.
    const budget = makeBudget(resolved.session);
    const timers = resolved.session.timers;
    const hooks: ConnectionHooks<O> = {
      onRequest: (_owner, connection, request) => decide(connection, request, resolved),
      onOpen,
    };
    const fetch = options.fetch;
    if (fetch !== undefined) {
      hooks.onHttpRequest = (_owner, connection, head, body, peer) =>
        startExchange(connection, head, body, fetch, peer, timers);
    }
    return {
      open: (transport, owner, peer, make) =>
        openConnection(transport, options, owner, hooks, peer, topics, budget, make),
      topics,
      budget,
    };
  }

  onData(chunk: Uint8Array): void {
    this.#driver.onData(chunk);
  }

  onDrain(): void {
    this.#driver.onDrain();
  }

  onEnd(): void {
    this.#driver.onEnd();
  }

  onClose(error?: unknown): void {
    this.#driver.onClose(error);
  }

  /** The request head was parsed elsewhere (e.g. by `node:http`): use it instead of request bytes. */
  receiveRequestHead(head: RequestHead): void {
    this.#driver.receiveRequestHead(head);
  }
}

/** A server's topics: the ones given, or its own from the topic options. */
export function topicsOf(options: ServerSessionOptions): Topics {
  if (options.topics !== undefined) {
    if (!(options.topics instanceof Topics)) throw new TypeError('options.topics must come from createTopics()');
    return options.topics;
  }
  return new Topics({
    backpressureLimit: options.backpressureLimit,
    closeOnBackpressureLimit: options.closeOnBackpressureLimit,
    broker: options.broker,
  });
}

function decide(connection: WebSocketConnection, request: SessionRequest, resolved: Resolved): void {
  const verify = resolved.options.verifyClient;
  let verdict: VerifyResult | Promise<VerifyResult> = true;
  if (verify !== undefined) {
    try {
      verdict = verify(request);
    } catch {
      verdict = { status: 500 };
    }
  }
  if (
    typeof verdict === 'object' &&
    verdict !== null &&
    typeof (verdict as Promise<VerifyResult>).then === 'function'
  ) {
    answerLater(connection, request, resolved, verdict as Promise<VerifyResult>);
    return;
  }
  answer(connection, request, resolved, verdict as VerifyResult);
}

// The closures of an async verdict, and of a `fetch` that decides an upgrade, are made in functions
// of their own: written in `decide` or `answer`, they would cost every handshake a scope for them
// (JavaScriptCore makes a function's captured variables' scope as it is called).

function answerLater(
  connection: WebSocketConnection,
  request: SessionRequest,
  resolved: Resolved,
  verdict: Promise<VerifyResult>,
): void {
  verdict.then(
    (result) => answer(connection, request, resolved, result),
    () => answer(connection, request, resolved, { status: 500 }),
  );
}

function answerInFetch(
  connection: WebSocketConnection,
  request: SessionRequest,
  resolved: Resolved,
  fetch: FetchHandler,
): void {
  decideUpgradeInFetch(request, fetch).then((decision) => {
    if (decision.type === 'reject') {
      answer(connection, request, resolved, decision);
      return;
    }
    // `server.upgrade(request, { data })` sets the data (over verifyClient's, when it gives one).
    if (decision.data !== undefined) connection.data = decision.data;
    answer(connection, request, resolved, true, { headers: decision.headers });
  });
}

function answer(
  connection: WebSocketConnection,
  request: SessionRequest,
  resolved: Resolved,
  verdict: VerifyResult,
  fetched?: { headers: HeadersInit | undefined },
): void {
  // The socket may have gone (or the handshake timed out) while an async verdict was pending.
  if (connection.readyState !== 'connecting') return;
  const options = resolved.options;
  const accepted =
    verdict === true ||
    (typeof verdict === 'object' && verdict !== null && !('status' in verdict) && 'data' in verdict);
  if (accepted) {
    if (verdict !== true) connection.data = (verdict as { data: unknown }).data;
    if (fetched === undefined && options.fetchUpgrades === true && options.fetch !== undefined) {
      // The fetch handler decides last: it accepts with `server.upgrade()` or refuses with a Response.
      answerInFetch(connection, request, resolved, options.fetch);
      return;
    }
    let protocol: string | null;
    let headers: HeadersInit | undefined;
    try {
      protocol = chooseProtocol(resolved.protocols, request);
      headers = typeof options.headers === 'function' ? options.headers(request) : options.headers;
      if (fetched?.headers !== undefined) {
        const both = new HttpHeaders(headers ?? []);
        for (const [name, value] of new HttpHeaders(fetched.headers)) both.append(name, value);
        headers = both;
      }
      // One command object for every accept, filled in for the call (the codec reads it and keeps none of it).
      const command = ACCEPT;
      command.protocol = protocol;
      command.headers = headers;
      try {
        sessionInput.send(connection, command);
      } finally {
        command.protocol = null;
        command.headers = undefined;
      }
    } catch {
      // A chooser that threw or picked a protocol the client did not offer: our fault.
      if (connection.readyState === 'connecting') sessionInput.send(connection, { type: 'reject', status: 500 });
    }
    return;
  }
  if (verdict === false || typeof verdict !== 'object' || verdict === null) {
    sessionInput.send(connection, { type: 'reject', status: 401 });
    return;
  }
  try {
    const refusal = verdict as VerifyRefusal;
    sessionInput.send(connection, {
      type: 'reject',
      status: refusal.status,
      statusText: refusal.statusText,
      headers: refusal.headers,
      body: refusal.body,
    });
  } catch {
    if (connection.readyState === 'connecting') sessionInput.send(connection, { type: 'reject', status: 500 });
  }
}

/** See {@link answer}. */
const ACCEPT: { type: 'accept'; protocol: string | null; headers: HeadersInit | undefined } = {
  type: 'accept',
  protocol: null,
  headers: undefined,
};

/** `options.protocols` checked once: a list of distinct tokens (a string is a list of one), or a chooser. */
function serverProtocols(protocols: ServerSessionOptions['protocols']): Resolved['protocols'] {
  if (protocols === undefined || typeof protocols === 'function') return protocols;
  const list = typeof protocols === 'string' ? [protocols] : protocols;
  if (!Array.isArray(list)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `protocols must be a string, a list of strings or a function, got ${describe(protocols)}`,
    );
  }
  for (const protocol of list) {
    if (typeof protocol !== 'string' || !isToken(protocol)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `a subprotocol must be an HTTP token (RFC 6455 §4.1), got ${describe(protocol)}`,
      );
    }
  }
  return Object.freeze([...list]);
}

function chooseProtocol(protocols: Resolved['protocols'], request: SessionRequest): string | null {
  if (protocols === undefined || request.protocols.length === 0) return null;
  if (typeof protocols === 'function') return protocols(request.protocols, request);
  for (const protocol of protocols) if (request.protocols.includes(protocol)) return protocol;
  return null;
}
