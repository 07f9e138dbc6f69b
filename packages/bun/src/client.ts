/**
 * WebSocket clients on Bun: `connect(url, options)` for `ws:` and `wss:` URLs on `Bun.connect`,
 * and the WHATWG `WebSocket` class (with the extra `binaryType` `'nodebuffer'`, as on Node).
 * The request is queued in the transport at once and leaves when the socket opens.
 */
import type { Socket, TLSOptions } from 'bun';
import { parseWsUrl, type WsUrl } from '@ws/codec';
import {
  Http2SessionPool,
  ProxyError,
  TunnelReads,
  connectOverHttp2,
  createWebSocketClass,
  createWebSocketStreamClass,
  openTunnel,
  openedOrRejected,
  refuseHttp2Option,
  resolveProxy,
  startClient,
  type ClientSessionOptions,
  type ProxyEndpoint,
  type SendData,
  type WebSocketClass,
  type WebSocketConnection,
  type WebSocketStreamClass,
} from '@ws/codec/session';
import { http2ClientConnection } from '@ws/codec/http2';
import { BunTransport, socketHandlers } from './transport.ts';

type Pem = TLSOptions['ca'];

export interface ConnectOptions extends ClientSessionOptions {
  /** TLS server name (SNI) and the name the certificate must match. Default: the URL's host (unless an IP). */
  servername?: string;
  /** Trusted CA certificates (PEM), e.g. for a self-signed server. */
  ca?: Pem;
  /** Client certificate and key (PEM), for servers that ask for one. */
  cert?: Pem;
  key?: Pem;
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Any other `Bun.connect` TLS options. */
  tls?: TLSOptions;
  /**
   * `connect()` only: try WebSockets over HTTP/2 (RFC 8441), on Bun's `node:http2`. An HTTP/2
   * session to the origin is opened (or one already open to it, with the same TLS options, is
   * shared: many WebSockets on one TCP connection); once the server's SETTINGS arrive, an
   * extended CONNECT is used if it sets `SETTINGS_ENABLE_CONNECT_PROTOCOL`, else (or if no HTTP/2
   * session can be opened) the connection is made over HTTP/1.1 as without this option.
   * `connection.httpVersion` says which was used. Not with `proxy`. Default false.
   */
  http2?: boolean;
}

const isIp = (host: string): boolean => host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);

/**
 * Open a socket to `url` and start the handshake; the connection is returned at once, in
 * `connecting`. Invalid URLs and options throw.
 */
export function createConnection(url: string | { href: string }, options: ConnectOptions = {}): WebSocketConnection {
  const target = parseWsUrl(url);
  const { servername, ca, cert, key, rejectUnauthorized, tls: tlsOptions, http2, ...sessionOptions } = options;
  refuseHttp2Option(http2);
  const verify = rejectUnauthorized ?? true;
  const transport = new BunTransport({ secure: target.secure, verify });
  const connection = startClient(transport, url, sessionOptions);
  const tls: TLSOptions | undefined = target.secure
    ? {
        serverName: servername ?? (isIp(target.hostname) ? undefined : target.hostname),
        ca,
        cert,
        key,
        rejectUnauthorized: verify,
        ...tlsOptions,
      }
    : undefined;
  const proxy = resolveProxy(options.proxy, target, () => process.env);
  if (proxy !== null) {
    throughProxy(proxy, target, transport, tls).catch((error: unknown) => transport.closed(error));
    return connection;
  }
  // A refused connection also reaches `connectError` (→ onClose with the error): the promise is for Bun only.
  Bun.connect<BunTransport>({
    hostname: target.hostname,
    port: target.port,
    allowHalfOpen: true,
    tls,
    data: transport,
    socket: socketHandlers,
  }).catch(() => {});
  return connection;
}

/** Handlers while the CONNECT exchange runs: the socket's events go to its TunnelReads. */
const tunnelHandlers = {
  binaryType: 'uint8array',
  data: (socket: Socket<TunnelReads>, chunk: Uint8Array) => socket.data.push(chunk.slice()),
  end: (socket: Socket<TunnelReads>) => socket.data.push(null),
  close(socket: Socket<TunnelReads>, error?: Error) {
    if (error !== undefined) socket.data.fail(error);
    socket.data.push(null);
  },
  error: (socket: Socket<TunnelReads>, error: Error) => socket.data.fail(error),
} as const;

/**
 * TCP to `proxy`, `CONNECT` to the target, then the socket goes to `transport`: as it is for ws,
 * through TLS to the origin (certificate checked against its name) for wss.
 */
async function throughProxy(
  proxy: ProxyEndpoint,
  target: WsUrl,
  transport: BunTransport,
  tls: TLSOptions | undefined,
): Promise<void> {
  const reads = new TunnelReads();
  const socket = await Bun.connect<TunnelReads>({
    hostname: proxy.hostname,
    port: proxy.port,
    allowHalfOpen: true,
    data: reads,
    socket: tunnelHandlers,
  });
  try {
    const rest = await openTunnel(
      {
        write: (bytes) => void socket.write(bytes),
        read: () => reads.read(),
      },
      proxy,
      target,
    );
    // TLS and WebSocket are both client-first: a proxy that already sent tunnel bytes is broken.
    if (rest.length > 0)
      throw new ProxyError('the proxy sent data through the tunnel before the client spoke', null, null);
  } catch (error) {
    socket.terminate();
    throw error;
  }
  if (tls !== undefined) {
    // `open` (after the TLS handshake) hands the TLS socket to the transport.
    socket.upgradeTLS<BunTransport>({ data: transport, tls, socket: socketHandlers });
    return;
  }
  const plain = socket as unknown as Socket<BunTransport>;
  plain.reload({ socket: socketHandlers });
  plain.data = transport;
  transport.opened(plain);
}

/** The HTTP/2 sessions `connect(url, { http2: true })` shares, made on first use (node:http2 is loaded then). */
let http2Pool: Http2SessionPool | null = null;

/** `connect(url, { http2: true })`: an extended CONNECT on a pooled `node:http2` session when the server allows it, else HTTP/1.1. */
async function connectHttp2(url: string | { href: string }, options: ConnectOptions): Promise<WebSocketConnection> {
  const target = parseWsUrl(url);
  const { servername, ca, cert, key, rejectUnauthorized, tls: tlsOptions, http2: _h, ...sessionOptions } = options;
  const http2 = await import('node:http2');
  http2Pool ??= new Http2SessionPool((authority, o) => http2.connect(authority, o));
  const tls: Record<string, unknown> = target.secure
    ? {
        servername: servername ?? (isIp(target.hostname) ? undefined : target.hostname),
        ca,
        cert,
        key,
        rejectUnauthorized: rejectUnauthorized ?? true,
        ...tlsOptions,
      }
    : {};
  return connectOverHttp2(
    http2Pool,
    url,
    { secure: target.secure, hostname: target.hostname, port: target.port, options: tls },
    sessionOptions,
    () => connect(url, { ...options, http2: false }),
    http2ClientConnection,
  );
}

/** Connect and complete the handshake; rejects with a `HandshakeError` (status, headers, body for a refusal). */
export function connect(url: string | { href: string }, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  if (options?.http2 === true) return connectHttp2(url, options);
  return openedOrRejected(() => createConnection(url, options));
}

/** The WHATWG WebSocket client; `binaryType` may also be `'nodebuffer'`. Extra options: `new WebSocket(url, { protocols, headers, ca, … })`. */
export const WebSocket: WebSocketClass = createWebSocketClass({
  connect: (url, options) => createConnection(url, options as ConnectOptions),
  binaryTypes: { nodebuffer: (data: Uint8Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength) },
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
