// Incremental frame reader for what the peer sends: any split of the byte stream, whole frames
// out. It reports header facts (FIN, RSV, opcode, mask bit) without judging them — the fuzz
// connection judges — and unmasks masked payloads. Payloads are kept whole (up to `maxPayload`),
// since the suite compares echoed messages byte for byte.
import { Buffer } from 'node:buffer';
import { applyMask } from './frame.ts';

export interface ReadFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

export type ReadResult = { type: 'frame'; frame: ReadFrame } | { type: 'too-large'; length: number };

export class FrameReader {
  readonly #maxPayload: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#buffered += chunk.length;
  }

  /** The next complete frame, or null when more bytes are needed. */
  next(): ReadResult | null {
    if (this.#buffered < 2) return null;
    const head = this.#peek(Math.min(this.#buffered, 14));
    const b0 = head[0]!;
    const b1 = head[1]!;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (head.length < 4) return null;
      length = head.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (head.length < 10) return null;
      const big = head.readBigUInt64BE(2);
      offset = 10;
      if (big > BigInt(this.#maxPayload)) return { type: 'too-large', length: Number(big) };
      length = Number(big);
    }
    if (length > this.#maxPayload) return { type: 'too-large', length };
    const total = offset + (masked ? 4 : 0) + length;
    if (this.#buffered < total) return null;
    const bytes = this.#take(total);
    const key = masked ? bytes.subarray(offset, offset + 4) : null;
    const payload = Buffer.from(bytes.subarray(total - length)); // own copy
    if (key) applyMask(payload, key);
    return { type: 'frame', frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked, payload } };
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.#chunks, this.#buffered).subarray(0, n);
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#chunks, this.#buffered);
      out = all.subarray(0, n);
      this.#chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.#buffered -= n;
    return out;
  }
}
