/**
 * `connect(url, { http2: true })` on every runtime whose `node:http2` carries an extended CONNECT
 * (RFC 8441; Node, Deno and Bun): HTTP/2 sessions shared by the WebSockets to one origin, and the
 * choice between an extended CONNECT on one of them and HTTP/1.1. The adapter gives the runtime's
 * `http2.connect` and its TLS options in Node's names; nothing here imports `node:*`.
 */
import { startClient } from './adapter-helpers.ts';
import type { ClientSessionOptions, connectSession } from './client-session.ts';
import type { NodeStyleClientSession, NodeStyleHttp2Stream, NodeStyleSettings } from './node-style.ts';
import { Http2ClientTransport } from './stream-transport.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** The origin an HTTP/2 session goes to, and the options of the runtime's `http2.connect` (TLS, in Node's names). */
export interface Http2Origin {
  secure: boolean;
  hostname: string;
  port: number;
  /** `http2.connect`'s options (`ca`, `servername`, `rejectUnauthorized`, …); `{}` for h2c. */
  options: Record<string, unknown>;
}

/** The runtime's `http2.connect(authority, options)`. */
export type Http2Connect = (authority: string, options: Record<string, unknown>) => NodeStyleClientSession;

interface PooledSession {
  session: NodeStyleClientSession;
  /** Resolves once the server's SETTINGS arrived, with whether it allows extended CONNECT. */
  ready: Promise<boolean>;
  streams: number;
}

/** An identity for objects a key cannot spell out (a `SecureContext`, a function): the same object, the same id. */
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

/** A value of the options as text for the pool's key: strings and bytes by content, other objects by identity. */
function material(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return value.join(',');
  if (Array.isArray(value)) return `[${value.map(material).join('|')}]`;
  if (typeof value === 'object' || typeof value === 'function') {
    let id = objectIds.get(value);
    if (id === undefined) objectIds.set(value, (id = nextObjectId++));
    return `#${id}`;
  }
  return String(value);
}

/**
 * HTTP/2 sessions shared by WebSockets to one origin with the same options: opened on first use,
 * closed (gracefully) when their last WebSocket's stream closes. A session that fails or that the
 * server ends (GOAWAY) leaves the pool; the next connect opens another.
 */
export class Http2SessionPool {
  readonly #connect: Http2Connect;
  readonly #sessions = new Map<string, PooledSession>();

  constructor(connect: Http2Connect) {
    this.#connect = connect;
  }

  /** The `http://` or `https://` authority of an origin. */
  static authority(origin: Http2Origin): string {
    const host = origin.hostname.includes(':') ? `[${origin.hostname}]` : origin.hostname;
    return `${origin.secure ? 'https' : 'http'}://${host}:${origin.port}`;
  }

  /** The pool's key: the authority and every option (bytes by content, objects by identity). */
  static key(origin: Http2Origin): string {
    const options = Object.keys(origin.options)
      .sort()
      .map((name) => `${name}=${material(origin.options[name])}`);
    return [Http2SessionPool.authority(origin), ...options].join('\n');
  }

  /** A session to the origin whose SETTINGS have arrived; whether it allows extended CONNECT. Rejects if it cannot be opened. */
  async get(origin: Http2Origin): Promise<{ session: NodeStyleClientSession; connectProtocol: boolean }> {
    const key = Http2SessionPool.key(origin);
    let pooled = this.#sessions.get(key);
    if (pooled === undefined || pooled.session.closed || pooled.session.destroyed) pooled = this.#open(key, origin);
    const connectProtocol = await pooled.ready;
    return { session: pooled.session, connectProtocol };
  }

  #open(key: string, origin: Http2Origin): PooledSession {
    const authority = Http2SessionPool.authority(origin);
    const session = this.#connect(authority, origin.secure ? { ...origin.options, ALPNProtocols: ['h2'] } : {});
    const pooled: PooledSession = {
      session,
      streams: 0,
      ready: new Promise<boolean>((resolve, reject) => {
        session.once('remoteSettings', (settings: NodeStyleSettings) =>
          resolve(settings.enableConnectProtocol === true),
        );
        session.once('error', reject);
        session.once('close', () => reject(new Error(`the HTTP/2 session to ${authority} closed before its SETTINGS`)));
      }),
    };
    pooled.ready.catch(() => {});
    const forget = (): void => {
      if (this.#sessions.get(key) === pooled) this.#sessions.delete(key);
    };
    session.on('error', forget);
    session.on('close', forget);
    session.on('goaway', forget);
    // An idle pooled session does not keep the process alive; its streams do, and so does a
    // connect() waiting for its SETTINGS (unreferenced from the start, `await connect(…)` in a
    // script with nothing else running let Node exit with the promise unsettled, code 13).
    void pooled.ready.then(
      () => {
        if (pooled.streams === 0) session.unref();
      },
      () => {},
    );
    this.#sessions.set(key, pooled);
    return pooled;
  }

  /** A session found of no use (the server does not allow extended CONNECT): closed unless streams use it. */
  release(session: NodeStyleClientSession): void {
    for (const [key, pooled] of this.#sessions) {
      if (pooled.session !== session || pooled.streams > 0) continue;
      this.#sessions.delete(key);
      session.close();
    }
  }

  /** Count `stream` on its session; the session closes when its last stream has. */
  track(session: NodeStyleClientSession, stream: NodeStyleHttp2Stream): void {
    const pooled = [...this.#sessions.values()].find((p) => p.session === session);
    if (pooled === undefined) return;
    pooled.streams++;
    session.ref();
    stream.once('close', () => {
      pooled.streams--;
      if (pooled.streams === 0) {
        session.unref();
        for (const [key, p] of this.#sessions) if (p === pooled) this.#sessions.delete(key);
        session.close();
      }
    });
  }
}

/** For `createConnection`: the http2 option needs `connect()` (it waits for the server's SETTINGS). */
export function refuseHttp2Option(http2: unknown): void {
  if (http2 !== undefined && http2 !== false) {
    throw new TypeError(
      "the http2 option is for connect() (it waits for the server's SETTINGS): use connect(url, { http2: true })",
    );
  }
}

/**
 * `connect(url, { http2: true })`: an extended CONNECT on a pooled HTTP/2 session to `origin`
 * when the server's SETTINGS allow it (`SETTINGS_ENABLE_CONNECT_PROTOCOL`), else `http1()` (also
 * when no HTTP/2 session can be opened: an HTTP/1.1-only server, TLS without h2 in ALPN).
 * `options`: the session's options only (the adapter has taken its TLS options out). `make`:
 * `http2ClientConnection` from `@ws/codec/http2` (an entry point of its own, so the session layer
 * does not carry it).
 */
export async function connectOverHttp2(
  pool: Http2SessionPool,
  url: string | { href: string },
  origin: Http2Origin,
  options: ClientSessionOptions,
  http1: () => Promise<WebSocketConnection>,
  make: Parameters<typeof connectSession>[3],
): Promise<WebSocketConnection> {
  if (options.proxy !== undefined && options.proxy !== null)
    throw new TypeError('http2 and proxy cannot be used together (a proxied connection is made over HTTP/1.1)');
  let pooled: Awaited<ReturnType<Http2SessionPool['get']>>;
  try {
    pooled = await pool.get(origin);
  } catch {
    return http1();
  }
  if (!pooled.connectProtocol) {
    pool.release(pooled.session);
    return http1();
  }
  const { session } = pooled;
  const transport = new Http2ClientTransport(session, (stream) => pool.track(session, stream));
  return startClient(transport, url, options, make).opened;
}
