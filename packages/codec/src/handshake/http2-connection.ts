/**
 * `http2ServerConnection()` and `http2ClientConnection()`: a `Connection` whose opening handshake
 * is an extended CONNECT on an HTTP/2 stream (RFC 8441, `extended-connect.ts`) instead of an
 * HTTP/1.1 upgrade. Its own module, reached through `@ws/codec/http2`, so that only a runtime
 * adapter that speaks HTTP/2 pays for it. The HTTP/1.1 roles come along because the subprotocol,
 * extension and origin rules are theirs.
 */
import { Connection, type ClientConnectionOptions, type ServerConnectionOptions } from '../connection.ts';
import { generateKey } from './accept-key.ts';
import { buildClientRequest, parseWsUrl, verifyResponse } from './client.ts';
import {
  buildExtendedConnectAccept,
  buildExtendedConnectReject,
  buildExtendedConnectRequest,
  readExtendedConnectResponse,
  validateExtendedConnect,
  verifyExtendedConnectResponse,
} from './extended-connect.ts';
import { formatExtensionHeader } from './header-values.ts';
import { HeadParser } from '../http/head-parser.ts';
import type { ClientRole, ServerRole } from './role.ts';
import { MaskKeyPool, defaultRandomSource } from '../random.ts';
import { buildAcceptResponse, buildRejectResponse, checkRequest, validateRequest } from './server.ts';

const SERVER: ServerRole = Object.freeze({
  role: 'server',
  validateRequest,
  checkRequest,
  buildAcceptResponse,
  buildRejectResponse,
  formatExtensionHeader,
  HeadParser,
  http2: Object.freeze({
    validate: validateExtendedConnect,
    accept: buildExtendedConnectAccept,
    reject: buildExtendedConnectReject,
  }),
});

const CLIENT: ClientRole = Object.freeze({
  role: 'client',
  parseWsUrl,
  generateKey,
  buildClientRequest,
  verifyResponse,
  defaultRandomSource,
  MaskKeyPool,
  HeadParser,
  http2: Object.freeze({
    buildRequest: buildExtendedConnectRequest,
    readResponse: readExtendedConnectResponse,
    verifyResponse: verifyExtendedConnectResponse,
  }),
});

/**
 * A server connection for one HTTP/2 stream: give it the stream's request header list with
 * `receiveHeaders()`, answer its `request` event; its answer is a `head` output (`:status` 200
 * or a refusal), then frames as over TCP. The `http` option does not apply (plain HTTP is the
 * HTTP/2 server's own).
 */
export function http2ServerConnection(options: ServerConnectionOptions = {}): Connection {
  return new Connection(SERVER, null, options);
}

/**
 * A client connection over an HTTP/2 stream to a `ws:`/`wss:` URL: its extended CONNECT is the
 * first output (a `head`: open the stream with it), the server's answer goes to `receiveHeaders()`.
 */
export function http2ClientConnection(
  url: string | { href: string },
  options: ClientConnectionOptions = {},
): Connection {
  return new Connection(CLIENT, url, options);
}
