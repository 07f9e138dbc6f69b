/**
 * The session's own failures, on top of the codec's {@link ProtocolErrorCode}s: the send buffer
 * bound, the drain timeout, the transport failing, and the application aborting a handshake.
 */
import type { ProtocolErrorCode } from '../errors.ts';
import type { CloseInfo } from '../events.ts';
import type { HttpHeaders } from '../http/headers.ts';

export type SessionErrorCode =
  /** `bufferedAmount` exceeded `maxBufferedAmount` (a peer that does not read): terminated. */
  | 'SEND_BUFFER_OVERFLOW'
  /**
   * The server's connections together held more than `maxServerBufferedAmount` unsent bytes for
   * `serverBufferGracePeriod` ms, and this one had the largest backlog: terminated (Close 1013).
   */
  | 'SERVER_BUFFER_OVERFLOW'
  /** `bufferedAmount` stayed above `highWaterMark` for `drainTimeout` ms: terminated. */
  | 'DRAIN_TIMEOUT'
  /** A published message would have passed `backpressureLimit` and `closeOnBackpressureLimit` is on: terminated. */
  | 'BACKPRESSURE_LIMIT'
  /** The socket failed (reset, refused, TLS error…); `cause` holds the runtime's error. */
  | 'TRANSPORT_ERROR'
  /** The application closed or terminated the connection before the handshake completed. */
  | 'ABORTED';

/** How a connection ended: the codec's {@link CloseInfo} with the session's failures added. */
export interface SessionCloseInfo extends Omit<CloseInfo, 'error'> {
  /** What failed the connection (a violation, a limit, a timeout, the transport), or null. */
  error: ProtocolErrorCode | SessionErrorCode | null;
  /** The runtime's error behind `TRANSPORT_ERROR`. */
  cause?: unknown;
}

/** Emitted as the connection's `error` event: a violation, a limit, a timeout or a transport failure. */
export class WebSocketError extends Error {
  readonly code: ProtocolErrorCode | SessionErrorCode;
  /** The close code we sent because of it, or null. */
  readonly closeCode: number | null;
  constructor(
    code: ProtocolErrorCode | SessionErrorCode,
    message: string,
    closeCode: number | null = null,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

/**
 * The `error` event for a failed transport (`TRANSPORT_ERROR`; the runtime's error is the
 * `cause`, with its own stack), made without a stack trace of its own: it is made in an I/O
 * callback, where a stack would name only the session's frames, and on V8 and JavaScriptCore the
 * capture is most of an error's cost (Node and Bun: ≈ 2–5 µs with a stack, 0.3 µs without). Deno
 * captures a stack for every error it makes whatever `Error.stackTraceLimit` says (≈ 2–3 µs each),
 * so there the saving is the session making none when no one listens for `error`.
 */
export function transportFailure(message: string, cause: unknown): WebSocketError {
  const E = Error as { stackTraceLimit?: unknown };
  const limit = E.stackTraceLimit;
  if (typeof limit !== 'number' || limit === 0) return new WebSocketError('TRANSPORT_ERROR', message, null, cause);
  try {
    E.stackTraceLimit = 0;
  } catch {
    // not writable here (a frozen realm): the error gets its stack
  }
  let error: WebSocketError;
  try {
    error = new WebSocketError('TRANSPORT_ERROR', message, null, cause);
  } finally {
    E.stackTraceLimit = limit;
  }
  // JavaScriptCore leaves `stack` out without frames: its first line, as V8 gives (the same
  // string for the same message: a busy server reports many resets).
  if (typeof error.stack !== 'string') {
    let stack = STACKS.get(message);
    if (stack === undefined) {
      stack = `${error.name}: ${error.message}`;
      if (STACKS.size >= 64) STACKS.clear();
      STACKS.set(message, stack);
    }
    error.stack = stack;
  }
  return error;
}
const STACKS = new Map<string, string>();

/** A client's opening handshake failed. */
export class HandshakeError extends Error {
  /** `BAD_STATUS` when the server answered with something other than 101. */
  readonly code: ProtocolErrorCode | SessionErrorCode;
  /** The HTTP status of a refusal (or of an unacceptable 101), else null. */
  readonly status: number | null;
  readonly headers: HttpHeaders | null;
  /** The refusal's body (bounded by `limits.maxRejectBodyBytes`), else null. */
  readonly body: Uint8Array | null;
  constructor(
    code: ProtocolErrorCode | SessionErrorCode,
    message: string,
    details: { status?: number | null; headers?: HttpHeaders | null; body?: Uint8Array | null; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HandshakeError';
    this.code = code;
    this.status = details.status ?? null;
    this.headers = details.headers ?? null;
    this.body = details.body ?? null;
  }
}

/** A failed connection's error when no `error` event or handshake error said why (the WHATWG class's `error` event). */
export function closeError(info: SessionCloseInfo): Error {
  const why = info.error ?? `closed with ${info.code}${info.reason === '' ? '' : ` ${info.reason}`}`;
  return new WebSocketError(info.error ?? 'ABORTED', `the connection failed: ${why}`, null, info.cause);
}
