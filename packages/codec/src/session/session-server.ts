/**
 * What every adapter's server and upgrade handler share, written once: the handshakes (options
 * resolved once, `verifyClient`, subprotocols), the registry of live connections, the
 * `connection` event, topics (`TopicServer`), and closing: `closeAll`, `close`, and a graceful `shutdown`. An adapter
 * adds its socket type (how a socket it accepted, or one accepted elsewhere, becomes a
 * transport) and, for a standalone server, its listener (`stopAccepting`).
 */
import { TopicServer, type AttachableTransport } from './adapter-helpers.ts';
import {
  ConnectionRegistry,
  checkShutdownOptions,
  type ConnectionSet,
  type ShutdownOptions,
} from './connection-registry.ts';
import {
  ServerSession,
  type ConnectionHandler,
  type ServerHandshakes,
  type ServerSessionOptions,
} from './server-session.ts';
import type { PeerInfo } from './transport.ts';
import type { Connection, ServerConnectionOptions } from '../connection.ts';
import type { RequestHead } from '../http/head-parser.ts';
import { driver } from './connection-wiring.ts';
import type { SessionRequest } from './connection-types.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/**
 * What an adapter already has of a socket it hands to {@link SessionServer.serve} (each optional):
 * how its handshake arrives when it is not HTTP/1.1 bytes, and what was read from it elsewhere.
 */
export interface ServeInput {
  /**
   * The codec's connection for another handshake than HTTP/1.1's bytes: `http2ServerConnection`
   * from `@ws/codec/http2` for an HTTP/2 stream, whose extended CONNECT (RFC 8441) is `headers`.
   */
  make?: (options: ServerConnectionOptions) => Connection;
  /** HTTP/2: the peer's header list (the extended CONNECT), checked by the codec. */
  headers?: Array<[string, string]>;
  /** A request head parsed elsewhere (`node:http`'s 'upgrade'), checked by the codec as if it had been read. */
  requestHead?: RequestHead;
  /**
   * Bytes already read from the socket (after `requestHead`, when given), fed to the handshake
   * before anything the socket delivers. Copied: the caller may reuse its buffer.
   */
  head?: Uint8Array;
}

/** `T`: the type of each connection's `data` (set by `verifyClient` answering `{ data }`). */
export class SessionServer<T = unknown> extends TopicServer<T> {
  /** The live connections (open, closing, or in their handshake). */
  readonly registry: ConnectionRegistry;
  readonly #handshakes: ServerHandshakes<SessionServer>;
  #closing = false;
  #stopped: Promise<void> | void = undefined;

  /** The handshake hook shared by every server: the server is the connection's owner until open. */
  static readonly #onOpen = (server: SessionServer, connection: WebSocketConnection, request: SessionRequest): void => {
    server.emit2('connection', connection, request);
  };

  constructor(options: ServerSessionOptions<T> = {}, onConnection?: ConnectionHandler<T>) {
    super(options);
    this.#handshakes = ServerSession.handshakes(options, SessionServer.#onOpen, this.topics);
    this.registry = new ConnectionRegistry(options.timers);
    if (onConnection !== undefined) {
      if (typeof onConnection !== 'function')
        throw new TypeError('onConnection must be a function (connection, request) => void');
      this.on('connection', onConnection);
    }
  }

  /** The open connections (a live, read-only set, oldest first). */
  get connections(): ConnectionSet<T> {
    return this.registry.connections as ConnectionSet<T>;
  }

  /** `close()` or `shutdown()` was called: sockets handed over from now on are dropped. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Start the closing handshake on every open connection (default 1001, `'server shutting
   * down'`) and abort those still in their handshake; new connections are still accepted.
   */
  closeAll(code?: number, reason?: string): void {
    this.registry.closeAll(code, reason);
  }

  /**
   * Stop accepting, close every open connection with `code` (default 1001, going away) and drop
   * those still in their handshake; resolves once every connection has ended (each bounded by
   * its own close timeout: see `shutdown` for one bound on all).
   */
  async close(code?: number, reason?: string): Promise<void> {
    const stopped = this.#stop();
    this.registry.closeAll(code, reason);
    await Promise.all([stopped, this.registry.whenEmpty()]);
  }

  /**
   * Graceful shutdown: stop accepting, close every open connection (1001 by default), wait up to
   * `timeout` ms (default 5000) for the peers to answer, then terminate the rest. Resolves once
   * every connection has ended and the listener is closed.
   */
  async shutdown(options: ShutdownOptions = {}): Promise<void> {
    checkShutdownOptions(options);
    const stopped = this.#stop();
    await Promise.all([stopped, this.registry.shutdown(options)]);
  }

  /**
   * For the adapter, and the one way every adapter's server wires a socket: a server connection
   * on `transport`, attached to it (the transport's events go to the connection) and tracked
   * until it ends. `input`: what the adapter already has of the socket (see {@link ServeInput}),
   * fed to the handshake first. Once closing, the connection is terminated at once (its
   * transport destroyed).
   */
  protected serve(transport: AttachableTransport, peer: PeerInfo, input?: ServeInput): WebSocketConnection<T> {
    const connection = this.#handshakes.open(transport, this, peer, input?.make) as WebSocketConnection<T>;
    this.registry.add(connection);
    const handlers = driver(connection);
    transport.attach(handlers);
    if (this.#closing) connection.terminate();
    else if (input !== undefined && connection.readyState === 'connecting') {
      // Fed in order; once one fails the handshake, the codec ignores the rest.
      const { headers, requestHead, head } = input;
      if (headers) handlers.onHeaders(headers);
      if (requestHead) handlers.receiveRequestHead(requestHead);
      if (head?.length) handlers.onData(new Uint8Array(head));
    }
    return connection;
  }

  /** For a standalone server: stop listening; resolves once the listener is closed. */
  protected stopAccepting(): Promise<void> | void {}

  #stop(): Promise<void> | void {
    if (!this.#closing) {
      this.#closing = true;
      this.leaveBroker();
      this.#stopped = this.stopAccepting();
    }
    return this.#stopped;
  }
}
