/**
 * Small byte arrays cut from shared ArrayBuffers, as Node's Buffer pool does: one view of a
 * slab instead of an ArrayBuffer per array (the frame serializer's small frames; an adapter's
 * copies of small reads). Memory is never reused: a full slab is dropped, and collected once the
 * last view of it is. Views are 8-byte aligned.
 */
export class Slab {
  readonly size: number;
  #buffer: ArrayBuffer | null = null;
  #offset: number;

  /** `size`: bytes per slab; every `alloc` must ask for at most that. */
  constructor(size: number) {
    this.size = size;
    this.#offset = size; // full: the first alloc makes a slab
  }

  /** A fresh, zeroed view of `n` bytes (n ≤ size) that no other alloc shares. */
  alloc(n: number): Uint8Array {
    if (this.#offset + n > this.size) {
      this.#buffer = new ArrayBuffer(this.size);
      this.#offset = 0;
    }
    const view = new Uint8Array(this.#buffer!, this.#offset, n);
    this.#offset = (this.#offset + n + 7) & ~7;
    return view;
  }

  /** A copy of `source` in a view of the slab (source.length ≤ size). */
  copy(source: Uint8Array): Uint8Array {
    const view = this.alloc(source.length);
    view.set(source);
    return view;
  }
}
