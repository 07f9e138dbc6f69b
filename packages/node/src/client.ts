/**
 * WebSocket clients on Node: `connect(url, options)` for `ws:` and `wss:` URLs, and the WHATWG
 * `WebSocket` class (with Node's extra `binaryType` `'nodebuffer'`).
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { parseWsUrl, type WsUrl } from '@ws/codec';
import {
  PendingTransport,
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
  type TunnelIo,
  type WebSocketClass,
  type WebSocketConnection,
  type WebSocketStreamClass,
} from '@ws/codec/session';
import { http2ClientConnection } from '@ws/codec/http2';
import type { ReadableStream, WritableStream } from 'node:stream/web';
import { NodeTransport } from './transport.ts';
import { defaultHttp2Pool } from './http2.ts';

export interface ConnectOptions extends ClientSessionOptions {
  /** TLS server name (SNI) and the name the certificate must match. Default: the URL's host (unless an IP). */
  servername?: string;
  /** Trusted CA certificates (PEM), e.g. for a self-signed server. */
  ca?: tls.ConnectionOptions['ca'];
  /** Client certificate and key (PEM), for servers that ask for one. */
  cert?: tls.ConnectionOptions['cert'];
  key?: tls.ConnectionOptions['key'];
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Any other `tls.connect` options. */
  tls?: tls.ConnectionOptions;
  /**
   * `connect()` only: try WebSockets over HTTP/2 (RFC 8441). An HTTP/2 session to the origin is
   * opened (or one already open to it, with the same TLS options, is shared: many WebSockets on
   * one TCP connection); once the server's SETTINGS arrive, an extended CONNECT is used if it
   * sets `SETTINGS_ENABLE_CONNECT_PROTOCOL`, else (or if no HTTP/2 session can be opened) the
   * connection is made over HTTP/1.1 as without this option. `connection.httpVersion` says
   * which was used. Not with `proxy`. Default false.
   */
  http2?: boolean;
}

/**
 * Open a socket to `url` and start the handshake; the connection is returned at once, in
 * `connecting`. Invalid URLs and options throw.
 */
export function createConnection(url: string | { href: string }, options: ConnectOptions = {}): WebSocketConnection {
  const target = parseWsUrl(url);
  const { servername, ca, cert, key, rejectUnauthorized, tls: tlsOptions, http2, ...rest } = options;
  refuseHttp2Option(http2);
  const secure = tlsFor(target, options);
  const proxy = resolveProxy(options.proxy, target, () => process.env);
  if (proxy !== null) {
    let dialled: net.Socket | null = null;
    const ready = throughProxy(proxy, target, secure, (socket) => (dialled = socket)).then(
      (socket) => new NodeTransport(socket),
    );
    return startClient(new PendingTransport(ready, () => dialled?.destroy()), url, rest);
  }
  let socket: net.Socket;
  if (secure !== null) {
    socket = tls.connect(secure);
    // Half-open once TLS is up, as on the server (see server.ts).
    socket.once('secureConnect', () => (socket.allowHalfOpen = true));
  } else {
    socket = net.connect({ host: target.hostname, port: target.port, allowHalfOpen: true, noDelay: true });
  }
  return startClient(new NodeTransport(socket), url, rest);
}

/** The TLS options for a wss: target (null for ws:), with the given ALPN protocols. */
function tlsFor(target: WsUrl, options: ConnectOptions, alpn: string[] = ['http/1.1']): tls.ConnectionOptions | null {
  if (!target.secure) return null;
  const { servername, ca, cert, key, rejectUnauthorized, tls: tlsOptions } = options;
  return {
    host: target.hostname,
    port: target.port,
    servername: servername ?? (net.isIP(target.hostname) === 0 ? target.hostname : undefined),
    ca,
    cert,
    key,
    rejectUnauthorized: rejectUnauthorized ?? true,
    ALPNProtocols: alpn,
    ...tlsOptions,
  };
}

/**
 * `connect(url, { http2: true })`: an extended CONNECT on a pooled HTTP/2 session when the server
 * allows it, else HTTP/1.1.
 */
function connectHttp2(url: string | { href: string }, options: ConnectOptions): Promise<WebSocketConnection> {
  const target = parseWsUrl(url);
  const { servername: _s, ca: _ca, cert: _c, key: _k, rejectUnauthorized: _r, tls: _t, http2: _h, ...rest } = options;
  const origin = { secure: target.secure, hostname: target.hostname, port: target.port };
  return connectOverHttp2(
    defaultHttp2Pool,
    url,
    { ...origin, options: { ...tlsFor(target, options, ['h2']) } },
    rest,
    () => connect(url, { ...options, http2: false }),
    http2ClientConnection,
  );
}

/** Reads and writes on `socket` for the CONNECT exchange; `release()` stops reading and leaves the socket paused. */
function tunnelIo(socket: net.Socket): TunnelIo & { release(): void } {
  const reads = new TunnelReads();
  const onData = (chunk: Uint8Array): void => reads.push(chunk);
  const onEnd = (): void => reads.push(null);
  const onError = (error: unknown): void => reads.fail(error);
  socket.on('data', onData).on('end', onEnd).on('error', onError).on('close', onEnd);
  return {
    write: (bytes) => void socket.write(bytes),
    read: () => reads.read(),
    release: () => {
      socket.pause();
      socket.off('data', onData).off('end', onEnd).off('error', onError).off('close', onEnd);
    },
  };
}

/**
 * A socket to `target` through `proxy`: TCP to the proxy, `CONNECT`, then TLS to the origin
 * inside the tunnel for wss (the certificate is checked against the origin's name).
 */
async function throughProxy(
  proxy: ProxyEndpoint,
  target: WsUrl,
  secure: tls.ConnectionOptions | null,
  dialled: (socket: net.Socket) => void,
): Promise<Duplex> {
  const raw = net.connect({ host: proxy.hostname, port: proxy.port, allowHalfOpen: true, noDelay: true });
  dialled(raw);
  const io = tunnelIo(raw);
  let rest: Uint8Array;
  try {
    rest = await openTunnel(io, proxy, target);
  } catch (error) {
    raw.destroy();
    throw error;
  } finally {
    io.release();
  }
  if (rest.length > 0) raw.unshift(rest);
  if (secure === null) return raw;
  const { host: _host, port: _port, ...inside } = secure;
  const socket = tls.connect({ ...inside, socket: raw });
  dialled(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.allowHalfOpen = true;
  return socket;
}

/** Connect and complete the handshake; rejects with a `HandshakeError` (status, headers, body for a refusal). */
export function connect(url: string | { href: string }, options: ConnectOptions = {}): Promise<WebSocketConnection> {
  if (options?.http2 === true) {
    try {
      return connectHttp2(url, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }
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
