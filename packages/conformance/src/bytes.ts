// Small byte helpers for building wire data by hand. Node's Buffer is fine here: the conformance
// suite runs on Node (it drives sockets with node:net), unlike the isomorphic codec.
import { Buffer } from 'node:buffer';

export type Bytes = Uint8Array;

/** UTF-8 bytes of a string, or the bytes themselves. */
export function toBytes(data: string | Uint8Array): Bytes {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Bytes from a hex string (spaces ignored). */
export function hex(text: string): Bytes {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** `pattern` repeated (and cut) to exactly `length` bytes. */
export function repeatTo(pattern: string | Uint8Array, length: number): Bytes {
  const unit = toBytes(pattern);
  const out = Buffer.allocUnsafe(length);
  if (length === 0) return out;
  if (unit.length === 0) throw new RangeError('cannot repeat an empty pattern to a non-zero length');
  out.set(unit.subarray(0, Math.min(unit.length, length)), 0);
  // Double the filled prefix until full: O(log n) copies.
  let filled = Math.min(unit.length, length);
  while (filled < length) {
    const n = Math.min(filled, length - filled);
    out.copyWithin(filled, 0, n);
    filled += n;
  }
  return out;
}

export function concat(parts: readonly Uint8Array[]): Bytes {
  return Buffer.concat(parts);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** Hex of at most `max` bytes, with an ellipsis and the total length when cut. */
export function hexPreview(data: Uint8Array, max = 32): string {
  const shown = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, max)).toString('hex');
  return data.length > max ? `${shown}… (${data.length} bytes)` : shown;
}
