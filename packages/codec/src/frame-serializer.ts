/**
 * Frame serializer (RFC 6455 §5.2): header, 7/16/64-bit payload length, optional mask key and
 * masked payload. It encodes whatever it is given, including frames the protocol forbids
 * (reserved opcodes, RSV bits, long or fragmented control frames), so a conformance tester can
 * send them; keeping to the rules (§5.4, §5.5) is the connection's job.
 */
import { smallArray } from './slab.ts';
import { WebSocketUsageError, describe } from './errors.ts';
import { maskCopy } from './mask.ts';

/**
 * Server payloads of at least this many bytes go out as their own chunk after the header
 * instead of being copied next to it. Measured on Node 20 over loopback (socket.write of one
 * copied buffer vs cork + two writes): the copy is as fast or faster up to 32 KiB, even at
 * 64 KiB, and slower from 128 KiB; past this size it would also double peak memory.
 */
export const COPY_THRESHOLD = 64 * 1024;

/** Bytes of the frame header for a payload of `payloadLength` bytes (§5.2). */
export function frameHeaderLength(payloadLength: number, masked: boolean): number {
  return (payloadLength < 126 ? 2 : payloadLength <= 0xffff ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Append the wire bytes of one frame to `out`; returns the bytes appended.
 *
 * - Server (`maskKey` null): a payload under {@link COPY_THRESHOLD} is copied with the header
 *   into one buffer; a larger one is pushed as `[header, payload]` without a copy, so the caller
 *   must not change it until it is written.
 * - Client (`maskKey` given, 4 bytes): one buffer, header + masked copy of the payload; the
 *   caller's bytes are never changed.
 *
 * `rsv` holds RSV1–RSV3 as the low three bits (RSV1 = 4, e.g. permessage-deflate's bit).
 * `fresh`: a connection's `engine.freshArrays` (small frames get memory of their own instead of
 * a view of a shared slab; see `engine-tuning.ts`).
 */
export function serializeFrame(
  out: Uint8Array[],
  fin: boolean,
  rsv: number,
  opcode: number,
  payload: Uint8Array,
  maskKey: Uint8Array | null,
  fresh = false,
): number {
  if ((rsv & 7) !== rsv) throw bad('rsv', 'an integer 0..7', rsv);
  if ((opcode & 15) !== opcode) throw bad('opcode', 'an integer 0..15', opcode);
  if (!(payload instanceof Uint8Array)) throw bad('payload', 'a Uint8Array', payload);
  const masked = maskKey !== null;
  if (masked && !(maskKey instanceof Uint8Array && maskKey.length === 4)) {
    throw bad('mask key', 'a 4-byte Uint8Array or null', maskKey);
  }
  const n = payload.length;
  const headerLength = frameHeaderLength(n, masked);
  const total = headerLength + n;

  if (!masked && n >= COPY_THRESHOLD) {
    const header = new Uint8Array(headerLength);
    writeHeader(header, 0, fin, rsv, opcode, n, false);
    out.push(header, payload);
    return total;
  }

  if (!masked) {
    out.push(unmaskedFrame(firstByte(fin, rsv, opcode), payload, fresh));
    return total;
  }
  const frame = smallArray(total, fresh);
  const at = writeHeader(frame, 0, fin, rsv, opcode, n, true);
  writeKey(frame, at, maskKey);
  maskCopy(payload, frame, at + 4, maskKey);
  out.push(frame);
  return total;
}

/** A frame's first byte: FIN, RSV1–3 (`rsv`'s low three bits), opcode. */
export function firstByte(fin: boolean, rsv: number, opcode: number): number {
  return (fin ? 0x80 : 0) | (rsv << 4) | opcode;
}

/**
 * @internal A server frame (unmasked) of a payload under {@link COPY_THRESHOLD} bytes: header and
 * payload copied into one buffer. For the codec's own frames, whose arguments are known to be
 * valid: nothing is checked (`b0` from {@link firstByte}; `fresh` as for {@link serializeFrame}).
 */
export function unmaskedFrame(b0: number, payload: Uint8Array, fresh: boolean): Uint8Array {
  const n = payload.length;
  // Under COPY_THRESHOLD (64 KiB): a 7-bit or a 16-bit length (§5.2).
  const at = n < 126 ? 2 : 4;
  const frame = smallArray(at + n, fresh);
  frame[0] = b0;
  if (at === 2) {
    frame[1] = n;
  } else {
    frame[1] = 126;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  }
  if (n < 16) {
    // A byte loop only for the shortest: from 16 bytes `set` costs less (Node 20, Deno 2.9).
    for (let i = 0; i < n; i++) frame[at + i] = payload[i] ?? 0; // (i < n: `?? 0` for the type checker)
  } else {
    frame.set(payload, at);
  }
  return frame;
}

/**
 * Write a frame header (§5.2) into `dst` at `offset`, mask key included when given, for a
 * payload of `payloadLength` bytes the caller will place right after it (e.g. text encoded in
 * place). Returns the header length, {@link frameHeaderLength}.
 */
export function writeFrameHeader(
  dst: Uint8Array,
  offset: number,
  fin: boolean,
  rsv: number,
  opcode: number,
  payloadLength: number,
  maskKey: Uint8Array | null,
): number {
  if ((rsv & 7) !== rsv) throw bad('rsv', 'an integer 0..7', rsv);
  if ((opcode & 15) !== opcode) throw bad('opcode', 'an integer 0..15', opcode);
  if (!(Number.isSafeInteger(payloadLength) && payloadLength >= 0)) {
    throw bad('payload length', 'an integer 0..2^53-1', payloadLength);
  }
  const masked = maskKey !== null;
  if (masked && !(maskKey instanceof Uint8Array && maskKey.length === 4)) {
    throw bad('mask key', 'a 4-byte Uint8Array or null', maskKey);
  }
  const length = frameHeaderLength(payloadLength, masked);
  if (!(offset >= 0 && offset + length <= dst.length)) {
    throw bad('header space', `${length} bytes at offset ${offset}`, dst);
  }
  const at = offset + writeHeader(dst, offset, fin, rsv, opcode, payloadLength, masked);
  if (masked) writeKey(dst, at, maskKey);
  return length;
}

/**
 * A mask key (checked: 4 bytes) into `dst` at `at`. `?? 0` is for the type checker
 * (`noUncheckedIndexedAccess`); the JIT drops it from an in-bounds typed-array load.
 */
function writeKey(dst: Uint8Array, at: number, key: Uint8Array): void {
  dst[at] = key[0] ?? 0;
  dst[at + 1] = key[1] ?? 0;
  dst[at + 2] = key[2] ?? 0;
  dst[at + 3] = key[3] ?? 0;
}

/** Write the header from `o` up to (not including) the mask key; returns its length so far. */
function writeHeader(
  buf: Uint8Array,
  o: number,
  fin: boolean,
  rsv: number,
  opcode: number,
  n: number,
  masked: boolean,
): number {
  buf[o] = firstByte(fin, rsv, opcode);
  const maskBit = masked ? 0x80 : 0;
  if (n < 126) {
    buf[o + 1] = maskBit | n;
    return 2;
  }
  if (n <= 0xffff) {
    // §5.2: 126, then a 16-bit length in network byte order.
    buf[o + 1] = maskBit | 126;
    buf[o + 2] = n >>> 8;
    buf[o + 3] = n & 0xff;
    return 4;
  }
  // §5.2: 127, then a 64-bit length (most significant bit 0), written as two 32-bit halves
  // since lengths are at most Number.MAX_SAFE_INTEGER (2^53 − 1).
  buf[o + 1] = maskBit | 127;
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  buf[o + 2] = hi >>> 24;
  buf[o + 3] = (hi >>> 16) & 0xff;
  buf[o + 4] = (hi >>> 8) & 0xff;
  buf[o + 5] = hi & 0xff;
  buf[o + 6] = lo >>> 24;
  buf[o + 7] = (lo >>> 16) & 0xff;
  buf[o + 8] = (lo >>> 8) & 0xff;
  buf[o + 9] = lo & 0xff;
  return 10;
}

function bad(what: string, expected: string, got: unknown): WebSocketUsageError {
  return new WebSocketUsageError('INVALID_ARGUMENT', `frame ${what} must be ${expected}, got ${describe(got)}`);
}
