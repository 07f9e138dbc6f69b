/**
 * Payload masking (RFC 6455 §5.3): byte i of a frame's payload is XORed with key[i mod 4].
 * Masking and unmasking are the same operation. Short payloads go byte by byte; medium runs a
 * 32-bit word at a time over the 4-byte-aligned part of the buffer; long runs (≥ 1 KiB) through
 * a tiny WebAssembly SIMD module (`v128.xor`) when the host has WebAssembly, else words too.
 * Choosing keys is random.ts's job; when to mask (client → server only, §5.1) is the caller's.
 */
import { WebSocketUsageError, describe } from './errors.ts';

/**
 * Below this many bytes the unrolled byte loop wins. The word pass reuses one Int32Array over
 * the whole ArrayBuffer of the last buffer it saw (every frame of a socket read shares one), so
 * it rarely pays for creating a view (≈ 40–80 ns). Measured on Node 20 (x64): break-even ≈ 64 B.
 */
const WORD_MIN = 64;

/**
 * From this many bytes, the WebAssembly path: it copies 16 KiB blocks into its memory, XORs them
 * 64 bytes per turn with SIMD and copies them back, ≈ 2.5× the JS word loop from 4 KiB up
 * (Node 20, x64: 9–10 vs 3.8 GB/s at 1 MiB). Break-even with the word loop ≈ 768 B.
 */
const WASM_MIN = 1024;
const WASM_BLOCK = 16 * 1024;

// Typed-array reads below are in bounds by construction (each loop is bounded by the array's
// length or a range checked against it; key.length is 4). `noUncheckedIndexedAccess` cannot see
// that, so they read `a[i] ?? 0`: the JIT types an in-bounds typed-array load as a number and
// drops the fallback (a 64 KiB byte and word loop measured the same with and without it). The
// loops keep their shape on purpose: a restructured version (the key as one rotated word, short
// runs through shared helpers) measured level in one process but 0.84–0.97× in the codec
// benchmark's separate processes at 16 B, where this one is level.

/** The key word `k` (key[0] in the low byte) advanced by `n` bytes (0..3). */
export function rotateKey(k: number, n: number): number {
  // No branch for n = 0: a shift count is taken modulo 32, so `k << 32` is `k`.
  const shift = n << 3;
  return (k >>> shift) | (k << (32 - shift));
}

/** Scratch that turns 4 key bytes into one word in memory order, whatever the endianness. */
const KEY_BYTES = new Uint8Array(4);
const KEY_WORD = new Int32Array(KEY_BYTES.buffer);

/** The word view of the last ArrayBuffer masked (one buffer kept: the last socket read's). */
let wordsBuffer: ArrayBufferLike | null = null;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

function wordsOf(buffer: ArrayBufferLike): Int32Array {
  if (buffer !== wordsBuffer) {
    words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    // A resizable buffer's length may change under a fixed view: never keep one.
    wordsBuffer = (buffer as { resizable?: boolean }).resizable === true ? null : buffer;
  }
  return words;
}

/**
 * Unmask (or mask) `data` in place with the 4-byte `key`. `offset` is the phase: how many bytes
 * of this frame's payload came before `data`, so a payload that arrives in pieces can be
 * unmasked piece by piece.
 */
export function applyMask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  if (key.length !== 4) throw badKey(key);
  maskRange(data, 0, data.length, key, offset & 3);
}

/**
 * Copy `src` into `dst` at `dstOffset`, masked with `key`, key[phase] applying to src[0]. `src`
 * is left untouched, so a client can mask a caller's payload while building its frame, and a
 * receiver can unmask a payload straight into the message it assembles (one pass, no copy after).
 */
export function maskCopy(src: Uint8Array, dst: Uint8Array, dstOffset: number, key: Uint8Array, phase = 0): void {
  if (key.length !== 4) throw badKey(key);
  const n = src.length;
  if (!(dstOffset >= 0 && dstOffset + n <= dst.length)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `maskCopy: ${n} bytes do not fit in ${describe(dst)} at offset ${dstOffset}`,
    );
  }
  const p = phase & 3;
  if (n < WORD_MIN) {
    const k0 = key[p] ?? 0,
      k1 = key[(p + 1) & 3] ?? 0,
      k2 = key[(p + 2) & 3] ?? 0,
      k3 = key[(p + 3) & 3] ?? 0;
    let i = 0;
    let j = dstOffset;
    for (const n4 = n - 3; i < n4; i += 4, j += 4) {
      dst[j] = (src[i] ?? 0) ^ k0;
      dst[j + 1] = (src[i + 1] ?? 0) ^ k1;
      dst[j + 2] = (src[i + 2] ?? 0) ^ k2;
      dst[j + 3] = (src[i + 3] ?? 0) ^ k3;
    }
    for (; i < n; i++, j++) dst[j] = (src[i] ?? 0) ^ (key[(p + i) & 3] ?? 0);
    return;
  }
  const simd = n >= WASM_MIN ? wasmMask() : null;
  if (simd !== null) {
    // Each block: copy in, XOR, copy out to dst: one pass over dst instead of copy + mask.
    const k = keyInt(key, p);
    const body = n & ~63;
    for (let i = 0; i < body; i += WASM_BLOCK) {
      const m = body - i < WASM_BLOCK ? body - i : WASM_BLOCK;
      simd.memory.set(new Uint8Array(src.buffer, src.byteOffset + i, m));
      simd.xor(0, m, k);
      dst.set(m === WASM_BLOCK ? simd.block : new Uint8Array(simd.memory.buffer, 0, m), dstOffset + i);
    }
    for (let i = body; i < n; i++) dst[dstOffset + i] = (src[i] ?? 0) ^ (key[(p + i) & 3] ?? 0);
    return;
  }
  // The native copy is far faster than any JS loop (> 100 GB/s), so copy, then mask in place
  // with aligned words: src and dst rarely share an alignment, a word-wise copy would need it.
  dst.set(src, dstOffset);
  maskRange(dst, dstOffset, dstOffset + n, key, p);
}

/** XOR buf[start..end) with key, key[phase] applying at `start`. */
function maskRange(buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): void {
  let i = start;
  let p = phase;
  const simd = end - start >= WASM_MIN ? wasmMask() : null;
  if (simd !== null) {
    // Blocks of whole 64-byte units (which keep the phase): copy in, XOR, copy back.
    const k = keyInt(key, p);
    const bodyEnd = start + ((end - start) & ~63);
    for (; i < bodyEnd; i += WASM_BLOCK) {
      const m = bodyEnd - i < WASM_BLOCK ? bodyEnd - i : WASM_BLOCK;
      simd.memory.set(new Uint8Array(buf.buffer, buf.byteOffset + i, m));
      simd.xor(0, m, k);
      buf.set(m === WASM_BLOCK ? simd.block : new Uint8Array(simd.memory.buffer, 0, m), i);
    }
    i = bodyEnd;
  } else if (end - start >= WORD_MIN) {
    // Head: bytes until the absolute address is a multiple of 4.
    const headEnd = i + ((4 - ((buf.byteOffset + i) & 3)) & 3);
    for (; i < headEnd; i++, p++) buf[i] = (buf[i] ?? 0) ^ (key[p & 3] ?? 0);
    // Body: words. KEY_BYTES holds the key rotated to the current phase, in memory order.
    KEY_BYTES[0] = key[p & 3] ?? 0;
    KEY_BYTES[1] = key[(p + 1) & 3] ?? 0;
    KEY_BYTES[2] = key[(p + 2) & 3] ?? 0;
    KEY_BYTES[3] = key[(p + 3) & 3] ?? 0;
    const k = KEY_WORD[0] ?? 0;
    const count = (end - i) >>> 2;
    const words = wordsOf(buf.buffer);
    let w = (buf.byteOffset + i) >>> 2;
    const wEnd = w + count;
    for (const c4 = wEnd - 3; w < c4; w += 4) {
      words[w] = (words[w] ?? 0) ^ k;
      words[w + 1] = (words[w + 1] ?? 0) ^ k;
      words[w + 2] = (words[w + 2] ?? 0) ^ k;
      words[w + 3] = (words[w + 3] ?? 0) ^ k;
    }
    for (; w < wEnd; w++) words[w] = (words[w] ?? 0) ^ k;
    i += count << 2; // whole words keep the phase
  }
  // Short runs and the tail: bytes, four per turn.
  const k0 = key[p & 3] ?? 0,
    k1 = key[(p + 1) & 3] ?? 0,
    k2 = key[(p + 2) & 3] ?? 0,
    k3 = key[(p + 3) & 3] ?? 0;
  for (const e4 = end - 3; i < e4; i += 4) {
    buf[i] = (buf[i] ?? 0) ^ k0;
    buf[i + 1] = (buf[i + 1] ?? 0) ^ k1;
    buf[i + 2] = (buf[i + 2] ?? 0) ^ k2;
    buf[i + 3] = (buf[i + 3] ?? 0) ^ k3;
  }
  for (let q = 0; i < end; i++, q++) buf[i] = (buf[i] ?? 0) ^ (key[(p + q) & 3] ?? 0);
}

/** The key rotated to `phase`, as the i32 whose little-endian bytes (WebAssembly's order) are the key. */
function keyInt(key: Uint8Array, phase: number): number {
  return (
    (key[phase & 3] ?? 0) |
    ((key[(phase + 1) & 3] ?? 0) << 8) |
    ((key[(phase + 2) & 3] ?? 0) << 16) |
    ((key[(phase + 3) & 3] ?? 0) << 24)
  );
}

// ---------------------------------------------------------------------------------------------
// WebAssembly SIMD. The whole module, hand-assembled (144 bytes):
//
//   (module
//     (memory (export "m") 2)                         ;; 128 KiB; one 16 KiB block is used
//     (func (export "x") (param $p i32) (param $n i32) (param $k i32) (local $v v128)
//       ;; XOR $n bytes at $p ($n a multiple of 64) with $k repeated
//       (local.set $v (i32x4.splat (local.get $k)))
//       (block (loop
//         (br_if 1 (i32.eqz (local.get $n)))
//         (v128.store offset=0  (local.get $p) (v128.xor (v128.load offset=0  (local.get $p)) (local.get $v)))
//         ... the same at offsets 16, 32 and 48 ...
//         (local.set $p (i32.add (local.get $p) (i32.const 64)))
//         (local.set $n (i32.sub (local.get $n) (i32.const 64)))
//         (br 0)))))
//
// Hosts without WebAssembly (QuickJS, some embedded engines) or without SIMD (a CompileError)
// keep the JS word loop.

const LANE = (offset: number): number[] => [
  0x20,
  0x00,
  0x20,
  0x00,
  0xfd,
  0x00,
  0x00,
  offset,
  0x20,
  0x03,
  0xfd,
  0x51,
  0xfd,
  0x0b,
  0x00,
  offset,
];
const BODY = [
  0x01,
  0x01,
  0x7b, // one local: v128
  0x20,
  0x02,
  0xfd,
  0x11,
  0x21,
  0x03, // $v = i32x4.splat($k)
  0x02,
  0x40,
  0x03,
  0x40, // block, loop
  0x20,
  0x01,
  0x45,
  0x0d,
  0x01, // br_if 1 (n == 0)
  ...LANE(0),
  ...LANE(16),
  ...LANE(32),
  ...LANE(48),
  0x20,
  0x00,
  0x41,
  0xc0,
  0x00,
  0x6a,
  0x21,
  0x00, // p += 64
  0x20,
  0x01,
  0x41,
  0xc0,
  0x00,
  0x6b,
  0x21,
  0x01, // n -= 64
  0x0c,
  0x00,
  0x0b,
  0x0b,
  0x0b, // br 0, end loop, end block, end func
];
const MODULE = [
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00, // \0asm, version 1
  0x01,
  0x07,
  0x01,
  0x60,
  0x03,
  0x7f,
  0x7f,
  0x7f,
  0x00, // types: (i32 i32 i32) -> ()
  0x03,
  0x02,
  0x01,
  0x00, // functions: one of type 0
  0x05,
  0x03,
  0x01,
  0x00,
  0x02, // memory: min 2 pages
  0x07,
  0x09,
  0x02,
  0x01,
  0x6d,
  0x02,
  0x00,
  0x01,
  0x78,
  0x00,
  0x00, // exports: "m" memory 0, "x" func 0
  0x0a,
  BODY.length + 2,
  0x01,
  BODY.length,
  ...BODY, // code
];

interface WasmHost {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
interface SimdMask {
  /** The module's memory (never grown, so never detached). */
  memory: Uint8Array;
  /** Its first WASM_BLOCK bytes. */
  block: Uint8Array;
  xor: (p: number, n: number, k: number) => void;
}

/** undefined: not tried yet; null: this host cannot. */
let simdMask: SimdMask | null | undefined;
let simdEnabled = true;

function wasmMask(): SimdMask | null {
  if (!simdEnabled) return null;
  if (simdMask !== undefined) return simdMask;
  simdMask = null;
  try {
    const host = (globalThis as { WebAssembly?: WasmHost }).WebAssembly;
    if (typeof host === 'object' && host !== null) {
      const { exports } = new host.Instance(new host.Module(new Uint8Array(MODULE)), {});
      const memory = new Uint8Array((exports.m as { buffer: ArrayBuffer }).buffer);
      simdMask = { memory, block: memory.subarray(0, WASM_BLOCK), xor: exports.x as SimdMask['xor'] };
    }
  } catch {
    // No WebAssembly SIMD here (or compiling is forbidden, e.g. by a CSP): the JS loop it is.
  }
  return simdMask;
}

/** @internal Tests: force the pure-JS paths (false) or allow WebAssembly again (true); returns whether it is available. */
export function useWasmMask(enabled: boolean): boolean {
  simdEnabled = enabled;
  return enabled && wasmMask() !== null;
}

function badKey(key: Uint8Array): WebSocketUsageError {
  return new WebSocketUsageError('INVALID_ARGUMENT', `mask key: expected 4 bytes, got ${describe(key)}`);
}
