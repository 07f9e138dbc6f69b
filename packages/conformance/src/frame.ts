// Frames built byte by byte (RFC 6455 §5.2), including illegal ones: any opcode 0..15, any RSV
// bits, FIN off on control frames, control payloads over 125 bytes, a mask or none regardless of
// role. Nothing here validates; that is the point.
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { repeatTo, toBytes, type Bytes } from './bytes.ts';

export const Op = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export const Close = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  mandatoryExtension: 1010,
  internalError: 1011,
} as const;

export const isControlOpcode = (opcode: number): boolean => opcode >= 0x8;
export const isKnownOpcode = (opcode: number): boolean => opcode <= 0x2 || (opcode >= 0x8 && opcode <= 0xa);

/**
 * Close codes a peer may put on the wire (RFC 6455 §7.4, the IANA registry): 1000–1003, 1007–1011
 * (1012–1014 are registered since; 1004–1006 and 1015 must never be sent), and 3000–4999.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

export interface FrameSpec {
  opcode: number;
  /** Default true. */
  fin?: boolean;
  /** The three RSV bits as a number 0..7 (RSV1 = 4). Default 0. */
  rsv?: number;
  /** Default empty. */
  payload?: string | Uint8Array;
  /** Repeat `payload` to this many bytes (Autobahn's payload_len). */
  payloadLength?: number;
}

// Masking keys come from a pool refilled 4 KiB at a time: one randomBytes call per key costs
// tens of microseconds, which adds up over 65536 frames (9.3.1).
let pool = randomBytes(4096);
let poolAt = 0;

/** A random 4-byte masking key. */
export function newMaskKey(): Bytes {
  if (poolAt + 4 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  poolAt += 4;
  return pool.subarray(poolAt - 4, poolAt);
}

/** XOR `data` with `key` in place, starting at key offset `offset` (for masking in pieces). */
export function applyMask(data: Uint8Array, key: Uint8Array, offset = 0): void {
  for (let i = 0; i < data.length; i++) data[i]! ^= key[(i + offset) & 3]!;
}

/** Header bytes for a frame of `length` payload bytes. */
export function encodeHeader(
  opcode: number,
  fin: boolean,
  rsv: number,
  length: number,
  maskKey: Uint8Array | null,
): Bytes {
  const extra = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + extra + (maskKey ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  const maskBit = maskKey ? 0x80 : 0;
  if (extra === 0) header[1] = maskBit | length;
  else if (extra === 2) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (maskKey) header.set(maskKey, 2 + extra);
  return header;
}

/** The payload a spec describes (before masking). */
export function framePayload(spec: FrameSpec): Bytes {
  const payload = toBytes(spec.payload ?? '');
  return spec.payloadLength === undefined ? payload : repeatTo(payload, spec.payloadLength);
}

/** Header and (masked, when a key is given) payload of one frame, as one buffer. */
export function encodeFrame(spec: FrameSpec, maskKey: Uint8Array | null): Bytes {
  const payload = framePayload(spec);
  const header = encodeHeader(spec.opcode, spec.fin ?? true, spec.rsv ?? 0, payload.length, maskKey);
  const out = Buffer.allocUnsafe(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  if (maskKey) applyMask(out.subarray(header.length), maskKey);
  return out;
}

/** A close frame's payload: optional code, then optional reason bytes (not validated). */
export function closePayload(code?: number, reason?: string | Uint8Array): Bytes {
  const parts: Uint8Array[] = [];
  if (code !== undefined) {
    const c = Buffer.alloc(2);
    c.writeUInt16BE(code & 0xffff);
    parts.push(c);
  }
  if (reason !== undefined) parts.push(toBytes(reason));
  return Buffer.concat(parts);
}
