/**
 * UTF-8 (RFC 3629) for text messages and close reasons (RFC 6455 §5.6, §8.1): an incremental,
 * fail-fast validator, and encode/decode helpers that use the host's TextEncoder/TextDecoder
 * when it has them (detected once, at load) and a small pure-JS fallback on bare engines.
 * Deciding what to do with an invalid message (fail with 1007) is the message assembler's job.
 */

// ---------------------------------------------------------------------------------------------
// Validator: a DFA over byte classes. Each state already knows the allowed range of the next
// byte (RFC 3629 §4), so the walk fails at the first byte that cannot continue a valid
// sequence, which is what §8.1 and Autobahn 6.x ask for ("fail fast").

/** Byte classes. */
const C_ASCII = 0; // 00–7F
const C_CONT_LO = 1; // 80–8F
const C_CONT_MID = 2; // 90–9F
const C_CONT_HI = 3; // A0–BF
const C_BAD = 4; // C0, C1 (overlong leads), F5–FF (beyond U+10FFFF, and old 5/6-byte forms)
const C_LEAD2 = 5; // C2–DF
const C_E0 = 6; // E0: next byte A0–BF (no overlongs)
const C_LEAD3 = 7; // E1–EC, EE–EF
const C_ED = 8; // ED: next byte 80–9F (no surrogates U+D800–DFFF)
const C_F0 = 9; // F0: next byte 90–BF (no overlongs)
const C_LEAD4 = 10; // F1–F3
const C_F4 = 11; // F4: next byte 80–8F (nothing above U+10FFFF)

/** States, premultiplied by 16 so a transition is one add and one load. */
const S_ACCEPT = 0;
const S_NEED1 = 16;
const S_NEED2 = 32;
const S_NEED3 = 48;
const S_E0 = 64;
const S_ED = 80;
const S_F0 = 96;
const S_F4 = 112;
const S_FAIL = 128;

const CLASS: Uint8Array = buildClasses();
const NEXT: Uint8Array = buildTransitions();

function buildClasses(): Uint8Array {
  const c = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    c[b] =
      b < 0x80
        ? C_ASCII
        : b < 0x90
          ? C_CONT_LO
          : b < 0xa0
            ? C_CONT_MID
            : b < 0xc0
              ? C_CONT_HI
              : b < 0xc2
                ? C_BAD
                : b < 0xe0
                  ? C_LEAD2
                  : b === 0xe0
                    ? C_E0
                    : b === 0xed
                      ? C_ED
                      : b < 0xf0
                        ? C_LEAD3
                        : b === 0xf0
                          ? C_F0
                          : b < 0xf4
                            ? C_LEAD4
                            : b === 0xf4
                              ? C_F4
                              : C_BAD;
  }
  return c;
}

function buildTransitions(): Uint8Array {
  const t = new Uint8Array(S_FAIL + 16).fill(S_FAIL);
  const set = (from: number, classes: number[], to: number): void => {
    for (const k of classes) t[from + k] = to;
  };
  const CONT = [C_CONT_LO, C_CONT_MID, C_CONT_HI];
  set(S_ACCEPT, [C_ASCII], S_ACCEPT);
  set(S_ACCEPT, [C_LEAD2], S_NEED1);
  set(S_ACCEPT, [C_LEAD3], S_NEED2);
  set(S_ACCEPT, [C_LEAD4], S_NEED3);
  set(S_ACCEPT, [C_E0], S_E0);
  set(S_ACCEPT, [C_ED], S_ED);
  set(S_ACCEPT, [C_F0], S_F0);
  set(S_ACCEPT, [C_F4], S_F4);
  set(S_NEED1, CONT, S_ACCEPT);
  set(S_NEED2, CONT, S_NEED1);
  set(S_NEED3, CONT, S_NEED2);
  set(S_E0, [C_CONT_HI], S_NEED1);
  set(S_ED, [C_CONT_LO, C_CONT_MID], S_NEED1);
  set(S_F0, [C_CONT_MID, C_CONT_HI], S_NEED2);
  set(S_F4, [C_CONT_LO], S_NEED2);
  return t;
}

/** One DFA transition; an index outside the tables (never reached: both are full) fails. */
function step(state: number, byte: number): number {
  return NEXT[state + (CLASS[byte] ?? C_BAD)] ?? S_FAIL;
}

/**
 * What a read of `bytes[i]` counts as if `i` were past the end: 0xFF, never valid UTF-8 and not
 * ASCII, so every loop stops on it. The loops below only read in bounds; the `?? BAD_BYTE` is
 * for the type checker (`noUncheckedIndexedAccess`), and the JIT drops it (an in-bounds
 * typed-array load is a number): measured at the same speed as a plain read.
 */
const BAD_BYTE = 0xff;

/** Index of the byte at which the last failing `walk` stopped (module scratch, no allocation). */
let lastFailIndex = -1;

/**
 * An ASCII run is checked a byte at a time for its first ASCII_BYTES bytes (text in most
 * languages mixes short runs of ASCII, spaces and punctuation, with multi-byte characters, and a
 * wider test that fails costs more than it saves), then four bytes per test; once it has lasted
 * ASCII_PROBE bytes and at least WORD_ASCII_MIN remain, the rest goes a 32-bit word at a time.
 */
const ASCII_BYTES = 8;
const ASCII_PROBE = 64;
const WORD_ASCII_MIN = 256;

/**
 * Walk bytes[start..end) from `state`; returns the state after the last byte, or S_FAIL with
 * the failing index in `lastFailIndex`. Between code points, ASCII runs are skipped several
 * bytes at a time and whole well-formed sequences are checked inline (by the code point they
 * encode: continuation bits, then ranges, RFC 3629 §4); anything else (a sequence cut by the
 * chunk end, an invalid byte) goes one byte at a time through the DFA, which pins the failure to
 * the first bad byte.
 */
function walk(bytes: Uint8Array, start: number, end: number, state: number): number {
  let i = start;
  let s = state;
  for (;;) {
    // A sequence in progress (cut by the previous chunk, or one the fast loop would not take):
    // byte by byte through the DFA until it is complete.
    while (s !== S_ACCEPT) {
      if (i >= end) return s;
      s = step(s, bytes[i] ?? BAD_BYTE);
      if (s === S_FAIL) {
        lastFailIndex = i;
        return S_FAIL;
      }
      i++;
    }
    // Between code points. Long inputs: four bytes per load first.
    if (end - i >= WIDE_MIN) i = walkWide(bytes, i, end);
    while (i < end) {
      const b = bytes[i] ?? BAD_BYTE;
      if (b < 0x80) {
        const stop = i + ASCII_BYTES < end ? i + ASCII_BYTES : end;
        i++;
        while (i < stop && (bytes[i] ?? BAD_BYTE) < 0x80) i++;
        if (i === stop && i < end) i = skipAscii(bytes, i, end);
        continue;
      }
      if (b < 0xe0) {
        // C2–DF, one continuation byte (C0, C1 and lone continuations fail below).
        if (b >= 0xc2 && i + 1 < end && ((bytes[i + 1] ?? BAD_BYTE) & 0xc0) === 0x80) {
          i += 2;
          continue;
        }
      } else if (b < 0xf0) {
        // E0–EF: two continuation bytes, no overlong (< U+0800), no surrogate (U+D800–DFFF).
        if (i + 2 < end) {
          const b1 = bytes[i + 1] ?? BAD_BYTE;
          const b2 = bytes[i + 2] ?? BAD_BYTE;
          const cp = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
          if (((b1 & 0xc0) | ((b2 & 0xc0) >> 2)) === 0xa0 && cp >= 0x800 && (cp & 0xf800) !== 0xd800) {
            i += 3;
            continue;
          }
        }
      } else if (b < 0xf5 && i + 3 < end) {
        // F0–F4: three continuation bytes, U+10000–10FFFF.
        const b1 = bytes[i + 1] ?? BAD_BYTE;
        const b2 = bytes[i + 2] ?? BAD_BYTE;
        const b3 = bytes[i + 3] ?? BAD_BYTE;
        const cp = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
        if (((b1 & 0xc0) | ((b2 & 0xc0) >> 2) | ((b3 & 0xc0) >> 4)) === 0xa8 && cp >= 0x10000 && cp <= 0x10ffff) {
          i += 4;
          continue;
        }
      }
      // Not a whole valid sequence: let the DFA take its first byte (and the rest, above).
      s = step(S_ACCEPT, b);
      if (s === S_FAIL) {
        lastFailIndex = i;
        return S_FAIL;
      }
      i++;
      break;
    }
    if (i >= end) return s;
  }
}

/** From this many bytes, {@link walkWide} first (getting its DataView costs ≈ 80 ns). */
const WIDE_MIN = 128;

/** The DataView of the last ArrayBuffer walked (one kept, as for the word view below). */
let wideBuffer: ArrayBufferLike | null = null;
let wide: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * Accept whole well-formed code points from bytes[i..end), reading four bytes per load (a
 * big-endian DataView word: byte i in the top bits): four ASCII bytes, or one sequence judged
 * by its bit pattern and the code point it encodes. Returns the index of the first code point
 * it could not accept (invalid, or too near the end for a whole word), for the byte-wise walk.
 */
function walkWide(bytes: Uint8Array, i: number, end: number): number {
  const buffer = bytes.buffer;
  if (buffer !== wideBuffer) {
    wide = new DataView(buffer);
    // A resizable buffer's view tracks its length, but never keep one.
    wideBuffer = (buffer as { resizable?: boolean }).resizable === true ? null : buffer;
  }
  const view = wide;
  const base = bytes.byteOffset;
  const last = end - 4; // the last index a whole word can be read from
  while (i <= last) {
    const w = view.getUint32(base + i);
    if ((w & 0x80808080) === 0) {
      // ASCII: a word per load; once the run has lasted ASCII_PROBE bytes, aligned words.
      i += 4;
      for (let probe = i + ASCII_PROBE; i <= last && (view.getUint32(base + i) & 0x80808080) === 0; ) {
        i += 4;
        if (i >= probe && end - i >= WORD_ASCII_MIN) {
          i = skipAsciiWords(bytes, i, end);
          break;
        }
      }
      continue;
    }
    if (w < 0x80000000) {
      i += Math.clz32(w & 0x80808080) >>> 3; // the ASCII bytes before the first non-ASCII one
      continue;
    }
    if ((w & 0xe0c00000) >>> 0 === 0xc0800000) {
      // 110xxxxx 10xxxxxx, C2 or above (C0, C1 are overlong).
      if (w < 0xc2000000) return i;
      i += 2;
      continue;
    }
    if ((w & 0xf0c0c000) >>> 0 === 0xe0808000) {
      // 1110xxxx 10xxxxxx 10xxxxxx: U+0800 and up, no surrogates.
      const cp = ((w >>> 12) & 0xf000) | ((w >>> 10) & 0xfc0) | ((w >>> 8) & 0x3f);
      if (cp < 0x800 || (cp & 0xf800) === 0xd800) return i;
      i += 3;
      continue;
    }
    if ((w & 0xf8c0c0c0) >>> 0 === 0xf0808080) {
      // 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx: U+10000–10FFFF.
      const cp = ((w >>> 6) & 0x1c0000) | ((w >>> 4) & 0x3f000) | ((w >>> 2) & 0xfc0) | (w & 0x3f);
      if (cp < 0x10000 || cp > 0x10ffff) return i;
      i += 4;
      continue;
    }
    return i;
  }
  return i;
}

/** Skip the leading ASCII of bytes[i..end) (i < end) four bytes per test, then words; returns the first index not skipped. */
function skipAscii(bytes: Uint8Array, i: number, end: number): number {
  const end4 = end - 3;
  const probe = i + ASCII_PROBE < end4 ? i + ASCII_PROBE : end4;
  while (
    i < probe &&
    (((bytes[i] ?? BAD_BYTE) | (bytes[i + 1] ?? BAD_BYTE) | (bytes[i + 2] ?? BAD_BYTE) | (bytes[i + 3] ?? BAD_BYTE)) &
      0x80) ===
      0
  )
    i += 4;
  if (i >= probe && end - i >= WORD_ASCII_MIN) i = skipAsciiWords(bytes, i, end);
  while (
    i < end4 &&
    (((bytes[i] ?? BAD_BYTE) | (bytes[i + 1] ?? BAD_BYTE) | (bytes[i + 2] ?? BAD_BYTE) | (bytes[i + 3] ?? BAD_BYTE)) &
      0x80) ===
      0
  )
    i += 4;
  while (i < end && (bytes[i] ?? BAD_BYTE) < 0x80) i++;
  return i;
}

/** Skip the leading ASCII of bytes[i..end) a 32-bit word at a time; returns the first index not skipped. */
function skipAsciiWords(bytes: Uint8Array, i: number, end: number): number {
  // Head bytes until the address is a multiple of 4.
  const headEnd = i + ((4 - ((bytes.byteOffset + i) & 3)) & 3);
  for (; i < headEnd; i++) if ((bytes[i] ?? BAD_BYTE) >= 0x80) return i;
  // A fresh view of exactly the words to scan (≈ 80 ns): its length bounds the loop, so the JIT
  // drops the bounds checks (≈ 15 % faster than a cached view of the whole buffer).
  const count = (end - i) >>> 2;
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + i, count);
  let w = 0;
  for (const c4 = count - 3; w < c4; w += 4) {
    // (-1, all bits set, stands for a word past the end, as BAD_BYTE does for a byte.)
    if ((((words[w] ?? -1) | (words[w + 1] ?? -1) | (words[w + 2] ?? -1) | (words[w + 3] ?? -1)) & 0x80808080) !== 0) {
      break;
    }
  }
  for (; w < count; w++) if (((words[w] ?? -1) & 0x80808080) !== 0) break;
  return i + (w << 2);
}

/**
 * Incremental, fail-fast UTF-8 validator (RFC 3629; RFC 6455 §8.1). Rejects overlongs,
 * surrogates (U+D800–DFFF), code points above U+10FFFF, and reports failure at the first byte
 * that makes the sequence invalid even if the code point is incomplete (e.g. `F4 90` fails at
 * `90`; `ED A0` fails at `A0`).
 */
export class Utf8Validator {
  private state = S_ACCEPT;
  /** Bytes accepted so far (fed before the failing byte, if failed). */
  private count = 0;

  /**
   * Validate bytes[start..end). Returns false at the first byte that cannot be part of valid
   * UTF-8; the validator then stays failed until {@link reset}.
   */
  push(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    if (this.state === S_FAIL) return false;
    const s = walk(bytes, start, end, this.state);
    this.state = s;
    if (s === S_FAIL) {
      this.count += lastFailIndex - start;
      return false;
    }
    this.count += end - start;
    return true;
  }

  /** True when no code point is cut (check at the end of a message: a cut code point there is invalid). */
  get complete(): boolean {
    return this.state === S_ACCEPT;
  }

  /** True once an invalid byte has been seen (sticky until {@link reset}). */
  get failed(): boolean {
    return this.state === S_FAIL;
  }

  /** Once failed: how many bytes of the whole stream preceded the invalid one. Otherwise: bytes seen. */
  get offset(): number {
    return this.count;
  }

  reset(): void {
    this.state = S_ACCEPT;
    this.count = 0;
  }
}

/** Whole-buffer check: valid UTF-8 with no code point cut at the end. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return walk(bytes, 0, bytes.length, S_ACCEPT) === S_ACCEPT;
}

// ---------------------------------------------------------------------------------------------
// Host codecs. The DOM lib is not in our `lib`, so describe the little we use.

interface HostTextDecoder {
  decode(input: Uint8Array): string;
}
interface HostTextEncoder {
  encode(input: string): Uint8Array;
  encodeInto(input: string, dest: Uint8Array): { read: number; written: number };
}
type HostGlobal = {
  TextDecoder?: new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }) => HostTextDecoder;
  TextEncoder?: new () => HostTextEncoder;
};

function hostDecoder(fatal: boolean): HostTextDecoder | null {
  try {
    const Ctor = (globalThis as HostGlobal).TextDecoder;
    // ignoreBOM: a leading U+FEFF is content in a WebSocket message and must be kept.
    return typeof Ctor === 'function' ? new Ctor('utf-8', { ignoreBOM: true, fatal }) : null;
  } catch {
    return null;
  }
}

function hostEncoder(): HostTextEncoder | null {
  try {
    const Ctor = (globalThis as HostGlobal).TextEncoder;
    return typeof Ctor === 'function' ? new Ctor() : null;
  } catch {
    return null;
  }
}

const DECODER = hostDecoder(false);
/**
 * A decoder that throws on invalid input: the WHATWG decoder's errors are exactly RFC 3629's
 * (overlongs, surrogates, code points past U+10FFFF, a sequence cut at the end), so one call
 * both checks and decodes a text message.
 */
const STRICT_DECODER = hostDecoder(true);
const ENCODER = hostEncoder();

/**
 * Below this many bytes, ASCII is decoded in JS: TextDecoder's fixed call cost (≈ 110 ns on
 * Node 20) is more than a short loop's; the two cross at ≈ 8 bytes.
 */
const SHORT_DECODE = 8;
/** Below this many UTF-16 units the JS encoder beats the host's fixed call cost (≈ 90 ns vs ≈ 250 ns at 4). */
const SHORT_ENCODE = 8;
/**
 * Up to this many UTF-16 units, encode through a reused scratch buffer with `encodeInto` and copy
 * the result out: on Node 20 `TextEncoder.encode` costs ≈ 5× more for short and medium text.
 */
const SCRATCH_UNITS = 16 * 1024;
/** The most bytes a scratch encoding takes (3 per unit). */
export const SCRATCH_BYTES = 3 * SCRATCH_UNITS;
let scratch: Uint8Array | null = null;

/** Decode UTF-8 that is already known to be valid (a leading BOM is kept as U+FEFF). */
export function decodeUtf8(bytes: Uint8Array): string {
  if (DECODER === null) return decodeUtf8Fallback(bytes);
  const n = bytes.length;
  if (n < SHORT_DECODE) {
    let out = '';
    for (let i = 0; i < n; i++) {
      const b = bytes[i] ?? BAD_BYTE;
      if (b >= 0x80) return DECODER.decode(bytes);
      out += String.fromCharCode(b);
    }
    return out;
  }
  return DECODER.decode(bytes);
}

/**
 * Check and decode a whole text message: its text, or null if it is not valid UTF-8 (RFC 3629).
 * A leading BOM is kept as U+FEFF. Throws what the host throws for text too long for a string.
 * `strict`: the connection's `engine.strictDecoder` (see `engine-tuning.ts`): one call of the
 * host's strict TextDecoder where it has one, else the validator followed by a plain decode.
 */
export function decodeValidUtf8(bytes: Uint8Array, strict: boolean): string | null {
  const decoder = strict ? STRICT_DECODER : null;
  if (decoder === null || bytes.length < SHORT_DECODE) return isValidUtf8(bytes) ? decodeUtf8(bytes) : null;
  try {
    return decoder.decode(bytes);
  } catch (error) {
    if (error instanceof TypeError) return null; // what a strict decoder throws for bad bytes
    throw error; // e.g. a RangeError: too long for a string
  }
}

/** Encode text as UTF-8; lone surrogates become U+FFFD, as TextEncoder does. */
export function encodeUtf8(text: string): Uint8Array {
  const n = text.length;
  if (ENCODER === null || n < SHORT_ENCODE) return encodeUtf8Fallback(text);
  if (n > SCRATCH_UNITS) return ENCODER.encode(text);
  const buffer = scratchBuffer();
  return buffer.slice(0, ENCODER.encodeInto(text, buffer).written);
}

/**
 * @internal {@link encodeUtf8}, but a text of up to SCRATCH_UNITS units is encoded into a
 * buffer shared by every call: the view is only valid until the next call. For a caller that
 * copies the bytes at once (the connection framing a message: saves an ArrayBuffer per send).
 * Such a view is never longer than 48 KiB.
 */
export function encodeUtf8Transient(text: string): Uint8Array {
  const n = text.length;
  if (ENCODER === null || n < SHORT_ENCODE || n > SCRATCH_UNITS) return encodeUtf8(text);
  const buffer = scratchBuffer();
  return new Uint8Array(buffer.buffer, 0, ENCODER.encodeInto(text, buffer).written);
}

/** The scratch buffer a text of at most SCRATCH_UNITS units is encoded into. */
function scratchBuffer(): Uint8Array {
  // One UTF-16 unit never takes more than 3 bytes (a pair: 2 units → 4 bytes).
  return (scratch ??= new Uint8Array(SCRATCH_BYTES));
}

/**
 * Encode text as UTF-8 into dst at `offset`, which must have room for {@link utf8ByteLength}
 * bytes (a caller sizing a frame buffer knows it already). Returns the bytes written.
 */
export function encodeUtf8Into(text: string, dst: Uint8Array, offset: number): number {
  if (ENCODER === null || text.length < SHORT_ENCODE) return encodeIntoFallback(text, dst, offset);
  return ENCODER.encodeInto(text, offset === 0 ? dst : dst.subarray(offset)).written;
}

/** Bytes `text` takes in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8ByteLength(text: string): number {
  const n = text.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // a pair: 2 units → 4 bytes
      i++;
    } else {
      bytes += 2; // BMP (or lone surrogate → U+FFFD): 1 unit → 3 bytes
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Pure-JS fallbacks (exported for tests; used directly on engines without TextEncoder/Decoder).

/** Code units are gathered here and turned into a string a chunk at a time. */
const CHUNK = 4096;
let units: number[] | null = null;

/**
 * Pure-JS UTF-8 decoder. For valid input it equals TextDecoder; for invalid input it replaces
 * each maximal invalid subpart with U+FFFD exactly as the WHATWG decoder does (the DFA's
 * per-byte ranges are the WHATWG decoder's lower/upper bounds).
 */
export function decodeUtf8Fallback(bytes: Uint8Array): string {
  const n = bytes.length;
  const u = (units ??= []);
  u.length = 0;
  let out = '';
  let s = S_ACCEPT;
  let cp = 0;
  let i = 0;
  while (i < n) {
    const b = bytes[i] ?? BAD_BYTE;
    const next = step(s, b);
    if (next === S_FAIL) {
      u.push(0xfffd);
      // A byte that broke an unfinished sequence may start the next one: read it again.
      if (s === S_ACCEPT) i++;
      s = S_ACCEPT;
    } else {
      cp = s === S_ACCEPT ? b & (b < 0x80 ? 0x7f : b < 0xe0 ? 0x1f : b < 0xf0 ? 0x0f : 0x07) : (cp << 6) | (b & 0x3f);
      s = next;
      i++;
      if (s === S_ACCEPT) {
        if (cp < 0x10000) u.push(cp);
        else u.push(0xd7c0 + (cp >> 10), 0xdc00 | (cp & 0x3ff));
      }
    }
    if (u.length >= CHUNK) {
      out += String.fromCharCode.apply(null, u);
      u.length = 0;
    }
  }
  if (s !== S_ACCEPT) u.push(0xfffd); // truncated sequence at the end
  if (u.length > 0) out += String.fromCharCode.apply(null, u);
  u.length = 0;
  return out;
}

/** Pure-JS UTF-8 encoder (lone surrogates → U+FFFD). */
export function encodeUtf8Fallback(text: string): Uint8Array {
  const out = new Uint8Array(utf8ByteLength(text));
  encodeIntoFallback(text, out, 0);
  return out;
}

function encodeIntoFallback(text: string, dst: Uint8Array, offset: number): number {
  const n = text.length;
  let j = offset;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      dst[j++] = c;
    } else if (c < 0x800) {
      dst[j++] = 0xc0 | (c >> 6);
      dst[j++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xf800) === 0xd800) {
        const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          dst[j++] = 0xf0 | (c >> 18);
          dst[j++] = 0x80 | ((c >> 12) & 0x3f);
          dst[j++] = 0x80 | ((c >> 6) & 0x3f);
          dst[j++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd; // lone surrogate
      }
      dst[j++] = 0xe0 | (c >> 12);
      dst[j++] = 0x80 | ((c >> 6) & 0x3f);
      dst[j++] = 0x80 | (c & 0x3f);
    }
  }
  return j - offset;
}
