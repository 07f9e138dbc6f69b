/** What `send()`, `ping()` and `pong()` accept, turned into the codec's types without copying. */
import { WebSocketUsageError, describe } from '../errors.ts';
import { encodeUtf8 } from '../utf8.ts';

export type BinaryData = Uint8Array | ArrayBuffer | ArrayBufferView;
export type SendData = string | BinaryData;

/** A view of `data`'s bytes (no copy); throws INVALID_ARGUMENT for anything else. */
export function toBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw new WebSocketUsageError(
    'INVALID_ARGUMENT',
    `${what} must be a string, ArrayBuffer or ArrayBufferView, got ${describe(data)}`,
  );
}

/** Control frame payload: bytes or a string (UTF-8), absent = empty. */
export function controlBytes(data: unknown, what: string): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const bytes = typeof data === 'string' ? encodeUtf8(data) : toBytes(data, what);
  if (bytes.length > 125) {
    throw new WebSocketUsageError(
      'CONTROL_PAYLOAD_TOO_LONG',
      `${what} is at most 125 bytes (RFC 6455 §5.5), got ${bytes.length}`,
    );
  }
  return bytes;
}
