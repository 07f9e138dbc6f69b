/**
 * How a connection ended, as the session tells it: the session's own reason (a limit, a timeout,
 * the transport's failure, an abort) goes before the codec's, and a failed handshake becomes the
 * {@link HandshakeError} `opened` rejects with. The codec's {@link CloseInfo} (RFC 6455 §7) is
 * the base of both.
 */
import type { Connection } from '../connection.ts';
import type { SessionCore } from './session-core.ts';
import { BACKLOG, HELD_FULL, HOLDING, QUEUE_PAUSED, SERVER_PAUSED, USER_PAUSED } from './connection-flags.ts';
import { UNSCHEDULED } from './deadline-sweep.ts';
import { flush, hasConsumer } from './held-messages.ts';
import { cancelDeadline } from './session-timer.ts';
import { Subscription } from './topics.ts';
import type { CloseInfo } from '../events.ts';
import { HandshakeError, type SessionCloseInfo, type SessionErrorCode } from './errors.ts';
import type { HandshakeState } from './handshake-state.ts';
import { handshakeTransportMessage, transportErrorText } from './transport-error.ts';

/** Why a connection ends, as far as the session knows: made at its first problem (most connections have none). */
export class Trouble {
  /** The session's reason, before the codec's. */
  error: SessionErrorCode | null = null;
  /** The transport's error. */
  cause: unknown = undefined;
  /** The last problem's message, for a `HandshakeError` ({@link CAUSE}: the words for `cause`; see {@link lastProblemOf}). */
  lastProblem = '';
}

/** `Trouble.lastProblem` when the transport's error (`cause`) is the last problem: described when asked for. */
export const CAUSE = '\u0000cause';

/** The last problem's message. */
export function lastProblemOf(trouble: Trouble): string {
  return trouble.lastProblem === CAUSE ? transportErrorText(trouble.cause) : trouble.lastProblem;
}

/** `the connection failed: ${text}`, the same string for the same text (a known error's words are few). */
export function failedMessage(text: string): string {
  let message = FAILED.get(text);
  if (message === undefined) {
    message = `the connection failed: ${text}`;
    if (FAILED.size >= 64) FAILED.clear();
    FAILED.set(text, message);
  }
  return message;
}
const FAILED = new Map<string, string>();

/** The `close` event's info: the codec's, with the session's reason first. */
export function sessionCloseInfo(codecInfo: CloseInfo, trouble: Trouble | null): SessionCloseInfo {
  // Written out, not spread, with `cause` in the literal when there is one: one object with its
  // fields in place (adding `cause` later gives it a second block of storage on JavaScriptCore).
  const { code, reason, wasClean, initiator, sentCode } = codecInfo;
  const error = trouble?.error ?? codecInfo.error ?? null;
  if (trouble !== null && trouble.cause !== undefined)
    return { code, reason, wasClean, initiator, sentCode, error, cause: trouble.cause };
  return { code, reason, wasClean, initiator, sentCode, error };
}

/** What `opened` rejects with when the handshake ended as `info`. */
export function handshakeError(
  info: CloseInfo,
  trouble: Trouble | null,
  hs: HandshakeState,
  codec: Connection,
): HandshakeError {
  const code = trouble?.error ?? info.error ?? 'ABORTED';
  const rejection = hs.rejection;
  if (rejection !== null) {
    const { status, statusText, headers } = rejection.response;
    return new HandshakeError(code, `the server refused the upgrade: ${status} ${statusText}`.trimEnd(), {
      status,
      headers,
      body: rejection.body,
    });
  }
  const response = codec.response;
  const url = codec.url;
  const message =
    code === 'ABORTED'
      ? 'the connection was closed before the handshake completed'
      : code === 'TRANSPORT_ERROR' && url !== null
        ? handshakeTransportMessage(
            trouble?.cause,
            url.hostname.includes(':') ? `[${url.hostname}]:${url.port}` : `${url.hostname}:${url.port}`,
          )
        : (trouble !== null ? lastProblemOf(trouble) : '') || code;
  return new HandshakeError(code, message, {
    status: response?.status ?? null,
    headers: response?.headers ?? null,
    cause: trouble?.cause,
  });
}

/**
 * The transport is gone and the codec has closed: the connection ends (deadline, topics, registry and
 * budget let go of; held messages to the consumers there are), then `closed` and `close`.
 */
export function finishConnection(core: SessionCore, codecInfo: CloseInfo): void {
  const info = sessionCloseInfo(codecInfo, core.troubleState);
  core.info = info;
  const topics = core.topics;
  if (topics instanceof Subscription) topics.registry.leaveAll(core.connection, topics);
  if (core.slot !== UNSCHEDULED) cancelDeadline(core.connection, core.options);
  core.drained();
  // What arrived before the close reaches the consumers there are before `close` fires (with
  // none, it stays held for the first to come).
  if (core.flag(HOLDING) && hasConsumer(core)) flush(core);
  if (!core.flag(HOLDING)) core.queue?.end();
  core.flags &= ~(USER_PAUSED | QUEUE_PAUSED | HELD_FULL | BACKLOG | SERVER_PAUSED);
  core.leaveRegistry();
  if (core.budget !== null) {
    const before = core.reported;
    core.reported = 0;
    core.budget.closed(core.connection, before);
  }
  const promises = core.promises;
  if (promises !== null) {
    promises.resolveClosed?.(info);
    promises.resolveClosed = null;
  }
  core.emit1('close', info);
}
