/**
 * Two kinds of failure, split by blame (as h11 does):
 *
 * - The peer broke the protocol: never thrown out of the codec. It becomes a `protocol-error`
 *   event carrying one of the {@link ProtocolErrorCode}s below, the close code we send, and,
 *   during a server handshake, the HTTP status we answer with.
 * - The caller misused the API: thrown at once as a {@link WebSocketUsageError} (or a
 *   `TypeError`/`RangeError` subclass of it) with a message that says what was expected.
 */

/** What the peer did wrong. Named after the violation. */
export type ProtocolErrorCode =
  // HTTP head and handshake (RFC 6455 §4, RFC 9112)
  | 'HEAD_TOO_LARGE'
  | 'TOO_MANY_HEADERS'
  | 'MALFORMED_HEAD'
  | 'BAD_METHOD'
  | 'BAD_HTTP_VERSION'
  | 'MISSING_HOST'
  | 'BAD_UPGRADE'
  | 'BAD_CONNECTION'
  | 'BAD_KEY'
  | 'UNSUPPORTED_VERSION'
  | 'ORIGIN_NOT_ALLOWED'
  | 'BAD_STATUS'
  | 'BAD_ACCEPT'
  | 'UNEXPECTED_PROTOCOL'
  | 'UNEXPECTED_EXTENSION'
  | 'BAD_EXTENSION_HEADER'
  | 'HANDSHAKE_TIMEOUT'
  | 'EOF_IN_HANDSHAKE'
  // Plain HTTP requests beside WebSockets (RFC 9112 §6–§7)
  | 'BAD_BODY_FRAMING'
  | 'BAD_CHUNK'
  | 'BODY_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'EOF_IN_REQUEST'
  // Framing (§5)
  | 'RESERVED_BITS'
  | 'RESERVED_OPCODE'
  | 'CONTROL_FRAME_TOO_LONG'
  | 'FRAGMENTED_CONTROL_FRAME'
  | 'UNMASKED_FRAME_FROM_CLIENT'
  | 'MASKED_FRAME_FROM_SERVER'
  | 'BAD_LENGTH'
  | 'FRAME_TOO_LARGE'
  // Messages (§5.4, §8.1)
  | 'UNEXPECTED_CONTINUATION'
  | 'EXPECTED_CONTINUATION'
  | 'INVALID_UTF8'
  | 'MESSAGE_TOO_LARGE'
  | 'TOO_MANY_FRAGMENTS'
  // Extensions (RFC 7692 and others)
  | 'EXTENSION_ERROR'
  // Close (§5.5.1, §7.4)
  | 'BAD_CLOSE_PAYLOAD'
  | 'BAD_CLOSE_CODE'
  // Timeouts and liveness
  | 'PONG_TIMEOUT'
  | 'IDLE_TIMEOUT'
  | 'CLOSE_TIMEOUT';

/** What the caller did wrong. */
export type UsageErrorCode =
  | 'INVALID_STATE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CLOSE_CODE'
  | 'REASON_TOO_LONG'
  | 'CONTROL_PAYLOAD_TOO_LONG'
  | 'NO_RANDOM_SOURCE'
  | 'INVALID_URL';

/** Thrown when the caller uses the codec wrongly. `code` says which rule was broken. */
export class WebSocketUsageError extends Error {
  readonly code: UsageErrorCode;
  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.name = 'WebSocketUsageError';
    this.code = code;
  }
}

/** Describe a value for an error message: `string "abc"`, `number 3`, `Uint8Array(4)`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
