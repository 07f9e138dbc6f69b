/**
 * The state of one connection, shared by the modules that make up `Connection`: the handshake
 * phases (`server-handshake.ts`, `client-handshake.ts`, `http-serving.ts`), receiving
 * (`message-receiver.ts`), output (`output-queue.ts`), events (`event-queue.ts`), closing
 * (`closing.ts`) and time (`connection-deadlines.ts`). Each is a set of module functions taking
 * this object; `Connection` (connection.ts) holds one and is the only public face.
 *
 * Fields are few on purpose (an idle server holds one connection per client): booleans are bits
 * of `flags` (so is the transport's state, a small number), and what only some phases need is
 * in objects made for them: `hs` (the handshake phase, null once open), `message` (a message
 * off the fast path), `closing`, `live` (keepalive and idle). Flags are read and written as bits
 * of a plain field, never through accessors: V8 calls the runtime for every use of a private
 * accessor, even in optimized code.
 */
import type { HandshakeResponse, Event, MessageKind } from './events.ts';
import type { Extension } from './extensions/extension.ts';
import type { FrameParser } from './frame-parser.ts';
import type { WsUrl } from './handshake/client.ts';
import type { HeaderList } from './handshake/extended-connect.ts';
import type { HandshakeRequest } from './events.ts';
import type { Limits, Timeouts } from './limits.ts';
import type { MaskKeyPool } from './random.ts';
import type { Liveness } from './deadlines.ts';
import { WebSocketUsageError } from './errors.ts';
import {
  READ,
  REFUSE,
  type TableState,
  type TransitionInput,
  peerBytes,
  transition,
  transportTransition,
} from './transitions.ts';
import type { ClosingState } from './closing.ts';
import type { IncomingMessage } from './incoming-message.ts';
import type { ServerHandshake } from './server-handshake.ts';
import type { ClientHandshake, RefusalBody } from './client-handshake.ts';

export type Role = 'client' | 'server';

/** The handshake's phase object: which one is the phase (discriminated on `type`). */
export type HandshakePhase = ServerHandshake | ClientHandshake | RefusalBody;

// Flags: booleans packed into one field.
export const ASSEMBLE = 1 << 0;
export const AUTO_PONG = 1 << 1;
export const IN_MESSAGE = 1 << 2;
export const FRAME_FIN = 1 << 3;
export const FRAGMENT_STARTED = 1 << 4;
export const CLOSE_SENT = 1 << 5;
/**
 * Bits 6–8: the transport's state, its number in the transport table (`TRANSPORT_STATES` of
 * transitions.ts; 0: both-open), moved only by {@link moveTransport}. Three bits of a field every
 * connection has, not a field of its own: the per-read question (is the transport still
 * both-open?) stays one mask test, as the flags it replaces were, and an idle connection holds
 * no more than before.
 */
export const TRANSPORT = 7 << 6;
const TRANSPORT_SHIFT = 6;
export const HOLD_PONGS = 1 << 9;
// Engine tuning (options, fixed for the connection's life; see engine-tuning.ts).
export const FRESH_ARRAYS = 1 << 10;
export const STRICT_DECODER = 1 << 11;
/** The driver stopped reading (`pauseLiveness`): keepalive and idle stand still. */
export const LIVENESS_PAUSED = 1 << 12;
/** The handshake is an HTTP/2 extended CONNECT (RFC 8441: the role's `http2` part, `@ws/codec/http2`). */
export const HTTP2 = 1 << 13;

export const EMPTY = new Uint8Array(0);
export const NONE: readonly never[] = Object.freeze([]);
/** No later events: shared, replaced by an array of the connection's own when two or more wait. */
export const NO_EVENTS: Event[] = NONE as never[];
/** No more writes than the first: shared, replaced by an array of the connection's own when needed. */
export const NO_WRITES: Uint8Array[] = NONE as never[];

export class ConnectionCore {
  readonly role: Role;
  readonly limits: Readonly<Limits>;
  readonly timeouts: Readonly<Timeouts>;
  /** Moved only by {@link move}, through the table of transitions.ts. */
  state: TableState = 'handshake';
  flags: number;
  readonly utf8Validator: ((bytes: Uint8Array) => boolean) | null;
  /** Activity since the liveness checks last looked (bits of deadlines.ts): set on the hot path, read at a deadline. */
  seen = 0;
  /** A client's mask keys (a server masks nothing). */
  maskKeys: MaskKeyPool | null = null;

  // Handshake
  /** The handshake's phase; null once open. */
  hs: HandshakePhase | null = null;
  url: WsUrl | null = null;
  /** Server: the validated request, from its arrival until the connection opens. */
  request: HandshakeRequest | null = null;
  /** Client: the server's answer, once it arrived. */
  response: HandshakeResponse | null = null;
  protocol: string | null = null;
  extensions: readonly Extension[] = NONE;

  // Receiving (message-receiver.ts)
  /** Made with the first frame bytes: a connection that has received none (an idle one) holds no parser. */
  parser: FrameParser | null = null;
  /** The message off the fast path: set while IN_MESSAGE (and kept after, for the next message that needs it). */
  message: IncomingMessage | null = null;

  // Sending and output (output-queue.ts)
  sendingKind: MessageKind | null = null;
  /**
   * Output not yet taken: bytes to write, `firstWrite` then `moreWrites` (most sends leave one
   * write: no array; the shared {@link NO_WRITES} while there are no more), then the actions in
   * `ends`. Nothing is ever written after a shutdown or a destroy, so this is the order they
   * were asked for.
   */
  firstWrite: Uint8Array | null = null;
  moreWrites: Uint8Array[] = NO_WRITES;
  ends = 0;
  /** HTTP/2: the header list to send before the writes (with END_HEAD), else null. */
  outHead: HeaderList | null = null;
  outBytes = 0;
  /** While pongs are held (`holdPongs`): the latest pong, kept apart from the writes. */
  pong: Uint8Array | null = null;

  // Events (event-queue.ts)
  /**
   * Events not yet taken, oldest first: `event`, then `later` from `laterHead` (most reads
   * queue one event at a time: no array; the shared {@link NO_EVENTS} while no more wait).
   * `event` is null only when none waits.
   */
  event: Event | null = null;
  later: Event[] = NO_EVENTS;
  laterHead = 0;

  /** How the connection closes: made once it starts to (closing.ts). */
  closing: ClosingState | null = null;
  /** Keepalive and idle: made when the connection opens with either on, else null. */
  live: Liveness | null = null;

  constructor(
    role: Role,
    limits: Readonly<Limits>,
    timeouts: Readonly<Timeouts>,
    flags: number,
    utf8Validator: ((bytes: Uint8Array) => boolean) | null,
  ) {
    this.role = role;
    this.limits = limits;
    this.timeouts = timeouts;
    this.flags = flags;
    this.utf8Validator = utf8Validator;
  }
}

/** Follow the table of transitions.ts; an input it does not allow here is a bug of ours. */
export function move(core: ConnectionCore, input: TransitionInput): void {
  const next = transition(core.state, input);
  if (next === null) throw new Error(`internal: no transition from ${core.state} on ${input}`);
  core.state = next;
}

/**
 * Follow the transport's table of transitions.ts on `input` (ON_EOF, ON_SHUTDOWN, ON_DESTROY,
 * ON_TIMEOUT): true if it moved. An input it has no row for moves nothing (a second EOF, a
 * shutdown after a destroy) and returns false: the caller then does nothing either.
 */
export function moveTransport(core: ConnectionCore, input: number): boolean {
  const flags = core.flags;
  const next = transportTransition((flags & TRANSPORT) >> TRANSPORT_SHIFT, input);
  if (next < 0) return false;
  core.flags = (flags & ~TRANSPORT) | (next << TRANSPORT_SHIFT);
  return true;
}

/** The transport's state, as a number of the transport table (see {@link TRANSPORT}). */
export function transportState(core: ConnectionCore): number {
  return (core.flags & TRANSPORT) >> TRANSPORT_SHIFT;
}

/**
 * `receiveData()`'s question to the transport's table: read the peer's bytes (true) or drop them
 * (false: the transport is gone). After `receiveEof()` there are none to give: the caller's
 * misuse, which throws.
 */
export function readsPeerBytes(core: ConnectionCore): boolean {
  const bytes = peerBytes(transportState(core));
  if (bytes === REFUSE) throw new WebSocketUsageError('INVALID_STATE', 'receiveData() after receiveEof()');
  return bytes === READ;
}
