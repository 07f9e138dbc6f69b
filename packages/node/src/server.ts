/**
 * WebSocket servers on Node: a standalone one (`createServer`, plain or TLS) and an upgrade
 * handler for an existing `http`/`https` server's 'upgrade' event (Express, Fastify…), both
 * tracking their connections (the session layer's `SessionServer`). The handshake, its checks
 * and every protocol rule live in `@ws/codec`; this file only accepts sockets and passes the
 * peer's address along.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { DEFAULT_TIMEOUTS } from '@ws/codec';
import {
  ServerSession,
  StreamServer,
  requestHeadOf,
  type ConnectionHandler,
  type PeerInfo,
  type ServerAddress,
  type ServerSessionOptions,
  type WebSocketConnection,
} from '@ws/codec/session';
import { http2ServerConnection } from '@ws/codec/http2';
import { directWritesWork } from './direct-writes.ts';
import { sharedReadsVerified, sharedReadsWork } from './shared-reads.ts';
import { NodeTransport, type NodeTransportOptions } from './transport.ts';

/** A server `attach()` takes: `node:http`, `node:https`, or `node:http2` (h2c or TLS, with `allowHTTP1` or not). */
export type AttachableServer = HttpServer | HttpsServer | http2.Http2Server | http2.Http2SecureServer;

/** `createServer()`'s options: the session's, `tls`, `sharedReadBuffer` and `directWrites`. `T`: the type of each connection's `data`. */
export interface ServerOptions<T = unknown> extends ServerSessionOptions<T> {
  /** Serve `wss:`: options for `tls.createServer` (`key`, `cert`, `ca`, …). */
  tls?: tls.TlsOptions;
  /**
   * Plain TCP: read every connection into one buffer shared by all of them, as Node's `onread`
   * option does (≈ 1.2× the echoes per CPU-second), through Node internals that a self-test
   * checks once per process at the first `listen` (a failing one keeps Node's 'data' events).
   * Default true; false: Node's public 'data' path only.
   */
  sharedReadBuffer?: boolean;
  /**
   * Plain TCP: while a connection has nothing queued, write through its socket's handle instead
   * of `socket.write` (Node's stream machinery costs more per small message than our codec),
   * through Node internals that a self-test checks once per process at the first `listen` (a
   * failing one keeps `socket.write`). Default true; false: `socket.write` only.
   */
  directWrites?: boolean;
}

/**
 * Transport options for the sockets a server accepts, by shortcut (shared reads: 1, direct
 * writes: 2): shared constants, not an object per socket.
 */
const ACCEPTED: readonly NodeTransportOptions[] = [
  { acceptedTcp: false, directWrites: false },
  { acceptedTcp: true, directWrites: false },
  { acceptedTcp: false, directWrites: true },
  { acceptedTcp: true, directWrites: true },
].map((options) => Object.freeze(options));
const PUBLIC = ACCEPTED[0] as NodeTransportOptions;

/**
 * WebSocket connections over sockets accepted elsewhere: an `http`/`https` server's 'upgrade'
 * event (`handleUpgrade`), a `node:http2` server's extended CONNECT streams (`handleStream`, RFC
 * 8441; both at once with `attach(server)`, the session layer's `StreamServer`) or your own
 * `net.Server` (`handleSocket`). Tracks its connections like a standalone server:
 * `connections`, `closeAll`, `close`, `shutdown`.
 */
export class UpgradeHandler<T = unknown> extends StreamServer<T> {
  protected override readonly http2Connection = http2ServerConnection;

  /**
   * Take over a socket from an `http`/`https` server's 'upgrade' event: the request head that
   * `node:http` parsed is validated by the codec (a bad one is answered with its status), then
   * `verifyClient`, `protocols` and `origins` apply. Returns the connection (still
   * `connecting`); the `connection` event gets it once open.
   */
  override handleUpgrade(req: IncomingMessage, socket: Duplex, head: Uint8Array): WebSocketConnection<T> {
    // `head` may share memory with node:http's parser buffer: `serve` gives the codec a copy.
    return this.serve(new NodeTransport(socket), peerOf(socket), { requestHead: requestHeadOf(req), head });
  }

  /**
   * Accept WebSockets on `server` until this handler closes: HTTP/1.1 upgrades (its 'upgrade'
   * event, also on an HTTP/2 server with `allowHTTP1`) and, on a `node:http2` server created with
   * `settings: { enableConnectProtocol: true }`, extended CONNECTs (RFC 8441), whether the server
   * uses the compatibility API (a 'request' listener: they arrive as 'connect') or streams. Other
   * requests stay the server's. On an HTTP/2 server without that setting, Node refuses
   * `:protocol` itself, so nothing changes there but HTTP/1.1 upgrades (with `allowHTTP1`).
   */
  override attach(server: AttachableServer): this {
    return super.attach(server);
  }

  /**
   * Take over a socket accepted elsewhere (e.g. by your own `net.Server` that looked at the first
   * bytes to route them) before anything of the handshake was answered. `head`: the bytes already
   * read from it, fed to the handshake first. Returns the connection (still `connecting`).
   */
  handleSocket(socket: Duplex, head?: Uint8Array): WebSocketConnection<T> {
    return this.serve(new NodeTransport(socket), peerOf(socket), head === undefined ? undefined : { head });
  }
}

/**
 * An upgrade handler for an existing `http`/`https` server:
 * `httpServer.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head))`, then
 * `await wss.shutdown()` (or `close()`) to end every connection it took over.
 */
export function createUpgradeHandler<T = unknown>(
  options: ServerSessionOptions<T> = {},
  onConnection?: ConnectionHandler<T>,
): UpgradeHandler<T> {
  return new UpgradeHandler<T>(options, onConnection);
}

/** A standalone WebSocket server: a listener plus an {@link UpgradeHandler}. */
export class WebSocketServer<T = unknown> extends UpgradeHandler<T> {
  /** The underlying `net.Server` or `tls.Server`. */
  readonly server: net.Server | tls.Server;
  /** Plain TCP with `sharedReadBuffer` on: accepted sockets read into the shared buffer once the self-test has passed. */
  readonly #sharedReads: boolean;
  /** Plain TCP with `directWrites` on: writes through the socket's handle once the self-test has passed. */
  readonly #directWrites: boolean;

  constructor(options: ServerOptions<T> = {}, onConnection?: ConnectionHandler<T>) {
    const { tls: tlsOptions, sharedReadBuffer = true, directWrites = true, ...sessionOptions } = options;
    if (typeof sharedReadBuffer !== 'boolean')
      throw new TypeError(`sharedReadBuffer must be a boolean, got ${typeof sharedReadBuffer}`);
    if (typeof directWrites !== 'boolean')
      throw new TypeError(`directWrites must be a boolean, got ${typeof directWrites}`);
    super(sessionOptions, onConnection);
    this.#sharedReads = sharedReadBuffer && tlsOptions === undefined;
    this.#directWrites = directWrites && tlsOptions === undefined;
    if (tlsOptions !== undefined) {
      // Half-open only once TLS is up: a TLS server socket that allows half-open never gives up on
      // a client that sends FIN mid-handshake (e.g. after refusing our certificate).
      // TLS must finish within the WebSocket handshake timeout too: the session's timer starts
      // only once TLS is up, and Node's own TLS handshakeTimeout is 120 s (slow-loris on wss:).
      const handshakeTimeout = sessionOptions.timeouts?.handshakeTimeout ?? DEFAULT_TIMEOUTS.handshakeTimeout;
      this.server = tls.createServer(
        { ...(handshakeTimeout > 0 ? { handshakeTimeout } : {}), ...tlsOptions },
        (socket) => {
          socket.allowHalfOpen = true;
          this.#accept(socket, PUBLIC);
        },
      );
      // Node reports a failed or timed-out TLS handshake here but leaves the socket open.
      this.server.on('tlsClientError', (_error, socket) => socket.destroy());
    } else {
      this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
        this.#accept(
          socket,
          ACCEPTED[(this.#sharedReads && sharedReadsVerified() ? 1 : 0) | (this.#directWrites ? 2 : 0)] ?? PUBLIC,
        ),
      );
    }
    this.server.on('error', (error) => this.emit('error', error));
  }

  /**
   * Start listening; resolves with the bound address (`port` 0 picks a free port). The first
   * listen in a process also runs the self-tests of the shared reads and the direct writes (loopback
   * round trips, beside the listen: 3 KB, and ≈ 4 MiB until the kernel leaves a write pending) and
   * resolves once they have given their verdict and closed their sockets: see
   * packages/bench/README.md, "Node, first listen". A socket accepted before they pass starts on the
   * public path.
   */
  async listen(port = 0, host?: string): Promise<ServerAddress> {
    const [address] = await Promise.all([
      new Promise<ServerAddress>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        this.server.once('error', onError);
        this.server.listen(port, host, () => {
          this.server.off('error', onError);
          const address = this.address();
          if (address === null) reject(new Error('the server has no TCP address'));
          else resolve(address);
        });
      }),
      this.#sharedReads ? sharedReadsWork() : false,
      this.#directWrites ? directWritesWork() : false,
    ]);
    return address;
  }

  address(): ServerAddress | null {
    const address = this.server.address();
    return address === null || typeof address === 'string'
      ? null
      : { address: address.address, family: address.family, port: address.port };
  }

  protected override stopAccepting(): Promise<void> {
    super.stopAccepting();
    return new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
    });
  }

  #accept(socket: net.Socket, options: NodeTransportOptions): void {
    this.serve(new NodeTransport(socket, options), peerOf(socket));
  }
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

/**
 * The peer's address through the public API. (Reading it from the socket's handle with the
 * internal `getpeername`, so that the socket keeps no copy, bought nothing measurable: 6.0 KiB per
 * idle connection at 10,000 with it, 5.9 without; bench:e2e --quick --memory, one run.)
 */
function peerOf(socket: Duplex): PeerInfo {
  const s = socket as Partial<net.Socket>;
  return {
    remoteAddress: s.remoteAddress ?? null,
    remotePort: s.remotePort ?? null,
    secure: socket instanceof tls.TLSSocket,
  };
}

const NO_OPTIONS: ServerSessionOptions<never> = Object.freeze({});

/**
 * Take over a socket from an `http`/`https` server's 'upgrade' event: the request head that
 * `node:http` parsed is validated by the codec (a bad one is answered with its status), then
 * `verifyClient`, `protocols` and `origins` apply as on a standalone server. Returns the
 * connection (still `connecting`); `onConnection` receives it once open.
 */
export function handleUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  onConnection: ConnectionHandler,
): WebSocketConnection;
export function handleUpgrade<T = unknown>(
  req: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  options: ServerSessionOptions<T>,
  onConnection: ConnectionHandler<T>,
): WebSocketConnection<T>;
export function handleUpgrade<T>(
  req: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  optionsOrHandler: ServerSessionOptions<T> | ConnectionHandler<T>,
  handler?: ConnectionHandler<T>,
): WebSocketConnection<T> {
  const options = typeof optionsOrHandler === 'function' ? NO_OPTIONS : optionsOrHandler;
  const onConnection = typeof optionsOrHandler === 'function' ? optionsOrHandler : handler;
  if (typeof onConnection !== 'function') throw new TypeError('handleUpgrade needs an onConnection function');
  const transport = new NodeTransport(socket);
  const session = new ServerSession(transport, options, onConnection, peerOf(socket));
  transport.attach(session);
  session.receiveRequestHead(requestHeadOf(req));
  // `head` may share memory with node:http's parser buffer: the codec gets its own copy.
  if (head.length > 0) session.onData(new Uint8Array(head));
  return session.connection as WebSocketConnection<T>;
}
