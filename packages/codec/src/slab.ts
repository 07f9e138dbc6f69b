/**
 * Byte arrays from shared slabs, for the codec's small output. Whether a connection takes them
 * from a slab or gives each its own memory is its `engine.freshArrays` option (see
 * `engine-tuning.ts`): per connection, never a process-wide switch.
 */

/** With `freshArrays`, arrays up to this many bytes are fresh (JavaScriptCore keeps such small ones in its GC heap). */
export const FRESH_MAX = 1000;

/**
 * Small byte arrays cut from shared ArrayBuffers, as Node.js's buffer pool does: one view of a
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
    let buffer = this.#buffer;
    if (buffer === null || this.#offset + n > this.size) {
      buffer = this.#buffer = new ArrayBuffer(this.size);
      this.#offset = 0;
    }
    const view = new Uint8Array(buffer, this.#offset, n);
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

/**
 * Arrays of at most this many bytes are cut from a shared 64 KiB slab instead of getting an
 * ArrayBuffer each, as Node's pool does for its small buffers: on V8 `new Uint8Array(n)` costs
 * ≈ 0.5 µs past 64 bytes (an off-heap allocation), and a smaller one lives on the heap until a
 * host reads its `.buffer` (Node's socket.write does, for every chunk), which then moves it
 * off-heap, dearer still. A slice of the slab is ≈ 40 ns. Up to a quarter of a slab: an 8 KB
 * echo then costs 18 % fewer instructions (binary) than with a 4 KiB cut-off, and a slab still
 * ends with at most a quarter of it unused.
 */
const SMALL_MAX = 16 * 1024;
const small = new Slab(64 * 1024);

/**
 * A fresh, zeroed array of `n` bytes for output the codec makes (frames, heads): a view of the
 * shared slab when small, or with `fresh` (the connection's `engine.freshArrays`: JavaScriptCore)
 * an array of its own, as a view of a slab is the dear one there (a fresh array is no slower up
 * to 4 KiB on Bun 1.4).
 */
export function smallArray(n: number, fresh: boolean): Uint8Array {
  return n > SMALL_MAX || fresh ? new Uint8Array(n) : small.alloc(n);
}
