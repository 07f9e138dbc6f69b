/**
 * WebSocket clients on Bun: `connect(url, options)` for `ws:` and `wss:` URLs on `Bun.connect`,
 * and the WHATWG `WebSocket` class (with the extra `binaryType` `'nodebuffer'`, as on Node).
 * The request is queued in the transport at once and leaves when the socket opens.
 */
import type { Socket, TLSOptions } from 'bun';
import { parseWsUrl, type WsUrl } from '@ws/codec';
import {
  ProxyError,
  TunnelReads,
  createWebSocketClass,
  createWebSocketStreamClass,
  openTunnel,
  openedOrRejected,
  resolveProxy,
  startClient,
  type ClientSessionOptions,
  type ProxyEndpoint,
  type SendData,
  type WebSocketClass,
  type WebSocketConnection,
  type WebSocketStreamClass,
} from '@ws/codec/session';
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
}

const isIp = (host: string): boolean => host.includes(':') || /^\d{1,3}(\.\d{1,3}){3}$/.test(host);

/**
 * Open a socket to `url` and start the handshake; the connection is returned at once, in
 * `connecting`. Invalid URLs and options throw.
 */
export function createConnection(url: string | { href: string }, options: ConnectOptions = {}): WebSocketConnection {
  const target = parseWsUrl(url);
  const { servername, ca, cert, key, rejectUnauthorized, tls: tlsOptions, ...sessionOptions } = options;
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

/** Connect and complete the handshake; rejects with a `HandshakeError` (status, headers, body for a refusal). */
export function connect(url: string | { href: string }, options: ConnectOptions = {}): Promise<WebSocketConnection> {
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
