/**
 * The pure-JS {@link DeflateBackend} (`@ws/codec/pako`, an entry point of its own so that only
 * bundles that import it pay for pako's ≈ 12 KiB): pako 3 (a line-by-line JavaScript port of zlib 1.2/1.3),
 * used through its low-level zlib API so that a sync flush is a real `Z_SYNC_FLUSH` and the
 * inflater writes into a caller's buffer of fixed size (what bounds a decompression bomb).
 * Pure JS: no host APIs, no WebAssembly, synchronous; runs on Node, Deno, Bun, browsers and
 * bare engines such as QuickJS.
 *
 * Memory, as allocated by pako (w = windowBits, m = memLevel):
 * - deflater: window 2·2^w + prev 2·2^w + hash head 2·2^max(m+7, 15) + pending 4·2^(m+6) bytes,
 *   ≈ 256 KiB at w = 15, m = 8 (zlib's own figure is the same). For m < 8 the classic zlib hash is
 *   used so that its table shrinks with m (pako's faster default hash is fixed at 2^15 entries).
 * - inflater: window 2^w (allocated on first output) + ≈ 7 KiB of tables, ≈ 39 KiB at w = 15.
 * Output for `compress` goes through one module-wide 64 KiB scratch array (the engine is single
 * threaded and nothing re-enters), then is copied out at its exact size.
 */
import { concat } from 'uint8arrays/concat';
import {
  ZStream,
  Z_BUF_ERROR,
  Z_OK,
  Z_STREAM_END,
  Z_SYNC_FLUSH,
  zlibDeflate,
  zlibDeflateEnd,
  zlibDeflateInit2,
  zlibDeflateReset,
  zlibInflate,
  zlibInflateEnd,
  zlibInflateInit2,
  zlibInflateReset,
  zlibInflateResetKeep,
} from 'pako';
import type { DeflateBackend, DeflaterOptions, RawDeflater, RawInflater } from './deflate-backend.ts';
import type { ExtensionFactory } from './extension.ts';
import { permessageDeflate, type PerMessageDeflateOptions } from './permessage-deflate.ts';

const Z_DEFLATED = 8;
const Z_DEFAULT_STRATEGY = 0;
const EMPTY = new Uint8Array(0);
/** An empty stored block at a byte boundary: what a sync flush with nothing pending emits. */
const EMPTY_STORED_BLOCK = Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff);
const SCRATCH_SIZE = 64 * 1024;
let scratch: Uint8Array<ArrayBuffer> | null = null;

function checkInt(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer ${min}..${max}, got ${String(value)}`);
  }
}

class PakoDeflater implements RawDeflater {
  #strm: ZStream | null;

  constructor(options: DeflaterOptions) {
    checkInt('windowBits', options.windowBits, 8, 15);
    checkInt('memLevel', options.memLevel, 1, 9);
    checkInt('level', options.level, 0, 9);
    // zlib (and so pako) refuses windowBits 8 for raw deflate. With 9 it keeps every distance
    // ≤ 2^9 − 262 = 250 (MAX_DIST = w_size − MIN_LOOKAHEAD), which a 256-byte window holds.
    const windowBits = options.windowBits === 8 ? 9 : options.windowBits;
    const strm = (this.#strm = new ZStream());
    const status = zlibDeflateInit2(
      strm,
      options.level,
      Z_DEFLATED,
      -windowBits,
      options.memLevel,
      Z_DEFAULT_STRATEGY,
      options.memLevel < 8,
    );
    /* v8 ignore next */
    if (status !== Z_OK) throw new RangeError(`pako deflateInit2 failed (${status})`);
  }

  compress(input: Uint8Array): Uint8Array {
    const strm = this.#live();
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
    const out = (scratch ??= new Uint8Array(SCRATCH_SIZE));
    let first: Uint8Array | null = null;
    let parts: Uint8Array[] | null = null;
    let total = 0;
    for (;;) {
      strm.output = out;
      strm.next_out = 0;
      strm.avail_out = out.length;
      const status = zlibDeflate(strm, Z_SYNC_FLUSH);
      // Z_BUF_ERROR: nothing to do (no input, and the last call already flushed).
      /* v8 ignore next */
      if (status !== Z_OK && status !== Z_BUF_ERROR) throw new Error(`pako deflate failed (${status}): ${strm.msg}`);
      const n = strm.next_out;
      if (n > 0) {
        const piece = out.slice(0, n);
        if (first === null) first = piece;
        else (parts ??= [first]).push(piece);
        total += n;
      }
      // zlib: with output space left over, the flush is complete.
      if (strm.avail_out !== 0) break;
    }
    strm.input = EMPTY;
    strm.avail_in = 0;
    strm.output = EMPTY as Uint8Array<ArrayBuffer>;
    if (first === null) return EMPTY_STORED_BLOCK.slice();
    if (parts === null) return first;
    return concat(parts, total);
  }

  reset(): void {
    zlibDeflateReset(this.#live());
  }

  dispose(): void {
    if (this.#strm !== null) zlibDeflateEnd(this.#strm);
    this.#strm = null;
  }

  #live(): ZStream {
    if (this.#strm === null) throw new Error('deflater used after dispose()');
    return this.#strm;
  }
}

class PakoInflater implements RawInflater {
  #strm: ZStream | null;
  /** A final block (BFINAL = 1) ended in this message: ignore the rest of its bytes. */
  #ended = false;

  constructor(windowBits: number) {
    checkInt('windowBits', windowBits, 8, 15);
    const strm = (this.#strm = new ZStream());
    const status = zlibInflateInit2(strm, -windowBits);
    /* v8 ignore next */
    if (status !== Z_OK) throw new RangeError(`pako inflateInit2 failed (${status})`);
  }

  push(input: Uint8Array): void {
    const strm = this.#live();
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
  }

  pull(output: Uint8Array): number | string {
    const strm = this.#live();
    if (this.#ended) {
      strm.avail_in = 0;
      return 0;
    }
    // Called even without input: a match cut short by a full output is still pending.
    strm.output = output as Uint8Array<ArrayBuffer>;
    strm.next_out = 0;
    strm.avail_out = output.length;
    const status = zlibInflate(strm, Z_SYNC_FLUSH);
    const n = strm.next_out;
    if (status === Z_STREAM_END) {
      // RFC 7692 §7.2.3.4 allows a message to end with BFINAL = 1: the bytes after it (at
      // least our appended 00 00 ff ff) belong to no stream. The next message starts a new one.
      this.#ended = true;
      strm.avail_in = 0;
    } else if (status !== Z_OK && status !== Z_BUF_ERROR) {
      return strm.msg || `zlib status ${status}`;
    }
    return n;
  }

  endMessage(keepWindow: boolean): string | null {
    const strm = this.#live();
    strm.input = EMPTY;
    strm.avail_in = 0;
    strm.output = EMPTY as Uint8Array<ArrayBuffer>;
    let problem: string | null = null;
    if (this.#ended) {
      this.#ended = false;
      // A new stream starts; with context takeover its distances may still reach into the
      // previous messages' output, so keep the window (inflateResetKeep).
      if (keepWindow) {
        zlibInflateResetKeep(strm);
        return null;
      }
    } else {
      // data_type: +128 when inflate stopped right after a block ended (mode TYPE); the low bits
      // hold the bits left over, 0 after the empty stored block the tail restores.
      const type = strm.data_type;
      if ((type & 128) === 0 || (type & 63) !== 0) problem = 'compressed message ends inside a DEFLATE block';
      if (keepWindow) return problem;
    }
    zlibInflateReset(strm);
    return problem;
  }

  dispose(): void {
    if (this.#strm !== null) zlibInflateEnd(this.#strm);
    this.#strm = null;
  }

  #live(): ZStream {
    if (this.#strm === null) throw new Error('inflater used after dispose()');
    return this.#strm;
  }
}

/** The pure-JS backend every runtime can use (pako 3). */
export const pakoBackend: DeflateBackend = Object.freeze({
  name: 'pako',
  createDeflater: (options: DeflaterOptions): RawDeflater => new PakoDeflater(options),
  createInflater: (windowBits: number): RawInflater => new PakoInflater(windowBits),
});

/**
 * permessage-deflate (RFC 7692) as the codec's `permessageDeflate`, compressing with
 * {@link pakoBackend} unless `backend` says otherwise: what `@ws/codec/pako` exports.
 */
export function pakoPermessageDeflate(options: PerMessageDeflateOptions = {}): ExtensionFactory {
  // Anything but an options object goes through unchanged, for the codec's own error.
  if (typeof options !== 'object' || options === null || options.backend !== undefined)
    return permessageDeflate(options);
  return permessageDeflate({ ...options, backend: pakoBackend });
}
