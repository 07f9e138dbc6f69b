/**
 * A small, fast, seedable PRNG (sfc32) and the choices the generators make with it. Every fuzz
 * case is generated from its own `Rng(seed, index)`, so case N of a run is reproducible alone.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number, index = 0) {
    this.#a = seed >>> 0;
    this.#b = (index * 0x9e3779b9) >>> 0;
    this.#c = ((index / 0x1_0000_0000) >>> 0) ^ 0x243f6a88;
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    this.#c = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A small size, biased towards 0 and towards the edges of the 7/16/64-bit length encodings. */
  size(max = 300): number {
    switch (this.int(8)) {
      case 0:
        return 0;
      case 1:
        return this.range(1, 4);
      case 2:
        return this.pick([124, 125, 126, 127, 128, 255, 256]);
      case 3:
        return this.chance(0.02) ? this.pick([65535, 65536, 65537]) : this.range(0, 40);
      default:
        return this.int(max + 1);
    }
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const x = this.u32();
      out[i] = x;
      if (i + 1 < n) out[i + 1] = x >>> 8;
      if (i + 2 < n) out[i + 2] = x >>> 16;
      if (i + 3 < n) out[i + 3] = x >>> 24;
    }
    return out;
  }
}
