/**
 * The message being received, when it does not take the whole-message fast path (fragmented,
 * over several reads, or for an extension): made for the first such message, then reused (an
 * idle connection, or one that only receives short messages, holds none). Filled by
 * `message-receiver.ts`; let go of by {@link abandonMessage} when the connection closes.
 */
import type { Event, MessageKind } from './events.ts';
import type { Extension } from './extensions/extension.ts';
import { type ConnectionCore, IN_MESSAGE } from './connection-core.ts';
import { Utf8Validator } from './utf8.ts';

export class IncomingMessage {
  kind: MessageKind = 'binary';
  fragments = 0;
  /** Payload bytes received so far (after decoding). */
  size = 0;
  /** The message's first chunk, as it came (no copy), while it is the only one. */
  first: Uint8Array | null = null;
  /** From the second chunk on: the bytes so far at [0, size), with room to grow (see GROW_RATIO). */
  buffer: Uint8Array | null = null;
  /** The parser is unmasking the current frame's payload into `buffer` at `size`. */
  direct = false;
  decoder: Extension | null = null;
  lastFragment: Extract<Event, { type: 'fragment' }> | null = null;
  readonly utf8 = new Utf8Validator();
  /** Where a decoding extension delivers the payload: made on first use. */
  sink: ((chunk: Uint8Array) => boolean) | null = null;
}

/** The message in progress, if any, is dropped (the connection closed or failed). */
export function abandonMessage(core: ConnectionCore): void {
  core.flags &= ~IN_MESSAGE;
  const message = core.message;
  if (message === null) return;
  message.first = null;
  message.buffer = null;
  message.direct = false;
  message.decoder = null;
}
