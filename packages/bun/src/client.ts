/**
 * WebSocket clients on Bun: `connect(url, options)` for `ws:` and `wss:` URLs on `Bun.connect`,
 * and the WHATWG `WebSocket` class (with the extra `binaryType` `'nodebuffer'`, as on Node).
 * The request is queued in the transport at once and leaves when the socket opens.
 */
import type { TLSOptions } from 'bun';
import { parseWsUrl } from '@ws/codec';
import { createWebSocketClass, createWebSocketStreamClass, openedOrRejected, startClient, type ClientSessionOptions, type SendData, type WebSocketClass, type WebSocketConnection, type WebSocketStreamClass } from '@ws/codec/session';
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
    ? { serverName: servername ?? (isIp(target.hostname) ? undefined : target.hostname), ca, cert, key, rejectUnauthorized: verify, ...tlsOptions }
    : undefined;
  // A refused connection also reaches `connectError` (→ onClose with the error): the promise is for Bun only.
  Bun.connect<BunTransport>({ hostname: target.hostname, port: target.port, allowHalfOpen: true, tls, data: transport, socket: socketHandlers }).catch(() => {});
  return connection;
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
export const WebSocketStream: WebSocketStreamClass<ReadableStream<string | Uint8Array>, WritableStream<SendData>> = createWebSocketStreamClass((url, options) =>
  createConnection(url, options as ConnectOptions),
);
