/**
 * The server side of the opening handshake (RFC 6455 §4.2): validate a client's upgrade
 * request (§4.2.1), then build the 101 answer (§4.2.2) or an HTTP error response. Choosing a
 * subprotocol and negotiating extensions are the caller's decisions; this module checks they
 * are consistent with what the client offered.
 *
 * Statuses chosen where RFC 6455 leaves it open ("such as 400 Bad Request", §4.2.1):
 * - not GET: 405 with `Allow: GET` (RFC 9110 §15.5.6);
 * - HTTP/1.0: 400 BAD_HTTP_VERSION, since 505 means the *major* version is unsupported
 *   (RFC 9110 §15.6.6) and 1.0 is merely too old for Upgrade; another major version: 505;
 * - no `websocket` in `Upgrade`: 426 with `Upgrade: websocket` (RFC 9110 §15.5.22), which
 *   tells a plain HTTP client what this endpoint wants; an unparsable `Upgrade`: 400;
 * - `Sec-WebSocket-Version` other than `13`: 426 with `Sec-WebSocket-Version: 13` (§4.4);
 * - origin refused: 403 (§4.2.2 step 4 / §10.2); everything else malformed: 400.
 * The version is checked before the key, so an old client learns which version we speak.
 * A request that announces a body (`Transfer-Encoding`, non-zero `Content-Length`) is refused:
 * those bytes would be read as WebSocket frames.
 */
import { WebSocketUsageError, describe, type ProtocolErrorCode } from '../errors.ts';
import type { HandshakeRequest } from '../events.ts';
import type { ExtensionOffer } from '../extensions/extension.ts';
import { HttpHeaders, fieldCount, type HeadersInit } from '../http/headers.ts';
import { foldAscii, sameAsciiCase } from '../http/ascii-case.ts';
import { requestHost } from '../http/request-host.ts';
import { encodeLatin1, serializeHead, serializeHeadAfter, type RequestHead } from '../http/head-parser.ts';
import { REASON_PHRASES } from '../http/response.ts';
import { encodeUtf8 } from '../utf8.ts';
import { base64ByteLength } from '../base64.ts';
import { computeAcceptKey } from './accept-key.ts';
import { listNames, parseExtensionHeader, parseTokenList } from './header-values.ts';

export interface ServerHandshakeOptions {
  /**
   * Which `Origin`s may connect: a list (compared case-insensitively, default ports ignored),
   * a predicate, or null/undefined to allow all. A list refuses a request without `Origin`
   * (as python websockets does); a predicate sees it as `null` and may let it in.
   */
  origins?: readonly string[] | ((origin: string | null, request: RequestHead) => boolean) | null;
}

export type RequestValidation =
  | { ok: true; request: HandshakeRequest }
  | { ok: false; code: ProtocolErrorCode; status: number; message: string; headers: Array<[string, string]> };

export type Refusal = Extract<RequestValidation, { ok: false }>;

/** A refusal with this code, status, message and extra response headers. */
export function refuse(
  code: ProtocolErrorCode,
  status: number,
  message: string,
  headers: Array<[string, string]> = [],
): Refusal {
  return { ok: false, code, status, message, headers };
}

const ABSOLUTE_FORM = /^(?:https?|wss?):\/\/([^/?#]*)(.*)$/i;
const HTTP_VERSION = /^([0-9]+)\.([0-9]+)$/;

/** The lists of a request that offers no subprotocol or no extension: one for every such request. */
const NO_PROTOCOLS: string[] = Object.freeze([]) as unknown as string[];
const NO_EXTENSIONS: ExtensionOffer[] = Object.freeze([]) as unknown as ExtensionOffer[];

/**
 * Checks an upgrade request against RFC 6455 §4.2.1. Never throws on what the peer sent.
 * A request without `Sec-WebSocket-Protocol` (or `-Extensions`) gets a shared, frozen empty list.
 */
export function validateRequest(head: RequestHead, options: ServerHandshakeOptions = {}): RequestValidation {
  const verdict = checkRequest(head, options);
  return 'ok' in verdict ? verdict : { ok: true, request: verdict };
}

/**
 * {@link validateRequest} without the wrapper, for a server connection (one per handshake): the
 * request, or the refusal (which alone has `ok`).
 */
export function checkRequest(head: RequestHead, options: ServerHandshakeOptions = {}): HandshakeRequest | Refusal {
  if (
    typeof head !== 'object' ||
    head === null ||
    !(head.headers instanceof HttpHeaders) ||
    typeof head.method !== 'string' ||
    typeof head.target !== 'string' ||
    typeof head.httpVersion !== 'string'
  ) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `validateRequest needs a RequestHead, got ${describe(head)}`);
  }
  const origins = options?.origins;
  checkOrigins(origins);
  // Written to make no garbage for a well-formed request (a server validates one per connection):
  // no lists made to be searched, no match arrays, no decoded key.
  const headers = head.headers;

  // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
  if (head.method !== 'GET') return refuse('BAD_METHOD', 405, `method ${head.method} is not GET`, [['Allow', 'GET']]);
  if (head.httpVersion !== '1.1') {
    const version = HTTP_VERSION.exec(head.httpVersion);
    if (version === null || version[1] !== '1')
      return refuse('BAD_HTTP_VERSION', 505, `HTTP version ${head.httpVersion} not supported`);
    if (version[2] === '0') return refuse('BAD_HTTP_VERSION', 400, 'WebSocket needs HTTP/1.1 or later, got HTTP/1.0');
  }

  // Origin-form (`/path?query`, nearly every request) is split here, without an object; the rest by splitTarget.
  const rawTarget = head.target;
  let path: string;
  let query: string;
  if (rawTarget.startsWith('/') && !rawTarget.includes('#')) {
    const q = rawTarget.indexOf('?');
    path = q === -1 ? rawTarget : rawTarget.slice(0, q);
    query = q === -1 ? '' : rawTarget.slice(q + 1);
  } else {
    const target = splitTarget(rawTarget);
    if (target === null)
      return refuse('MALFORMED_HEAD', 400, 'request-target must be a path (origin-form) or an absolute http/ws URL');
    path = target.path;
    query = target.query;
  }

  // §4.2.1 item 2 and RFC 9112 §3.2: exactly one Host, and an absolute-form target's authority
  // checked like it and equal to it (http/request-host.ts).
  const host = requestHost(head, true);
  if (typeof host !== 'string') return refuse(host.code, host.status, host.message);

  const transferEncoding = headers.get('transfer-encoding');
  const contentLength = headers.get('content-length');
  if (transferEncoding !== null || (contentLength !== null && contentLength !== '0')) {
    return refuse('MALFORMED_HEAD', 400, 'an upgrade request must not carry a body');
  }

  // §4.2.1 item 3.
  const upgrade = listNames(headers.get('upgrade') ?? '', 'websocket', true);
  if (upgrade === -1) return refuse('BAD_UPGRADE', 400, 'malformed Upgrade header');
  if (upgrade === 0) {
    return refuse('BAD_UPGRADE', 426, 'Upgrade header does not name websocket', [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
    ]);
  }

  // §4.2.1 item 4.
  const connection = listNames(headers.get('connection') ?? '', 'upgrade', false);
  if (connection === -1) return refuse('BAD_CONNECTION', 400, 'malformed Connection header');
  if (connection === 0) return refuse('BAD_CONNECTION', 400, 'Connection header does not name upgrade');

  // §4.2.1 item 6 and §4.4: tell the client which version we speak.
  if (headers.get('sec-websocket-version') !== '13') {
    return refuse('UNSUPPORTED_VERSION', 426, 'Sec-WebSocket-Version must be 13', [['Sec-WebSocket-Version', '13']]);
  }

  // §4.2.1 item 5: a base64 value that decodes to 16 bytes; §11.3.1: only once.
  const keyCount = fieldCount(headers, 'sec-websocket-key');
  if (keyCount !== 1)
    return refuse('BAD_KEY', 400, keyCount === 0 ? 'missing Sec-WebSocket-Key' : 'more than one Sec-WebSocket-Key');
  const key = headers.get('sec-websocket-key') ?? ''; // counted: exactly one (an empty one is refused below)
  if (base64ByteLength(key) !== 16) return refuse('BAD_KEY', 400, 'Sec-WebSocket-Key is not 16 bytes in base64');

  // The request, its offers filled in by readOffers (one object made for a well-formed request).
  const request: HandshakeRequest = {
    method: head.method,
    target: rawTarget,
    path,
    query,
    httpVersion: head.httpVersion,
    headers,
    host,
    origin: null,
    key,
    protocols: NO_PROTOCOLS,
    extensions: NO_EXTENSIONS,
  };
  return readOffers(head, origins, request) ?? request;
}

/**
 * What an HTTP/1.1 upgrade and an HTTP/2 extended CONNECT (RFC 8441) check alike: the offered
 * subprotocols and extensions (§4.2.1 items 8 and 9: lists, so repeated fields are combined,
 * RFC 9110 §5.3), then the origin policy (§4.2.1 item 7, §10.2), last, so that a malformed
 * request gets its 400 first.
 */
export function validateOffers(head: RequestHead, origins: ServerHandshakeOptions['origins']): Offers | Refusal {
  const offers: Offers = { protocols: NO_PROTOCOLS, extensions: NO_EXTENSIONS, origin: null };
  return readOffers(head, origins, offers) ?? offers;
}

/** What {@link validateOffers} reads of a request. */
interface Offers {
  protocols: string[];
  extensions: ExtensionOffer[];
  origin: string | null;
}

/** {@link validateOffers}, written into `into` (a request's own fields): a refusal, or null. */
function readOffers(head: RequestHead, origins: ServerHandshakeOptions['origins'], into: Offers): Refusal | null {
  const headers = head.headers;
  const protocolField = headers.get('sec-websocket-protocol');
  const protocols = protocolField === null ? NO_PROTOCOLS : parseTokenList(protocolField);
  if (protocols === null) return refuse('MALFORMED_HEAD', 400, 'malformed Sec-WebSocket-Protocol header');
  const extensionField = headers.get('sec-websocket-extensions');
  const extensions = extensionField === null ? NO_EXTENSIONS : parseExtensionHeader(extensionField);
  if (extensions === null) return refuse('BAD_EXTENSION_HEADER', 400, 'malformed Sec-WebSocket-Extensions header');
  const originCount = fieldCount(headers, 'origin');
  if (originCount > 1) return refuse('MALFORMED_HEAD', 400, 'more than one Origin header');
  const origin = originCount === 0 ? null : headers.get('origin');
  if (!originAllowed(origin, head, origins)) return refuse('ORIGIN_NOT_ALLOWED', 403, 'origin not allowed');
  into.protocols = protocols;
  into.extensions = extensions;
  into.origin = origin;
  return null;
}

/** The origins option checked (a caller's mistake throws). */
export function checkOrigins(origins: unknown): void {
  if (
    origins !== undefined &&
    origins !== null &&
    typeof origins !== 'function' &&
    !(Array.isArray(origins) && origins.every((o) => typeof o === 'string'))
  ) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `origins must be a list of strings, a function or null, got ${describe(origins)}`,
    );
  }
}

/**
 * The origin policy. A list matches an origin in its ASCII serialization (RFC 6454 §6.2),
 * compared case-insensitively with default ports and a trailing `/` ignored; a request with
 * no `Origin` (not from a browser) matches no list. A function decides alone.
 */
function originAllowed(origin: string | null, head: RequestHead, origins: ServerHandshakeOptions['origins']): boolean {
  if (origins === undefined || origins === null) return true;
  if (typeof origins === 'function') return origins(origin, head) === true;
  if (origin === null) return false;
  const wanted = normalizeOrigin(origin);
  return origins.some((o) => normalizeOrigin(o) === wanted);
}

function normalizeOrigin(origin: string): string {
  let o = foldAscii(origin.trim());
  if (o.endsWith('/')) o = o.slice(0, -1);
  if ((o.startsWith('http://') || o.startsWith('ws://')) && o.endsWith(':80')) o = o.slice(0, -3);
  else if ((o.startsWith('https://') || o.startsWith('wss://')) && o.endsWith(':443')) o = o.slice(0, -4);
  return o;
}

/**
 * The request-target as path and query (RFC 9112 §3.2). Origin-form (`/path?query`) or
 * absolute-form (`http://host/path`, reduced to its path, §3.2.2); `*` and authority-form are
 * not for GET. The fragment is not part of a request-target (RFC 9112 §3.2), so `#` is refused.
 */
function splitTarget(target: string): { path: string; query: string; authority: string | null } | null {
  if (target.includes('#')) return null;
  let rest = target;
  let authority: string | null = null;
  if (!target.startsWith('/')) {
    const match = ABSOLUTE_FORM.exec(target);
    const found = match?.[1];
    if (match === null || found === undefined || found === '' || found.includes('@')) return null;
    authority = found;
    rest = match[2] ?? '';
    if (rest === '' || rest.startsWith('?')) rest = '/' + rest;
  }
  const q = rest.indexOf('?');
  return q === -1
    ? { path: rest, query: '', authority }
    : { path: rest.slice(0, q), query: rest.slice(q + 1), authority };
}

/** Fields the handshake writes itself; a caller's extra headers may not set them. */
export const ACCEPT_OWN_FIELDS = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

/**
 * The 101 response accepting `request` (RFC 6455 §4.2.2 step 5). `protocol` must be one the
 * client offered (§4.2.2 step 5.5 via /subprotocol/); `extensions` is the negotiated
 * `Sec-WebSocket-Extensions` value, naming only extensions the client offered. Throws
 * WebSocketUsageError('INVALID_ARGUMENT') otherwise, or if `headers` would set a field the
 * handshake owns. `freshArrays`, `sha1Base64`: the connection's engine tuning (see `engine-tuning.ts`).
 */
export function buildAcceptResponse(
  request: HandshakeRequest,
  opts: {
    protocol: string | null;
    extensions: string | null;
    headers?: HeadersInit;
    freshArrays?: boolean;
    sha1Base64?: ((text: string) => string) | null;
  },
): Uint8Array {
  if (
    typeof request !== 'object' ||
    request === null ||
    typeof request.key !== 'string' ||
    !Array.isArray(request.protocols) ||
    !Array.isArray(request.extensions)
  ) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `buildAcceptResponse needs the HandshakeRequest from validateRequest, got ${describe(request)}`,
    );
  }
  const freshArrays = opts?.freshArrays ?? false;
  const accept = computeAcceptKey(request.key, opts?.sha1Base64);
  // The fields after the handshake's own; most servers add none (no list is made then).
  let fields: Array<[string, string]> = NO_FIELDS;
  if ((opts?.protocol ?? null) !== null || (opts?.extensions ?? null) !== null || opts?.headers !== undefined) {
    fields = [];
    acceptFields(request, opts, fields, ACCEPT_OWN_FIELDS);
  }
  return serializeHeadAfter(ACCEPT_HEAD, accept, fields, freshArrays);
}

/** The 101's start-line and first fields, up to the `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 step 5). */
const ACCEPT_HEAD = encodeLatin1(
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ',
);
const NO_FIELDS: Array<[string, string]> = Object.freeze([]) as unknown as Array<[string, string]>;

/**
 * The fields an accepting response adds after its own (HTTP/1.1's 101 and HTTP/2's 200 alike):
 * the chosen subprotocol, the negotiated extensions and the caller's headers, checked as
 * `buildAcceptResponse` says, appended to `fields`. `own`: names the caller may not set.
 */
export function acceptFields(
  request: HandshakeRequest,
  opts: { protocol: string | null; extensions: string | null; headers?: HeadersInit },
  fields: Array<[string, string]>,
  own: ReadonlySet<string>,
): void {
  const { protocol = null, extensions = null, headers } = opts ?? {};
  if (protocol !== null) {
    if (typeof protocol !== 'string' || !request.protocols.includes(protocol)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `protocol must be one the client offered (${request.protocols.join(', ') || 'none'}), got ${describe(protocol)}`,
      );
    }
    fields.push(['Sec-WebSocket-Protocol', protocol]);
  }
  if (extensions !== null) {
    const parsed = typeof extensions === 'string' ? parseExtensionHeader(extensions) : null;
    if (parsed === null || parsed.length === 0) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `extensions must be a Sec-WebSocket-Extensions value (RFC 6455 §9.1) or null, got ${describe(extensions)}`,
      );
    }
    // Extension names are tokens compared ignoring case (RFC 9110 §5.6.2 via RFC 6455 §9.1), as
    // negotiation matched them: a client offering `PerMessage-Deflate` may get `permessage-deflate`.
    const stray = parsed.find((e) => !request.extensions.some((o: ExtensionOffer) => sameAsciiCase(o.name, e.name)));
    if (stray !== undefined) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `extension ${stray.name} was not offered by the client (RFC 6455 §9.1)`,
      );
    }
    fields.push(['Sec-WebSocket-Extensions', extensions.trim()]);
  }
  if (headers !== undefined) {
    for (const [name, value] of new HttpHeaders(headers)) {
      if (own.has(foldAscii(name))) {
        throw new WebSocketUsageError(
          'INVALID_ARGUMENT',
          `header ${name} is set by the handshake and cannot be overridden`,
        );
      }
      fields.push([name, value]);
    }
  }
}

const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * An HTTP error response refusing the upgrade: status-line (default reason phrase for common
 * statuses, else empty), the caller's headers, `Connection: close`, `Content-Type:
 * text/plain; charset=utf-8` for a string body (unless given), `Content-Length`, then the
 * body. `status` must be an integer 400–599. The caller may not set Content-Length or
 * Transfer-Encoding.
 */
export function buildRejectResponse(
  status: number,
  opts: { statusText?: string; headers?: HeadersInit; body?: Uint8Array | string } = {},
): Uint8Array {
  const { statusText, fields, body } = rejectParts(status, opts, true);
  const head = serializeHead(`HTTP/1.1 ${status} ${statusText}`, fields);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * A refusal's parts, checked as `buildRejectResponse` says, for HTTP/1.1 (with `Connection:
 * close`, `http1`) and HTTP/2 (which has no Connection field, RFC 9113 §8.2.2).
 */
export function rejectParts(
  status: number,
  opts: { statusText?: string; headers?: HeadersInit; body?: Uint8Array | string },
  http1: boolean,
): { statusText: string; fields: HttpHeaders; body: Uint8Array } {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `reject status must be an integer from 400 to 599, got ${describe(status)}`,
    );
  }
  const { statusText = REASON_PHRASES[status] ?? '', headers, body } = opts ?? {};
  if (typeof statusText !== 'string' || !REASON_PHRASE.test(statusText)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `statusText must be a reason phrase without CR, LF or controls, got ${describe(statusText)}`,
    );
  }
  let bodyBytes: Uint8Array;
  if (body === undefined) bodyBytes = new Uint8Array(0);
  else if (typeof body === 'string') bodyBytes = encodeUtf8(body);
  else if (body instanceof Uint8Array) bodyBytes = body;
  else
    throw new WebSocketUsageError('INVALID_ARGUMENT', `body must be a string or a Uint8Array, got ${describe(body)}`);

  const fields = headers === undefined ? new HttpHeaders() : new HttpHeaders(headers);
  for (const own of ['content-length', 'transfer-encoding']) {
    if (fields.has(own))
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `header ${own} is set by buildRejectResponse and cannot be given`,
      );
  }
  if (http1) {
    if (listNames(fields.get('connection') ?? '', 'close', false) !== 1) fields.append('Connection', 'close');
  } else {
    fields.delete('connection');
  }
  if (typeof body === 'string' && !fields.has('content-type'))
    fields.append('Content-Type', 'text/plain; charset=utf-8');
  fields.append('Content-Length', String(bodyBytes.length));
  return { statusText, fields, body: bodyBytes };
}
