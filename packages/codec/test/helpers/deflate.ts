// DEFLATE tools for permessage-deflate tests: an independent, slow decoder (after zlib's puff.c)
// that reports the longest back-reference a stream uses, and a bit writer to hand-craft streams
// (bombs, bad distances) that no compressor would produce.

const LBASE = [
  3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
];
const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DBASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
  8193, 12289, 16385, 24577,
];
const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order code-length code lengths are sent in (RFC 1951 §3.2.7). */
export const CLORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Huffman {
  count: Int32Array;
  symbol: Int32Array;
}

function huffman(lengths: ArrayLike<number>, n: number): Huffman {
  const count = new Int32Array(16);
  const symbol = new Int32Array(n);
  for (let s = 0; s < n; s++) count[lengths[s]!]!++;
  const offs = new Int32Array(16);
  for (let len = 1; len < 15; len++) offs[len + 1] = offs[len]! + count[len]!;
  for (let s = 0; s < n; s++) if (lengths[s] !== 0) symbol[offs[lengths[s]!]!++] = s;
  return { count, symbol };
}

const FIXED_LENGTHS = Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8));
const FIXED_LIT = huffman(FIXED_LENGTHS, 288);
const FIXED_DIST = huffman(new Array(30).fill(5), 30);

/**
 * Decode a raw DEFLATE stream that ends at a block boundary (as a sync-flushed stream does).
 * Returns the output and the longest distance any back-reference used; throws on bad data.
 */
export function auditDeflate(data: Uint8Array): { output: Uint8Array; maxDistance: number } {
  let pos = 0;
  let bitbuf = 0;
  let bitcnt = 0;
  let out = new Uint8Array(1024);
  let n = 0;
  let maxDistance = 0;
  const bits = (need: number): number => {
    let value = bitbuf;
    while (bitcnt < need) {
      if (pos >= data.length) throw new Error('out of input');
      value |= data[pos++]! << bitcnt;
      bitcnt += 8;
    }
    bitbuf = value >>> need;
    bitcnt -= need;
    return value & ((1 << need) - 1);
  };
  const put = (byte: number): void => {
    if (n === out.length) {
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out[n++] = byte;
  };
  const decode = (h: Huffman): number => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= bits(1);
      const count = h.count[len]!;
      if (code - count < first) return h.symbol[index + (code - first)]!;
      index += count;
      first += count;
      first <<= 1;
      code <<= 1;
    }
    throw new Error('bad code');
  };
  const codes = (lit: Huffman, dist: Huffman): void => {
    for (;;) {
      const symbol = decode(lit);
      if (symbol < 256) put(symbol);
      else if (symbol === 256) return;
      else {
        const s = symbol - 257;
        if (s >= 29) throw new Error('bad length symbol');
        const length = LBASE[s]! + bits(LEXT[s]!);
        const d = decode(dist);
        if (d >= 30) throw new Error('bad distance symbol');
        const distance = DBASE[d]! + bits(DEXT[d]!);
        if (distance > n) throw new Error('distance too far back');
        if (distance > maxDistance) maxDistance = distance;
        for (let i = 0; i < length; i++) put(out[n - distance]!);
      }
    }
  };
  for (;;) {
    if (pos === data.length && bitcnt === 0) break;
    const last = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitbuf = 0;
      bitcnt = 0;
      if (pos + 4 > data.length) throw new Error('out of input');
      const len = data[pos]! | (data[pos + 1]! << 8);
      const nlen = data[pos + 2]! | (data[pos + 3]! << 8);
      if (len !== (~nlen & 0xffff)) throw new Error('stored length mismatch');
      pos += 4;
      if (pos + len > data.length) throw new Error('out of input');
      for (let i = 0; i < len; i++) put(data[pos++]!);
    } else if (type === 1) {
      codes(FIXED_LIT, FIXED_DIST);
    } else if (type === 2) {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      const lengths = new Array<number>(320).fill(0);
      for (let i = 0; i < ncode; i++) lengths[CLORDER[i]!] = bits(3);
      const lencode = huffman(lengths, 19);
      const all = new Array<number>(nlen + ndist).fill(0);
      for (let i = 0; i < nlen + ndist; ) {
        const symbol = decode(lencode);
        if (symbol < 16) all[i++] = symbol;
        else {
          let value = 0;
          let repeat: number;
          if (symbol === 16) {
            if (i === 0) throw new Error('repeat with no first length');
            value = all[i - 1]!;
            repeat = 3 + bits(2);
          } else if (symbol === 17) repeat = 3 + bits(3);
          else repeat = 11 + bits(7);
          if (i + repeat > nlen + ndist) throw new Error('too many lengths');
          while (repeat--) all[i++] = value;
        }
      }
      codes(huffman(all.slice(0, nlen), nlen), huffman(all.slice(nlen), ndist));
    } else {
      throw new Error('invalid block type');
    }
    if (last) break;
  }
  return { output: out.slice(0, n), maxDistance };
}

/** Writes DEFLATE bit fields (LSB first) and Huffman codes (MSB of the code first). */
export class BitWriter {
  #bytes: Uint8Array;
  #pos = 0;
  constructor(capacity: number) {
    this.#bytes = new Uint8Array(capacity);
  }
  bits(value: number, count: number): this {
    for (let i = 0; i < count; i++, this.#pos++)
      if ((value >> i) & 1) this.#bytes[this.#pos >> 3]! |= 1 << (this.#pos & 7);
    return this;
  }
  code(code: number, length: number): this {
    for (let i = length - 1; i >= 0; i--, this.#pos++)
      if ((code >> i) & 1) this.#bytes[this.#pos >> 3]! |= 1 << (this.#pos & 7);
    return this;
  }
  /** `count` zero bits. */
  zeros(count: number): this {
    this.#pos += count;
    return this;
  }
  /** The bytes written, the last one padded with zero bits. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, Math.ceil(this.#pos / 8));
  }
}

/**
 * A decompression bomb as a permessage-deflate payload (tail removed): one dynamic block whose
 * only codes are "literal 0" (2 bits), "length 258" (1 bit), "distance 1" (1 bit) and end of
 * block, so each 2 bits inflate to 258 zero bytes — DEFLATE's maximum ratio, ≈ 1032:1.
 * Inflates to 1 + 258 × `repeats` bytes.
 */
export function deflateBomb(repeats: number): Uint8Array {
  const w = new BitWriter(Math.ceil(repeats / 4) + 64);
  w.bits(0, 1).bits(2, 2); // not final, dynamic Huffman
  w.bits(286 - 257, 5)
    .bits(1 - 1, 5)
    .bits(18 - 4, 4); // HLIT 286, HDIST 1, HCLEN 18
  const codeLengthLengths: Record<number, number> = { 18: 1, 1: 2, 2: 2 }; // codes: 18 → 0, 1 → 10, 2 → 11
  for (let i = 0; i < 18; i++) w.bits(codeLengthLengths[CLORDER[i]!] ?? 0, 3);
  const zerosRun = (count: number): void => void w.code(0b0, 1).bits(count - 11, 7);
  // Literal/length lengths: 0 → 2, 1..255 → 0, 256 → 2, 257..284 → 0, 285 → 1; distance 0 → 1.
  w.code(0b11, 2);
  zerosRun(138);
  zerosRun(117);
  w.code(0b11, 2);
  zerosRun(28);
  w.code(0b10, 2);
  w.code(0b10, 2);
  // Canonical codes: 285 → 0, literal 0 → 10, end of block → 11; distance 0 → 0.
  w.code(0b10, 2); // one zero byte
  w.zeros(2 * repeats); // (length 258, distance 1) × repeats
  w.code(0b11, 2); // end of block
  w.bits(0, 3); // the sync flush's empty stored block header; its 00 00 ff ff is left out
  return w.finish();
}

/**
 * A fixed-Huffman block: the literals of `prefix`, then a back-reference of length 3 at
 * `distance`, then the end of block and a sync flush header (tail left out).
 */
export function fixedBlockWithDistance(prefix: Uint8Array, distance: number): Uint8Array {
  const w = new BitWriter(prefix.length * 2 + 32);
  w.bits(0, 1).bits(1, 2);
  for (const byte of prefix) {
    if (byte < 144) w.code(0x30 + byte, 8);
    else w.code(0x190 + byte - 144, 9);
  }
  w.code(1, 7); // length symbol 257 = length 3
  let d = 0;
  while (d + 1 < DBASE.length && DBASE[d + 1]! <= distance) d++;
  w.code(d, 5).bits(distance - DBASE[d]!, DEXT[d]!);
  w.code(0, 7); // end of block
  w.bits(0, 3);
  return w.finish();
}
