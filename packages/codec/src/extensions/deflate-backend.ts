/**
 * The compressor behind permessage-deflate (RFC 7692), as a small synchronous interface over raw
 * DEFLATE (RFC 1951, no zlib or gzip wrapper). The codec ships a pure-JS backend
 * (`pako-backend.ts`) that runs on every engine; an adapter may plug in a faster native one
 * (e.g. Node's zlib) by implementing these three types. Framing, the `00 00 ff ff` tail,
 * context takeover decisions and limits stay in `permessage-deflate.ts`.
 */

/** How to build a compressor. */
export interface DeflaterOptions {
  /**
   * 8–15: the peer's LZ77 window (RFC 7692 §7.1.2). Every back-reference the stream contains must
   * reach at most 2^windowBits bytes back. zlib refuses 8 for raw deflate; a zlib deflater built
   * with 9 qualifies, because zlib never emits a distance above 2^windowBits − 262 (= 250 for 9).
   */
  windowBits: number;
  /** 1–9, zlib's memLevel: the size of the hash table and of the pending-symbol buffer. */
  memLevel: number;
  /** 0–9, zlib's compression level (0 = stored blocks only). */
  level: number;
}

/** A raw DEFLATE compressor that keeps its window between calls (context takeover). */
export interface RawDeflater {
  /**
   * Compress `input` and sync-flush (RFC 7692 §7.2.1): the result always ends with an empty
   * stored block whose last four bytes are `00 00 ff ff`, even for empty input. The result is a
   * new array the caller owns.
   */
  compress(input: Uint8Array): Uint8Array;
  /** Forget the window: the next `compress` starts a stream with no history (no context takeover). */
  reset(): void;
  /** Free the state. The deflater is not used afterwards. */
  dispose(): void;
}

/** A raw DEFLATE decompressor whose output is pulled in bounded pieces. */
export interface RawInflater {
  /**
   * The next compressed bytes. Called only once the previous input is used up (a `pull`
   * returned less than it was asked for). The inflater may keep a reference until then.
   */
  push(input: Uint8Array): void;
  /**
   * Inflate pending input into `output`, from index 0, never more than `output.length` bytes.
   * Returns the number written, which is less than `output.length` only when the pending input
   * is used up; or a description when the input is not valid DEFLATE. Bytes after the end of a
   * final block (BFINAL = 1) are ignored until `endMessage`.
   */
  pull(output: Uint8Array): number | string;
  /**
   * A message's bytes, tail included, have all been pushed and pulled. Prepares for the next
   * message: keeps the window when `keepWindow` (context takeover), else forgets it. Returns a
   * description if the stream stopped inside a block (the message was cut short), else null;
   * a backend that cannot tell returns null.
   */
  endMessage(keepWindow: boolean): string | null;
  /** Free the state. The inflater is not used afterwards. */
  dispose(): void;
}

/** Makes compressors and decompressors. Must be synchronous; need not be thread-safe. */
export interface DeflateBackend {
  readonly name: string;
  /** Throws a RangeError for options outside the ranges documented on {@link DeflaterOptions}. */
  createDeflater(options: DeflaterOptions): RawDeflater;
  /**
   * `windowBits` 8–15: the largest window the peer may use. Streams that reach further back
   * than the window must fail (or may succeed, if the backend cannot tell).
   */
  createInflater(windowBits: number): RawInflater;
}
