/**
 * An incremental HTTP/1.1 message-head parser (RFC 9112 §2–§5): the request-line or
 * status-line and the header fields, up to and including the blank line. It does not read
 * bodies, and it leaves WebSocket meaning (RFC 6455 §4) to `handshake/*`. Also here: the
 * inverse, {@link serializeHead}, and the byte↔text conversions an HTTP head needs.
 *
 * Choices, all on the strict side since a WebSocket peer has no excuse for sloppy heads:
 * - Lines end with CRLF only. RFC 9112 §2.2 lets a recipient accept a bare LF; we refuse it
 *   (400), as we refuse a bare CR (§2.2 allows rejecting it).
 * - Empty lines before the start-line are skipped (§2.2) but count toward the byte limit.
 * - Exactly one SP between start-line parts (§3, §4); a status-line may omit the SP before an
 *   empty reason phrase, as many servers do.
 * - Versions: a malformed `HTTP-version` is 400 (the request-line is invalid, §3); a
 *   well-formed version with a major other than 1 is 505 (RFC 9110 §15.6.6). Whether 1.0 is
 *   enough is the handshake's call.
 * - Field lines: a token name directly followed by `:` (whitespace before the colon is 400,
 *   §5.1), no obs-fold (400, §5.2), OWS trimmed from values, and no control characters but
 *   HTAB in values (RFC 9110 §5.5).
 *
 * Work is linear in the bytes fed, however they are split: each byte is looked at once and
 * each line is parsed once, when its CRLF arrives. At most `maxHeadBytes` bytes are held.
 * Lines that arrive whole are parsed where they lie in the chunk; only a line split across
 * chunks is gathered byte by byte. Lines are read as bytes: text is made only for what the head
 * keeps that no previous head had (a server parses one head per connection, and most of each is
 * the previous one's text).
 */
import { WebSocketUsageError, describe, type ProtocolErrorCode } from '../errors.ts';
import { decodeUtf8 } from '../utf8.ts';
import { smallArray } from '../slab.ts';
import { trustedHeaders, type HttpHeaders } from './headers.ts';
import { equalsLowerAt } from './ascii-case.ts';

export interface RequestHead {
  method: string;
  /** The request-target exactly as sent. */
  target: string;
  /** E.g. `'1.1'`. */
  httpVersion: string;
  headers: HttpHeaders;
}

export interface ResponseHead {
  httpVersion: string;
  status: number;
  /** The reason phrase, possibly empty. */
  statusText: string;
  headers: HttpHeaders;
}

/**
 * Why a head was refused, with the status a server answers with: 431 for HEAD_TOO_LARGE and
 * TOO_MANY_HEADERS; 400 for MALFORMED_HEAD and a malformed version; 505 for BAD_HTTP_VERSION
 * when the major version is not 1; 400 for EOF_IN_HANDSHAKE.
 */
export interface HeadError {
  code: ProtocolErrorCode;
  status: number;
  message: string;
}

export type HeadResult<H> = null | { ok: true; head: H; rest: Uint8Array } | { ok: false; error: HeadError };

export interface HeadLimits {
  /** Bytes from the first byte up to and including the final CRLFCRLF (leading empty lines count). */
  maxHeadBytes: number;
  /** Header field lines. */
  maxHeaders: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

// RFC 9110 §5.6.2 tchar, by byte.
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TCHAR[c.charCodeAt(0)] = 1;

const VERSION = /^HTTP\/([0-9])\.([0-9])$/;
const STATUS_REST = /^([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

type Head = RequestHead | ResponseHead;

/**
 * The fields of the head being parsed, while its parser has none of its own: every head that
 * arrives whole in one `push` (nearly all) is parsed here and copied out once, at its exact
 * length, so its parser never makes a list. Empty between calls of `push` (which runs no
 * caller code, so no other parser can use it meanwhile).
 */
const SCRATCH: string[] = [];

// Byte reads below are within the line or chunk at hand (every loop is bounded by its end); a
// read written `bytes[i] ?? 0` is for the type checker (`noUncheckedIndexedAccess`), and the
// JIT drops the `?? 0` from an in-bounds typed-array load. 0 (NUL) is not a token character
// nor allowed in a field value, so it would stop any scan.

export class HeadParser<K extends 'request' | 'response'> {
  readonly #kind: K;
  readonly #maxHeadBytes: number;
  readonly #maxHeaders: number;
  /** The current line, without its CR; allocated once a line is split across chunks. */
  #line: Uint8Array | null = null;
  #lineLength = 0;
  /** Head bytes consumed so far, CRs and LFs included. */
  #consumed = 0;
  /** The previous byte was a CR; the next must be LF. */
  #afterCR = false;
  /** The start-line was parsed: into `#method`, `#target`, `#version` (request) or `#version`, `#status`, `#statusText`. */
  #started = false;
  #method = '';
  #target = '';
  #version = '';
  #status = 0;
  #statusText = '';
  /**
   * `[name0, value0, name1, value1, …]`, once a head is split across pushes; until then the
   * fields are in {@link SCRATCH}.
   */
  #fields: string[] | null = null;
  #finished = false;
  /** The bytes after the head, once it is complete. */
  #rest: Uint8Array = EMPTY_LINE;

  constructor(kind: K, limits: HeadLimits) {
    if (kind !== 'request' && kind !== 'response') {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `kind must be 'request' or 'response', got ${describe(kind)}`);
    }
    if (typeof limits !== 'object' || limits === null) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `limits must be { maxHeadBytes, maxHeaders }, got ${describe(limits)}`,
      );
    }
    // One check per limit, not a loop over their names: a server makes a parser per connection.
    checkLimit('maxHeadBytes', limits.maxHeadBytes);
    checkLimit('maxHeaders', limits.maxHeaders);
    this.#kind = kind;
    this.#maxHeadBytes = limits.maxHeadBytes;
    this.#maxHeaders = limits.maxHeaders;
  }

  /**
   * Feed bytes; null while incomplete; the head plus the bytes after the blank line once
   * complete (`rest` is a view into `chunk`); or an error. Never throws on any bytes. Calling
   * push after it returned a head or an error throws WebSocketUsageError('INVALID_STATE').
   */
  push(chunk: Uint8Array): HeadResult<K extends 'request' ? RequestHead : ResponseHead> {
    type R = HeadResult<K extends 'request' ? RequestHead : ResponseHead>;
    const outcome = this.pushHead(chunk);
    if (outcome === null) return null;
    if ('code' in outcome) return { ok: false, error: outcome } as R;
    return { ok: true, head: outcome, rest: this.#rest } as R;
  }

  /**
   * {@link push} without the result object, for a connection's handshake (one per connection):
   * null while incomplete, the head once complete (then {@link rest} holds the bytes after it),
   * or the error (which alone has `code`).
   */
  pushHead(chunk: Uint8Array): (K extends 'request' ? RequestHead : ResponseHead) | HeadError | null {
    type R = (K extends 'request' ? RequestHead : ResponseHead) | HeadError | null;
    this.#checkOpen('push');
    if (!(chunk instanceof Uint8Array)) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `push() takes a Uint8Array, got ${describe(chunk)}`);
    }
    const own = this.#fields;
    // Emptied before use too, so that nothing could ever leave another head's fields in it.
    if (own === null) SCRATCH.length = 0;
    const outcome = this.#push(chunk, own ?? SCRATCH) as R;
    if (own === null && SCRATCH.length > 0) {
      // The head goes on in a later chunk: its fields so far become the parser's own.
      if (outcome === null) this.#fields = SCRATCH.slice();
      SCRATCH.length = 0;
    }
    return outcome;
  }

  /** The bytes after the head (a view into the chunk that completed it), once {@link pushHead} returned it. */
  get rest(): Uint8Array {
    return this.#rest;
  }

  #push(chunk: Uint8Array, fields: string[]): Head | HeadError | null {
    let i = 0;
    if (this.#lineLength === 0 && !this.#afterCR) {
      const fast = this.#pushWholeLines(chunk, fields);
      if (typeof fast !== 'number') return fast;
      i = fast;
    }
    for (; i < chunk.length; i++) {
      const byte = chunk[i] ?? 0;
      if (++this.#consumed > this.#maxHeadBytes) {
        return this.#fail('HEAD_TOO_LARGE', 431, `HTTP head exceeds ${this.#maxHeadBytes} bytes`);
      }
      if (this.#afterCR) {
        // RFC 9112 §2.2: a bare CR may be rejected.
        if (byte !== LF) return this.#fail('MALFORMED_HEAD', 400, 'CR not followed by LF');
        this.#afterCR = false;
        const length = this.#lineLength;
        this.#lineLength = 0;
        const outcome = this.#endLine(this.#line ?? EMPTY_LINE, 0, length, fields);
        if (outcome === null) continue;
        if ('code' in outcome) return this.#fail(outcome.code, outcome.status, outcome.message);
        this.#finished = true;
        this.#rest = i + 1 === chunk.length ? EMPTY_LINE : chunk.subarray(i + 1);
        return outcome;
      }
      if (byte === CR) {
        this.#afterCR = true;
      } else if (byte === LF) {
        // RFC 9112 §2.2 allows accepting a bare LF; we do not.
        return this.#fail('MALFORMED_HEAD', 400, 'bare LF as line terminator (CRLF required)');
      } else {
        const line = this.#line !== null && this.#lineLength < this.#line.length ? this.#line : this.#grow();
        line[this.#lineLength++] = byte;
      }
    }
    return null;
  }

  /**
   * At a line boundary: parse the lines that lie whole in `chunk` in place. Returns the head or
   * an error, or the index where the byte-by-byte loop must go on: at a line split across
   * chunks, or at anything irregular (bare CR or LF, the size limit), which that loop reports
   * exactly as it would have.
   */
  #pushWholeLines(chunk: Uint8Array, fields: string[]): number | Head | HeadError {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const cr = chunk.indexOf(CR, i);
      if (cr === -1 || cr + 1 === n || chunk[cr + 1] !== LF) break;
      const lf = chunk.indexOf(LF, i);
      if (lf !== cr + 1) break;
      const size = cr + 2 - i;
      if (this.#consumed + size > this.#maxHeadBytes) break;
      this.#consumed += size;
      const outcome = this.#endLine(chunk, i, cr, fields);
      i = cr + 2;
      if (outcome === null) continue;
      if ('code' in outcome) return this.#fail(outcome.code, outcome.status, outcome.message);
      this.#finished = true;
      this.#line = null;
      this.#rest = i === n ? EMPTY_LINE : chunk.subarray(i);
      return outcome;
    }
    return i;
  }

  /** EOF: the head is incomplete, so this always returns an error. */
  eof(): { ok: false; error: HeadError } {
    this.#checkOpen('eof');
    const message =
      this.#consumed === 0
        ? 'connection closed before any HTTP head'
        : 'connection closed in the middle of the HTTP head';
    return { ok: false, error: this.#fail('EOF_IN_HANDSHAKE', 400, message) };
  }

  #checkOpen(verb: string): void {
    if (this.#finished) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `HeadParser.${verb}() called after the parser returned a head or an error`,
      );
    }
  }

  #fail(code: ProtocolErrorCode, status: number, message: string): HeadError {
    this.#finished = true;
    this.#line = null;
    this.#fields = null;
    return { code, status, message };
  }

  #grow(): Uint8Array {
    const line = this.#line;
    // Never past the limit: a line cannot be longer than the head.
    const bigger = new Uint8Array(
      line === null ? Math.min(this.#maxHeadBytes, 512) : Math.min(line.length * 2, this.#maxHeadBytes),
    );
    if (line !== null) bigger.set(line);
    this.#line = bigger;
    return bigger;
  }

  /**
   * A line, `bytes[start, end)` without CRLF, is complete: null to go on, the head when done, or
   * an error.
   */
  #endLine(bytes: Uint8Array, start: number, end: number, fields: string[]): Head | HeadError | null {
    if (!this.#started) {
      // RFC 9112 §2.2: ignore empty lines before the start-line.
      if (end === start) return null;
      if (this.#kind === 'request') {
        const error = this.#requestLine(bytes, start, end);
        if (error !== null) return error;
      } else {
        const parsed = parseStatusLine(decodeLatin1(bytes, start, end));
        if ('code' in parsed) return parsed;
        this.#version = parsed.httpVersion;
        this.#status = parsed.status;
        this.#statusText = parsed.statusText;
      }
      this.#started = true;
      return null;
    }
    if (end === start) return this.#finish(fields);
    if (fields.length === 2 * this.#maxHeaders) {
      return headError('TOO_MANY_HEADERS', 431, `more than ${this.#maxHeaders} header fields`);
    }
    return parseFieldLine(bytes, start, end, fields);
  }

  #finish(fields: string[]): Head {
    // A copy of exactly its length (the array pushed to has spare room, or is the scratch): a server keeps it.
    const kept = fields.slice();
    previous = kept;
    const headers = trustedHeaders(kept);
    this.#line = null;
    this.#fields = null;
    if (this.#kind === 'request')
      return { method: this.#method, target: this.#target, httpVersion: this.#version, headers };
    return { httpVersion: this.#version, status: this.#status, statusText: this.#statusText, headers };
  }

  /**
   * RFC 9112 §3: request-line = method SP request-target SP HTTP-version, in `line[from, to)`,
   * into the parser's fields; an error, or null. Read where it lies (a server reads one per
   * connection): a token, one SP, visible ASCII, one SP, then a version without SP. Only the
   * target is made into text of its own; the usual method and version are constants.
   */
  #requestLine(line: Uint8Array, from: number, to: number): HeadError | null {
    let i = from;
    while (i < to && TCHAR[line[i] ?? 0] === 1) i++;
    const methodEnd = i;
    if (methodEnd === from || i === to || line[i] !== SP)
      return headError('MALFORMED_HEAD', 400, 'malformed request-line');
    const targetStart = ++i;
    for (; i < to; i++) {
      const c = line[i] ?? 0;
      if (c < 0x21 || c > 0x7e) break;
    }
    const targetEnd = i;
    if (targetEnd === targetStart || i === to || line[i] !== SP)
      return headError('MALFORMED_HEAD', 400, 'malformed request-line');
    const versionStart = ++i;
    if (versionStart === to) return headError('MALFORMED_HEAD', 400, 'malformed request-line');
    for (; i < to; i++) if (line[i] === SP) return headError('MALFORMED_HEAD', 400, 'malformed request-line');
    const httpVersion =
      to - versionStart === HTTP_1_1.length && sameBytes(line, versionStart, HTTP_1_1)
        ? '1.1'
        : parseVersion(decodeLatin1(line, versionStart, to));
    if (typeof httpVersion !== 'string') return httpVersion;
    this.#version = httpVersion;
    this.#method = methodEnd - from === 3 && sameBytes(line, from, 'GET') ? 'GET' : decodeLatin1(line, from, methodEnd);
    this.#target = decodeLatin1(line, targetStart, targetEnd);
    return null;
  }
}

const EMPTY_LINE = new Uint8Array(0);

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${describe(value)}`);
  }
}

function headError(code: ProtocolErrorCode, status: number, message: string): HeadError {
  return { code, status, message };
}

function parseVersion(version: string): string | HeadError {
  const match = VERSION.exec(version);
  if (match === null) return headError('BAD_HTTP_VERSION', 400, `malformed HTTP version ${JSON.stringify(version)}`);
  // RFC 9110 §15.6.6: 505 for a major version we do not support.
  if (match[1] !== '1') return headError('BAD_HTTP_VERSION', 505, `HTTP version ${match[1]}.${match[2]} not supported`);
  // Constants for the usual versions: every request keeps its own otherwise.
  const parsed = `${match[1]}.${match[2]}`;
  return parsed === '1.1' ? '1.1' : parsed === '1.0' ? '1.0' : parsed;
}

const HTTP_1_1 = 'HTTP/1.1';

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
function parseStatusLine(line: string): { httpVersion: string; status: number; statusText: string } | HeadError {
  const space = line.indexOf(' ');
  if (space <= 0) return headError('MALFORMED_HEAD', 400, 'malformed status-line');
  const httpVersion = parseVersion(line.slice(0, space));
  if (typeof httpVersion !== 'string') return httpVersion;
  const match = STATUS_REST.exec(line.slice(space + 1));
  if (match === null) return headError('MALFORMED_HEAD', 400, 'malformed status-line');
  const [, code = '', reason = ''] = match; // the reason is optional
  if (code.startsWith('0')) return headError('MALFORMED_HEAD', 400, 'malformed status-line');
  return { httpVersion, status: Number(code), statusText: reason };
}

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS; the line is `line[from, to)`.
function parseFieldLine(line: Uint8Array, from: number, to: number, fields: string[]): HeadError | null {
  const first = line[from] ?? 0;
  if (first === SP || first === HTAB) {
    // RFC 9112 §5.2 (obs-fold) and §2.2 (whitespace after the start-line): reject.
    return headError('MALFORMED_HEAD', 400, 'field line starts with whitespace (obs-fold)');
  }
  let colon = from;
  while (colon < to && TCHAR[line[colon] ?? 0] === 1) colon++;
  if (colon === to || line[colon] !== COLON) {
    // RFC 9112 §5.1: no whitespace between field name and colon.
    return headError('MALFORMED_HEAD', 400, 'malformed field line (field name must be a token followed by a colon)');
  }
  if (colon === from) return headError('MALFORMED_HEAD', 400, 'empty field name');
  let start = colon + 1;
  let end = to;
  while (start < end && (line[start] === SP || line[start] === HTAB)) start++;
  while (end > start && (line[end - 1] === SP || line[end - 1] === HTAB)) end--;
  for (let i = start; i < end; i++) {
    const byte = line[i] ?? 0;
    // RFC 9110 §5.5: field-vchar / SP / HTAB; CR, LF and NUL are never allowed, nor other CTLs.
    if ((byte < 0x20 && byte !== HTAB) || byte === 0x7f) {
      return headError(
        'MALFORMED_HEAD',
        400,
        `control character 0x${byte.toString(16).padStart(2, '0')} in a field value`,
      );
    }
  }
  const name = shared(names, line, from, colon, fields.length);
  fields.push(name);
  if (end - start > MAX_SHARED_VALUE || isUnshared(name)) {
    fields.push(decodeLatin1(line, start, end));
  } else {
    fields.push(shared(values, line, start, end, fields.length));
  }
  return null;
}

/**
 * Field names and common values, shared by every head that holds them: a server keeps each
 * connection's request, and most fields (Host, Upgrade, User-Agent, Origin, …) are the same text
 * on every connection. Bounded: emptied when full.
 */
const names = new Map<string, string>();
const values = new Map<string, string>();
const CACHE_SIZE = 512;
/** Longer values are not shared (nor kept in the cache). */
const MAX_SHARED_VALUE = 512;
/** Values unique to a request, or secret: never kept in the cache. */
function isUnshared(name: string): boolean {
  // By length first (most names are ruled out there), then compared where the name lies: no lower-cased copy.
  switch (name.length) {
    case 17:
      return equalsLowerAt(name, 0, 'sec-websocket-key');
    case 6:
      return equalsLowerAt(name, 0, 'cookie');
    case 13:
      return equalsLowerAt(name, 0, 'authorization');
    case 19:
      return equalsLowerAt(name, 0, 'proxy-authorization');
    default:
      return false;
  }
}
/**
 * The last head's fields: clients send the same fields in the same order, so the string at the
 * same place is usually the one wanted, found with one comparison (no hashing).
 */
let previous: readonly string[] = [];
/**
 * `bytes[start, end)` as text: the previous head's string at index `at` of its fields, or the
 * cached string, if equal; else a string of its own, added to `cache`.
 */
function shared(cache: Map<string, string>, bytes: Uint8Array, start: number, end: number, at: number): string {
  // Compared where it lies first: most heads repeat the previous one, and then no string is made.
  const last = previous[at];
  if (last !== undefined && last.length === end - start && sameBytes(bytes, start, last)) return last;
  const probe = decodeLatin1(bytes, start, end);
  const cached = cache.get(probe);
  if (cached !== undefined) return cached;
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(probe, probe);
  return probe;
}

/** `bytes` from `start` hold `text`'s chars as Latin-1 (the caller has checked the length). */
function sameBytes(bytes: Uint8Array, start: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Bytes as Latin-1 text (one char per byte), the form an HTTP head is read in. */
export function decodeLatin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  // Short ones (a target of `/`, a version of `13`) straight from their codes: no view of the bytes.
  switch (end - start) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(bytes[start] ?? 0);
    case 2:
      return String.fromCharCode(bytes[start] ?? 0, bytes[start + 1] ?? 0);
    case 3:
      return String.fromCharCode(bytes[start] ?? 0, bytes[start + 1] ?? 0, bytes[start + 2] ?? 0);
    case 4:
      return String.fromCharCode(
        bytes[start] ?? 0,
        bytes[start + 1] ?? 0,
        bytes[start + 2] ?? 0,
        bytes[start + 3] ?? 0,
      );
  }
  const n = end - start;
  if (n <= SHORT_TEXT) {
    // Up to a key's length and a bit more (a `Sec-WebSocket-Key` is 24): the codes through one
    // list for all calls, no view of the bytes. (A view of a read makes JavaScriptCore give the
    // read's bytes an ArrayBuffer of their own first: ≈ 1 µs, a tenth of a handshake's JavaScript.)
    const codes = CODES;
    codes.length = n;
    for (let i = 0; i < n; i++) codes[i] = bytes[start + i] ?? 0;
    return String.fromCharCode.apply(null, codes);
  }
  // ASCII (nearly every head): Latin-1 and UTF-8 read the same, and the host's decoder makes
  // nothing but the string (fromCharCode.apply would first copy the bytes into a list).
  let ascii = true;
  for (let i = start; i < end; i++) {
    if ((bytes[i] ?? 0) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return decodeUtf8(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
  let out = '';
  // In slices, to stay well under any engine's argument-count limit.
  for (let i = start; i < end; i += 4096) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return out;
}

/** The longest text {@link decodeLatin1} makes from a list of codes, and that list (reused by every call). */
const SHORT_TEXT = 64;
const CODES: number[] = [];

/** Latin-1 text as bytes. Throws WebSocketUsageError if a char is above U+00FF. */
export function encodeLatin1(text: string): Uint8Array {
  return writeLatin1(text, new Uint8Array(text.length));
}

function writeLatin1(text: string, out: Uint8Array): Uint8Array {
  writeLatin1At(text, out, 0);
  return out;
}

/** Write `text` as Latin-1 into `out` from `at` (it fits); returns where it ended. */
function writeLatin1At(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff)
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `HTTP head text must be Latin-1, got U+${code.toString(16).toUpperCase()} in ${describe(text)}`,
      );
    out[at + i] = code;
  }
  return at + text.length;
}

/**
 * A head on the wire: the start-line, each field as `name: value`, CRLF after each, and the
 * blank line (RFC 9112 §2.1). Fields are expected to be checked already (e.g. by HttpHeaders).
 * Written into a {@link smallArray}: a server answers every connection with one (`fresh`: the
 * connection's `engine.freshArrays`).
 */
export function serializeHead(
  startLine: string,
  fields: Iterable<readonly [string, string]>,
  fresh = false,
): Uint8Array {
  // Each piece written where it goes: no joined text to build and flatten first (≈ 1 KiB of
  // strings per 101 response).
  const list = Array.isArray(fields) ? (fields as ReadonlyArray<readonly [string, string]>) : [...fields];
  const out = smallArray(startLine.length + 2 + fieldsLength(list), fresh);
  const at = writeLatin1At(startLine, out, 0);
  out[at] = CR;
  out[at + 1] = LF;
  writeFields(list, out, at + 2);
  return out;
}

/**
 * A head that starts with `prefix`: bytes that end in a field's `name: `, whose value is
 * `value`; then `fields` and the blank line, as {@link serializeHead} writes them. For a head
 * whose first lines are always the same (a server's 101): no list of pairs for them.
 */
export function serializeHeadAfter(
  prefix: Uint8Array,
  value: string,
  fields: ReadonlyArray<readonly [string, string]>,
  fresh = false,
): Uint8Array {
  const out = smallArray(prefix.length + value.length + 2 + fieldsLength(fields), fresh);
  out.set(prefix);
  const at = writeLatin1At(value, out, prefix.length);
  out[at] = CR;
  out[at + 1] = LF;
  writeFields(fields, out, at + 2);
  return out;
}

/** Bytes of `fields` as `name: value` lines, and of the blank line after them. */
function fieldsLength(fields: ReadonlyArray<readonly [string, string]>): number {
  let length = 2;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as readonly [string, string];
    length += field[0].length + field[1].length + 4;
  }
  return length;
}

/** Write `fields` and the blank line into `out` from `at` (they fit). */
function writeFields(fields: ReadonlyArray<readonly [string, string]>, out: Uint8Array, at: number): void {
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as readonly [string, string];
    at = writeLatin1At(field[0], out, at);
    out[at++] = COLON;
    out[at++] = SP;
    at = writeLatin1At(field[1], out, at);
    out[at++] = CR;
    out[at++] = LF;
  }
  out[at++] = CR;
  out[at] = LF;
}
