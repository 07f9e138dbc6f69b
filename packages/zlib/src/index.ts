/**
 * A {@link DeflateBackend} on the host's native zlib through `node:zlib`, used by the
 * `permessageDeflate()` of `@ws/node`, `@ws/deno` and `@ws/bun` by default instead of the
 * codec's pure-JS pako backend (packages/bench/results/deflate.md has the measurements on Node;
 * on Deno and Bun a 4 KiB message's round trip takes 8-10 µs against 340-750 µs with pako).
 *
 * Node 20 has no public synchronous *streaming* zlib API: `deflateRawSync`/`inflateRawSync`
 * start a fresh stream on every call (no context takeover), and the stream classes are
 * asynchronous. Their native handle, however, has the synchronous `writeSync(flush, in, inOff,
 * inLen, out, outOff, outLen)` that Node's own `*Sync` functions run on (`processChunkSync` in
 * lib/zlib.js, unchanged from Node 12 to 24): one call of zlib's `deflate()`/`inflate()` with
 * the given buffers, after which `_writeState` holds `[avail_out, avail_in]`. Errors arrive
 * synchronously through `handle.onerror`, which we replace so that the stream object is never
 * destroyed behind our back. Nothing else of the stream object is used. {@link zlibBackend} is
 * null where that handle is missing or fails a round trip on known data at load (a runtime that
 * emulates `node:zlib` differently); callers then pass pako (`pakoBackend` from
 * `@ws/codec/pako`): pako is not bundled unless imported.
 *
 * Bounded inflation (decompression bombs): `pull` hands zlib exactly the caller's output buffer,
 * so one call never produces more than `output.length` bytes, as with pako.
 *
 * Differences from the pako backend:
 * - `endMessage` cannot tell a message that stops inside a block (zlib's `data_type` is not
 *   exposed): it returns null, as the interface allows. Such a message still fails as soon as
 *   the next one does not decode.
 * - A final block (BFINAL = 1) ends zlib's stream, and Node only offers `inflateReset`, which
 *   forgets the window. To keep context takeover across such a message (RFC 7692 §7.2.3.4) the
 *   inflater keeps a copy of the last 2^windowBits bytes it produced and restarts zlib with them
 *   as the preset dictionary. That copy costs 2^windowBits bytes per inflater (32 KiB by default).
 *
 * Memory (native, w = windowBits, m = memLevel): deflater ≈ 2^(w+2) + 2^(m+9) bytes by zlib's
 * formula (256 KiB at 15/8), inflater ≈ 2^w + 7 KiB plus the copy above; each also has a small
 * Node stream object (≈ 1–2 KiB of JS heap). Measured per connection with both directions taking
 * over context (Node 20, packages/bench/results/deflate.md): ≈ 270 KiB (ws: 255 KiB, pako: 295
 * KiB); without context takeover ≈ 7 KiB (the codec pools them; ws keeps 255 KiB). Small windows
 * save less than with pako: Node's bundled zlib keeps a larger hash table than the formula says
 * (a deflater at 10 bits / memLevel 5 measures ≈ 134 KiB RSS, ≈ 24 KiB at memLevel 1), so with
 * 10-bit windows and memLevel 5 a connection costs ≈ 104 KiB here against ≈ 44 KiB with pako.
 */
import zlib from 'node:zlib';
import { concat } from 'uint8arrays/concat';
import { WebSocketUsageError, permessageDeflate as codecPermessageDeflate } from '@ws/codec';
import type {
  DeflateBackend,
  DeflaterOptions,
  ExtensionFactory,
  PerMessageDeflateOptions,
  RawDeflater,
  RawInflater,
} from '@ws/codec';

/** The native handle of a Node zlib stream (lib/zlib.js, src/node_zlib.cc). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    output: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: ((message: string, errno: number) => void) | null;
}

interface ZlibStreamInternals {
  _handle: ZlibHandle | null;
  _writeState: Uint32Array;
}

const { Z_SYNC_FLUSH } = zlib.constants;
const EMPTY = new Uint8Array(0);
/** An empty stored block at a byte boundary: what a sync flush with nothing pending emits. */
const EMPTY_STORED_BLOCK = Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff);
const SCRATCH_SIZE = 64 * 1024;
/** Node's smallest `chunkSize`: the stream object's own output buffer, which we never use. */
const MIN_CHUNK = zlib.constants.Z_MIN_CHUNK;
let scratch: Uint8Array | null = null;

function checkInt(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer ${min}..${max}, got ${String(value)}`);
  }
}

/** The native handle and its write state, with our synchronous error hook. */
class Native {
  readonly handle: ZlibHandle;
  readonly #state: Uint32Array;
  error: string | null = null;

  constructor(stream: zlib.DeflateRaw | zlib.InflateRaw) {
    const internals = stream as unknown as ZlibStreamInternals;
    const handle = internals._handle;
    // Only after the self-test found the handle on a fresh stream (it is null once closed).
    /* v8 ignore next */
    if (handle === null) throw new Error('node:zlib stream without its native handle');
    this.handle = handle;
    this.#state = internals._writeState;
    handle.onerror = (message: string) => {
      this.error = message || 'zlib error';
    };
  }

  /** Output space zlib left unused in the last `writeSync` (`avail_out`; the state always has both entries). */
  get availOut(): number {
    return this.#state[0] ?? 0;
  }

  /** Input zlib left unread in the last `writeSync` (`avail_in`). */
  get availIn(): number {
    return this.#state[1] ?? 0;
  }

  close(): void {
    this.handle.onerror = null;
    this.handle.close();
  }
}

class ZlibDeflater implements RawDeflater {
  #native: Native | null;

  constructor(options: DeflaterOptions) {
    checkInt('windowBits', options.windowBits, 8, 15);
    checkInt('memLevel', options.memLevel, 1, 9);
    checkInt('level', options.level, 0, 9);
    // zlib refuses windowBits 8 for raw deflate (Node upgrades it to 9 itself). With 9 it keeps
    // every distance ≤ 2^9 − 262 = 250 (MAX_DIST), which a 256-byte window holds.
    const windowBits = options.windowBits === 8 ? 9 : options.windowBits;
    this.#native = new Native(
      zlib.createDeflateRaw({ windowBits, memLevel: options.memLevel, level: options.level, chunkSize: MIN_CHUNK }),
    );
  }

  compress(input: Uint8Array): Uint8Array {
    const native = this.#live();
    const handle = native.handle;
    const out = (scratch ??= new Uint8Array(SCRATCH_SIZE));
    let inOff = 0;
    let availIn = input.length;
    let first: Uint8Array | null = null;
    let parts: Uint8Array[] | null = null;
    let total = 0;
    for (;;) {
      handle.writeSync(Z_SYNC_FLUSH, input, inOff, availIn, out, 0, out.length);
      /* v8 ignore next */
      if (native.error !== null) throw new Error(`zlib deflate failed: ${native.error}`);
      const availOut = native.availOut;
      const n = out.length - availOut;
      const left = native.availIn;
      inOff += availIn - left;
      availIn = left;
      if (n > 0) {
        const piece = out.slice(0, n);
        if (first === null) first = piece;
        else (parts ??= [first]).push(piece);
        total += n;
      }
      // zlib: with output space left over, the flush is complete.
      if (availOut !== 0) break;
    }
    if (first === null) return EMPTY_STORED_BLOCK.slice();
    if (parts === null) return first;
    return concat(parts, total);
  }

  reset(): void {
    this.#live().handle.reset();
  }

  dispose(): void {
    this.#native?.close();
    this.#native = null;
  }

  #live(): Native {
    if (this.#native === null) throw new Error('deflater used after dispose()');
    return this.#native;
  }
}

class ZlibInflater implements RawInflater {
  readonly #windowBits: number;
  #native: Native | null;
  #input: Uint8Array = EMPTY;
  #inOff = 0;
  #availIn = 0;
  /** A final block (BFINAL = 1) ended zlib's stream in this message: ignore the rest of its bytes. */
  #ended = false;
  /** The last bytes produced, as a ring (see the file comment): `#tailFill` valid bytes ending before `#tailPos`. */
  #tail: Uint8Array | null = null;
  #tailPos = 0;
  #tailFill = 0;

  constructor(windowBits: number) {
    checkInt('windowBits', windowBits, 8, 15);
    this.#windowBits = windowBits;
    this.#native = ZlibInflater.#open(windowBits, undefined);
  }

  static #open(windowBits: number, dictionary: Uint8Array | undefined): Native {
    return new Native(
      zlib.createInflateRaw({ windowBits, chunkSize: MIN_CHUNK, ...(dictionary === undefined ? {} : { dictionary }) }),
    );
  }

  push(input: Uint8Array): void {
    this.#live();
    this.#input = input;
    this.#inOff = 0;
    this.#availIn = input.length;
  }

  pull(output: Uint8Array): number | string {
    const native = this.#live();
    if (this.#ended) {
      this.#release();
      return 0;
    }
    // Called even without input: a match cut short by a full output is still pending.
    native.handle.writeSync(Z_SYNC_FLUSH, this.#input, this.#inOff, this.#availIn, output, 0, output.length);
    if (native.error !== null) {
      this.#release();
      return native.error;
    }
    const n = output.length - native.availOut;
    const availIn = native.availIn;
    this.#inOff += this.#availIn - availIn;
    this.#availIn = availIn;
    if (n > 0) this.#keepTail(output, n);
    // Input left and output space left: zlib stopped at the end of a final block (Z_STREAM_END,
    // which Node does not report). RFC 7692 §7.2.3.4: the bytes after it belong to no stream.
    if (availIn > 0 && n < output.length) {
      this.#ended = true;
      this.#release();
    } else if (availIn === 0) {
      this.#release();
    }
    return n;
  }

  endMessage(keepWindow: boolean): string | null {
    const native = this.#live();
    this.#release();
    if (this.#ended) {
      this.#ended = false;
      if (keepWindow) {
        // A new stream starts whose distances may still reach into the previous output: restart
        // zlib with that output as its preset dictionary (it becomes the window).
        native.close();
        this.#native = ZlibInflater.#open(this.#windowBits, this.#tailBytes());
        return null;
      }
    } else if (keepWindow) {
      return null;
    }
    native.handle.reset();
    this.#tailFill = 0;
    this.#tailPos = 0;
    return null;
  }

  dispose(): void {
    this.#native?.close();
    this.#native = null;
    this.#tail = null;
    this.#release();
  }

  #release(): void {
    this.#input = EMPTY;
    this.#inOff = 0;
    this.#availIn = 0;
  }

  #keepTail(output: Uint8Array, n: number): void {
    const size = 1 << this.#windowBits;
    const tail = (this.#tail ??= new Uint8Array(size));
    if (n >= size) {
      tail.set(output.subarray(n - size, n), 0);
      this.#tailPos = 0;
      this.#tailFill = size;
      return;
    }
    const first = Math.min(n, size - this.#tailPos);
    tail.set(output.subarray(0, first), this.#tailPos);
    if (first < n) tail.set(output.subarray(first, n), 0);
    this.#tailPos = (this.#tailPos + n) % size;
    this.#tailFill = Math.min(size, this.#tailFill + n);
  }

  /** The kept bytes in order, oldest first. */
  #tailBytes(): Uint8Array | undefined {
    const tail = this.#tail;
    const fill = this.#tailFill;
    if (tail === null || fill === 0) return undefined;
    const result = new Uint8Array(fill);
    const start = (this.#tailPos - fill + tail.length) % tail.length;
    const first = Math.min(fill, tail.length - start);
    result.set(tail.subarray(start, start + first), 0);
    if (first < fill) result.set(tail.subarray(0, fill - first), first);
    return result;
  }

  #live(): Native {
    if (this.#native === null) throw new Error('inflater used after dispose()');
    return this.#native;
  }
}

/** The stream object has the native handle and write state the backend drives. */
function hasHandle(): boolean {
  try {
    const stream = zlib.createInflateRaw({ chunkSize: MIN_CHUNK }) as unknown as ZlibStreamInternals & {
      close(): void;
    };
    const ok = typeof stream._handle?.writeSync === 'function' && stream._writeState instanceof Uint32Array;
    stream.close();
    return ok;
  } catch {
    /* v8 ignore next */
    return false;
  }
}

/** Every byte of `b` equals `a`'s from `at` on. */
function matches(a: Uint8Array, at: number, b: Uint8Array): boolean {
  if (at + b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

/**
 * A round trip on known data through the native handle, run once at load: two messages
 * compressed with context takeover (the second one's matches reach into the first), the stream
 * checked against the public `inflateRawSync`, then inflated back through the handle with
 * bounded pulls. True only if every byte comes back. The handle is a Node internal (see the file
 * comment); it buys ≈ 3× pako's speed (bench:deflate --quick, 2026-12-07, MB/s per CPU-second
 * with context takeover: compress 4 KiB JSON 119 vs 38.7, 64 KiB 188 vs 66.7; decompress 64 KiB
 * JSON 608 vs 219), so it is kept, but only where this check passes.
 */
function selfTest(): boolean {
  if (!hasHandle()) return false;
  let deflater: ZlibDeflater | null = null;
  let inflater: ZlibInflater | null = null;
  try {
    let text = '';
    for (let i = 0; text.length < 3000; i++) text += `{"n":${(i * 7919) % 1000},"ok":${i % 3 === 0}},`;
    const first = new TextEncoder().encode(text);
    const second = new TextEncoder().encode(text.slice(100, 1100));
    deflater = new ZlibDeflater({ windowBits: 15, memLevel: 8, level: 1 });
    const firstWire = deflater.compress(first);
    const secondWire = deflater.compress(second);
    // Context takeover: the repeat costs a few bytes, not a second compression of its own.
    if (secondWire.length > 64) return false;
    const both = concat([first, second]);
    const checked = zlib.inflateRawSync(concat([firstWire, secondWire]), { finishFlush: Z_SYNC_FLUSH });
    if (checked.length !== both.length || !matches(checked, 0, both)) return false;
    inflater = new ZlibInflater(15);
    const out = new Uint8Array(700); // several bounded pulls per message
    for (let m = 0; m < 2; m++) {
      const expected = m === 0 ? first : second;
      inflater.push(m === 0 ? firstWire : secondWire);
      let at = 0;
      for (let n = out.length; n === out.length; at += n) {
        const pulled = inflater.pull(out);
        if (typeof pulled === 'string') return false;
        n = pulled;
        if (!matches(expected, at, out.subarray(0, n))) return false;
      }
      if (at !== expected.length || inflater.endMessage(true) !== null) return false;
    }
    return true;
  } catch {
    return false;
  } finally {
    deflater?.dispose();
    inflater?.dispose();
  }
}

/**
 * Node's zlib as a permessage-deflate backend, or null when this runtime's `node:zlib` lacks the
 * synchronous native handle it needs or the handle fails the round trip at load (then use the
 * codec's `pakoBackend`, pure JS: `permessageDeflate({ backend: pakoBackend })`, which also
 * turns this backend off where it works).
 */
export const zlibBackend: DeflateBackend | null = selfTest()
  ? Object.freeze({
      name: 'node:zlib',
      createDeflater: (options: DeflaterOptions): RawDeflater => new ZlibDeflater(options),
      createInflater: (windowBits: number): RawInflater => new ZlibInflater(windowBits),
    })
  : null;

let hostLevel: number | undefined;

/**
 * The level to use when the caller names none: the codec's default (1), unless this host's zlib
 * is a zlib-ng-style build (Deno's and Bun's are; Node's is classic zlib) whose level 1 is a
 * "quick" strategy with fixed Huffman codes only: there JSON-like text comes out about a third
 * larger than with classic zlib's (or pako's) level 1 (measured: 33.6 % against 24.6 % of a
 * 1 MiB JSON-like message), while its level 2 gives classic level 1's size and is still 4-8x
 * faster than pako. Decided once, by compressing a sample at both levels.
 */
export function defaultLevel(): number {
  if (hostLevel !== undefined) return hostLevel;
  const backend = zlibBackend;
  if (backend === null) return 1; // pako's level 1 is classic zlib's
  const words = ['alpha', 'beta', 'gamma', 'delta', 'user', 'price', 'status', 'ok', 'error', 'value'];
  let text = '';
  for (let i = 0; text.length < 16 * 1024; i++)
    text += `{"key":"${words[(i * 7) % 10]}","value":${(i * 7919) % 100_003},"ok":${i % 3 === 0}},`;
  const sample = new TextEncoder().encode(text);
  const size = (level: number): number => {
    const deflater = backend.createDeflater({ windowBits: 15, memLevel: 8, level });
    try {
      return deflater.compress(sample).length;
    } finally {
      deflater.dispose();
    }
  };
  hostLevel = size(1) > size(2) * 1.2 ? 2 : 1;
  return hostLevel;
}

/**
 * permessage-deflate (RFC 7692) for `extensions` on either side, as the codec's
 * `permessageDeflate`, but compressing with the host's zlib ({@link zlibBackend}) unless
 * `backend` says otherwise (e.g. the codec's `pakoBackend`). Without a `level`, the level is
 * {@link defaultLevel}'s.
 */
export function permessageDeflate(options: PerMessageDeflateOptions = {}): ExtensionFactory {
  // Anything but an options object goes through unchanged, for the codec's own error.
  if (typeof options !== 'object' || options === null || options.backend !== undefined)
    return codecPermessageDeflate(options);
  if (zlibBackend === null) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      "permessageDeflate: this runtime's node:zlib lacks the synchronous native handle @ws/zlib needs: pass { backend: pakoBackend } (import { pakoBackend } from '@ws/codec/pako', pure JS)",
    );
  }
  return codecPermessageDeflate({ ...options, level: options.level ?? defaultLevel(), backend: zlibBackend });
}
