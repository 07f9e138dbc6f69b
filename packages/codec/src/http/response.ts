/**
 * An HTTP/1.1 response on the wire (RFC 9112 §4, §6, §7.1): the head, and the body as it is
 * framed. A server says how long the body is when it knows (`Content-Length`), else the body is
 * sent chunked (to an HTTP/1.1 client) or delimited by closing the connection (to HTTP/1.0).
 * `HEAD` answers and 1xx/204/304 statuses carry no body (RFC 9110 §6.4.1), whatever is written.
 * Pure: strings and bytes in, bytes out.
 */
import { WebSocketUsageError, describe } from '../errors.ts';
import { HttpHeaders, type HeadersInit } from './headers.ts';
import { foldAscii, sameAsciiCase } from './ascii-case.ts';
import { encodeLatin1, serializeHead } from './head-parser.ts';

/** Reason phrases for common statuses (RFC 9110 §15). */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Fields that belong to the connection or the framing: ours to write, never the caller's. */
const FRAMING_FIELDS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'proxy-connection']);

/** How a response body is framed on the wire. */
export type ResponseFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHeadInit {
  status: number;
  statusText?: string;
  headers?: HeadersInit;
  /** The body's length when known, else null. */
  bodyLength: number | null;
}

export interface ResponseHeadContext {
  /** The request's method (HEAD gets no body). */
  method: string;
  /** The request's HTTP version: '1.0' gets no chunked encoding. */
  httpVersion: string;
  /** Whether the connection may stay open after this response (the request allows it). */
  keepAlive: boolean;
}

/** A serialized response head and what follows from it. */
export interface SerializedResponseHead {
  head: Uint8Array;
  /** How the body that follows must be written. */
  framing: ResponseFraming;
  /** The connection stays open after the body. */
  keepAlive: boolean;
}

/** The status carries no body (RFC 9110 §15.2, §15.3.5, §15.4.5). */
export function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * The head of a response to a request described by `context`. The caller's `Connection`,
 * `Content-Length`, `Transfer-Encoding` and `Keep-Alive` are dropped (framing is
 * ours); a `Connection: close` from the caller is honoured. Throws WebSocketUsageError for a
 * status outside 200–599 or a bad reason phrase.
 */
export function serializeResponseHead(init: ResponseHeadInit, context: ResponseHeadContext): SerializedResponseHead {
  const { status, bodyLength } = init;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `response status must be an integer from 200 to 599, got ${describe(status)}`,
    );
  }
  const statusText =
    init.statusText === undefined || init.statusText === '' ? (REASON_PHRASES[status] ?? '') : init.statusText;
  if (typeof statusText !== 'string' || !REASON_PHRASE.test(statusText)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `statusText must be a reason phrase without CR, LF or controls, got ${describe(statusText)}`,
    );
  }
  if (bodyLength !== null && (!Number.isSafeInteger(bodyLength) || bodyLength < 0)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `bodyLength must be a safe integer ≥ 0 or null, got ${describe(bodyLength)}`,
    );
  }
  const fields: Array<[string, string]> = [];
  let keepAlive = context.keepAlive;
  if (init.headers !== undefined) {
    for (const [name, value] of init.headers instanceof HttpHeaders ? init.headers : new HttpHeaders(init.headers)) {
      const lower = foldAscii(name);
      if (FRAMING_FIELDS.has(lower)) {
        if (lower === 'connection' && listHas(value, 'close')) keepAlive = false;
        continue;
      }
      fields.push([name, value]);
    }
  }
  const noBody = statusHasNoBody(status);
  let framing: ResponseFraming;
  if (noBody) {
    framing = 'none';
    // 304 may say how long the full representation is; 204 and 1xx never have a length.
  } else if (bodyLength !== null) {
    framing = context.method === 'HEAD' ? 'none' : 'length';
    fields.push(['Content-Length', String(bodyLength)]);
  } else if (context.method === 'HEAD') {
    framing = 'none';
  } else if (context.httpVersion === '1.0') {
    // No chunked coding for a 1.0 client: the body ends when the connection does.
    framing = 'close';
    keepAlive = false;
  } else {
    framing = 'chunked';
    fields.push(['Transfer-Encoding', 'chunked']);
  }
  if (!keepAlive) fields.push(['Connection', 'close']);
  else if (context.httpVersion === '1.0') fields.push(['Connection', 'keep-alive']);
  return { head: serializeHead(`HTTP/1.1 ${status} ${statusText}`, fields), framing, keepAlive };
}

/** Whether a request lets the connection stay open after its response (RFC 9112 §9.3). */
export function requestKeepsAlive(httpVersion: string, connection: string | null): boolean {
  if (httpVersion === '1.0') return listHas(connection, 'keep-alive') && !listHas(connection, 'close');
  return !listHas(connection, 'close');
}

/** A comma-separated `value` has an element that is `token`, ignoring ASCII case and whitespace around it. */
function listHas(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const element of value.split(',')) if (sameAsciiCase(element.trim(), token)) return true;
  return false;
}

const CRLF = encodeLatin1('\r\n');

/** The interim `100 Continue` response (RFC 9110 §10.1.1, §15.2.1). */
export const CONTINUE_RESPONSE: Uint8Array = encodeLatin1('HTTP/1.1 100 Continue\r\n\r\n');

/** The last chunk and the empty trailer section that end a chunked body (RFC 9112 §7.1). */
export const LAST_CHUNK: Uint8Array = encodeLatin1('0\r\n\r\n');

/**
 * One chunk of a chunked body (RFC 9112 §7.1) as the writes that make it: the size line, the
 * data itself (not copied), CRLF. An empty `data` makes no chunk (it would end the body).
 */
export function encodeChunk(data: Uint8Array): Uint8Array[] {
  if (data.length === 0) return [];
  return [encodeLatin1(data.length.toString(16) + '\r\n'), data, CRLF];
}
