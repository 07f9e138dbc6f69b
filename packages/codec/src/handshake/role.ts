/**
 * What each role brings to a `Connection`'s opening handshake, so that the core pays for
 * neither: `serverConnection()` (`@ws/codec/server`) passes the server's request checks and
 * response builders, `clientConnection()` (`@ws/codec/client`) the client's URL, request and
 * response checks. The connection keeps the handshake's state machine; these are its
 * parsers and serializers. Plain-HTTP serving (`http/server-exchange.ts`) is brought the same
 * way, by the `http` option.
 */
import type { buildAcceptResponse, buildRejectResponse, checkRequest, validateRequest } from './server.ts';
import type { buildClientRequest, parseWsUrl, verifyResponse } from './client.ts';
import type { generateKey } from './accept-key.ts';
import type { formatExtensionHeader } from './header-values.ts';
import type { MaskKeyPool, defaultRandomSource } from '../random.ts';
import type { HeadParser } from '../http/head-parser.ts';
import type {
  buildExtendedConnectAccept,
  buildExtendedConnectReject,
  buildExtendedConnectRequest,
  readExtendedConnectResponse,
  validateExtendedConnect,
  verifyExtendedConnectResponse,
} from './extended-connect.ts';

/** A server's handshake over HTTP/2 (RFC 8441): `http2ServerConnection()` brings it (`@ws/codec/http2`). */
export interface Http2ServerRole {
  readonly validate: typeof validateExtendedConnect;
  readonly accept: typeof buildExtendedConnectAccept;
  readonly reject: typeof buildExtendedConnectReject;
}

/** A client's handshake over HTTP/2 (RFC 8441): `http2ClientConnection()` brings it (`@ws/codec/http2`). */
export interface Http2ClientRole {
  readonly buildRequest: typeof buildExtendedConnectRequest;
  readonly readResponse: typeof readExtendedConnectResponse;
  readonly verifyResponse: typeof verifyExtendedConnectResponse;
}

export interface ServerRole {
  readonly role: 'server';
  readonly validateRequest: typeof validateRequest;
  /** `validateRequest` without its wrapper object: what a server connection uses. */
  readonly checkRequest: typeof checkRequest;
  readonly buildAcceptResponse: typeof buildAcceptResponse;
  readonly buildRejectResponse: typeof buildRejectResponse;
  readonly formatExtensionHeader: typeof formatExtensionHeader;
  /** The HTTP/1.1 head parser (the request's): brought by the role, so a bundle of the core alone leaves it out. */
  readonly HeadParser: typeof HeadParser;
  /** Present when the handshake is an extended CONNECT on an HTTP/2 stream (RFC 8441). */
  readonly http2?: Http2ServerRole;
}

export interface ClientRole {
  readonly role: 'client';
  readonly parseWsUrl: typeof parseWsUrl;
  readonly generateKey: typeof generateKey;
  readonly buildClientRequest: typeof buildClientRequest;
  readonly verifyResponse: typeof verifyResponse;
  /** Randomness (the key, the masks) is the client's alone. */
  readonly defaultRandomSource: typeof defaultRandomSource;
  readonly MaskKeyPool: typeof MaskKeyPool;
  /** The HTTP/1.1 head parser (the response's). */
  readonly HeadParser: typeof HeadParser;
  /** Present when the handshake is an extended CONNECT on an HTTP/2 stream (RFC 8441). */
  readonly http2?: Http2ClientRole;
}

export type HandshakeRole = ServerRole | ClientRole;
