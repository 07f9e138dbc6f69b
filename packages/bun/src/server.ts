/**
 * WebSocket servers on Bun: `createServer(options, onConnection)` then `listen(port, host)`,
 * plain or TLS, on `Bun.listen`. The handshake, its checks and every protocol rule live in
 * `@ws/codec`, the tracking and closing in the session layer's `SessionServer`; this file only
 * accepts sockets and passes the peer's address along.
 */
import type { Socket, TCPSocketListener, TLSOptions } from 'bun';
import {
  StreamServer,
  type ConnectionHandler,
  type PeerInfo,
  type ServerAddress,
  type ServerSessionOptions,
  type WebSocketConnection,
} from '@ws/codec/session';
import { http2ServerConnection } from '@ws/codec/http2';
import { BunTransport, socketHandlers } from './transport.ts';

/** `createServer()`'s options: the session's, and `tls`. `T`: the type of each connection's `data`. */
export interface ServerOptions<T = unknown> extends ServerSessionOptions<T> {
  /** Serve `wss:`: Bun's TLS options (`key`, `cert`, `ca`, `passphrase`, …). */
  tls?: TLSOptions;
}

/**
 * WebSocket connections over sockets accepted by your own `Bun.listen` (`handleSocket`), e.g.
 * one that also answers plain HTTP, and on a `node:http2` server (`attach`, or
 * `handleStream`/`handleUpgrade` from its events): extended CONNECTs (RFC 8441) and, with
 * `allowHTTP1`, HTTP/1.1 upgrades, as on Node (the session layer's `StreamServer`). Tracks its
 * connections like a standalone server: `connections`, `closeAll`, `close`, `shutdown`.
 */
export class UpgradeHandler<T = unknown> extends StreamServer<T> {
  protected override readonly http2Connection = http2ServerConnection;

  /**
   * Take over a socket accepted by your own `Bun.listen`: its handlers must be
   * {@link socketHandlers} (spread, with your own `open`) and `socket.data` a {@link BunTransport}
   * already `opened`. `head` is what you read from it so far (the request head and anything after
   * it); the codec validates the upgrade as on a standalone server. Returns the connection
   * (still `connecting`); `close()` and `shutdown()` end it too.
   */
  handleSocket(socket: Socket<BunTransport>, head?: Uint8Array): WebSocketConnection<T> {
    const transport = socket.data;
    if (!(transport instanceof BunTransport))
      throw new TypeError('handleSocket needs a socket whose data is a BunTransport (see socketHandlers)');
    return this.serve(transport, peerOf(socket, transport), head === undefined ? undefined : { head });
  }
}

/** An upgrade handler for sockets your own `Bun.listen` accepts: `wss.handleSocket(socket, head)`, then `await wss.shutdown()`. */
export function createUpgradeHandler<T = unknown>(
  options: ServerSessionOptions<T> = {},
  onConnection?: ConnectionHandler<T>,
): UpgradeHandler<T> {
  return new UpgradeHandler<T>(options, onConnection);
}

/** A standalone WebSocket server: a listener plus an {@link UpgradeHandler}. */
export class WebSocketServer<T = unknown> extends UpgradeHandler<T> {
  readonly #tls: TLSOptions | undefined;
  #listener: TCPSocketListener<BunTransport> | null = null;

  constructor(options: ServerOptions<T> = {}, onConnection?: ConnectionHandler<T>) {
    const { tls, ...sessionOptions } = options;
    super(sessionOptions, onConnection);
    this.#tls = tls;
  }

  /** The `Bun.listen` listener, once listening. */
  get listener(): TCPSocketListener<BunTransport> | null {
    return this.#listener;
  }

  /**
   * Start listening; resolves with the bound address (`port` 0 picks a free port). `host`
   * defaults to `0.0.0.0` (every IPv4 interface).
   */
  listen(port = 0, host = '0.0.0.0'): Promise<ServerAddress> {
    if (this.#listener !== null || this.closing)
      return Promise.reject(new Error('the server is already listening or closed'));
    try {
      this.#listener = Bun.listen<BunTransport>({
        hostname: host,
        port,
        allowHalfOpen: true,
        tls: this.#tls,
        socket: { ...socketHandlers, open: (socket) => this.#accept(socket) },
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const address = this.address();
    return address === null ? Promise.reject(new Error('the listener has no address')) : Promise.resolve(address);
  }

  address(): ServerAddress | null {
    const listener = this.#listener;
    if (listener === null) return null;
    return {
      address: listener.hostname,
      family: listener.hostname.includes(':') ? 'IPv6' : 'IPv4',
      port: listener.port,
    };
  }

  protected override stopAccepting(): Promise<void> | void {
    this.#listener?.stop(false);
    return super.stopAccepting();
  }

  #accept(socket: Socket<BunTransport>): void {
    const transport = new BunTransport(this.#tls !== undefined ? SECURE : PLAIN);
    socket.data = transport;
    this.serve(transport, peerOf(socket, transport));
    transport.opened(socket);
  }
}

/** The transport options of an accepted socket: made once, not per connection. */
const PLAIN = Object.freeze({ secure: false });
const SECURE = Object.freeze({ secure: true });

function peerOf(socket: Socket<BunTransport>, transport: BunTransport): PeerInfo {
  return {
    remoteAddress: socket.remoteAddress ?? null,
    remotePort: socket.remotePort ?? null,
    secure: transport.secure,
  };
}

/**
 * A standalone server; call `listen(port, host)` on it. `T` is the type of each connection's
 * `data`, set by `verifyClient` answering `{ data }` (inferred from it when not given).
 */
export function createServer<T = unknown>(
  options: ServerOptions<T> = {},
  onConnection?: ConnectionHandler<T>,
): WebSocketServer<T> {
  return new WebSocketServer<T>(options, onConnection);
}
