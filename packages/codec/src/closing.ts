/**
 * How a connection ends (RFC 6455 §7): our Close and the peer's (§5.5.1: echoed with its code),
 * failing the connection on a violation (§7.1.7: a Close with the code if we still may, then
 * TCP), aborting a handshake, and entering `closed` with the final `closed` event and its
 * {@link CloseInfo}. A connection makes its {@link ClosingState} only once it starts to close.
 */
import { WebSocketUsageError, describe, type ProtocolErrorCode } from './errors.ts';
import type { CloseInfo } from './events.ts';
import { buildClosePayload } from './close-frame.ts';
import { Opcode } from './opcode.ts';
import { PENDING } from './deadlines.ts';
import type { TransitionInput } from './transitions.ts';
import { CLOSE_SENT, type ConnectionCore, move } from './connection-core.ts';
import { emit } from './event-queue.ts';
import { abandonMessage } from './incoming-message.ts';
import { destroy, releasePong, shutdownWrite, writeFrame } from './output-queue.ts';

const ABNORMAL = 1006;
const NO_STATUS = 1005;

/** How the connection closes: made once it starts to (an open connection holds none). */
export class ClosingState {
  initiator: 'local' | 'remote' | null = null;
  /** The code of the Close we sent (null: none, or one without a code). */
  sentCode: number | null = null;
  /** The peer's Close, once received. */
  peerClose: { code: number; reason: string } | null = null;
  /** Why we closed, when it was for a reason of our own (an idle timeout). */
  error: ProtocolErrorCode | null = null;
  /** When the peer must have finished closing (`closeTimeout`); PENDING until the tick after closing began. */
  deadline = PENDING;
  info: CloseInfo | null = null;
}

export function closingOf(core: ConnectionCore): ClosingState {
  return (core.closing ??= new ClosingState());
}

export function protocolError(
  core: ConnectionCore,
  code: ProtocolErrorCode,
  closeCode: number | null,
  status: number | null,
  message: string,
): void {
  emit(core, { type: 'protocol-error', code, closeCode, status, message });
}

/** The `close` command (or an idle timeout, with its `error`). */
export function close(
  core: ConnectionCore,
  code: number | undefined,
  reason: string | undefined,
  error: ProtocolErrorCode | null = null,
): void {
  if (reason !== undefined && typeof reason !== 'string') {
    throw new WebSocketUsageError('INVALID_ARGUMENT', `close reason must be a string, got ${describe(reason)}`);
  }
  switch (core.state) {
    case 'handshake':
    case 'serving-http':
    case 'awaiting-accept':
    case 'refusal-body':
      // Closing before the handshake completes aborts it, as a browser does.
      buildClosePayload(code, reason); // still check the arguments
      toClosed(core, 'abort', null);
      destroy(core);
      return;
    case 'open': {
      const closing = closingOf(core);
      closing.initiator = 'local';
      sendCloseFrame(core, code, reason ?? '');
      move(core, 'send-close');
      closing.deadline = PENDING;
      if (error !== null) closing.error = error;
      return;
    }
    case 'closing':
    case 'closed':
      buildClosePayload(code, reason);
      return; // already closing: nothing more to do (as WHATWG close()).
  }
}

function sendCloseFrame(core: ConnectionCore, code: number | undefined, reason: string): void {
  const payload = buildClosePayload(code, reason === '' ? undefined : reason);
  releasePong(core);
  writeFrame(core, true, 0, Opcode.Close, payload);
  core.flags |= CLOSE_SENT;
  closingOf(core).sentCode = code ?? null;
}

/** The peer's Close frame (its payload parsed and valid) arrived. */
export function receiveClose(core: ConnectionCore, code: number, reason: string): void {
  const closing = closingOf(core);
  closing.peerClose = { code, reason };
  emit(core, { type: 'close', code, reason });
  abandonMessage(core);
  if (core.state === 'open') {
    // §5.5.1: echo the Close, with the peer's code (none if it sent none).
    closing.initiator = 'remote';
    sendCloseFrame(core, code === NO_STATUS ? undefined : code, '');
  }
  toClosed(core, 'recv-close', null);
  // §7.1.1: the server closes TCP first; the client waits for it (bounded by closeTimeout).
  if (core.role === 'server') shutdownWrite(core);
}

/** §7.1.7 Fail the WebSocket Connection: send a Close with `closeCode` if we still may, then close TCP. */
export function fail(core: ConnectionCore, code: ProtocolErrorCode, closeCode: number, message: string): void {
  const canSend = core.state === 'open';
  protocolError(core, code, canSend ? closeCode : null, null, message);
  if (canSend) {
    closingOf(core).initiator = 'local';
    sendCloseFrame(core, closeCode, '');
  }
  abandonMessage(core);
  toClosed(core, 'fail', code);
  shutdownWrite(core);
}

/**
 * A handshake, or the wait for the peer's Close, failed for `code` (a violation, a timeout):
 * report it, enter closed and drop the transport.
 */
export function failAndDestroy(
  core: ConnectionCore,
  input: TransitionInput,
  code: ProtocolErrorCode,
  message: string,
): void {
  protocolError(core, code, null, null, message);
  abandonMessage(core);
  toClosed(core, input, code);
  destroy(core);
}

/** Enter `closed` and emit the final event. */
export function toClosed(core: ConnectionCore, input: TransitionInput, error: ProtocolErrorCode | null): void {
  move(core, input);
  const closing = closingOf(core);
  closing.deadline = PENDING;
  const peer = closing.peerClose;
  const info: CloseInfo = {
    code: peer?.code ?? ABNORMAL,
    reason: peer?.reason ?? '',
    wasClean: peer !== null && (core.flags & CLOSE_SENT) !== 0,
    initiator: closing.initiator,
    sentCode: closing.sentCode,
    error: error ?? closing.error,
  };
  closing.info = info;
  for (const extension of core.extensions) extension.dispose();
  emit(core, { type: 'closed', info });
}
