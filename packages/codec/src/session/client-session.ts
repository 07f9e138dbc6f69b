/**
 * The client side of a session: start the opening handshake on a transport and return the
 * connection at once, in `connecting`; `opened` settles when the server has answered.
 */
import { clientConnection } from '../handshake/client-connection.ts';
import type { HeadersInit } from '../http/headers.ts';
import { CLIENT_OPTION_KEYS, checkOptionKeys } from './option-keys.ts';
import { resolveSessionOptions, type SessionOptions } from './options.ts';
import type { Transport } from './transport.ts';
import { driver } from './connection-wiring.ts';
import { WebSocketConnection } from './websocket-connection.ts';

export interface ClientSessionOptions extends SessionOptions {
  /**
   * Subprotocols to offer, most preferred first: a list, or one as a string (`'chat'`). Each
   * must be an HTTP token, none repeated (RFC 6455 §4.1).
   */
  protocols?: string | readonly string[];
  /** Extra request headers (e.g. Authorization, Cookie). */
  headers?: HeadersInit;
  /** An `Origin` header to send. */
  origin?: string | null;
  /**
   * An HTTP proxy to tunnel through with `CONNECT`: `'http://[user:password@]host:port'`, or
   * `'env'` to use `HTTPS_PROXY` (wss) or `HTTP_PROXY` (ws) unless `NO_PROXY` exempts the host.
   * For wss, TLS runs to the server inside the tunnel. Default: none (connect directly).
   */
  proxy?: string | null;
}

/**
 * Start a client handshake for `url` (`ws:`/`wss:`) over `transport`; the request is written at
 * once. Wire the socket's events to `transportHandlers(connection)`. Invalid options or URL throw
 * (an unknown option key: a `TypeError` naming it). `make`: the codec's connection for another
 * handshake, e.g. `http2ClientConnection` (`@ws/codec/http2`, RFC 8441) on an HTTP/2 stream: the
 * transport gets the request as `head()` and passes the answer to `onHeaders`.
 */
export function connectSession(
  transport: Transport,
  url: string | { href: string },
  options: ClientSessionOptions = {},
  make: typeof clientConnection = clientConnection,
): WebSocketConnection {
  checkOptionKeys(options, CLIENT_OPTION_KEYS, 'client options');
  const resolved = resolveSessionOptions(options, 'client');
  const codec = make(url, {
    extensions: options.extensions,
    limits: options.limits,
    timeouts: resolved.codecTimeouts,
    assembleMessages: options.assembleMessages,
    autoPong: options.autoPong,
    utf8Validator: options.utf8Validator,
    engine: transport.engine,
    random: options.random,
    protocols: options.protocols,
    headers: options.headers,
    origin: options.origin,
  });
  const connection = new WebSocketConnection({
    codec,
    transport,
    options: resolved,
    assembleMessages: options.assembleMessages ?? true,
  });
  // Writes the request and arms the handshake timer.
  driver(connection).pump();
  return connection;
}
