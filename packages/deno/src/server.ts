/**
 * WebSocket servers on Deno, over `Deno.listen` (ws:) or `Deno.listenTls` (wss:). The handshake,
 * its checks and every protocol rule live in `@ws/codec`; this file accepts sockets, passes the
 * peer's address along and leaves the tracking to the session layer.
 *
 * Permissions: `--allow-net` (listen and accept); reading a certificate from a file is the
 * caller's and needs `--allow-read`.
 *
 * `handleSocket(conn, head)` (on a server or an upgrade handler) serves a socket accepted
 * elsewhere, e.g. by an HTTP front that read the request head to route it: `Deno.serve` cannot
 * hand over its raw socket. The tracking and closing are the session layer's `SessionServer`.
 */
import {
  StreamServer,
  type ConnectionHandler,
  type PeerInfo,
  type ServerAddress as AnyServerAddress,
  type ServerSessionOptions,
  type WebSocketConnection,
} from '@ws/codec/session';
import { http2ServerConnection } from '@ws/codec/http2';
import {
  DenoTransport,
  type DenoTransportOptions,
  opSelfTests,
  startSelfTests,
  transportOptions,
} from './transport.ts';

/** `Deno.listenTls`'s certificate and key (PEM text, not file names) and ALPN protocols. */
export interface ServerTlsOptions {
  /** Certificate chain, PEM. */
  cert: string;
  /** Private key, PEM (RSA, EC or PKCS#8). */
  key: string;
  /** ALPN protocols to announce. Default `['http/1.1']`. */
  alpnProtocols?: string[];
}

/** `createUpgradeHandler()`'s options: the session's, `rawReads` and `rawWrites`. `T`: the type of each connection's `data`. */
export interface UpgradeHandlerOptions<T = unknown> extends ServerSessionOptions<T> {
  /**
   * Read TCP connections through Deno's read op rather than `conn.read()`'s async wrapper (≈ 1.07×
   * the echoes per CPU-second), a Deno internal that a self-test checks once per process (a
   * loopback round trip of known bytes, at the first `listen` or `handleSocket`; until it has
   * passed, and if it fails, connections use `conn.read()`). Default true; false: `conn.read()` only.
   */
  rawReads?: boolean;
  /**
   * Write to TCP connections through Deno's write op rather than `conn.write()`'s wrappers, a Deno
   * internal that a self-test checks once per process (a loopback round trip of known bytes, with
   * writes the kernel takes in part, one that waits for the peer to read and one pending when
   * its socket is closed; at the first `listen` or `handleSocket`, alongside the read op's; until
   * it has passed, and if it fails, connections use `conn.write()`). Default false (`conn.write()`
   * only, no self-test): the op saves ≈ 0.25 µs per write in a loop, which did not show end to end
   * (0.99× per CPU-second, paired), while its self-test adds ≈ 20 ms of CPU to the first `listen`.
   */
  rawWrites?: boolean;
}

/** `createServer()`'s options: the upgrade handler's, and `tls`. `T`: the type of each connection's `data`. */
export interface ServerOptions<T = unknown> extends UpgradeHandlerOptions<T> {
  /** Serve `wss:` with this certificate and key. */
  tls?: ServerTlsOptions;
}

/** The address the server listens on; `family` comes from the address's form, so it is one of two. */
export interface ServerAddress extends AnyServerAddress {
  family: 'IPv4' | 'IPv6';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * WebSocket connections over sockets accepted elsewhere (`handleSocket`), e.g. by an HTTP front
 * that read the request head to route it, and on a `node:http2` server (`attach`, or
 * `handleStream`/`handleUpgrade` from its events): extended CONNECTs (RFC 8441) and, with
 * `allowHTTP1`, HTTP/1.1 upgrades, as on Node (the session layer's `StreamServer`). Tracks its
 * connections like a standalone server: `connections`, `closeAll`, `close`, `shutdown`.
 */
export class UpgradeHandler<T = unknown> extends StreamServer<T> {
  protected override readonly http2Connection = http2ServerConnection;
  /** The transports' options: whether they may read and write through Deno's ops. */
  protected readonly io: DenoTransportOptions;

  constructor(options: UpgradeHandlerOptions<T> = {}, onConnection?: ConnectionHandler<T>) {
    const { rawReads, rawWrites, ...sessionOptions } = options;
    const io = transportOptions(rawReads, rawWrites);
    super(sessionOptions, onConnection);
    this.io = io;
  }

  /**
   * Serve a socket accepted elsewhere. `head`: bytes already read from it (e.g. the request head
   * a router looked at), fed to the handshake first. Returns the connection (still `connecting`).
   */
  handleSocket(conn: Deno.Conn, head?: Uint8Array): WebSocketConnection<T> {
    // Starts the ops' self-tests if nothing has (this conn uses conn.read() and conn.write() until they pass).
    startSelfTests(this.io);
    // Reading starts on a later tick: `head` comes first.
    return this.serve(
      new DenoTransport(conn, undefined, this.io),
      peerOf(conn),
      head === undefined ? undefined : { head },
    );
  }

  /** @deprecated The same as {@link handleSocket} (its name on every adapter). */
  handleConnection(conn: Deno.Conn, head?: Uint8Array): WebSocketConnection<T> {
    return this.handleSocket(conn, head);
  }
}

/** An upgrade handler for sockets you accept yourself: `wss.handleSocket(conn, head)`, then `await wss.shutdown()`. */
export function createUpgradeHandler<T = unknown>(
  options: UpgradeHandlerOptions<T> = {},
  onConnection?: ConnectionHandler<T>,
): UpgradeHandler<T> {
  return new UpgradeHandler<T>(options, onConnection);
}

/** A standalone WebSocket server: a listener plus an {@link UpgradeHandler}. */
export class WebSocketServer<T = unknown> extends UpgradeHandler<T> {
  /** The listening socket, once `listen()` was called; null after `close()`. */
  listener: Deno.Listener | null = null;
  readonly #tls: ServerTlsOptions | undefined;
  #accepting: Promise<void> | null = null;

  constructor(options: ServerOptions<T> = {}, onConnection?: ConnectionHandler<T>) {
    const { tls, ...sessionOptions } = options;
    super(sessionOptions, onConnection);
    this.#tls = tls;
  }

  /**
   * Start listening on `host` (default `0.0.0.0`); resolves with the bound address (`port` 0
   * picks a free port). Rejects if the address is in use or permission is denied. The first
   * listen in a process also runs the read and write ops' self-tests (loopback round trips) unless
   * `rawReads` and `rawWrites` are false, and resolves after them.
   */
  listen(port = 0, host = '0.0.0.0'): Promise<ServerAddress> {
    if (this.listener !== null || this.closing)
      return Promise.reject(new Error('this server is already listening or closed'));
    const tls = this.#tls;
    try {
      this.listener =
        tls === undefined
          ? Deno.listen({ hostname: host, port, transport: 'tcp' })
          : Deno.listenTls({
              hostname: host,
              port,
              transport: 'tcp',
              cert: tls.cert,
              key: tls.key,
              alpnProtocols: tls.alpnProtocols ?? ['http/1.1'],
            });
    } catch (error) {
      return Promise.reject(error);
    }
    this.#accepting = this.#acceptLoop(this.listener);
    const address = this.address();
    if (address === null) return Promise.reject(new Error('the listener has no address'));
    // TLS conns never use the ops: no self-test for them.
    return tls === undefined ? opSelfTests(this.io).then(() => address) : Promise.resolve(address);
  }

  address(): ServerAddress | null {
    const addr = this.listener?.addr as Deno.NetAddr | undefined;
    if (addr === undefined) return null;
    return { address: addr.hostname, family: addr.hostname.includes(':') ? 'IPv6' : 'IPv4', port: addr.port };
  }

  protected override async stopAccepting(): Promise<void> {
    await super.stopAccepting();
    const listener = this.listener;
    this.listener = null;
    try {
      listener?.close();
    } catch {
      // already closed
    }
    await this.#accepting;
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.closing || error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)
          return;
        // E.g. out of file descriptors: report, wait a little, go on.
        this.emit('error', error instanceof Error ? error : new Error(String(error)));
        await sleep(50);
        continue;
      }
      if (this.closing) {
        conn.close();
        return;
      }
      this.handleSocket(conn);
    }
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

function peerOf(conn: Deno.Conn): PeerInfo {
  const addr = conn.remoteAddr as Partial<Deno.NetAddr>;
  return {
    remoteAddress: typeof addr.hostname === 'string' ? addr.hostname : null,
    remotePort: typeof addr.port === 'number' ? addr.port : null,
    secure: typeof (conn as Partial<Deno.TlsConn>).handshake === 'function',
  };
}
