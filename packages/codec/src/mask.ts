/**
 * Payload masking (RFC 6455 §5.3): byte i of a frame's payload is XORed with key[i mod 4].
 * Masking and unmasking are the same operation. Long runs go a 32-bit word at a time over the
 * 4-byte-aligned part of the buffer; the ends and short payloads go byte by byte.
 * Choosing keys is random.ts's job; when to mask (client → server only, §5.1) is the caller's.
 */
import { WebSocketUsageError, describe } from './errors.ts';

/**
 * Below this many bytes the unrolled byte loop wins: a word pass must first create an
 * Int32Array view (≈ 80 ns). Measured on Node 20 (x64): break-even between 64 and 128 bytes.
 */
const WORD_MIN = 128;

/** Scratch that turns 4 key bytes into one word in memory order, whatever the endianness. */
const KEY_BYTES = new Uint8Array(4);
const KEY_WORD = new Int32Array(KEY_BYTES.buffer);

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
 * Copy `src` into `dst` at `dstOffset`, masked with `key` (phase 0). `src` is left untouched,
 * so a client can mask a caller's payload while building its frame.
 */
export function maskCopy(src: Uint8Array, dst: Uint8Array, dstOffset: number, key: Uint8Array): void {
  if (key.length !== 4) throw badKey(key);
  const n = src.length;
  if (!(dstOffset >= 0 && dstOffset + n <= dst.length)) {
    throw new WebSocketUsageError(
      'INVALID_ARGUMENT',
      `maskCopy: ${n} bytes do not fit in ${describe(dst)} at offset ${dstOffset}`,
    );
  }
  if (n < WORD_MIN) {
    const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!;
    let i = 0;
    let j = dstOffset;
    for (const n4 = n - 3; i < n4; i += 4, j += 4) {
      dst[j] = src[i]! ^ k0;
      dst[j + 1] = src[i + 1]! ^ k1;
      dst[j + 2] = src[i + 2]! ^ k2;
      dst[j + 3] = src[i + 3]! ^ k3;
    }
    for (; i < n; i++, j++) dst[j] = src[i]! ^ key[i & 3]!;
    return;
  }
  // The native copy is far faster than any JS loop (> 100 GB/s), so copy, then mask in place
  // with aligned words: src and dst rarely share an alignment, a word-wise copy would need it.
  dst.set(src, dstOffset);
  maskRange(dst, dstOffset, dstOffset + n, key, 0);
}

/** XOR buf[start..end) with key, key[phase] applying at `start`. */
function maskRange(buf: Uint8Array, start: number, end: number, key: Uint8Array, phase: number): void {
  let i = start;
  let p = phase;
  if (end - start >= WORD_MIN) {
    // Head: bytes until the absolute address is a multiple of 4.
    const headEnd = i + ((4 - ((buf.byteOffset + i) & 3)) & 3);
    for (; i < headEnd; i++, p++) buf[i] = buf[i]! ^ key[p & 3]!;
    // Body: words. KEY_BYTES holds the key rotated to the current phase, in memory order.
    KEY_BYTES[0] = key[p & 3]!;
    KEY_BYTES[1] = key[(p + 1) & 3]!;
    KEY_BYTES[2] = key[(p + 2) & 3]!;
    KEY_BYTES[3] = key[(p + 3) & 3]!;
    const k = KEY_WORD[0]!;
    const count = (end - i) >>> 2;
    const words = new Int32Array(buf.buffer, buf.byteOffset + i, count);
    let w = 0;
    for (const c4 = count - 3; w < c4; w += 4) {
      words[w] = words[w]! ^ k;
      words[w + 1] = words[w + 1]! ^ k;
      words[w + 2] = words[w + 2]! ^ k;
      words[w + 3] = words[w + 3]! ^ k;
    }
    for (; w < count; w++) words[w] = words[w]! ^ k;
    i += count << 2; // whole words keep the phase
  }
  // Short runs and the tail: bytes, four per turn.
  const k0 = key[p & 3]!, k1 = key[(p + 1) & 3]!, k2 = key[(p + 2) & 3]!, k3 = key[(p + 3) & 3]!;
  for (const e4 = end - 3; i < e4; i += 4) {
    buf[i] = buf[i]! ^ k0;
    buf[i + 1] = buf[i + 1]! ^ k1;
    buf[i + 2] = buf[i + 2]! ^ k2;
    buf[i + 3] = buf[i + 3]! ^ k3;
  }
  for (let q = 0; i < end; i++, q++) buf[i] = buf[i]! ^ key[(p + q) & 3]!;
}

function badKey(key: Uint8Array): WebSocketUsageError {
  return new WebSocketUsageError('INVALID_ARGUMENT', `mask key: expected 4 bytes, got ${describe(key)}`);
}
