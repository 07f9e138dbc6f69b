/**
 * The opening handshake over HTTP/2 (RFC 8441, "Bootstrapping WebSockets with HTTP/2"), as pure
 * functions over header lists (`[name, value]` pairs, pseudo-headers first), for any runtime's
 * HTTP/2 stack: the client's extended CONNECT (`:method CONNECT`, `:protocol websocket`,
 * `:scheme`, `:path`, `:authority`, `sec-websocket-version: 13`; no key and no accept, §5), the
 * server's check of it and its `200` (or 4xx) answer, and the client's check of that answer.
 * After a 200 the stream carries WebSocket frames exactly as a TCP connection would.
 *
 * Subprotocols, extensions and the origin policy are HTTP/1.1's, shared with `client.ts` and
 * `server.ts` (`offerFields`, `validateOffers`, `acceptFields`, `verifyNegotiation`).
 *
 * Header-list rules checked on what a peer sends (RFC 9113 §8.2–§8.3): names in lower case;
 * pseudo-headers before regular fields, each known and at most once; no connection-specific
 * fields (`connection`, `upgrade`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `te`
 * other than `trailers`); no CR, LF or NUL in a value. A malformed request is refused with 400,
 * never thrown: the HTTP/2 stack of the host usually refuses most of these first.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import type { HandshakeRequest } from '../events.ts';
import type { ExtensionOffer } from '../extensions/extension.ts';
import { HttpHeaders, type HeadersInit } from '../http/headers.ts';
import { foldAscii, sameAsciiCase } from '../http/ascii-case.ts';
import type { RequestHead } from '../http/head-parser.ts';
import {
  REQUEST_OWN_FIELDS as HTTP1_REQUEST_OWN_FIELDS,
  offerFields,
  verifyNegotiation,
  type ResponseVerification,
  type WsUrl,
} from './client.ts';
import {
  ACCEPT_OWN_FIELDS as HTTP1_ACCEPT_OWN_FIELDS,
  acceptFields,
  refuse,
  checkOrigins,
  rejectParts,
  validateOffers,
  type RequestValidation,
  type ServerHandshakeOptions,
} from './server.ts';

/** A header list as HTTP/2 carries it: pseudo-headers (`:name`) first, names in lower case. */
export type HeaderList = Array<[string, string]>;

/** Connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2); `te` is checked apart. */
const CONNECTION_FIELDS = new Set(['connection', 'upgrade', 'keep-alive', 'proxy-connection', 'transfer-encoding']);
/** Fields the client's request sets itself (HTTP/1.1's and HTTP/2's forbidden ones); Origin only if `origin` is given. */
const REQUEST_OWN_FIELDS = new Set([...HTTP1_REQUEST_OWN_FIELDS, ...CONNECTION_FIELDS, 'te']);
/** Fields the server's 200 sets itself; extra headers may not. */
const ACCEPT_OWN_FIELDS = new Set([...HTTP1_ACCEPT_OWN_FIELDS, ...CONNECTION_FIELDS]);
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':path', ':authority', ':protocol']);
/** RFC 3986 authority characters (as `request-host.ts` checks `Host`). */
const AUTHORITY = /^[A-Za-z0-9\-._~!$&'()*+,;=:%[\]]+$/;
const PATH = /^\/[\x21-\x7e]*$/;
const BAD_VALUE = /[\0\r\n]/;
const UPPER = /[A-Z]/;

/**
 * The client's extended CONNECT (RFC 8441 §4–§5): the pseudo-headers, `sec-websocket-version:
 * 13`, the offered subprotocols and extensions, `origin`, then the caller's headers (names in
 * lower case). Throws WebSocketUsageError('INVALID_ARGUMENT') as `buildClientRequest` does.
 */
export function buildExtendedConnectRequest(
  url: WsUrl,
  opts: {
    protocols?: readonly string[];
    extensions?: ExtensionOffer[];
    origin?: string | null;
    headers?: HeadersInit;
  } = {},
): HeaderList {
  if (typeof url !== 'object' || url === null || typeof url.target !== 'string' || typeof url.hostHeader !== 'string') {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `buildExtendedConnectRequest needs a WsUrl from parseWsUrl, got ${describe(url)}`,
    );
  }
  if (!PATH.test(url.target)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `the URL target must be an ASCII path starting with /, got ${describe(url.target)}`,
    );
  }
  const { protocols = [], extensions = [], origin = null, headers } = opts ?? {};
  const fields = new HttpHeaders();
  offerFields({ protocols, extensions, origin, headers }, fields, REQUEST_OWN_FIELDS);
  const list: HeaderList = [
    [':method', 'CONNECT'],
    [':protocol', 'websocket'],
    [':scheme', url.secure ? 'https' : 'http'],
    [':path', url.target],
    [':authority', url.hostHeader],
    ['sec-websocket-version', '13'],
  ];
  for (const [name, value] of fields) list.push([foldAscii(name), value]);
  return list;
}

/**
 * Checks an extended CONNECT (RFC 8441 §4–§5, RFC 9113 §8.2–§8.5) and gives the request as
 * HTTP/1.1's `validateRequest` does (`method` `'CONNECT'`, `httpVersion` `'2'`, `target` the
 * `:path`, `host` the `:authority`, `key` `''`), or the refusal: 405 (`allow: CONNECT`) for
 * another method, 400 for a malformed list or one without `:protocol websocket`, 426 (with
 * `sec-websocket-version: 13`) for another version, 403 for a refused origin. Never throws on
 * what the peer sent.
 */
export function validateExtendedConnect(
  list: ReadonlyArray<readonly [string, string]>,
  options: ServerHandshakeOptions = {},
): RequestValidation {
  if (!Array.isArray(list)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `validateExtendedConnect needs a header list ([name, value] pairs), got ${describe(list)}`,
    );
  }
  const origins = options?.origins;
  checkOrigins(origins);
  let method: string | null = null;
  let scheme: string | null = null;
  let path: string | null = null;
  let authority: string | null = null;
  let protocol: string | null = null;
  let regular = false;
  const fields: Array<[string, string]> = [];
  for (const entry of list) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string')
      return refuse('MALFORMED_HEAD', 400, 'a header field is not a [name, value] pair of strings');
    const [name, value] = entry;
    if (name === '' || UPPER.test(name)) return refuse('MALFORMED_HEAD', 400, `header name ${name} is not lower case`);
    if (BAD_VALUE.test(value)) return refuse('MALFORMED_HEAD', 400, `header ${name} has CR, LF or NUL in its value`);
    if (name.startsWith(':')) {
      if (regular) return refuse('MALFORMED_HEAD', 400, `pseudo-header ${name} after a regular field`);
      if (!REQUEST_PSEUDO.has(name)) return refuse('MALFORMED_HEAD', 400, `unknown pseudo-header ${name}`);
      const seen =
        name === ':method'
          ? method
          : name === ':scheme'
            ? scheme
            : name === ':path'
              ? path
              : name === ':authority'
                ? authority
                : protocol;
      if (seen !== null) return refuse('MALFORMED_HEAD', 400, `more than one ${name}`);
      if (name === ':method') method = value;
      else if (name === ':scheme') scheme = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') authority = value;
      else protocol = value;
      continue;
    }
    regular = true;
    if (CONNECTION_FIELDS.has(name) || (name === 'te' && value !== 'trailers'))
      return refuse('MALFORMED_HEAD', 400, `connection-specific header ${name} is not allowed in HTTP/2`);
    fields.push([name, value]);
  }
  if (method === null) return refuse('MALFORMED_HEAD', 400, 'missing :method');
  if (method !== 'CONNECT') return refuse('BAD_METHOD', 405, `method ${method} is not CONNECT`, [['allow', 'CONNECT']]);
  if (protocol === null) return refuse('BAD_UPGRADE', 400, 'a CONNECT without :protocol is not a WebSocket request');
  if (!sameAsciiCase(protocol, 'websocket'))
    return refuse('BAD_UPGRADE', 400, `:protocol ${protocol} is not websocket`);
  if (scheme === null || path === null || authority === null) {
    const missing = scheme === null ? ':scheme' : path === null ? ':path' : ':authority';
    return refuse('MALFORMED_HEAD', 400, `missing ${missing} (RFC 8441 §4)`);
  }
  if (scheme !== 'http' && scheme !== 'https') return refuse('MALFORMED_HEAD', 400, `:scheme ${scheme} is not http(s)`);
  if (!PATH.test(path)) return refuse('MALFORMED_HEAD', 400, ':path must be an ASCII path starting with /');
  if (path.includes('#')) return refuse('MALFORMED_HEAD', 400, ':path must not carry a fragment');
  if (!AUTHORITY.test(authority) || authority.includes('@'))
    return refuse('MALFORMED_HEAD', 400, 'malformed :authority');
  const headers = HttpHeaders.fromTrusted(fields);
  // RFC 9113 §8.3.1: a Host field, when sent too, names the same authority.
  const host = headers.get('host');
  if (host !== null && !sameAsciiCase(host, authority))
    return refuse('MALFORMED_HEAD', 400, 'the host header and :authority disagree');
  const contentLength = headers.get('content-length');
  if (contentLength !== null && contentLength !== '0')
    return refuse('MALFORMED_HEAD', 400, 'a WebSocket request must not announce a body');
  // RFC 6455 §4.4 via RFC 8441 §5: tell the client which version we speak.
  if (headers.get('sec-websocket-version') !== '13') {
    return refuse('UNSUPPORTED_VERSION', 426, 'sec-websocket-version must be 13', [['sec-websocket-version', '13']]);
  }
  const head: RequestHead = { method, target: path, httpVersion: '2', headers };
  const offers = validateOffers(head, origins);
  if ('ok' in offers) return offers;
  const q = path.indexOf('?');
  return {
    ok: true,
    request: {
      method,
      target: path,
      path: q === -1 ? path : path.slice(0, q),
      query: q === -1 ? '' : path.slice(q + 1),
      httpVersion: '2',
      headers,
      host: authority,
      origin: offers.origin,
      key: '',
      protocols: offers.protocols,
      extensions: offers.extensions,
    },
  };
}

/**
 * The server's `200` accepting `request` (RFC 8441 §5): the chosen subprotocol, the negotiated
 * extensions and extra headers, checked as `buildAcceptResponse` checks them (names in lower case).
 */
export function buildExtendedConnectAccept(
  request: HandshakeRequest,
  opts: { protocol: string | null; extensions: string | null; headers?: HeadersInit },
): HeaderList {
  if (
    typeof request !== 'object' ||
    request === null ||
    !Array.isArray(request.protocols) ||
    !Array.isArray(request.extensions)
  ) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `buildExtendedConnectAccept needs the HandshakeRequest from validateExtendedConnect, got ${describe(request)}`,
    );
  }
  const fields: Array<[string, string]> = [];
  acceptFields(request, opts, fields, ACCEPT_OWN_FIELDS);
  const list: HeaderList = [[':status', '200']];
  for (const [name, value] of fields) list.push([foldAscii(name), value]);
  return list;
}

/**
 * A refusal over HTTP/2: the header list (`:status`, the caller's headers, `content-type` for a
 * string body, `content-length`) and the body to send as DATA. Checked as `buildRejectResponse`.
 */
export function buildExtendedConnectReject(
  status: number,
  opts: { headers?: HeadersInit; body?: Uint8Array | string } = {},
): { headers: HeaderList; body: Uint8Array } {
  const parts = rejectParts(status, { headers: opts?.headers, body: opts?.body }, false);
  const list: HeaderList = [[':status', String(status)]];
  for (const [name, value] of parts.fields) {
    const lower = foldAscii(name);
    if (!CONNECTION_FIELDS.has(lower)) list.push([lower, value]);
  }
  return { headers: list, body: parts.body };
}

/** The server's answer: its status (null when malformed) and its regular fields. */
export interface ExtendedConnectResponse {
  status: number | null;
  headers: HttpHeaders;
}

/**
 * Reads the server's answer to an extended CONNECT: its `:status` and regular fields. A list
 * that is malformed (no or repeated `:status`, a pseudo-header after a field, an upper-case
 * name) gives status null.
 */
export function readExtendedConnectResponse(list: ReadonlyArray<readonly [string, string]>): ExtendedConnectResponse {
  let status: number | null = null;
  let statusSeen = 0;
  let regular = false;
  let malformed = !Array.isArray(list);
  const fields: Array<[string, string]> = [];
  if (!malformed) {
    for (const entry of list) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') {
        malformed = true;
        break;
      }
      const [name, value] = entry;
      if (name === '' || UPPER.test(name) || BAD_VALUE.test(value)) {
        malformed = true;
        break;
      }
      if (name.startsWith(':')) {
        if (regular || name !== ':status') {
          malformed = true;
          break;
        }
        statusSeen++;
        status = /^[1-5][0-9][0-9]$/.test(value) ? Number(value) : null;
        continue;
      }
      regular = true;
      fields.push([name, value]);
    }
  }
  return {
    status: malformed || statusSeen !== 1 ? null : status,
    headers: HttpHeaders.fromTrusted(malformed ? [] : fields),
  };
}

/**
 * Checks a `200` answer (RFC 8441 §5, RFC 6455 §4.1 items 5–6): any other status is BAD_STATUS
 * (a 2xx other than 200 is not an acceptance either), then the subprotocol and extensions as
 * over HTTP/1.1. The caller reads the status first (`readExtendedConnectResponse`): a refusal is
 * the caller's to report with its body.
 */
export function verifyExtendedConnectResponse(
  response: ExtendedConnectResponse,
  expected: { protocols: readonly string[]; offeredExtensions: readonly string[] },
): ResponseVerification {
  if (response.status === null) return { ok: false, code: 'MALFORMED_HEAD', message: 'malformed response header list' };
  if (response.status !== 200)
    return { ok: false, code: 'BAD_STATUS', message: `expected status 200, got ${response.status}` };
  return verifyNegotiation(response.headers, expected);
}
