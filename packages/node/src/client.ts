/**
 * WebSocket clients on Node: `connect(url, options)` for `ws:` and `wss:` URLs, and the WHATWG
 * `WebSocket` class (with Node's extra `binaryType` `'nodebuffer'`).
 */
import net from 'node:net';
import tls from 'node:tls';
import { parseWsUrl } from '@ws/codec';
import { createWebSocketClass, createWebSocketStreamClass, openedOrRejected, startClient, type ClientSessionOptions, type SendData, type WebSocketClass, type WebSocketConnection, type WebSocketStreamClass } from '@ws/codec/session';
import type { ReadableStream, WritableStream } from 'node:stream/web';
import { NodeTransport } from './transport.ts';

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
}

/**
 * Open a socket to `url` and start the handshake; the connection is returned at once, in
 * `connecting`. Invalid URLs and options throw.
 */
export function createConnection(url: string | { href: string }, options: ConnectOptions = {}): WebSocketConnection {
  const target = parseWsUrl(url);
  const { servername, ca, cert, key, rejectUnauthorized, tls: tlsOptions, ...rest } = options;
  let socket: net.Socket;
  if (target.secure) {
    socket = tls.connect({
      host: target.hostname,
      port: target.port,
      servername: servername ?? (net.isIP(target.hostname) === 0 ? target.hostname : undefined),
      ca,
      cert,
      key,
      rejectUnauthorized: rejectUnauthorized ?? true,
      ALPNProtocols: ['http/1.1'],
      ...tlsOptions,
    } as tls.ConnectionOptions);
    // Half-open once TLS is up, as on the server (see server.ts).
    socket.once('secureConnect', () => (socket.allowHalfOpen = true));
  } else {
    socket = net.connect({ host: target.hostname, port: target.port, allowHalfOpen: true, noDelay: true });
  }
  return startClient(new NodeTransport(socket), url, rest);
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
