/**
 * Sending: data messages and fragments (through the negotiated extensions' `encode`), pings and
 * pongs, and a server's shared frames (a publish frames a message once for every connection
 * with the same {@link sharedFrameKey}). Frames go to the output queue (`output-queue.ts`).
 */
import { reportedState } from './transitions.ts';
import { WebSocketUsageError } from './errors.ts';
import type { MessageKind } from './events.ts';
import { serializeFrame } from './frame-serializer.ts';
import { Opcode } from './opcode.ts';
import { SEEN_ANY } from './deadlines.ts';
import { type ConnectionCore, FRESH_ARRAYS } from './connection-core.ts';
import { write, writeFrame } from './output-queue.ts';

export function sendData(
  core: ConnectionCore,
  kind: MessageKind,
  payload: Uint8Array,
  fin: boolean,
  compress: boolean | undefined,
): void {
  if (core.state !== 'open') {
    throw new WebSocketUsageError(
      'INVALID_STATE',
      `cannot send a ${kind} message in state ${reportedState(core.state)}`,
    );
  }
  const sending = core.sendingKind;
  const first = sending === null;
  if (!first && sending !== kind) {
    throw new WebSocketUsageError('INVALID_STATE', `a fragmented ${sending} message is in progress: finish it first`);
  }
  let rsv = 0;
  const extensions = core.extensions;
  for (let i = 0; i < extensions.length; i++) {
    const extension = extensions[i];
    if (extension === undefined) continue;
    const encoded = extension.encode(payload, first, fin, compress);
    payload = encoded.payload;
    rsv |= encoded.rsv;
  }
  core.sendingKind = fin ? null : kind;
  core.seen |= SEEN_ANY;
  writeFrame(core, fin, rsv, first ? (kind === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, payload);
}

export function sendControl(core: ConnectionCore, opcode: number, payload: Uint8Array): void {
  if (core.state !== 'open') {
    throw new WebSocketUsageError(
      'INVALID_STATE',
      `cannot send a ${opcode === Opcode.Ping ? 'ping' : 'pong'} in state ${reportedState(core.state)}`,
    );
  }
  if (payload.length > 125) {
    throw new WebSocketUsageError(
      'CONTROL_PAYLOAD_TOO_LONG',
      `control frame payloads are at most 125 bytes (RFC 6455 §5.5), got ${payload.length}`,
    );
  }
  core.seen |= SEEN_ANY;
  writeFrame(core, true, 0, opcode, payload);
}

/** See `Connection.sharedFrameKey`. */
export function sharedFrameKey(core: ConnectionCore, length: number, compress?: boolean): string | null {
  if (core.maskKeys !== null) return null;
  const extensions = core.extensions;
  if (extensions.length === 0) return '';
  let key = '';
  for (const extension of extensions) {
    const part = extension.sharedKey?.(length, compress) ?? null;
    if (part === null) return null;
    if (part !== '') key += `${extension.name}:${part};`;
  }
  return key;
}

/** See `Connection.frameShared`. */
export function frameShared(
  core: ConnectionCore,
  kind: MessageKind,
  payload: Uint8Array,
  compress?: boolean,
): Uint8Array[] {
  if (sharedFrameKey(core, payload.length, compress) === null) {
    throw new WebSocketUsageError(
      'INVALID_STATE',
      'this connection frames its own messages (a client, or context takeover): use sendText/sendBinary',
    );
  }
  let rsv = 0;
  for (const extension of core.extensions) {
    // An extension that gives a shared key encodes for it (extension.ts).
    if (extension.encodeShared === undefined) {
      throw new TypeError(`the ${extension.name} extension has sharedKey() but no encodeShared()`);
    }
    const encoded = extension.encodeShared(payload, compress);
    payload = encoded.payload;
    rsv |= encoded.rsv;
  }
  const frames: Uint8Array[] = [];
  serializeFrame(
    frames,
    true,
    rsv,
    kind === 'text' ? Opcode.Text : Opcode.Binary,
    payload,
    null,
    (core.flags & FRESH_ARRAYS) !== 0,
  );
  return frames;
}

/** A whole message framed elsewhere may be sent now: open, and no fragmented message of ours in progress. */
export function canSendFramed(core: ConnectionCore): boolean {
  return core.state === 'open' && core.sendingKind === null;
}

/** See `Connection.sendFramed`. */
export function sendFramed(core: ConnectionCore, frames: readonly Uint8Array[]): void {
  if (!canSendFramed(core)) {
    const why =
      core.state !== 'open'
        ? `in state ${reportedState(core.state)}`
        : `while a fragmented ${core.sendingKind} message is in progress`;
    throw new WebSocketUsageError('INVALID_STATE', `cannot send a framed message ${why}`);
  }
  if (core.maskKeys !== null)
    throw new WebSocketUsageError('INVALID_STATE', 'a client masks its frames: framed messages are for servers');
  core.seen |= SEEN_ANY;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    if (frame !== undefined) write(core, frame);
  }
}
