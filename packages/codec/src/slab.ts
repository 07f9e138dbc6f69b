/**
 * Whether the codec gives the small byte arrays it makes (payloads it parses, frames it
 * serializes) memory of their own instead of views of shared buffers. Views suit V8 (the
 * default): there a `new Uint8Array(n)` past 64 bytes is an off-heap allocation (≈ 0.5 µs) and
 * a view ≈ 40 ns. Fresh arrays suit JavaScriptCore, where it is the other way round: a view
 * costs ≈ 275 ns (Bun 1.4, 34 bytes), and a first view of a small array that has no
 * ArrayBuffer yet ≈ 1 µs more, while a fresh array of up to {@link FRESH_MAX} bytes costs ≈ 55 ns.
 * Set by an adapter for its engine (`@ws/bun` turns it on); it changes speed, never results.
 */
export let freshArrays = false;

/** Turn {@link freshArrays} on or off (process-wide: it describes the engine). */
export function useFreshArrays(on: boolean): void {
  freshArrays = on;
}

/** With {@link freshArrays}, arrays up to this many bytes are fresh (JavaScriptCore keeps such small ones in its GC heap). */
export const FRESH_MAX = 1000;

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
