/**
 * Receiving: frames parsed from the peer's bytes, lazily as events are read (as h11 does), become
 * events: whole messages (assembled from fragments, fail-fast UTF-8 for text, §8.1; decoded by
 * an extension that claimed the message's RSV bits), or `fragment` events when messages are not
 * assembled; pings (answered by a pong, §5.5.2), pongs, and the peer's Close (closing.ts).
 *
 * The hot path: a whole one-frame message in the bytes at hand takes one view and none of the
 * assembly below ({@link wholeMessage}). Everything else goes through the connection's one
 * {@link IncomingMessage}, made for the first such message and reused.
 */
import type { Event } from './events.ts';
import { FAILED, FrameParser, HEADER, NEED_MORE } from './frame-parser.ts';
import { parseClosePayload } from './close-frame.ts';
import { Opcode } from './opcode.ts';
import {
  ASSEMBLE,
  AUTO_PONG,
  type ConnectionCore,
  EMPTY,
  FRAGMENT_STARTED,
  FRAME_FIN,
  FRESH_ARRAYS,
  IN_MESSAGE,
  STRICT_DECODER,
} from './connection-core.ts';
import { emit, lastQueued } from './event-queue.ts';
import { fail, receiveClose } from './closing.ts';
import { IncomingMessage } from './incoming-message.ts';
import { writeFrame } from './output-queue.ts';
import { allowedRsv } from './extension-negotiation.ts';
import { Utf8Validator, decodeUtf8, decodeValidUtf8 } from './utf8.ts';

/** How far {@link processFrames} goes. */
export const ALL_EVENTS = 0;
export const ONE_EVENT = 1;
export const ONE_EVENT_OR_MESSAGE = 2;

/**
 * A message that arrives in more than one chunk (fragments, several reads, an extension's
 * output) is gathered in one buffer of its own, grown geometrically: each time it is full, to
 * GROW_RATIO × the bytes of it received so far (those parsed and those waiting in the parser;
 * at least GROW_MIN), never past the declared end of a one-frame message nor past
 * `maxMessageSize`. So what is reserved stays within GROW_RATIO × what the peer has sent (a
 * header declaring 64 MiB reserves nothing by itself; within an eighth of the end the rest is
 * taken at once, so at most 4.5× is reserved), growing costs at most a third of a copy of the
 * message in all, and a fragment costs no object of its own. A frame whose payload spans reads
 * is unmasked by the parser straight into that buffer (`payloadInto`): one pass. Why 4 and not
 * 2: a 1 MiB frame in 64 KiB reads parsed in 0.69 ms (4×) against 0.94 ms (2×) and 0.63 ms with
 * the old whole-frame preallocation (best of 5, Node 20): growing is mostly the cost of fresh
 * pages, so fewer, larger steps win.
 */
const GROW_RATIO = 4;
const GROW_MIN = 256;

/** The frame parser, made with the first frame bytes (an idle connection holds none). */
export function parserOf(core: ConnectionCore): FrameParser {
  let parser = core.parser;
  if (parser === null) {
    parser = core.parser = new FrameParser({
      expectMasked: core.role === 'server',
      maxFrameSize: core.limits.maxFrameSize,
      freshArrays: (core.flags & FRESH_ARRAYS) !== 0,
    });
    parser.allowedRsv = allowedRsv(core.extensions);
  }
  return parser;
}

/**
 * Parse buffered frames: all of them (ALL_EVENTS), or until an event is queued (ONE_EVENT), or
 * also until a whole message can be returned as its data (ONE_EVENT_OR_MESSAGE, with no event
 * queued before it: see `nextEventOrMessage`). Returns that data, else null.
 *
 * One function, the loop inside its try, on purpose: it stays larger than the most bytecode V8
 * inlines (460 bytes), so the loop is compiled once, on its own, with the parser's `next()`,
 * `wholeMessage` and `emit` inlined into it. Split in two (a try around a call of the loop), the
 * loop alone (445 bytes) was inlined into `nextEvent()` and on into the caller's read loop,
 * inside the try, and spent the inlining budget there: parsing 16 B frames through a Connection
 * took ≈ 6–9 % more time. Keep this function above that size.
 */
export function processFrames(core: ConnectionCore, mode: number): string | Uint8Array | null {
  const parser = core.parser;
  if (parser === null) return null; // nothing received yet
  try {
    while (core.state === 'open' || core.state === 'closing') {
      if (mode !== ALL_EVENTS && core.event !== null) return null;
      const step = parser.next();
      if (step === NEED_MORE) return null;
      if (step === FAILED) {
        const code = parser.errorCode; // set whenever the step is FAILED
        if (code !== null) fail(core, code, parser.errorCloseCode, parser.errorMessage);
        return null;
      }
      if (step === HEADER) {
        const opcode = parser.opcode;
        if (opcode < 0x8) {
          // (The flags: messages are assembled, and none is in progress.)
          if (
            parser.fin &&
            opcode !== Opcode.Continuation &&
            parser.rsv === 0 &&
            (core.flags & (IN_MESSAGE | ASSEMBLE)) === ASSEMBLE &&
            parser.length <= core.limits.maxMessageSize &&
            parser.payloadInOneChunk
          ) {
            // The common case, a whole one-frame message in the bytes at hand: its payload step
            // (one view) now, and none of the message assembly.
            const data = wholeMessage(core, opcode, parser.wholePayload());
            if (data === null) continue; // it failed the connection
            if (mode === ONE_EVENT_OR_MESSAGE) return data; // no event is queued (checked above)
            emit(core, typeof data === 'string' ? { type: 'text', data } : { type: 'binary', data });
            continue;
          }
          const message = onDataHeader(core, opcode, parser.rsv, parser.fin, parser.length);
          // A payload that spans reads, or a fragment: unmasked into the message's buffer as it
          // arrives (a fragment so costs no array or view of its own, however short).
          if (message !== null && (!parser.payloadInOneChunk || !parser.fin || opcode === Opcode.Continuation))
            direct(core, parser, message);
        }
        continue;
      }
      // PAYLOAD
      if (parser.opcode >= 0x8) onControl(core, parser.opcode, parser.payload);
      else {
        // Data: its header made the message (a header that did not failed the connection, and the loop ended).
        const message = core.message;
        if (message !== null) onDataChunk(core, parser, message, parser.payload, parser.frameEnd);
      }
    }
  } catch (error) {
    // The host could not allocate for what the peer sent (a large message, a decompressor's
    // buffers): that connection fails as for a message over the limit; nothing escapes.
    if (!(error instanceof RangeError)) throw error;
    if (core.state === 'open' || core.state === 'closing')
      fail(core, 'MESSAGE_TOO_LARGE', 1009, `out of memory while receiving: ${error.message}`);
  }
  return null;
}

/** A one-frame text or binary message, no extension involved, its payload at hand: its data, or null if it failed the connection. */
function wholeMessage(core: ConnectionCore, opcode: number, data: Uint8Array): string | Uint8Array | null {
  if (opcode === Opcode.Binary) return data;
  const validate = core.utf8Validator;
  // §8.1: text must be UTF-8.
  let text: string | null = null;
  if (validate === null || validate(data)) {
    try {
      text = validate === null ? decodeValidUtf8(data, (core.flags & STRICT_DECODER) !== 0) : decodeUtf8(data);
    } catch {
      return tooLongForString(core, data.length);
    }
  }
  if (text === null) {
    // Say why as the incremental check does (a bad byte, or a code point cut at the end).
    const check = new Utf8Validator();
    const cutShort = check.push(data) && !check.complete;
    fail(
      core,
      'INVALID_UTF8',
      1007,
      cutShort ? 'text message ends inside a UTF-8 sequence' : 'text message is not valid UTF-8',
    );
  }
  return text;
}

/**
 * Valid text the host cannot hold as one string (V8's limit is 2^29 − 24 characters; only a
 * maxMessageSize raised past it lets such a message in): the connection fails as for a
 * message over the limit, rather than a RangeError escaping the codec. Returns null.
 */
function tooLongForString(core: ConnectionCore, bytes: number): null {
  fail(core, 'MESSAGE_TOO_LARGE', 1009, `a text message of ${bytes} bytes is longer than a string can be on this host`);
  return null;
}

/** A data frame's header: the message it starts or continues, or null if it failed the connection. */
function onDataHeader(
  core: ConnectionCore,
  opcode: number,
  rsv: number,
  fin: boolean,
  length: number,
): IncomingMessage | null {
  const limits = core.limits;
  let message = core.message;
  if (opcode === Opcode.Continuation) {
    // §5.4: a continuation needs a message in progress.
    if ((core.flags & IN_MESSAGE) === 0 || message === null) {
      fail(core, 'UNEXPECTED_CONTINUATION', 1002, 'continuation frame without a message to continue');
      return null;
    }
    // Our extensions transform whole messages: only a message's first frame carries RSV bits (RFC 7692 §6.1).
    if (rsv !== 0) {
      fail(core, 'RESERVED_BITS', 1002, 'RSV bits set on a continuation frame');
      return null;
    }
    if (++message.fragments > limits.maxFragments) {
      fail(core, 'TOO_MANY_FRAGMENTS', 1009, `message split into more than ${limits.maxFragments} frames`);
      return null;
    }
  } else {
    // §5.4: a new data message may not start inside another.
    if ((core.flags & IN_MESSAGE) !== 0) {
      fail(core, 'EXPECTED_CONTINUATION', 1002, 'new data frame while a fragmented message is in progress');
      return null;
    }
    message = core.message ??= new IncomingMessage();
    message.decoder = null;
    if (rsv !== 0) {
      for (const extension of core.extensions) {
        if ((rsv & extension.rsvBits) !== 0 && extension.decodeStart(rsv & extension.rsvBits)) {
          message.decoder = extension;
          break;
        }
      }
      if (message.decoder === null) {
        fail(core, 'RESERVED_BITS', 1002, 'RSV bits set that no extension claimed for this message');
        return null;
      }
    }
    core.flags |= IN_MESSAGE;
    message.kind = opcode === Opcode.Text ? 'text' : 'binary';
    message.fragments = 1;
    message.size = 0;
    message.utf8.reset();
    message.lastFragment = null;
    core.flags &= ~FRAGMENT_STARTED;
  }
  core.flags = fin ? core.flags | FRAME_FIN : core.flags & ~FRAME_FIN;
  if (message.decoder === null && message.size + length > limits.maxMessageSize) {
    // Known before a byte of it arrives: fail now rather than after buffering it.
    fail(core, 'MESSAGE_TOO_LARGE', 1009, `message exceeds the ${limits.maxMessageSize}-byte limit`);
    return null;
  }
  return message;
}

function onDataChunk(
  core: ConnectionCore,
  parser: FrameParser,
  message: IncomingMessage,
  chunk: Uint8Array,
  frameEnd: boolean,
): void {
  const messageEnd = frameEnd && (core.flags & FRAME_FIN) !== 0;
  const decoder = message.decoder;
  if (decoder !== null) {
    if (chunk.length > 0 || messageEnd) {
      const problem = decoder.decode(chunk, messageEnd, message.sink ?? makeSink(core, message));
      if (core.state === 'closed' || (core.flags & IN_MESSAGE) === 0) return; // the sink failed the connection
      if (problem !== null) return fail(core, 'EXTENSION_ERROR', 1007, `${decoder.name}: ${problem}`);
    }
  } else if (message.direct) {
    // The parser wrote it into the buffer already: count and check it.
    if (!acceptStored(core, message, parser.stored)) return;
    if (frameEnd || message.size === message.buffer?.length) message.direct = false;
  } else if (chunk.length > 0 && !acceptData(core, message, chunk)) {
    return;
  }
  if (messageEnd) finishMessage(core, message);
  else if (!frameEnd && !message.direct) direct(core, parser, message);
}

/**
 * Where `message`'s decoder delivers its output, made once per connection. Not inline in
 * onDataChunk: a closure there would make the engine allocate a scope on every call, that is
 * for every fragment (JavaScriptCore does, ≈ 100 bytes each).
 */
function makeSink(core: ConnectionCore, message: IncomingMessage): (chunk: Uint8Array) => boolean {
  const sink = (data: Uint8Array): boolean => acceptData(core, message, data);
  message.sink = sink;
  return sink;
}

/**
 * The current data frame's payload continues in later reads: have the parser unmask it into
 * the message's buffer, grown first if it is full (see GROW_RATIO). Only for messages we
 * assemble without an extension.
 */
function direct(core: ConnectionCore, parser: FrameParser, message: IncomingMessage): void {
  if (
    (core.flags & (ASSEMBLE | IN_MESSAGE)) !== (ASSEMBLE | IN_MESSAGE) ||
    message.decoder !== null ||
    (core.state !== 'open' && core.state !== 'closing')
  )
    return;
  const remaining = parser.payloadRemaining;
  if (remaining === 0) return;
  const size = message.size;
  let buffer = message.buffer;
  if (buffer === null || buffer.length === size) {
    const waiting = parser.bufferedAmount < remaining ? parser.bufferedAmount : remaining;
    buffer = grow(core, message, size, size + waiting, size + 1);
    if (buffer === null) return;
  }
  parser.payloadInto(buffer, message.size);
  message.direct = true;
}

/**
 * Give the message a buffer with room for `need` bytes and for about GROW_RATIO × `received`,
 * bounded by the declared end of a one-frame message or by `maxMessageSize`; its first
 * `filled` bytes are moved over. Returns it, or null if the host could not allocate it (then
 * the connection has failed with 1009, as for a message over the limit).
 */
function grow(
  core: ConnectionCore,
  message: IncomingMessage,
  filled: number,
  received: number,
  need: number,
): Uint8Array | null {
  const parser = core.parser;
  // Undecoded and final: the frame's header said where the message ends.
  const cap =
    (core.flags & FRAME_FIN) !== 0 && message.decoder === null && parser !== null
      ? message.size + parser.payloadRemaining
      : core.limits.maxMessageSize;
  let capacity = GROW_RATIO * received;
  if (capacity < GROW_MIN) capacity = GROW_MIN;
  // Within an eighth of the end: take it all, rather than grow again for the last few bytes.
  if (capacity + (capacity >>> 3) >= cap) capacity = cap;
  if (capacity < need) capacity = need;
  let grown: Uint8Array;
  try {
    grown = new Uint8Array(capacity);
  } catch {
    fail(core, 'MESSAGE_TOO_LARGE', 1009, `could not allocate ${capacity} bytes for a message`);
    return null;
  }
  const buffer = message.buffer;
  if (buffer !== null) grown.set(buffer.length === filled ? buffer : buffer.subarray(0, filled));
  else if (message.first !== null) {
    grown.set(message.first);
    message.first = null;
  }
  message.buffer = grown;
  return grown;
}

/** `n` bytes of the message's payload the parser has written into its buffer: counted and checked. False if it failed the connection. */
function acceptStored(core: ConnectionCore, message: IncomingMessage, n: number): boolean {
  const buffer = message.buffer;
  if ((core.flags & IN_MESSAGE) === 0 || buffer === null) return false;
  const at = message.size;
  message.size = at + n;
  if (message.size > core.limits.maxMessageSize) {
    fail(core, 'MESSAGE_TOO_LARGE', 1009, `message exceeds the ${core.limits.maxMessageSize}-byte limit`);
    return false;
  }
  // §8.1: text must be UTF-8; fail at the first bad byte, even mid-message.
  if (message.kind === 'text' && !message.utf8.push(buffer, at, at + n)) {
    fail(core, 'INVALID_UTF8', 1007, 'text message is not valid UTF-8');
    return false;
  }
  return true;
}

/** A chunk of the message's (decoded) payload, not in its buffer yet. False if it failed the connection. */
function acceptData(core: ConnectionCore, message: IncomingMessage, chunk: Uint8Array): boolean {
  if ((core.flags & IN_MESSAGE) === 0) return false;
  message.size += chunk.length;
  if (message.size > core.limits.maxMessageSize) {
    fail(core, 'MESSAGE_TOO_LARGE', 1009, `message exceeds the ${core.limits.maxMessageSize}-byte limit`);
    return false;
  }
  // §8.1: text must be UTF-8; fail at the first bad byte, even mid-message.
  if (message.kind === 'text' && !message.utf8.push(chunk)) {
    fail(core, 'INVALID_UTF8', 1007, 'text message is not valid UTF-8');
    return false;
  }
  if ((core.flags & ASSEMBLE) !== 0) {
    if (message.first === null && message.buffer === null) message.first = chunk;
    else return append(core, message, chunk);
  } else {
    const fragment: Extract<Event, { type: 'fragment' }> = {
      type: 'fragment',
      kind: message.kind,
      data: chunk,
      first: (core.flags & FRAGMENT_STARTED) === 0,
      fin: false,
    };
    core.flags |= FRAGMENT_STARTED;
    message.lastFragment = fragment;
    emit(core, fragment);
  }
  return true;
}

/** Copy `chunk` (already counted in `message.size`) to the end of the message's buffer, grown first if needed. False if that failed the connection. */
function append(core: ConnectionCore, message: IncomingMessage, chunk: Uint8Array): boolean {
  const size = message.size;
  const at = size - chunk.length;
  let buffer = message.buffer;
  if (buffer === null || buffer.length < size) {
    buffer = grow(core, message, at, size, size);
    if (buffer === null) return false;
  }
  buffer.set(chunk, at);
  return true;
}

function finishMessage(core: ConnectionCore, message: IncomingMessage): void {
  if (message.kind === 'text' && !message.utf8.complete) {
    fail(core, 'INVALID_UTF8', 1007, 'text message ends inside a UTF-8 sequence');
    return;
  }
  core.flags &= ~IN_MESSAGE;
  message.decoder = null;
  if ((core.flags & ASSEMBLE) === 0) {
    const last = message.lastFragment;
    // Mark the last chunk as the end if the application has not taken it yet; else send an empty end.
    if (last !== null && lastQueued(core) === last) last.fin = true;
    else
      emit(core, {
        type: 'fragment',
        kind: message.kind,
        data: EMPTY,
        first: (core.flags & FRAGMENT_STARTED) === 0,
        fin: true,
      });
    message.lastFragment = null;
    return;
  }
  const buffer = message.buffer;
  let data: Uint8Array;
  if (buffer !== null) {
    data = buffer.length === message.size ? buffer : buffer.subarray(0, message.size);
    message.buffer = null;
  } else {
    data = message.first ?? EMPTY;
    message.first = null;
  }
  if (message.kind !== 'text') {
    emit(core, { type: 'binary', data });
    return;
  }
  let text: string;
  try {
    text = decodeUtf8(data); // checked as it arrived
  } catch {
    tooLongForString(core, data.length);
    return;
  }
  emit(core, { type: 'text', data: text });
}

function onControl(core: ConnectionCore, opcode: number, payload: Uint8Array): void {
  if (opcode === Opcode.Ping) {
    emit(core, { type: 'ping', data: payload });
    // §5.5.2: answer with a pong carrying the same data, unless we already sent a Close.
    if ((core.flags & AUTO_PONG) !== 0 && core.state === 'open') writeFrame(core, true, 0, Opcode.Pong, payload);
    return;
  }
  if (opcode === Opcode.Pong) {
    emit(core, { type: 'pong', data: payload });
    return;
  }
  const parsed = parseClosePayload(payload);
  if (!parsed.ok) return fail(core, parsed.code, parsed.closeCode, parsed.message);
  receiveClose(core, parsed.code, parsed.reason);
}
