/**
 * WebSocket clients on Deno: `connect(url, options)` for `ws:` (`Deno.connect`) and `wss:`
 * (`Deno.connectTls`, or `Deno.connect` + `Deno.startTls` when the certificate's name differs
 * from the URL's host), and the WHATWG `WebSocket` class over them.
 *
 * Permissions: `--allow-net` (to the server's host); reading a CA file is the caller's and
 * needs `--allow-read`.
 */
import { WebSocketUsageError, parseWsUrl } from '@ws/codec';
import {
  Http2SessionPool,
  ProxyError,
  connectOverHttp2,
  createWebSocketClass,
  createWebSocketStreamClass,
  openTunnel,
  openedOrRejected,
  refuseHttp2Option,
  resolveProxy,
  startClient,
  type ClientSessionOptions,
  type Http2Connect,
  type ProxyEndpoint,
  type SendData,
  type WebSocketClass,
  type WebSocketConnection,
  type WebSocketStreamClass,
} from '@ws/codec/session';
import { http2ClientConnection } from '@ws/codec/http2';
import { DenoTransport, type DenoTransportOptions, opSelfTests, transportOptions } from './transport.ts';

/**
 * The TLS options have the names `@ws/node` and `@ws/bun` use (`ca`, `servername`, `cert`, `key`,
 * `rejectUnauthorized`), mapped to `Deno.connectTls`/`Deno.startTls`.
 */
export interface ConnectOptions extends ClientSessionOptions {
  /** Trusted CA certificates (PEM text, one or a list) on top of the default roots, e.g. a self-signed server's. */
  ca?: string | readonly string[];
  /**
   * The name the server's certificate must match (and SNI). Default: the URL's host. Lets you
   * dial an IP address (`wss://127.0.0.1:8443`) and verify `localhost`.
   */
  servername?: string;
  /** Client certificate and key (PEM), for servers that ask for one (not with another `servername`). */
  cert?: string;
  key?: string;
  /**
   * Verify the server's certificate (default true). Deno always verifies the chain: false throws
   * (run Deno with `--unsafely-ignore-certificate-errors`, or pass the server's `ca`).
   */
  rejectUnauthorized?: boolean;
  /** Skip checking the certificate's name (the chain is still verified). Default false. Deno only. */
  unsafelyDisableHostnameVerification?: boolean;
  /** @deprecated Use `ca` (the name on every adapter). */
  caCerts?: string[];
  /** @deprecated Use `servername` (the name on every adapter). */
  hostname?: string;
  /**
   * `connect()` only: try WebSockets over HTTP/2 (RFC 8441), on Deno's `node:http2`. An HTTP/2
   * session to the origin is opened (or one already open to it, with the same TLS options, is
   * shared: many WebSockets on one TCP connection); once the server's SETTINGS arrive, an
   * extended CONNECT is used if it sets `SETTINGS_ENABLE_CONNECT_PROTOCOL`, else (or if no HTTP/2
   * session can be opened) the connection is made over HTTP/1.1 as without this option.
   * `connection.httpVersion` says which was used. Not with `proxy`. Default false.
   */
  http2?: boolean;
  /**
   * Read the socket through Deno's read op rather than `conn.read()`'s async wrapper, a Deno
   * internal that a self-test checks once per process (a loopback round trip of known bytes,
   * run alongside the first connect, which waits for it; if it fails, `conn.read()`). Plain TCP
   * only. Default true; false: `conn.read()` only, and no self-test.
   */
  rawReads?: boolean;
  /**
   * Write to the socket through Deno's write op rather than `conn.write()`'s wrappers, a Deno
   * internal that a self-test checks once per process (a loopback round trip of known bytes,
   * run alongside the first connect, which waits for it; if it fails, `conn.write()`). Plain TCP
   * only. Default false: `conn.write()` only, and no self-test.
   */
  rawWrites?: boolean;
}

/**
 * `conn` once both it and the ops' self-tests that `io` calls for have settled (a failed connect
 * rejects after them too, so nothing they opened outlives the connection).
 */
function afterSelfTests(conn: Promise<Deno.Conn>, io: DenoTransportOptions): Promise<Deno.Conn> {
  const selfTest = opSelfTests(io);
  return conn.then(
    (c) => selfTest.then(() => c),
    (error: unknown) =>
      selfTest.then(() => {
        throw error;
      }),
  );
}

/** The TLS settings of one connection, in Deno's terms. */
interface DenoTls {
  caCerts: string[] | undefined;
  /** The name to verify, when not the URL's host. */
  name: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  unsafelyDisableHostnameVerification: boolean | undefined;
}

/** Map the shared option names (and the deprecated Deno ones) to Deno's; throws for what Deno cannot do. */
function denoTls(options: ConnectOptions, urlHost: string): DenoTls {
  const { ca, caCerts, servername, hostname, cert, key, rejectUnauthorized } = options;
  if (ca !== undefined && caCerts !== undefined)
    throw new WebSocketUsageError('INVALID_ARGUMENT', 'pass ca or the deprecated caCerts, not both');
  if (servername !== undefined && hostname !== undefined)
    throw new WebSocketUsageError('INVALID_ARGUMENT', 'pass servername or the deprecated hostname, not both');
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean')
    throw new TypeError(`rejectUnauthorized must be a boolean, got ${typeof rejectUnauthorized}`);
  if (rejectUnauthorized === false) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      "rejectUnauthorized: false is not possible on Deno (Deno.connectTls always verifies the chain): pass the server's certificate as ca, or run deno with --unsafely-ignore-certificate-errors",
    );
  }
  if ((cert === undefined) !== (key === undefined))
    throw new WebSocketUsageError('INVALID_ARGUMENT', 'cert and key go together');
  const list = ca === undefined ? caCerts : typeof ca === 'string' ? [ca] : [...ca];
  const name = servername ?? hostname;
  return {
    caCerts: list,
    name: name === undefined || name === urlHost ? undefined : name,
    cert,
    key,
    unsafelyDisableHostnameVerification: options.unsafelyDisableHostnameVerification,
  };
}

const ALPN = ['http/1.1'];

/** Writes all of `bytes` (a TCP write may take part of them). */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) done += await conn.write(bytes.subarray(done));
}

/**
 * TCP to `proxy`, `CONNECT` to the target, then TLS to the origin inside the tunnel for wss (the
 * certificate checked against the origin's name, or `servername`).
 */
async function throughProxy(
  proxy: ProxyEndpoint,
  target: ReturnType<typeof parseWsUrl>,
  tls: DenoTls,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  const tcp = await Deno.connect({ hostname: proxy.hostname, port: proxy.port, transport: 'tcp', signal });
  try {
    const buffer = new Uint8Array(16 * 1024);
    let written: Promise<void> = Promise.resolve();
    const rest = await openTunnel(
      {
        write: (bytes) => void (written = written.then(() => writeAll(tcp, bytes))),
        read: async () => {
          await written;
          const n = await tcp.read(buffer);
          return n === null ? null : buffer.slice(0, n);
        },
      },
      proxy,
      target,
    );
    // TLS and WebSocket are both client-first: a proxy that already sent tunnel bytes is broken.
    if (rest.length > 0)
      throw new ProxyError('the proxy sent data through the tunnel before the client spoke', null, null);
    if (!target.secure) return tcp;
    const { caCerts, unsafelyDisableHostnameVerification } = tls;
    return await Deno.startTls(tcp, {
      hostname: tls.name ?? target.hostname,
      caCerts,
      alpnProtocols: ALPN,
      unsafelyDisableHostnameVerification,
    });
  } catch (error) {
    try {
      tcp.close();
    } catch {
      // already closed
    }
    throw error;
  }
}

function dial(
  target: ReturnType<typeof parseWsUrl>,
  tls: DenoTls,
  proxy: ProxyEndpoint | null,
  signal: AbortSignal,
): Promise<Deno.Conn> {
  if (proxy !== null) return throughProxy(proxy, target, tls, signal);
  const { hostname, port } = target;
  if (!target.secure) return Deno.connect({ hostname, port, transport: 'tcp', signal });
  const { caCerts, cert, key, unsafelyDisableHostnameVerification } = tls;
  if (tls.name !== undefined) {
    const name = tls.name;
    return Deno.connect({ hostname, port, transport: 'tcp', signal }).then((tcp) =>
      Deno.startTls(tcp, { hostname: name, caCerts, alpnProtocols: ALPN, unsafelyDisableHostnameVerification }),
    );
  }
  const keyPair = cert !== undefined && key !== undefined ? { cert, key } : {};
  return Deno.connectTls({
    hostname,
    port,
    caCerts,
    alpnProtocols: ALPN,
    unsafelyDisableHostnameVerification,
    ...keyPair,
  });
}

/**
 * Open a socket to `url` and start the handshake; the connection is returned at once, in
 * `connecting` (the request waits in the transport until the socket is up). Invalid URLs and
 * options throw; a failed connect ends the connection with a `TRANSPORT_ERROR`.
 */
export function createConnection(url: string | { href: string }, options: ConnectOptions = {}): WebSocketConnection {
  const target = parseWsUrl(url);
  const {
    ca,
    caCerts,
    servername,
    hostname,
    cert,
    key,
    rejectUnauthorized,
    unsafelyDisableHostnameVerification,
    http2,
    rawReads,
    rawWrites,
    ...sessionOptions
  } = options;
  refuseHttp2Option(http2);
  const ops = transportOptions(rawReads, rawWrites);
  const tls = denoTls(options, target.hostname);
  if (cert !== undefined && options.proxy !== undefined && options.proxy !== null && options.proxy !== '') {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      'a client certificate cannot be combined with a proxy on Deno (TLS inside the tunnel uses Deno.startTls, which takes none)',
    );
  }
  if (cert !== undefined && tls.name !== undefined) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      "a client certificate cannot be combined with a servername other than the URL's host (Deno.startTls takes none)",
    );
  }
  // A malformed proxy option throws here, like any invalid option; 'env' needs --allow-env.
  const proxy = resolveProxy(options.proxy, target, () => Deno.env.toObject());
  const controller = new AbortController();
  let conn: Promise<Deno.Conn>;
  try {
    conn = dial(target, tls, proxy, controller.signal);
  } catch (error) {
    conn = Promise.reject(error);
  }
  // TLS conns never use the ops: no self-tests for them.
  const io = target.secure ? transportOptions(false, false) : ops;
  return startClient(
    new DenoTransport(io.rawReads || io.rawWrites ? afterSelfTests(conn, io) : conn, () => controller.abort(), io),
    url,
    sessionOptions,
  );
}

const NODE_HTTP2: string = 'node:http2';

/** The HTTP/2 sessions `connect(url, { http2: true })` shares, made on first use (node:http2 is loaded then). */
let http2Pool: Http2SessionPool | null = null;

/**
 * `connect(url, { http2: true })`: an extended CONNECT on a pooled `node:http2` session when the
 * server allows it, else HTTP/1.1. The TLS options go to `node:tls` in Node's names.
 */
async function connectHttp2(url: string | { href: string }, options: ConnectOptions): Promise<WebSocketConnection> {
  const target = parseWsUrl(url);
  const {
    ca: _ca,
    caCerts: _cc,
    servername: _s,
    hostname: _h,
    cert,
    key,
    rejectUnauthorized: _r,
    unsafelyDisableHostnameVerification: _u,
    http2: _2,
    rawReads: _raw,
    rawWrites: _rawWrites,
    ...sessionOptions
  } = options;
  const tls = denoTls(options, target.hostname);
  // Not a literal: the npm build's declarations are checked against Deno's types alone, without node:*'s.
  const http2 = (await import(NODE_HTTP2)) as { connect: Http2Connect };
  http2Pool ??= new Http2SessionPool((authority, o) => http2.connect(authority, o));
  // node:tls checks the certificate against `servername` (else the host), and sends it as SNI.
  const name = tls.name ?? target.hostname;
  const tlsOptions: Record<string, unknown> = target.secure
    ? {
        ca: tls.caCerts,
        servername: isIp(name) ? undefined : name,
        cert,
        key,
        ...(tls.unsafelyDisableHostnameVerification === true ? { checkServerIdentity: () => undefined } : {}),
      }
    : {};
  return connectOverHttp2(
    http2Pool,
    url,
    { secure: target.secure, hostname: target.hostname, port: target.port, options: tlsOptions },
    sessionOptions,
    () => connect(url, { ...options, http2: false }),
    http2ClientConnection,
  );
}

const isIp = (host: string): boolean => host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);

/** Connect and complete the handshake; rejects with a `HandshakeError` (status, headers, body for a refusal). */
export function connect(url: string | { href: string }, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  if (options?.http2 === true) return connectHttp2(url, options);
  return openedOrRejected(() => createConnection(url, options));
}

/** The WHATWG WebSocket client. Extra options: `new WebSocket(url, { protocols, headers, ca, … })`. */
export const WebSocket: WebSocketClass = createWebSocketClass({
  connect: (url, options) => createConnection(url, options as ConnectOptions),
});

/**
 * The WHATWG `WebSocketStream`: `new WebSocketStream(url, { protocols, signal, ...connect options })`,
 * `await stream.opened` → `{ readable, writable, protocol, extensions }`, `stream.closed`,
 * `stream.close({ closeCode, reason })`; `WebSocketStream.from(connection)` for a server's connection.
 */
export const WebSocketStream: WebSocketStreamClass<
  ReadableStream<string | Uint8Array>,
  WritableStream<SendData>
> = createWebSocketStreamClass((url, options) => createConnection(url, options as ConnectOptions));
