/**
 * SHA-1 (FIPS 180-4 §6.1), one-shot, for the handshake's accept key (RFC 6455 §4.2.2) and
 * nothing else: SHA-1 is broken for signatures, and here it only proves that a server read the
 * key. Our own ≈ 0.5 KiB (minified and gzipped) instead of a hashing library's ≈ 1.7 KiB, so the
 * codec's core stays within its size budget. No allocation for an input under 64 bytes (an accept key's is 60): the message schedule
 * and the last blocks live in module-wide scratch (the engine is single-threaded and nothing re-enters).
 */

/** The 80-word message schedule. */
const W = new Int32Array(80);
/** The last one or two blocks: the input's tail, the 0x80 marker, zeros and the bit length. */
const TAIL = new Uint8Array(128);
const TAIL_VIEW = new DataView(TAIL.buffer);
/** The hash state H0–H4. (Module-level `let`s instead cost ≈ 30 %: a hole check per access.) */
const STATE = new Int32Array(5);

// `W[i] ?? 0`, `STATE[i] ?? 0`: every index below is within its array; the `?? 0` is for the type
// checker (`noUncheckedIndexedAccess`), and the JIT drops it from an in-bounds typed-array load.
function block(view: DataView, offset: number): void {
  for (let i = 0; i < 16; i++) W[i] = view.getInt32(offset + i * 4);
  for (let i = 16; i < 80; i++) {
    const x = (W[i - 3] ?? 0) ^ (W[i - 8] ?? 0) ^ (W[i - 14] ?? 0) ^ (W[i - 16] ?? 0);
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = STATE[0] ?? 0;
  let b = STATE[1] ?? 0;
  let c = STATE[2] ?? 0;
  let d = STATE[3] ?? 0;
  let e = STATE[4] ?? 0;
  for (let i = 0; i < 80; i++) {
    const f =
      i < 20
        ? ((b & c) | (~b & d)) + 0x5a827999
        : i < 40
          ? (b ^ c ^ d) + 0x6ed9eba1
          : i < 60
            ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc
            : (b ^ c ^ d) + 0xca62c1d6;
    const t = (((a << 5) | (a >>> 27)) + f + e + (W[i] ?? 0)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  // (An Int32Array keeps the sums modulo 2^32.)
  STATE[0] = (STATE[0] ?? 0) + a;
  STATE[1] = (STATE[1] ?? 0) + b;
  STATE[2] = (STATE[2] ?? 0) + c;
  STATE[3] = (STATE[3] ?? 0) + d;
  STATE[4] = (STATE[4] ?? 0) + e;
}

/** Write SHA-1(`input`) into `out` (20 bytes). */
export function sha1Into(input: Uint8Array, out: Uint8Array): void {
  STATE[0] = 0x67452301;
  STATE[1] = 0xefcdab89;
  STATE[2] = 0x98badcfe;
  STATE[3] = 0x10325476;
  STATE[4] = 0xc3d2e1f0;
  const length = input.length;
  const whole = length - (length % 64);
  if (whole > 0) {
    // Longer than an accept key's 60 bytes: whole blocks straight from the input.
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    for (let offset = 0; offset < whole; offset += 64) block(view, offset);
  }
  const rest = length - whole;
  TAIL.fill(0);
  TAIL.set(input.subarray(whole), 0);
  TAIL[rest] = 0x80;
  const end = rest < 56 ? 64 : 128;
  // The length in bits, big-endian, in the last 8 bytes (2^53 bits is far beyond any key).
  TAIL_VIEW.setUint32(end - 8, Math.floor(length / 0x20000000));
  TAIL_VIEW.setUint32(end - 4, (length * 8) >>> 0);
  block(TAIL_VIEW, 0);
  if (end === 128) block(TAIL_VIEW, 64);
  for (let i = 0; i < 20; i++) out[i] = (STATE[i >> 2] ?? 0) >>> (24 - (i & 3) * 8);
}
