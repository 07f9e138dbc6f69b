/**
 * The option names each options object accepts, in one place, and the check that refuses any
 * other: a misspelt option, or one copied from `ws` (`perMessageDeflate`, `port`, `noServer`…),
 * would otherwise be ignored without a word. Adding an option to an interface means adding its
 * key here: each list is checked against its interface by the compiler (`satisfies`), so a
 * missing or extra key fails the typecheck.
 *
 * Adapters check their own keys (TLS options) by passing them as `extra`; protocol options are
 * the session's alone.
 */
import type { Limits, Timeouts } from '../limits.ts';
import type { ClientSessionOptions } from './client-session.ts';
import type { SessionOptions } from './options.ts';
import type { ServerSessionOptions } from './server-session.ts';

/** Every key of `T`, each once: `satisfies` makes the compiler check a list against its interface. */
type Keys<T> = { readonly [K in keyof Required<T>]: true };

const SESSION_KEYS = {
  limits: true,
  timeouts: true,
  extensions: true,
  assembleMessages: true,
  autoPong: true,
  utf8Validator: true,
  random: true,
  highWaterMark: true,
  lowWaterMark: true,
  maxBufferedAmount: true,
  drainTimeout: true,
  maxQueuedMessages: true,
  timers: true,
  clock: true,
  maxServerBufferedAmount: true,
  serverBufferGracePeriod: true,
} as const satisfies Keys<SessionOptions>;

/** `connect()`, `createConnection()` and the WHATWG class's options (add a new client option here). */
export const CLIENT_OPTION_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    ...SESSION_KEYS,
    protocols: true,
    headers: true,
    origin: true,
    proxy: true,
  } as const satisfies Keys<ClientSessionOptions>),
);

/** `createServer()` and `handleUpgrade()` options (add a new server option here). */
export const SERVER_OPTION_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    ...SESSION_KEYS,
    protocols: true,
    origins: true,
    verifyClient: true,
    headers: true,
    // Topics (session/topics.ts)
    topics: true,
    backpressureLimit: true,
    closeOnBackpressureLimit: true,
    broker: true,
    // Plain HTTP requests on the same port (session/http-exchange.ts)
    fetch: true,
    fetchUpgrades: true,
  } as const satisfies Keys<ServerSessionOptions>),
);

const LIMIT_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    maxHeadBytes: true,
    maxHeaders: true,
    maxFrameSize: true,
    maxMessageSize: true,
    maxFragments: true,
    maxRejectBodyBytes: true,
    maxBodyBytes: true,
  } as const satisfies Keys<Limits>),
);

const TIMEOUT_KEYS: ReadonlySet<string> = new Set(
  Object.keys({
    handshakeTimeout: true,
    closeTimeout: true,
    keepaliveInterval: true,
    keepaliveTimeout: true,
    idleTimeout: true,
    httpKeepAliveTimeout: true,
  } as const satisfies Keys<Timeouts>),
);

/**
 * Options of `ws` (and a few common slips) that we spell differently or do not have, with what
 * to write instead. A key listed here that is also one of ours (none today) is accepted.
 */
export const FOREIGN_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  perMessageDeflate: 'use extensions: [permessageDeflate()] (permessageDeflate is exported by the adapter)',
  port: 'call server.listen(port, host) after createServer()',
  host: 'call server.listen(port, host) after createServer()',
  server:
    "to share an http.Server, call handleUpgrade(req, socket, head, options, onConnection) from its 'upgrade' event (@ws/node)",
  noServer:
    "call handleUpgrade(req, socket, head, options, onConnection) from your http server's 'upgrade' event (@ws/node)",
  clientTracking: 'connections are always tracked: read server.connections',
  maxPayload: 'use limits: { maxMessageSize } (and limits.maxFrameSize for one frame)',
  handleProtocols: 'use protocols: (offered, request) => chosen ?? null',
  path: 'check request.path in verifyClient (return { status: 404 } to refuse)',
  backlog: 'not supported',
  skipUTF8Validation: 'text is always validated; utf8Validator can plug in a faster host validator',
  allowSynchronousEvents: 'not needed: events are always dispatched synchronously',
  WebSocket: 'not supported: the connection class is fixed',
  handshakeTimeout: 'use timeouts: { handshakeTimeout }',
  protocol: 'use protocols (a string or a list)',
  subprotocols: 'use protocols (a string or a list)',
  protocolVersion: 'only version 13 (RFC 6455) exists',
  followRedirects: 'not supported: a redirect fails the handshake with its status',
  maxRedirects: 'not supported: a redirect fails the handshake with its status',
  generateMask: 'use random (a function filling a Uint8Array)',
  agent: "for an HTTP proxy use proxy: 'http://host:port' (or 'env'); other agents are not supported",
  finishRequest: 'use headers for extra request headers',
  createConnection: 'not supported',
  compress: 'compression is per message: send(data, { compress })',
  maxPayloadLength: 'use limits: { maxMessageSize }',
  idleTimeout: 'use timeouts: { idleTimeout } (milliseconds)',
  sendPings: 'use timeouts: { keepaliveInterval }',
  pingInterval: 'use timeouts: { keepaliveInterval }',
  pingTimeout: 'use timeouts: { keepaliveTimeout }',
});

const foreign = (key: string): string => (Object.hasOwn(FOREIGN_OPTIONS, key) ? `: ${FOREIGN_OPTIONS[key]}` : '');

/**
 * Throw a `TypeError` naming the first key of `options` that is neither in `allowed` nor in
 * `extra` (an adapter's own keys), and for `limits` and `timeouts` the same one level down.
 * `what` names the call, e.g. `'createServer()'`.
 */
export function checkOptionKeys(
  options: unknown,
  allowed: ReadonlySet<string>,
  what: string,
  extra?: ReadonlySet<string>,
): void {
  if (typeof options !== 'object' || options === null) return; // the type check is resolveSessionOptions's
  for (const key in options) {
    if (allowed.has(key) || extra?.has(key)) continue;
    throw new TypeError(`${what}: unknown option ${JSON.stringify(key)}${foreign(key)}`);
  }
  const { limits, timeouts } = options as { limits?: unknown; timeouts?: unknown };
  checkNested(limits, LIMIT_KEYS, 'limits', what);
  checkNested(timeouts, TIMEOUT_KEYS, 'timeouts', what);
}

function checkNested(value: unknown, allowed: ReadonlySet<string>, name: string, what: string): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key in value) {
    if (allowed.has(key)) continue;
    throw new TypeError(`${what}: unknown option ${name}.${key}; ${name} takes ${[...allowed].join(', ')}`);
  }
}
