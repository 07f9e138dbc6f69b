/**
 * WebSocket servers on Bun: `createServer(options, onConnection)` then `listen(port, host)`,
 * plain or TLS, on `Bun.listen`. The handshake, its checks and every protocol rule live in
 * `@ws/codec`; this file only accepts sockets and passes the peer's address along.
 */
import type { Socket, TCPSocketListener, TLSOptions } from 'bun';
import { ServerSession, TopicServer, transportHandlers, type ConnectionHandler, type ServerAddress, type ServerEvents, type ServerHandshakes, type ServerSessionOptions, type WebSocketConnection } from '@ws/codec/session';
import { BunTransport, socketHandlers } from './transport.ts';

export interface ServerOptions extends ServerSessionOptions {
  /** Serve `wss:`: Bun's TLS options (`key`, `cert`, `ca`, `passphrase`, …). */
  tls?: TLSOptions;
}

/** A standalone WebSocket server. */
export class WebSocketServer extends TopicServer {
  readonly #open = new Set<WebSocketConnection>();
  /** The open connections (a live, read-only view, as on every adapter). */
  readonly connections: ReadonlySet<WebSocketConnection> = this.#open;
  /** What every socket's handshake shares (no session object or closure per socket). */
  readonly #handshakes: ServerHandshakes<null>;
  readonly #tls: TLSOptions | undefined;
  #listener: TCPSocketListener<BunTransport> | null = null;
  /** Every accepted socket's transport and its connection (open or still in its handshake). */
  readonly #sockets = new Map<BunTransport, WebSocketConnection>();

  constructor(options: ServerOptions = {}, onConnection?: ConnectionHandler) {
    const { tls, ...sessionOptions } = options;
    super(sessionOptions);
    this.#handshakes = ServerSession.handshakes(sessionOptions, (_owner: null, connection, request) => {
      this.#open.add(connection);
      this.emit('connection', connection, request);
    }, this.topics);
    this.#tls = tls;
    if (onConnection !== undefined) this.on('connection', onConnection);
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
    if (this.#listener !== null) return Promise.reject(new Error('the server is already listening'));
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
    return Promise.resolve(this.address()!);
  }

  address(): ServerAddress | null {
    const listener = this.#listener;
    if (listener === null) return null;
    return { address: listener.hostname, family: listener.hostname.includes(':') ? 'IPv6' : 'IPv4', port: listener.port };
  }

  /**
   * Stop accepting, close every open connection with `code` (default 1001, going away) and
   * drop sockets still in their handshake; resolves once every socket is gone.
   */
  close(code = 1001, reason = 'server shutting down'): Promise<void> {
    this.leaveBroker();
    this.#listener?.stop(false);
    for (const [transport, connection] of this.#sockets) {
      if (connection.readyState === 'connecting') transport.destroy();
      else connection.close(code, reason);
    }
    return Promise.all([...this.#sockets.values()].map((c) => c.closed)).then(() => undefined);
  }

  /**
   * Take over a socket accepted by your own `Bun.listen` (e.g. one that also answers plain HTTP):
   * its handlers must be {@link socketHandlers} (spread, with your own `open`) and `socket.data`
   * a {@link BunTransport} already `opened`. `head` is what you read from it so far (the request
   * head and anything after it); the codec validates the upgrade as on a standalone server.
   * Returns the connection (still `connecting`); `close()` closes it too.
   */
  handleSocket(socket: Socket<BunTransport>, head?: Uint8Array): WebSocketConnection {
    const transport = socket.data;
    if (!(transport instanceof BunTransport)) throw new TypeError('handleSocket needs a socket whose data is a BunTransport (see socketHandlers)');
    const connection = this.#serve(transport, socket);
    if (head !== undefined && head.length > 0) transport.received(head);
    return connection;
  }

  #accept(socket: Socket<BunTransport>): void {
    const transport = new BunTransport({ secure: this.#tls !== undefined });
    socket.data = transport;
    this.#serve(transport, socket);
    transport.opened(socket);
  }

  #serve(transport: BunTransport, socket: Socket<BunTransport>): WebSocketConnection {
    const peer = { remoteAddress: socket.remoteAddress ?? null, remotePort: socket.remotePort ?? null, secure: transport.secure };
    const connection = this.#handshakes.open(transport, null, peer);
    transport.attach(transportHandlers(connection)); // the connection's own handlers: one call less per event
    this.#sockets.set(transport, connection);
    transport.whenClosed(this.#onSocketClosed);
    return connection;
  }

  // One function for every socket: a closure and a `closed` promise per connection were most of
  // an idle connection's JavaScript objects.
  readonly #onSocketClosed = (transport: BunTransport): void => {
    const connection = this.#sockets.get(transport);
    if (connection === undefined) return;
    const forget = (): void => {
      this.#sockets.delete(transport);
      this.#open.delete(connection);
    };
    // The socket's close ends the connection at once (its `closed` has resolved); else, once it does.
    if (connection.closeInfo !== null) forget();
    else void connection.closed.then(forget);
  };
}

/** A standalone server; call `listen(port, host)` on it. */
export function createServer(options: ServerOptions = {}, onConnection?: ConnectionHandler): WebSocketServer {
  return new WebSocketServer(options, onConnection);
}
