/**
 * An HTTP/1.1 request body (RFC 9112 §6–§7): how a request says where its body ends
 * ({@link requestFraming}), and an incremental decoder for `Content-Length` and `chunked`
 * bodies ({@link BodyDecoder}). Bytes in, body data and the end out; nothing is buffered but
 * the few bytes of a chunk-size line or a trailer line split across reads.
 *
 * Framing is checked on the strict side, since an ambiguous one is how requests are smuggled
 * past a proxy (RFC 9112 §6.3, §11.2): a request with both `Transfer-Encoding` and
 * `Content-Length`, a `Transfer-Encoding` other than exactly `chunked`, more than one
 * `Content-Length` (even with equal values), a value that is not digits, or a bad chunk-size
 * line is refused with 400, and the connection must close. A body over the limit is 413.
 */
import type { ProtocolErrorCode } from '../errors.ts';
import { fieldCount } from './headers.ts';
import { sameAsciiCase } from './ascii-case.ts';
import type { RequestHead } from './head-parser.ts';

/** Where a request's body ends: no body, after `length` bytes, or at the last chunk. */
export type BodyFraming = { type: 'none' } | { type: 'length'; length: number } | { type: 'chunked' };

/** Why a body (or its framing) was refused, with the status a server answers with. */
export interface BodyError {
  code: ProtocolErrorCode;
  status: number;
  message: string;
}

const NO_BODY: BodyFraming = Object.freeze({ type: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ type: 'chunked' });
/** More digits than this cannot be a size we accept (2^53 has 16). */
const MAX_LENGTH_DIGITS = 15;

function bodyError(code: ProtocolErrorCode, status: number, message: string): BodyError {
  return { code, status, message };
}

/**
 * The framing of `head`'s body (RFC 9112 §6.3), or why it is refused: 400 for anything
 * ambiguous, 413 for a `Content-Length` over `maxBodyBytes`.
 */
export function requestFraming(head: RequestHead, maxBodyBytes: number): BodyFraming | BodyError {
  const headers = head.headers;
  const teCount = fieldCount(headers, 'transfer-encoding');
  const clCount = fieldCount(headers, 'content-length');
  if (teCount > 0) {
    if (clCount > 0) return bodyError('BAD_BODY_FRAMING', 400, 'both Transfer-Encoding and Content-Length');
    // §6.1: HTTP/1.0 has no transfer codings; a 1.0 message with one is faulty framing.
    if (head.httpVersion === '1.0')
      return bodyError('BAD_BODY_FRAMING', 400, 'Transfer-Encoding in an HTTP/1.0 request');
    if (teCount > 1) return bodyError('BAD_BODY_FRAMING', 400, 'more than one Transfer-Encoding field');
    // Exactly `chunked`: any other coding (or a list) is one we do not decode, and a guess at
    // where the body ends is what smuggling exploits.
    const te = headers.get('transfer-encoding') ?? ''; // counted: exactly one
    if (!sameAsciiCase(te, 'chunked'))
      return bodyError('BAD_BODY_FRAMING', 400, `unsupported Transfer-Encoding ${JSON.stringify(te)}`);
    return CHUNKED;
  }
  if (clCount === 0) return NO_BODY;
  if (clCount > 1) return bodyError('BAD_BODY_FRAMING', 400, 'more than one Content-Length field');
  const value = headers.get('content-length') ?? ''; // counted: exactly one (empty is refused below)
  if (value.length === 0 || value.length > MAX_LENGTH_DIGITS)
    return bodyError('BAD_BODY_FRAMING', 400, 'invalid Content-Length');
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return bodyError('BAD_BODY_FRAMING', 400, 'invalid Content-Length');
    length = length * 10 + digit;
  }
  if (length > maxBodyBytes)
    return bodyError('BODY_TOO_LARGE', 413, `request body of ${length} bytes exceeds ${maxBodyBytes}`);
  return length === 0 ? NO_BODY : { type: 'length', length };
}

/** What one `push` found: body data (views of the input), and the end with the bytes after it, or a failure. */
export interface BodyChunks {
  /** Body bytes, in order: views of the pushed chunk. */
  data: Uint8Array[];
  /** The body ended: these bytes follow it (the next request), else null. */
  rest: Uint8Array | null;
  /** The body is malformed or too large; nothing more may be pushed. */
  error: BodyError | null;
}

const CR = 0x0d;
const LF = 0x0a;
const EMPTY = new Uint8Array(0);
/** A chunk-size line (size plus extensions) or a trailer line longer than this is refused. */
const MAX_LINE = 4096;

// Chunked decoder states.
const SIZE = 0; // reading a chunk-size line
const DATA = 1; // reading chunk data
const DATA_CR = 2; // expecting the CR after chunk data
const DATA_LF = 3; // expecting the LF after chunk data
const TRAILER = 4; // reading trailer lines after the last chunk
const DONE = 5;
const FAILED = 6;

/**
 * Decodes one request body. Push bytes as they come; each push says what body data they held,
 * whether the body ended (and what came after it) or failed. Never throws on any bytes.
 */
export class BodyDecoder {
  readonly #chunked: boolean;
  readonly #maxBodyBytes: number;
  readonly #maxTrailerBytes: number;
  #state: number;
  /** Content-Length: bytes still to come. Chunked: bytes left in the current chunk. */
  #remaining: number;
  /** Body bytes delivered so far. */
  #received = 0;
  /** The current line (chunk-size or trailer), without CRLF. */
  #line = '';
  #afterCR = false;
  #trailerBytes = 0;

  /** `framing` must not be `none`. `maxTrailerBytes`: the bound on trailer fields (the head's). */
  constructor(framing: BodyFraming, maxBodyBytes: number, maxTrailerBytes: number) {
    this.#chunked = framing.type === 'chunked';
    this.#maxBodyBytes = maxBodyBytes;
    this.#maxTrailerBytes = maxTrailerBytes;
    this.#remaining = framing.type === 'length' ? framing.length : 0;
    this.#state = this.#chunked ? SIZE : DATA;
  }

  /** The body has ended. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Body bytes decoded so far. */
  get received(): number {
    return this.#received;
  }

  push(chunk: Uint8Array): BodyChunks {
    const out: BodyChunks = { data: [], rest: null, error: null };
    if (this.#state === DONE || this.#state === FAILED) {
      out.error = bodyError('BAD_BODY_FRAMING', 400, 'bytes pushed after the body ended');
      return out;
    }
    if (!this.#chunked) {
      const take = Math.min(this.#remaining, chunk.length);
      if (take > 0) out.data.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      this.#remaining -= take;
      this.#received += take;
      if (this.#remaining === 0) {
        this.#state = DONE;
        out.rest = take === chunk.length ? EMPTY : chunk.subarray(take);
      }
      return out;
    }
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.#state) {
        case DATA: {
          const take = Math.min(this.#remaining, n - i);
          out.data.push(chunk.subarray(i, i + take));
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = DATA_CR;
          break;
        }
        case DATA_CR:
        case DATA_LF: {
          // RFC 9112 §7.1: chunk-data is followed by exactly CRLF.
          const want = this.#state === DATA_CR ? CR : LF;
          if (chunk[i] !== want) return this.#fail(out, bodyError('BAD_CHUNK', 400, 'chunk data not followed by CRLF'));
          i++;
          this.#state = this.#state === DATA_CR ? DATA_LF : SIZE;
          break;
        }
        case SIZE:
        case TRAILER: {
          const byte = chunk[i++] ?? 0; // i < chunk.length here
          if (this.#afterCR) {
            if (byte !== LF)
              return this.#fail(out, bodyError('BAD_CHUNK', 400, 'CR not followed by LF in chunked framing'));
            this.#afterCR = false;
            const error = this.#state === SIZE ? this.#sizeLine() : this.#trailerLine();
            if (error !== null) return this.#fail(out, error);
            if ((this.#state as number) === DONE) {
              out.rest = i === n ? EMPTY : chunk.subarray(i);
              return out;
            }
          } else if (byte === CR) {
            this.#afterCR = true;
          } else if (byte === LF) {
            return this.#fail(out, bodyError('BAD_CHUNK', 400, 'bare LF in chunked framing (CRLF required)'));
          } else {
            if (this.#state === TRAILER && ++this.#trailerBytes > this.#maxTrailerBytes) {
              return this.#fail(
                out,
                bodyError('HEAD_TOO_LARGE', 431, `trailer fields exceed ${this.#maxTrailerBytes} bytes`),
              );
            }
            if (this.#line.length >= MAX_LINE)
              return this.#fail(out, bodyError('BAD_CHUNK', 400, 'chunked framing line too long'));
            this.#line += String.fromCharCode(byte);
          }
          break;
        }
      }
    }
    return out;
  }

  /** RFC 9112 §7.1: chunk-size [ chunk-ext ], the size in hex. */
  #sizeLine(): BodyError | null {
    const line = this.#line;
    this.#line = '';
    let end = 0;
    while (end < line.length && isHex(line.charCodeAt(end))) end++;
    if (end === 0) return bodyError('BAD_CHUNK', 400, 'chunk size is not hexadecimal');
    // After the size: nothing, or (optional whitespace, RFC 9112 §7.1.1 BWS) `;` and extensions, which we ignore.
    let j = end;
    while (j < line.length && (line.charCodeAt(j) === 0x20 || line.charCodeAt(j) === 0x09)) j++;
    if (j < line.length && line.charCodeAt(j) !== 0x3b) return bodyError('BAD_CHUNK', 400, 'malformed chunk-size line');
    for (let k = j; k < line.length; k++) {
      const c = line.charCodeAt(k);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f)
        return bodyError('BAD_CHUNK', 400, 'control character in a chunk extension');
    }
    // Leading zeros are allowed; the value must not overflow (13 hex digits is 2^52).
    let digits = line.slice(0, end).replace(/^0+/, '');
    if (digits.length > 13) return bodyError('BODY_TOO_LARGE', 413, `request body exceeds ${this.#maxBodyBytes} bytes`);
    if (digits === '') digits = '0';
    const size = parseInt(digits, 16);
    if (size === 0) {
      this.#state = TRAILER;
      return null;
    }
    if (this.#received + size > this.#maxBodyBytes)
      return bodyError('BODY_TOO_LARGE', 413, `request body exceeds ${this.#maxBodyBytes} bytes`);
    this.#received += size;
    this.#remaining = size;
    this.#state = DATA;
    return null;
  }

  /** A trailer field line (ignored), or the empty line that ends the body. */
  #trailerLine(): BodyError | null {
    const line = this.#line;
    this.#line = '';
    if (line === '') {
      this.#state = DONE;
      return null;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(line.slice(0, colon)))
      return bodyError('BAD_CHUNK', 400, 'malformed trailer field');
    return null;
  }

  #fail(out: BodyChunks, error: BodyError): BodyChunks {
    this.#state = FAILED;
    out.error = error;
    return out;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
