/**
 * The client side of the opening handshake (RFC 6455 §4.1): parse a `ws:`/`wss:` URL (§3),
 * build the upgrade request, and verify the server's 101 response. Non-101 responses are the
 * caller's to report; extension parameters are the extension factories' to judge.
 *
 * URL parsing follows the WHATWG URL rules for the parts a WebSocket uses, without the `URL`
 * global (bare engines lack it): `http:`/`https:` become `ws:`/`wss:` (as the WHATWG
 * WebSocket constructor does), default ports are dropped, the host is lower-cased, IPv6
 * literals are checked and written in canonical form, dot segments are resolved, and the path
 * and query are percent-encoded with WHATWG's sets. Refused with WebSocketUsageError
 * ('INVALID_URL'): a fragment (as WHATWG WebSocket does), userinfo (credentials in URLs are
 * deprecated; pass an `Authorization` header instead), non-ASCII hosts (pass the punycode
 * form; no IDNA here), and anything not of the form `scheme://host[:port][/path][?query]`.
 */
import { WebSocketUsageError, describe, type ProtocolErrorCode } from '../errors.ts';
import type { ExtensionOffer } from '../extensions/extension.ts';
import { HttpHeaders, isToken, type HeadersInit } from '../http/headers.ts';
import { foldAscii, sameAsciiCase } from '../http/ascii-case.ts';
import { serializeHead, type ResponseHead } from '../http/head-parser.ts';
import { encodeUtf8 } from '../utf8.ts';
import { decodeBase64 } from '../base64.ts';
import { computeAcceptKey } from './accept-key.ts';
import { formatExtensionHeader, listNames, parseExtensionHeader, parseTokenList } from './header-values.ts';

/** Where and how to connect, and what to put in the request-line and Host. */
export interface WsUrl {
  secure: boolean;
  /** The host to connect to: lower-case, IPv6 without brackets. */
  hostname: string;
  port: number;
  /** The `Host` value: IPv6 in brackets, the port only if it is not the default. */
  hostHeader: string;
  /** Path and query for the request-line; at least `/`. */
  target: string;
}

function invalidUrl(url: string, why: string): WebSocketUsageError {
  return new WebSocketUsageError('INVALID_URL', `invalid WebSocket URL ${JSON.stringify(url)}: ${why}`);
}

// Scheme → secure. A Map, so that `constructor` or `__proto__` are not schemes.
const SCHEMES: ReadonlyMap<string, boolean> = new Map([
  ['ws', false],
  ['wss', true],
  ['http', false],
  ['https', true],
]);
// RFC 3986 §3.2.2 reg-name characters, without pct-encoded.
const REG_NAME = /^[a-z0-9\-._~!$&'()*+,;=]+$/;

/** Parses a WebSocket URL (RFC 6455 §3) as described above. Throws WebSocketUsageError('INVALID_URL'). */
export function parseWsUrl(url: string | { href: string }): WsUrl {
  const input =
    typeof url === 'string'
      ? url
      : typeof url === 'object' && url !== null && typeof url.href === 'string'
        ? url.href
        : null;
  if (input === null)
    throw new WebSocketUsageError(
      'INVALID_URL',
      `a WebSocket URL must be a string or have an href, got ${describe(url)}`,
    );

  // WHATWG: strip leading and trailing C0 controls and spaces, remove tabs and newlines.
  let begin = 0;
  let end = input.length;
  while (begin < end && input.charCodeAt(begin) <= 0x20) begin++;
  while (end > begin && input.charCodeAt(end - 1) <= 0x20) end--;
  let s = '';
  for (let i = begin; i < end; i++) {
    const c = input.charAt(i);
    if (c !== '\t' && c !== '\n' && c !== '\r') s += c;
  }

  const colon = s.indexOf(':');
  const scheme = colon > 0 ? foldAscii(s.slice(0, colon)) : '';
  const secure = SCHEMES.get(scheme);
  if (secure === undefined) throw invalidUrl(input, 'the scheme must be ws, wss, http or https');
  if (s.includes('#')) throw invalidUrl(input, 'a WebSocket URL cannot have a fragment');

  let rest = s.slice(colon + 1);
  const q = rest.indexOf('?');
  const query = q === -1 ? null : rest.slice(q + 1);
  // WHATWG: in special schemes a backslash before the query is a slash.
  rest = (q === -1 ? rest : rest.slice(0, q)).split('\\').join('/');
  if (!rest.startsWith('//')) throw invalidUrl(input, 'expected // after the scheme');
  const slash = rest.indexOf('/', 2);
  const authority = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
  const rawPath = slash === -1 ? '' : rest.slice(slash);
  if (authority.includes('@'))
    throw invalidUrl(input, 'userinfo is not supported (send an Authorization header instead)');

  let hostname: string;
  let portText: string;
  let hostForHeader: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    const ipv6 = close === -1 ? null : canonicalIpv6(authority.slice(1, close));
    if (ipv6 === null) throw invalidUrl(input, 'malformed IPv6 address');
    hostname = ipv6;
    hostForHeader = `[${ipv6}]`;
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw invalidUrl(input, 'unexpected characters after the IPv6 address');
    portText = after.slice(1);
  } else {
    const c = authority.indexOf(':');
    hostname = foldAscii(c === -1 ? authority : authority.slice(0, c));
    portText = c === -1 ? '' : authority.slice(c + 1);
    if (hostname === '') throw invalidUrl(input, 'the host is empty');
    if (!REG_NAME.test(hostname))
      throw invalidUrl(
        input,
        'the host has characters not allowed in a host name (IDNA hosts must be given in punycode)',
      );
    hostForHeader = hostname;
  }
  const defaultPort = secure ? 443 : 80;
  let port = defaultPort;
  if (portText !== '') {
    if (!/^[0-9]+$/.test(portText)) throw invalidUrl(input, 'the port must be a number');
    port = Number(portText);
    if (port > 65535) throw invalidUrl(input, 'the port must be at most 65535');
  }
  const hostHeader = port === defaultPort ? hostForHeader : `${hostForHeader}:${port}`;
  const target = normalizePath(rawPath) + (query === null ? '' : '?' + percentEncode(query, QUERY_SET));
  return { secure, hostname, port, hostHeader, target };
}

// WHATWG URL percent-encode sets, for code points below 0x80 (everything above is encoded).
function asciiSet(chars: string): Uint8Array {
  const set = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) set[c] = 1; // C0 controls
  set[0x7f] = 1;
  for (const c of chars) set[c.charCodeAt(0)] = 1;
  return set;
}
const PATH_SET = asciiSet(' "#<>?`{}');
const QUERY_SET = asciiSet(' "#<>\''); // the special-query set (ws and wss are special schemes)

function percentEncode(text: string, set: Uint8Array): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80 && set[code] === 0) continue;
    out += text.slice(run, i);
    let char = text.charAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) char += text.charAt(++i);
    }
    for (const byte of encodeUtf8(char)) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    run = i + 1;
  }
  return out + text.slice(run);
}

/** The WHATWG path state for a special scheme: segments percent-encoded, `.` and `..` resolved. */
function normalizePath(raw: string): string {
  if (raw === '') return '/';
  const segments = raw.slice(1).split('/');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = percentEncode(segments[i] ?? '', PATH_SET);
    const lower = foldAscii(segment);
    const last = i === segments.length - 1;
    if (lower === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e') {
      out.pop();
      if (last) out.push('');
    } else if (lower === '.' || lower === '%2e') {
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return '/' + out.join('/');
}

/** An IPv6 address (RFC 4291 §2.2) in its canonical text form (RFC 5952 §4, as WHATWG writes it), or null. */
function canonicalIpv6(text: string): string | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  // An embedded IPv4 address may only end the whole address.
  const parse = (part: string, last: boolean): number[] | null => {
    if (part === '') return [];
    const pieces: number[] = [];
    const groups = part.split(':');
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g] ?? '';
      if (last && g === groups.length - 1 && group.includes('.')) {
        // An embedded IPv4 address (RFC 4291 §2.2 item 3).
        const octets = group.split('.');
        if (octets.length !== 4 || !octets.every((o) => /^(?:0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255))
          return null;
        const [a = 0, b = 0, c = 0, d = 0] = octets.map(Number); // four, checked above
        pieces.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return null;
        pieces.push(parseInt(group, 16));
      }
    }
    return pieces;
  };
  const head = parse(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parse(halves[1] ?? '', true) : [];
  if (head === null || tail === null) return null;
  let pieces: number[];
  if (halves.length === 2) {
    const zeros = 8 - head.length - tail.length;
    if (zeros < 1) return null;
    pieces = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  } else {
    if (head.length !== 8) return null;
    pieces = head;
  }
  // Compress the first longest run of two or more zero pieces.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (pieces[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && pieces[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = pieces.map((p) => p.toString(16));
  if (best === -1) return hex.join(':');
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLength).join(':');
}

/** Fields the handshake writes itself; extra headers may not set them (Origin only if `origin` is given). */
export const REQUEST_OWN_FIELDS: ReadonlySet<string> = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

/**
 * The upgrade request (RFC 6455 §4.1, items 1–12): `GET target HTTP/1.1`, Host, Upgrade,
 * Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, then the offered protocols and
 * extensions, Origin, and the caller's extra headers. Throws WebSocketUsageError
 * ('INVALID_ARGUMENT') for a key that is not 16 bytes in base64, a protocol that is not a
 * token or is repeated (§4.1 item 10), or an extra header that would override the handshake.
 */
export function buildClientRequest(
  url: WsUrl,
  opts: {
    key: string;
    protocols?: readonly string[];
    extensions?: ExtensionOffer[];
    origin?: string | null;
    headers?: HeadersInit;
  },
): Uint8Array {
  if (typeof url !== 'object' || url === null || typeof url.target !== 'string' || typeof url.hostHeader !== 'string') {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `buildClientRequest needs a WsUrl from parseWsUrl, got ${describe(url)}`,
    );
  }
  const { key, protocols = [], extensions = [], origin = null, headers } = opts ?? ({} as typeof opts);
  if (typeof key !== 'string' || decodeBase64(key)?.length !== 16) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `key must be 16 bytes in base64 (RFC 6455 §4.1 item 7), got ${describe(key)}`,
    );
  }
  const fields = new HttpHeaders([
    ['Host', url.hostHeader],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ]);
  offerFields({ protocols, extensions, origin, headers }, fields, REQUEST_OWN_FIELDS);
  if (!/^\/[\x21-\x7e]*$/.test(url.target)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `the URL target must be an ASCII path starting with /, got ${describe(url.target)}`,
    );
  }
  return serializeHead(`GET ${url.target} HTTP/1.1`, fields);
}

/**
 * The fields an opening request adds after its own (HTTP/1.1's upgrade and HTTP/2's extended
 * CONNECT alike): the offered subprotocols (distinct tokens, §4.1 item 10) and extensions, the
 * Origin, then the caller's headers, none of them named in `own` (nor Origin when `origin` is
 * given). Appended to `fields`; a caller's mistake throws WebSocketUsageError('INVALID_ARGUMENT').
 */
export function offerFields(
  opts: { protocols: readonly string[]; extensions: ExtensionOffer[]; origin: string | null; headers?: HeadersInit },
  fields: HttpHeaders,
  own: ReadonlySet<string>,
): void {
  const { protocols, extensions, origin, headers } = opts;
  if (!Array.isArray(protocols))
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `protocols must be an array of strings, got ${describe(protocols)}`,
    );
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !isToken(protocol)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `a subprotocol must be an HTTP token (RFC 6455 §4.1 item 10), got ${describe(protocol)}`,
      );
    }
    if (seen.has(protocol))
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `subprotocol ${protocol} is offered twice (RFC 6455 §4.1 item 10)`,
      );
    seen.add(protocol);
  }
  if (protocols.length > 0) fields.append('Sec-WebSocket-Protocol', protocols.join(', '));
  if (extensions.length > 0) fields.append('Sec-WebSocket-Extensions', formatExtensionHeader(extensions));
  if (origin !== null) {
    if (typeof origin !== 'string')
      throw new WebSocketUsageError('INVALID_ARGUMENT', `origin must be a string or null, got ${describe(origin)}`);
    fields.append('Origin', origin);
  }
  if (headers !== undefined) {
    for (const [name, value] of new HttpHeaders(headers)) {
      const lower = foldAscii(name);
      if (own.has(lower) || (lower === 'origin' && origin !== null)) {
        throw new WebSocketUsageError(
          'INVALID_ARGUMENT',
          `header ${name} is set by the handshake and cannot be overridden`,
        );
      }
      fields.append(name, value);
    }
  }
}

export type ResponseVerification =
  | { ok: true; protocol: string | null; extensions: ExtensionOffer[] }
  | { ok: false; code: ProtocolErrorCode; message: string };

function failure(code: ProtocolErrorCode, message: string): ResponseVerification {
  return { ok: false, code, message };
}

/**
 * Checks the server's response (RFC 6455 §4.1, "the client MUST validate the server's
 * response"): status 101 (else BAD_STATUS), HTTP/1.1 or later, `Upgrade` exactly `websocket`
 * (one token, ASCII case ignored: a server switching to anything else, or to several
 * protocols, is not speaking WebSocket to us), `Connection` naming upgrade, the exact
 * `Sec-WebSocket-Accept`, a `Sec-WebSocket-Protocol` that is absent or exactly one of the
 * subprotocols we offered (compared exactly: an empty value names none and fails), and
 * extensions only among those we offered (names compared ignoring ASCII case, each at most once).
 */
export function verifyResponse(
  head: ResponseHead,
  expected: { key: string; protocols: readonly string[]; offeredExtensions: readonly string[] },
): ResponseVerification {
  if (
    typeof head !== 'object' ||
    head === null ||
    !(head.headers instanceof HttpHeaders) ||
    typeof head.status !== 'number'
  ) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `verifyResponse needs a ResponseHead, got ${describe(head)}`);
  }
  if (
    typeof expected !== 'object' ||
    expected === null ||
    typeof expected.key !== 'string' ||
    !Array.isArray(expected.protocols) ||
    !Array.isArray(expected.offeredExtensions)
  ) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `verifyResponse needs { key, protocols, offeredExtensions }, got ${describe(expected)}`,
    );
  }
  const headers = head.headers;
  // §4.1 item 1 of the response checks.
  if (head.status !== 101) return failure('BAD_STATUS', `expected status 101, got ${head.status}`);
  // 101 exists from HTTP/1.1 on (RFC 9110 §15.2.2, §7.8).
  if (!/^1\.[1-9]$/.test(head.httpVersion))
    return failure('BAD_HTTP_VERSION', `expected HTTP/1.1 or later, got HTTP/${head.httpVersion}`);
  // Item 2: "an ASCII case-insensitive match for the value websocket", the whole value (a
  // repeated field joins into a list, which is not).
  const upgrade = headers.get('upgrade');
  if (upgrade === null || !sameAsciiCase(upgrade, 'websocket')) {
    return failure(
      'BAD_UPGRADE',
      upgrade === null
        ? 'the response has no Upgrade header'
        : `the Upgrade header must be exactly websocket, got ${JSON.stringify(upgrade)}`,
    );
  }
  // Item 3: a token list that contains upgrade.
  if (listNames(headers.get('connection') ?? '', 'upgrade', false) !== 1)
    return failure('BAD_CONNECTION', 'the Connection header does not name upgrade');
  // Item 4: exactly the expected value (one field; a repeated field joins to something else).
  if (headers.get('sec-websocket-accept') !== computeAcceptKey(expected.key))
    return failure('BAD_ACCEPT', 'wrong or missing Sec-WebSocket-Accept');

  return verifyNegotiation(headers, expected);
}

/**
 * What an HTTP/1.1 101 and an HTTP/2 200 (RFC 8441) are checked for alike: a subprotocol that is
 * absent or one we offered (§4.1 item 6), and extensions only among those we offered (item 5).
 */
export function verifyNegotiation(
  headers: HttpHeaders,
  expected: { protocols: readonly string[]; offeredExtensions: readonly string[] },
): ResponseVerification {
  // Item 6: absent, or one subprotocol we offered. Subprotocol names are compared exactly, as
  // WHATWG's WebSocket does; an empty value is present but names none we offered.
  let protocol: string | null = null;
  const protocolValue = headers.get('sec-websocket-protocol');
  if (protocolValue !== null) {
    const chosen = parseTokenList(protocolValue);
    if (chosen === null || chosen.length > 1)
      return failure('UNEXPECTED_PROTOCOL', 'the server must choose at most one subprotocol');
    if (chosen.length === 0) {
      return failure(
        'UNEXPECTED_PROTOCOL',
        expected.protocols.length === 0
          ? 'the server sent an empty Sec-WebSocket-Protocol, but none was offered'
          : 'the server sent an empty Sec-WebSocket-Protocol instead of choosing one of those offered',
      );
    }
    const name = chosen[0] ?? ''; // exactly one, checked above
    if (!expected.protocols.includes(name)) {
      return failure(
        'UNEXPECTED_PROTOCOL',
        expected.protocols.length === 0
          ? `the server chose subprotocol ${name} but none was offered`
          : `the server chose subprotocol ${name}, which was not offered`,
      );
    }
    protocol = name;
  }

  // Item 5: only extensions we offered (§9.1).
  const extensionValue = headers.get('sec-websocket-extensions');
  const extensions = extensionValue === null ? [] : parseExtensionHeader(extensionValue);
  if (extensions === null) return failure('BAD_EXTENSION_HEADER', 'malformed Sec-WebSocket-Extensions header');
  const offered = new Set(expected.offeredExtensions.map(foldAscii));
  const accepted = new Set<string>();
  for (const extension of extensions) {
    const name = foldAscii(extension.name);
    if (!offered.has(name))
      return failure('UNEXPECTED_EXTENSION', `the server accepted extension ${extension.name}, which was not offered`);
    if (accepted.has(name))
      return failure('UNEXPECTED_EXTENSION', `the server accepted extension ${extension.name} twice`);
    accepted.add(name);
  }
  return { ok: true, protocol, extensions };
}
