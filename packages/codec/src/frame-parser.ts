/**
 * Incremental frame parser (RFC 6455 §5.2). Feed it chunks as they arrive, split anywhere;
 * step it with `next()`. It yields a frame's header, then its payload in one or more chunks
 * (unmasked in place, as views into the fed bytes, no copy; with `freshArrays` (JavaScriptCore)
 * a short one unmasked into an array of its own; or, if asked with `payloadInto`, copied and
 * unmasked into the caller's buffer in one pass), so a message never has to be held whole
 * here. Control frames (at most 125 bytes) are gathered and yielded whole.
 *
 * It checks everything a single frame can violate: RSV bits no extension claimed, reserved
 * opcodes, control frames that are long or fragmented, masking in the wrong direction, bad
 * 64-bit lengths and the frame-size limit. Message-level rules live in the connection.
 *
 * The parser owns the chunks it is given: it unmasks them in place. A caller that reuses a
 * read buffer must pass a copy.
 *
 * `next()` returns a step kind and leaves the details in the parser's fields (no object per
 * step): this is the hot path of every receive.
 */
import { WebSocketUsageError, type ProtocolErrorCode } from './errors.ts';
import { applyMask, maskCopy, rotateKey } from './mask.ts';
import { isControlOpcode, isKnownOpcode } from './opcode.ts';
import { FRESH_MAX } from './slab.ts';

export const NEED_MORE = 0;
export const HEADER = 1;
export const PAYLOAD = 2;
export const FAILED = 3;
export type ParseStep = typeof NEED_MORE | typeof HEADER | typeof PAYLOAD | typeof FAILED;

const EMPTY = new Uint8Array(0);
/**
 * Where a header split across chunks is gathered. One for all parsers: it is read in the same
 * call that fills it, so no parser ever finds another's bytes there (≈ 190 bytes saved per
 * connection, which matters at 10,000 idle ones).
 */
const HEADER_SCRATCH = new Uint8Array(14);
/**
 * The current frame's mask key as bytes, for `applyMask`/`maskCopy`: filled from a parser's
 * `#maskWord` just before each call (a parser keeps its key as a number: a 4-byte typed array
 * each would cost ≈ 180 bytes per connection).
 */
const KEY_SCRATCH = new Uint8Array(4);

function keyBytes(word: number): Uint8Array {
  KEY_SCRATCH[0] = word & 0xff;
  KEY_SCRATCH[1] = (word >>> 8) & 0xff;
  KEY_SCRATCH[2] = (word >>> 16) & 0xff;
  KEY_SCRATCH[3] = word >>> 24;
  return KEY_SCRATCH;
}
/**
 * Payloads up to this long are unmasked by an inline word loop (DataView, unaligned): cheaper
 * than `applyMask`'s setup for small messages (≈ 1.4× at 125 B on Node 20); longer ones go to
 * its aligned word loop and, from 1 KiB, its SIMD path.
 */
const SHORT_UNMASK = 128;
/** Payloads up to this long are unmasked byte by byte (see {@link FrameParser.next}'s payload step). */
const SHORT_BYTES = 64;

export interface FrameParserOptions {
  /** True at a server: every client frame must be masked; false at a client: none may be (§5.1). */
  expectMasked: boolean;
  maxFrameSize: number;
  /**
   * Copy short payloads out into arrays of their own instead of yielding views of the fed bytes:
   * the connection's `engine.freshArrays` (JavaScriptCore; see `engine-tuning.ts`). Default false.
   */
  freshArrays?: boolean;
}

export class FrameParser {
  /** Bits of the RSV nibble (RSV1 = 0x4) that negotiated extensions claim. Others must be 0 (§5.2). */
  allowedRsv = 0;

  // The current frame, valid after a HEADER step and until the next one.
  fin = false;
  rsv = 0;
  opcode = 0;
  /** Payload length of the current frame. */
  length = 0;
  // The current payload chunk, valid after a PAYLOAD step.
  payload: Uint8Array = EMPTY;
  /**
   * Bytes the last PAYLOAD step wrote into the {@link payloadInto} target (at the offset it had
   * reached), or 0 when the step yielded them as `payload` instead. A step that writes into the
   * target leaves `payload` empty: no view per step, so that a message in many short fragments
   * costs no object per fragment.
   */
  stored = 0;
  /** The chunk ends the current frame's payload. */
  frameEnd = false;
  // The failure, valid after a FAILED step (sticky).
  errorCode: ProtocolErrorCode | null = null;
  errorCloseCode = 1002;
  errorMessage = '';

  readonly #expectMasked: boolean;
  readonly #maxFrameSize: number;
  readonly #fresh: boolean;
  readonly #chunks: Uint8Array[] = [];
  #head = 0; // index of the first unread chunk
  #offset = 0; // read position inside chunks[head]
  #available = 0; // unread bytes in all chunks
  #inPayload = false;
  #remaining = 0; // payload bytes of the current frame not yet yielded
  #masked = false;
  /** The mask key, key[0] in the low byte. */
  #maskWord = 0;
  #maskPhase = 0;
  /** Where the rest of the current frame's payload goes instead of being unmasked in place ({@link payloadInto}). */
  #target: Uint8Array | null = null;
  #targetOffset = 0;
  /**
   * The ArrayBuffer and byteOffset of the chunk at the head, for making payload views: the
   * `buffer` getter costs ≈ 3× the view itself on Node 20. Cleared when the head moves on, so
   * a consumed chunk is never kept alive by the cache.
   */
  #viewChunk: Uint8Array | null = null;
  #viewBuffer: ArrayBufferLike = EMPTY.buffer;
  #viewBase = 0;
  /** A DataView of #viewBuffer, made when first needed. */
  #viewData: DataView | null = null;

  constructor(options: FrameParserOptions) {
    this.#expectMasked = options.expectMasked;
    this.#maxFrameSize = options.maxFrameSize;
    this.#fresh = options.freshArrays ?? false;
  }

  /** Bytes received and not yet parsed. */
  get bufferedAmount(): number {
    return this.#available;
  }

  /**
   * After a HEADER step (or a PAYLOAD step that did not end the frame): bytes of the current
   * frame's payload not yet yielded, and whether they are all in one fed chunk already, so that
   * the next PAYLOAD step yields them as one view without copying.
   */
  get payloadRemaining(): number {
    return this.#inPayload ? this.#remaining : 0;
  }

  get payloadInOneChunk(): boolean {
    if (!this.#inPayload || this.#remaining === 0) return true;
    return this.#available > 0 && (this.#chunks[this.#head] ?? EMPTY).length - this.#offset >= this.#remaining;
  }

  /**
   * Copy (and unmask) the rest of the current data frame's payload into `target` from `offset`
   * instead of unmasking it in place: PAYLOAD steps then write there and say how much in
   * {@link stored}, with `payload` left empty. A message that
   * arrives in many reads is then assembled in one pass. Valid after a HEADER step of a data
   * frame, or after a PAYLOAD step that did not end it; lasts until the frame ends or `target`
   * is full (`target` may be shorter than {@link payloadRemaining}, so that a caller can grow its
   * buffer with what arrives: once it is full, payload is unmasked in place again, until
   * `payloadInto` is called with a larger one). `target` must have room for at least one byte.
   */
  payloadInto(target: Uint8Array, offset: number): void {
    if (
      !this.#inPayload ||
      isControlOpcode(this.opcode) ||
      this.#remaining === 0 ||
      offset < 0 ||
      offset >= target.length
    ) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'payloadInto: no data frame payload pending, or no room in the target',
      );
    }
    this.#target = target;
    this.#targetOffset = offset;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const chunks = this.#chunks;
    if (this.#head === chunks.length) {
      this.#head = 0;
      this.#offset = 0;
      if (chunks.length === 1) {
        // The usual case, one read at a time: the chunk takes the spent one's place.
        chunks[0] = chunk;
        this.#available += chunk.length;
        return;
      }
      // Emptied with pop(): `length = 0` is a runtime call in V8.
      while (chunks.length > 0) chunks.pop();
    } else if (this.#head >= 32) {
      // A stream that never drains fully must not grow the queue forever.
      chunks.splice(0, this.#head);
      this.#head = 0;
    }
    chunks.push(chunk);
    this.#available += chunk.length;
  }

  next(): ParseStep {
    if (this.errorCode !== null) return FAILED;
    return this.#inPayload ? this.#nextPayload() : this.#nextHeader();
  }

  #nextHeader(): ParseStep {
    // The last frame's payload has been taken: don't keep it (an idle connection would hold its
    // last large message).
    this.payload = EMPTY;
    if (this.#available === 0) return NEED_MORE;
    // (#available > 0: there is a chunk at the head; were there none, EMPTY reads as no bytes.)
    let chunk = this.#chunks[this.#head] ?? EMPTY;
    let at = this.#offset;
    const b0 = chunk[at] ?? 0;
    // Judge the first byte as soon as it arrives.
    const rsv = (b0 >> 4) & 0x7;
    const opcode = b0 & 0xf;
    if ((rsv & ~this.allowedRsv) !== 0)
      return this.#fail(
        'RESERVED_BITS',
        1002,
        `RSV bits 0x${rsv.toString(16)} set without an extension that defines them`,
      ); // §5.2
    if (!isKnownOpcode(opcode)) return this.#fail('RESERVED_OPCODE', 1002, `reserved opcode 0x${opcode.toString(16)}`); // §5.2
    const control = isControlOpcode(opcode);
    if (control && (b0 & 0x80) === 0) return this.#fail('FRAGMENTED_CONTROL_FRAME', 1002, 'control frame without FIN'); // §5.5
    if (control && rsv !== 0) return this.#fail('RESERVED_BITS', 1002, 'RSV bits set on a control frame');
    if (this.#available < 2) return NEED_MORE;

    // (#available ≥ 2: the second byte is in this chunk or first in the next one.)
    const b1 = at + 1 < chunk.length ? (chunk[at + 1] ?? 0) : (this.#chunks[this.#head + 1]?.[0] ?? 0);
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#expectMasked) {
      // §5.1: a server MUST close on an unmasked frame; a client on a masked one.
      return masked
        ? this.#fail('MASKED_FRAME_FROM_SERVER', 1002, 'a server must not mask its frames')
        : this.#fail('UNMASKED_FRAME_FROM_CLIENT', 1002, 'a client must mask its frames');
    }
    const len7 = b1 & 0x7f;
    if (control && len7 > 125)
      return this.#fail('CONTROL_FRAME_TOO_LONG', 1002, 'control frame payload over 125 bytes'); // §5.5
    const headerLength = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (this.#available < headerLength) return NEED_MORE;

    if (chunk.length - at < headerLength) {
      // The header straddles chunks: gather it.
      this.#copyOut(HEADER_SCRATCH, headerLength, 0);
      chunk = HEADER_SCRATCH;
      at = 0;
    } else {
      this.#skip(headerLength);
    }

    let length = len7;
    let p = at + 2;
    if (len7 === 126) {
      length = ((chunk[p] ?? 0) << 8) | (chunk[p + 1] ?? 0);
      p += 2;
    } else if (len7 === 127) {
      const high = bigEndian32(chunk, p);
      const low = bigEndian32(chunk, p + 4);
      p += 8;
      // §5.2: the most significant bit MUST be 0: a protocol error. Below it, a length past 2^53
      // is legal framing that no limit allows (and JavaScript cannot count): too big, §7.4.1.
      if (high >= 0x8000_0000)
        return this.#fail('BAD_LENGTH', 1002, '64-bit payload length with its most significant bit set');
      if (high > 0x1fffff)
        return this.#fail(
          'FRAME_TOO_LARGE',
          1009,
          `frame of 2^${Math.floor(Math.log2(high)) + 32} bytes or more exceeds the ${this.#maxFrameSize}-byte limit`,
        );
      length = high * 0x1_0000_0000 + low;
    }
    if (length > this.#maxFrameSize) {
      return this.#fail(
        'FRAME_TOO_LARGE',
        1009,
        `frame of ${length} bytes exceeds the ${this.#maxFrameSize}-byte limit`,
      );
    }
    if (masked) {
      this.#maskWord = littleEndian32(chunk, p);
    }
    this.fin = (b0 & 0x80) !== 0;
    this.rsv = rsv;
    this.opcode = opcode;
    this.length = length;
    this.#masked = masked;
    this.#maskPhase = 0;
    this.#remaining = length;
    this.#inPayload = true;
    return HEADER;
  }

  #nextPayload(): ParseStep {
    const remaining = this.#remaining;
    if (remaining === 0) {
      this.#endFrame(EMPTY);
      return PAYLOAD;
    }
    if (this.#available === 0) return NEED_MORE;
    let chunk = this.#chunks[this.#head] ?? EMPTY;
    const left = chunk.length - this.#offset;
    if (isControlOpcode(this.opcode)) {
      // Control payloads are yielded whole (at most 125 bytes).
      if (this.#available < remaining) return NEED_MORE;
      if (left >= remaining && !this.#fresh) {
        chunk = chunk.subarray(this.#offset, this.#offset + remaining);
        this.#skip(remaining);
        if (this.#masked) applyMask(chunk, keyBytes(this.#maskWord), 0);
      } else {
        chunk = new Uint8Array(remaining);
        this.#copyOut(chunk, remaining, this.#masked ? this.#maskWord : 0);
      }
      this.#endFrame(chunk);
      return PAYLOAD;
    }
    const offset = this.#offset;
    const target = this.#target;
    let take = left < remaining ? left : remaining;
    if (target !== null && take > target.length - this.#targetOffset) take = target.length - this.#targetOffset;
    let view: Uint8Array = EMPTY;
    let stored = 0;
    if (target !== null) {
      // Copy-and-unmask into the caller's buffer: the fed bytes are left as they are, and no view
      // is made for a short step (a message in one-byte fragments would otherwise cost one each).
      const at = this.#targetOffset;
      if (take <= SHORT_BYTES || (this.#fresh && take <= FRESH_MAX)) {
        copyUnmasked(chunk, offset, target, at, take, this.#masked ? this.#rotatedKey() : 0);
      } else {
        if (chunk !== this.#viewChunk) this.#cacheView(chunk);
        const source = new Uint8Array(this.#viewBuffer, this.#viewBase + offset, take);
        if (this.#masked) maskCopy(source, target, at, keyBytes(this.#maskWord), this.#maskPhase);
        else target.set(source, at);
      }
      this.#targetOffset = at + take;
      this.#maskPhase = (this.#maskPhase + take) & 3;
      stored = take;
    } else if (this.#fresh && take <= FRESH_MAX) {
      // JavaScriptCore: copied (and unmasked) by a byte loop, never through a view of the chunk.
      view = new Uint8Array(take); // an array of its own
      copyUnmasked(chunk, offset, view, 0, take, this.#masked ? this.#rotatedKey() : 0);
      this.#maskPhase = (this.#maskPhase + take) & 3;
    } else {
      // Always a plain Uint8Array view: 2–4× cheaper than `subarray` on a Node.js buffer (which goes
      // through its species constructor), and one shape for everything downstream.
      if (chunk !== this.#viewChunk) this.#cacheView(chunk);
      view = new Uint8Array(this.#viewBuffer, this.#viewBase + offset, take);
      if (this.#masked) {
        const phase = this.#maskPhase;
        if (take <= SHORT_BYTES) {
          // In place, byte by byte: no DataView to make, which is dear on JavaScriptCore (a
          // fresh chunk, so a fresh DataView, per read).
          copyUnmasked(view, 0, view, 0, take, this.#rotatedKey());
        } else if (take <= SHORT_UNMASK) {
          // Four bytes per turn, as unaligned little-endian words through a DataView over the
          // chunk's buffer (inlined by the JIT); the last 0–3 bytes one by one.
          const k = this.#rotatedKey();
          let data = this.#viewData;
          if (data === null) data = this.#viewData = new DataView(this.#viewBuffer);
          const base = this.#viewBase + offset;
          let i = 0;
          for (const n4 = take - 3; i < n4; i += 4) data.setInt32(base + i, data.getInt32(base + i, true) ^ k, true);
          // (setUint8 keeps the low 8 bits of the XOR.)
          if (i < take) data.setUint8(base + i, data.getUint8(base + i) ^ k);
          if (i + 1 < take) data.setUint8(base + i + 1, data.getUint8(base + i + 1) ^ (k >>> 8));
          if (i + 2 < take) data.setUint8(base + i + 2, data.getUint8(base + i + 2) ^ (k >>> 16));
        } else {
          applyMask(view, keyBytes(this.#maskWord), phase);
        }
        this.#maskPhase = (phase + take) & 3;
      }
    }
    // Advance (take ≤ left: within this chunk).
    this.#available -= take;
    if (take < left) {
      this.#offset = offset + take;
    } else {
      this.#chunks[this.#head] = EMPTY; // let it be collected
      this.#head++;
      this.#offset = 0;
      this.#forgetView();
    }
    this.#remaining = remaining - take;
    this.payload = view;
    this.stored = stored;
    this.frameEnd = this.#remaining === 0;
    if (this.frameEnd) {
      this.#inPayload = false;
      this.#target = null;
    } else if (target !== null && this.#targetOffset === target.length) {
      this.#target = null; // full: in place again, unless the caller gives a larger one
    }
    return PAYLOAD;
  }

  /**
   * After a HEADER step of a frame whose payload is all in the chunk at hand
   * ({@link payloadInOneChunk}), with no {@link payloadInto} target: that payload, unmasked, and
   * the frame is done, as one PAYLOAD step would yield it (`payload` is not set). The common
   * case (a whole small message per read) in one call: a short data payload is unmasked where
   * it lies and viewed, the chunk's buffer cached only if more of the chunk follows; anything
   * else takes the PAYLOAD step. Throws (consuming nothing) if the payload is not all at hand.
   */
  wholePayload(): Uint8Array {
    if (!this.#inPayload) throw notAtHand();
    const n = this.#remaining;
    if (n === 0) {
      this.#endFrame(EMPTY);
      return EMPTY;
    }
    if (this.#available === 0) throw notAtHand();
    const chunk = this.#chunks[this.#head] ?? EMPTY;
    const offset = this.#offset;
    const end = offset + n;
    if (end > chunk.length) throw notAtHand();
    if (this.#target !== null) throw notAtHand(); // it goes to the target: PAYLOAD steps
    if (n > SHORT_BYTES || this.opcode >= 0x8) {
      this.#nextPayload(); // all at hand: one PAYLOAD step that ends the frame
      return this.payload;
    }
    let view: Uint8Array;
    if (this.#fresh) {
      view = new Uint8Array(n); // JavaScriptCore: an array of its own (see #nextPayload)
      copyUnmasked(chunk, offset, view, 0, n, this.#masked ? this.#maskWord : 0);
    } else {
      if (chunk !== this.#viewChunk && end < chunk.length) {
        // More frames follow in this chunk: cache its buffer for their views.
        this.#viewChunk = chunk;
        this.#viewBuffer = chunk.buffer;
        this.#viewBase = chunk.byteOffset;
        this.#viewData = null;
      }
      view =
        chunk === this.#viewChunk
          ? new Uint8Array(this.#viewBuffer, this.#viewBase + offset, n)
          : new Uint8Array(chunk.buffer, chunk.byteOffset + offset, n);
      // In place, byte by byte, on the view (always a plain Uint8Array, whatever the chunk is).
      if (this.#masked) copyUnmasked(view, 0, view, 0, n, this.#maskWord);
    }
    this.#available -= n;
    if (end < chunk.length) {
      this.#offset = end;
    } else {
      this.#chunks[this.#head] = EMPTY; // let it be collected
      this.#head++;
      this.#offset = 0;
      if (this.#viewChunk !== null) this.#forgetView();
    }
    this.#remaining = 0;
    this.#inPayload = false;
    this.frameEnd = true;
    return view;
  }

  /** The mask key rotated to the current phase: its low byte applies to the next payload byte. */
  #rotatedKey(): number {
    return rotateKey(this.#maskWord, this.#maskPhase);
  }

  /** Cache `chunk`'s buffer and offset for views of it (see #viewChunk). */
  #cacheView(chunk: Uint8Array): void {
    this.#viewChunk = chunk;
    this.#viewBuffer = chunk.buffer;
    this.#viewBase = chunk.byteOffset;
    this.#viewData = null;
  }

  #endFrame(payload: Uint8Array): void {
    this.payload = payload;
    this.stored = 0;
    this.frameEnd = true;
    this.#remaining = 0;
    this.#inPayload = false;
    this.#target = null;
  }

  #fail(code: ProtocolErrorCode, closeCode: number, message: string): ParseStep {
    this.errorCode = code;
    this.errorCloseCode = closeCode;
    this.errorMessage = message;
    // Nothing after a violation is ever parsed; let the buffered bytes go.
    this.#target = null;
    this.#forgetView();
    this.#chunks.length = 0;
    this.#head = 0;
    this.#offset = 0;
    this.#available = 0;
    return FAILED;
  }

  /** The head chunk is consumed: drop the cache of its buffer, which must not keep it alive. */
  #forgetView(): void {
    this.#viewChunk = null;
    this.#viewBuffer = EMPTY.buffer;
    this.#viewData = null;
  }

  /** Advance past `n` bytes (n ≤ available). */
  #skip(n: number): void {
    this.#available -= n;
    while (n > 0) {
      const chunk = this.#chunks[this.#head];
      if (chunk === undefined) return; // never: n ≤ available
      const left = chunk.length - this.#offset;
      if (n < left) {
        this.#offset += n;
        return;
      }
      n -= left;
      this.#chunks[this.#head] = EMPTY; // let it be collected
      this.#head++;
      this.#offset = 0;
      this.#forgetView();
    }
  }

  /**
   * Copy the next `n` bytes (n ≤ available, at most a control frame's 125) into `target`,
   * unmasked with the key word `key` (0: as they are), and advance.
   */
  #copyOut(target: Uint8Array, n: number, key: number): void {
    let written = 0;
    while (written < n) {
      const chunk = this.#chunks[this.#head];
      if (chunk === undefined) return; // never: n ≤ available
      const take = Math.min(n - written, chunk.length - this.#offset);
      // A byte loop: no view of the chunk (dear on JavaScriptCore, and `subarray` on a Node.js buffer).
      copyUnmasked(chunk, this.#offset, target, written, take, rotateKey(key, written & 3));
      written += take;
      this.#skip(take);
    }
  }
}

function notAtHand(): WebSocketUsageError {
  return new WebSocketUsageError(
    'INVALID_STATE',
    'wholePayload: no frame payload all in the chunk at hand, or it goes to a payloadInto target',
  );
}

// Header words. The header is whole in `bytes` when these run (#available was checked): the
// `?? 0` is for the type checker (`noUncheckedIndexedAccess`); the JIT drops it from an
// in-bounds typed-array load.

/** The unsigned 32-bit big-endian word at bytes[p..p+4) (a half of a 64-bit length, §5.2). */
function bigEndian32(bytes: Uint8Array, p: number): number {
  return (
    (((bytes[p] ?? 0) << 24) | ((bytes[p + 1] ?? 0) << 16) | ((bytes[p + 2] ?? 0) << 8) | (bytes[p + 3] ?? 0)) >>> 0
  );
}

/** The 32-bit word at bytes[p..p+4) with bytes[p] in the low byte (a mask key, as the parser keeps it). */
function littleEndian32(bytes: Uint8Array, p: number): number {
  return (bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8) | ((bytes[p + 2] ?? 0) << 16) | ((bytes[p + 3] ?? 0) << 24);
}

/**
 * Copy `n` bytes from `src` at `from` to `dst` at `to`, XORed with the key word `k` (low byte
 * first, already rotated to the phase; 0 copies plainly). `dst` may be `src` at the same
 * offset (in place). A byte loop, four bytes (one turn of the key) per turn: for short runs,
 * where making views for a word loop costs more. Reads are in bounds (`n` bytes are there); the
 * `?? 0` is for the type checker, dropped by the JIT.
 *
 * mask.ts's byte loops are alike; this one is kept apart on purpose: V8 keeps type feedback
 * per function, so it only ever sees the parser's arrays, whatever `applyMask`'s callers pass
 * there (Node.js Buffers in the codec benchmark).
 */
function copyUnmasked(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number, k: number): void {
  const k0 = k & 0xff,
    k1 = (k >>> 8) & 0xff,
    k2 = (k >>> 16) & 0xff,
    k3 = k >>> 24;
  let i = 0;
  for (const n4 = n - 3; i < n4; i += 4) {
    dst[to + i] = (src[from + i] ?? 0) ^ k0;
    dst[to + i + 1] = (src[from + i + 1] ?? 0) ^ k1;
    dst[to + i + 2] = (src[from + i + 2] ?? 0) ^ k2;
    dst[to + i + 3] = (src[from + i + 3] ?? 0) ^ k3;
  }
  if (i < n) dst[to + i] = (src[from + i] ?? 0) ^ k0;
  if (i + 1 < n) dst[to + i + 1] = (src[from + i + 1] ?? 0) ^ k1;
  if (i + 2 < n) dst[to + i + 2] = (src[from + i + 2] ?? 0) ^ k2;
}
