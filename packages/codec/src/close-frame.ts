/**
 * Close frame payloads (RFC 6455 §5.5.1): empty, or a 2-byte status code in network byte order
 * followed by a UTF-8 reason. Parsing reads a peer's payload (never throws); building checks a
 * caller's code and reason (throws). When to send or echo a Close is the connection's job.
 */
import { isValidWireCloseCode } from './close-code.ts';
import { WebSocketUsageError, describe } from './errors.ts';
import type { ProtocolErrorCode } from './errors.ts';
import { decodeUtf8, encodeUtf8Into, isValidUtf8, utf8ByteLength } from './utf8.ts';

/** A control frame carries at most 125 payload bytes (§5.5), 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

export type ClosePayload =
  | { ok: true /** 1005 when the payload is empty (§7.1.5). */; code: number; reason: string }
  | {
      ok: false;
      code: Extract<ProtocolErrorCode, 'BAD_CLOSE_PAYLOAD' | 'BAD_CLOSE_CODE' | 'INVALID_UTF8'>;
      /** The close code to fail the connection with. */
      closeCode: 1002 | 1007;
      message: string;
    };

/** Read a peer's Close payload. */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  const n = payload.length;
  // §7.1.5: no status code in the frame → the connection close code is 1005.
  if (n === 0) return { ok: true, code: 1005, reason: '' };
  // §5.5.1: if there is a body, its first two bytes are the code; one byte cannot be.
  if (n === 1) {
    return {
      ok: false,
      code: 'BAD_CLOSE_PAYLOAD',
      closeCode: 1002,
      message: 'close payload of 1 byte: a status code takes 2',
    };
  }
  const code = ((payload[0] ?? 0) << 8) | (payload[1] ?? 0); // at least two bytes here
  // §7.4.1, §7.4.2: reserved and unassigned codes must not be sent, so receiving one fails.
  if (!isValidWireCloseCode(code)) {
    return {
      ok: false,
      code: 'BAD_CLOSE_CODE',
      closeCode: 1002,
      message: `close code ${code} is not allowed on the wire`,
    };
  }
  if (n === 2) return { ok: true, code, reason: '' };
  // §5.5.1: the reason is UTF-8; invalid text data fails with 1007 (§8.1, §7.4.1).
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) {
    return { ok: false, code: 'INVALID_UTF8', closeCode: 1007, message: 'close reason is not valid UTF-8' };
  }
  return { ok: true, code, reason: decodeUtf8(reasonBytes) };
}

/**
 * Build the payload of a Close we send. No code → empty payload (a reason needs a code). The
 * code must be one an application may send: 1000–1003, 1007–1014 or 3000–4999. The reason
 * must fit in {@link MAX_CLOSE_REASON_BYTES} UTF-8 bytes; lone surrogates become U+FFFD.
 */
export function buildClosePayload(code?: number, reason?: string): Uint8Array {
  if (reason !== undefined && typeof reason !== 'string') {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `close reason: expected a string, got ${describe(reason)}`);
  }
  if (code === undefined) {
    if (reason !== undefined && reason !== '') {
      throw new WebSocketUsageError('INVALID_ARGUMENT', 'close reason given without a close code');
    }
    return new Uint8Array(0);
  }
  if (!isSendableCloseCode(code)) {
    throw new WebSocketUsageError(
      'INVALID_CLOSE_CODE',
      `close code: expected 1000–1003, 1007–1014 or 3000–4999, got ${describe(code)}`,
    );
  }
  const text = reason ?? '';
  const length = text.length === 0 ? 0 : utf8ByteLength(text);
  if (length > MAX_CLOSE_REASON_BYTES) {
    throw new WebSocketUsageError(
      'REASON_TOO_LONG',
      `close reason: at most ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes, got ${length}`,
    );
  }
  const out = new Uint8Array(2 + length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  if (length > 0) encodeUtf8Into(text, out, 2);
  return out;
}

/** Codes we may send are exactly those valid on the wire (§7.4.1, §7.4.2). */
function isSendableCloseCode(code: unknown): code is number {
  return typeof code === 'number' && isValidWireCloseCode(code);
}
