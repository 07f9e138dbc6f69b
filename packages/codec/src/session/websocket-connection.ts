/**
 * The connection users hold, the same on every runtime, and the driver behind it.
 *
 * The driver runs the codec against a {@link Transport}: after every input (bytes, EOF, a
 * timer) and every command (send, close) it takes the codec's outputs and writes them in one
 * vectored `write`, dispatches the codec's events to listeners and to the `for await` queue,
 * and re-arms one timer for the earliest deadline (the codec's, or the drain timeout). A
 * listener that calls back into the connection (send inside 'message') does not recurse: its
 * output is picked up by the loop already running.
 *
 * Nothing received is dropped for want of a consumer: a message that finds no 'message'
 * listener and no `for await` loop is held, in order, and the first consumer to come gets the
 * held ones on a microtask (the rules are in {@link WebSocketConnection}'s doc).
 *
 * Memory is bounded both ways: the send buffer by `maxBufferedAmount` (beyond it the peer is
 * taken to have stopped reading and the connection is terminated), the receive side by
 * `maxQueuedMessages`: while that many messages are held, or wait in the iteration queue, the
 * transport is paused and the codec's already-received bytes stay unparsed (so the count never
 * passes the bound until the peer's EOF). Protocol rules all live in the codec.
 */
import type { Connection } from '../connection.ts';
import { WebSocketUsageError } from '../errors.ts';
import type { CloseInfo, Event, HandshakeRequest, HandshakeResponse, MessageKind } from '../events.ts';
import { encodeUtf8 } from '../utf8.ts';
import { formatExtensionHeader } from '../handshake/header-values.ts';
import type { HttpHeaders } from '../http/headers.ts';
import type { RequestHead } from '../http/head-parser.ts';
import type { HttpBodySink } from './http-exchange.ts';
import { controlBytes, toBytes, type SendData } from './data.ts';
import { Emitter, microtask, reportError } from './emitter.ts';
import { HandshakeError, WebSocketError, type SessionCloseInfo, type SessionErrorCode } from './errors.ts';
import { Fifo } from './fifo.ts';
import { MessageQueue, type Message } from './message-queue.ts';
import type { ResolvedSessionOptions } from './options.ts';
import type { ServerBudget } from './server-budget.ts';
import { describeTransportError, handshakeTransportMessage } from './transport-error.ts';
import type { PeerInfo, Transport, TransportHandlers } from './transport.ts';
import { Subscription, Topics, checkTopic, setTopicDelivery, type PublishOptions } from './topics.ts';
import type { ConnectionRegistry } from './connection-registry.ts';

export type ReadyState = 'connecting' | 'open' | 'closing' | 'closed';

/** A server connection's upgrade request, as the application sees it. */
export interface SessionRequest {
  method: string;
  /** The request-target as sent, e.g. `/chat?room=1`. */
  url: string;
  path: string;
  /** Without the `?`; `''` when absent. */
  query: string;
  headers: HttpHeaders;
  host: string;
  origin: string | null;
  /** Subprotocols the client offered, most preferred first. */
  protocols: readonly string[];
  remoteAddress: string | null;
  remotePort: number | null;
  secure: boolean;
}

export interface FragmentInfo {
  kind: MessageKind;
  /** The message's first chunk. */
  first: boolean;
  /** The message's last chunk. */
  fin: boolean;
}

/**
 * The connection's events and their listeners' arguments. Closed: `on('mesage', …)` does not
 * compile, nor does a listener with the wrong arguments.
 */
export interface ConnectionEvents {
  open: [];
  /**
   * A whole message: a string for text, bytes for binary. `isBinary` narrows `data`:
   * `(data, isBinary) => { if (isBinary) data.byteLength }`.
   */
  message: [data: string, isBinary: false] | [data: Uint8Array, isBinary: true];
  /** Streaming mode (`assembleMessages: false`): part of a message as it arrived. */
  fragment: [data: Uint8Array, info: FragmentInfo];
  ping: [data: Uint8Array];
  pong: [data: Uint8Array];
  /** `bufferedAmount` fell to the low-water mark after a send returned `'buffered'`. */
  drain: [];
  /** A violation, limit, timeout or transport failure; `close` follows. */
  error: [error: WebSocketError];
  /** The connection is gone (TCP closed). Always the last event. */
  close: [info: SessionCloseInfo];
}

/**
 * What became of a `send()` (and `sendFragment`, `ping`, `pong`):
 * - `'sent'`: accepted, and `bufferedAmount` is below `highWaterMark`: send more.
 * - `'buffered'`: accepted (it will go out, do not send it again), but `bufferedAmount` has
 *   reached `highWaterMark`: wait for `drain()` (or the `drain` event) before sending more.
 * - `'dropped'`: not sent: the connection is closing or closed (as browsers drop silently).
 *
 * Every value is a non-empty string, so `if (!ws.send(x))` is never true: compare with
 * `=== 'buffered'` (backpressure) or `!== 'sent'` instead.
 */
export type SendResult = 'sent' | 'buffered' | 'dropped';

export interface SendOptions {
  /** Per-message compression wish when an extension such as permessage-deflate is active. */
  compress?: boolean;
}

export interface FragmentOptions extends SendOptions {
  /**
   * The message's kind when `data` is bytes (default `'binary'`). `'text'` sends bytes as part of
   * a text message unchanged, e.g. a proxy forwarding a 'fragment' event whose chunk may end in
   * the middle of a UTF-8 character (the receiving codec validated it). A string is always text.
   */
  kind?: MessageKind;
}

/**
 * @internal The owner's part in the handshake. Shared by every connection of an owner (methods
 * taking the owner as an argument), so a connection holds two references instead of closures.
 */
export interface ConnectionHooks<O> {
  /** Server: the codec accepted a request; the callee answers with accept/reject commands. */
  onRequest?(owner: O, connection: WebSocketConnection, request: SessionRequest): void;
  /** Called just before the `open` event is dispatched. */
  onOpen?(owner: O, connection: WebSocketConnection): void;
  /** Server serving plain HTTP: a plain request arrived; returns where its body goes. */
  onHttpRequest?(
    owner: O,
    connection: WebSocketConnection,
    request: RequestHead,
    body: boolean,
    peer: PeerInfo | null,
  ): HttpBodySink;
}

/** @internal Built by `ServerSession` and `connectSession`. */
export interface ConnectionInit<O = unknown> {
  codec: Connection;
  transport: Transport;
  options: ResolvedSessionOptions;
  /** The codec delivers whole messages (its `assembleMessages` option). */
  assembleMessages: boolean;
  peer?: PeerInfo | null;
  owner?: O;
  hooks?: ConnectionHooks<O>;
  /** Server: the topics its `subscribe`/`publish` use. */
  topics?: Topics | null;
  /** Server: its budget for unsent bytes across connections (`maxServerBufferedAmount`), or null. */
  budget?: ServerBudget | null;
}

/**
 * @internal What `ServerSession` and `connectSession` need beyond the public API, and the
 * {@link TransportHandlers} an adapter calls: one small object per connection, made on first use.
 */
export interface Driver extends TransportHandlers {
  /** Run the codec until it has nothing to say (e.g. write a client's request). */
  pump(): void;
  /** A handshake command (accept/reject), then `pump()`. */
  send(command: Parameters<Connection['send']>[0]): void;
  /** A request head parsed elsewhere (node:http), then `pump()`. */
  receiveRequestHead(head: Parameters<Connection['receiveRequestHead']>[0]): void;
  /** HTTP/2: the peer's header list, then `pump()`. */
  onHeaders(headers: Array<[string, string]>): void;
}

let driverOf: (connection: WebSocketConnection) => Driver;

/**
 * @internal The {@link Driver}'s operations as functions of the connection, shared by every
 * connection: for an adapter (and a session) that keeps the connection itself, so that its
 * connections never make a driver object.
 */
export interface SessionInput {
  data(connection: WebSocketConnection, chunk: Uint8Array): void;
  drain(connection: WebSocketConnection): void;
  end(connection: WebSocketConnection): void;
  close(connection: WebSocketConnection, error?: unknown): void;
  pump(connection: WebSocketConnection): void;
  send(connection: WebSocketConnection, command: Parameters<Connection['send']>[0]): void;
  /** A command to the codec without running it: the next `pump` writes its output with the rest. */
  queue(connection: WebSocketConnection, command: Parameters<Connection['send']>[0]): void;
  receiveRequestHead(connection: WebSocketConnection, head: Parameters<Connection['receiveRequestHead']>[0]): void;
  /** HTTP/2: the peer's header list (an extended CONNECT, or the answer to ours). */
  headers(connection: WebSocketConnection, headers: Array<[string, string]>): void;
  /** The transport the connection runs on. */
  transport(connection: WebSocketConnection): Transport;
  /** Report its backlog to the server's budget (its `bufferedAmount`, or `bytes`) and return it. */
  reportBacklog(connection: WebSocketConnection, bytes?: number): number;
  /** Stop or restart reading because of the server's budget. */
  serverPause(connection: WebSocketConnection, on: boolean): void;
  /** Terminate it to bring the server within its budget: Close 1013, `SERVER_BUFFER_OVERFLOW`. */
  serverEvict(connection: WebSocketConnection, message: string): void;
  /** Why the handshake failed (what `opened` rejects with), once it has; else null. */
  openError(connection: WebSocketConnection): HandshakeError | null;
}

/** @internal */
export let sessionInput: SessionInput;

/**
 * @internal A {@link ConnectionRegistry}'s list runs through its connections (two links and the
 * registry, no Set entry per connection). A connection leaves it as it ends, before `close`.
 */
export interface RegistryLinks {
  /** Append `connection` (new, in no registry) at the registry's tail. */
  join(connection: WebSocketConnection, registry: ConnectionRegistry): void;
  registryOf(connection: WebSocketConnection): ConnectionRegistry | null;
  /** The next connection towards the tail. */
  next(connection: WebSocketConnection): WebSocketConnection | null;
  /** The handshake succeeded (a member of `connections`). */
  wasOpen(connection: WebSocketConnection): boolean;
}

/** @internal */
export let registryLinks: RegistryLinks;

/** The handlers an adapter wires its socket's events to. */
export function transportHandlers(connection: WebSocketConnection): TransportHandlers {
  return driverOf(connection);
}

/** @internal */
export function driver(connection: WebSocketConnection): Driver {
  return driverOf(connection);
}

const ignore = (): void => {};

/** The array `#perform` lends the transport for its writes, while not lent. */
let spareChunks: Uint8Array[] | null = [];

/**
 * Connections that publishes reached since the last flush. Publishes are written at the end of
 * the current task (one microtask for every connection of every server), so the messages a task
 * publishes (a read that held many, a loop of `publish` calls) leave each subscriber in one
 * transport write, not one each: the system call per subscriber is most of a publish's cost.
 * Reused: the array grows to the most subscribers one task reached and stays.
 *
 * Until then a subscriber holds no frames, only a range of `taskFrames` (in its `Subscription`),
 * extended while it gets every frame logged: at the flush, the frames of a range are gathered
 * into one buffer once and that same buffer goes to every subscriber with the same range (most
 * often all of them). A subscriber that missed a frame in between (another topic, skipped for
 * its backlog), or that writes anything else meanwhile (`send`, `close`…), first hands its range
 * to its codec as it stands: the order of its writes is kept.
 */
const publishedTo: WebSocketConnection[] = [];
let publishFlushQueued = false;
/** The chunks of every frame published in this task, in order (each publish's once per shared-frame key). */
const taskFrames: Uint8Array[] = [];
/** The frames array last appended to `taskFrames`, and where it starts there. */
let loggedFrames: readonly Uint8Array[] | null = null;
let loggedAt = 0;
/** The last range gathered, shared by every subscriber with the same range. */
let gatheredFrom = -1;
let gatheredTo = -1;
let gathered: Uint8Array | null = null;
/** Ranges of more bytes go to the codec frame by frame (a large payload is not copied). */
const GATHER_LIMIT = 256 * 1024;
const NO_BYTES = new Uint8Array(0);
/** One frame for `sendFramed`, reused (the codec keeps the frame, not the array). */
const oneFrame: Uint8Array[] = [NO_BYTES];

/** Where `frames` start in `taskFrames` (appended at the first subscriber of a publish). */
function logFrames(frames: readonly Uint8Array[]): number {
  if (frames !== loggedFrames) {
    loggedFrames = frames;
    loggedAt = taskFrames.length;
    for (let i = 0; i < frames.length; i++) taskFrames.push(frames[i] as Uint8Array);
  }
  return loggedAt;
}

/** The bytes of `taskFrames[from..to)`, as one buffer made once for every subscriber with that range. */
function gather(from: number, to: number, bytes: number): Uint8Array {
  if (from !== gatheredFrom || to !== gatheredTo || gathered === null) {
    const buffer = new Uint8Array(bytes);
    let at = 0;
    for (let i = from; i < to; i++) {
      const frame = taskFrames[i] as Uint8Array;
      buffer.set(frame, at);
      at += frame.length;
    }
    gathered = buffer;
    gatheredFrom = from;
    gatheredTo = to;
  }
  return gathered;
}

/**
 * What the codec cannot see for its keepalive and idle deadlines (it keeps both): whether the
 * send buffer moves, and whether our keepalive ping still waits in it. No times: the codec
 * learns of progress through `noteOutputProgress`, and checks at its deadline.
 */
interface Backlog {
  /** Bytes queued in the transport up to and including our keepalive ping, while it has not left; else 0. */
  behind: number;
  /** Bytes written to the transport since the ping, while `behind` > 0. */
  writtenSince: number;
  /** `bufferedAmount` at the last deadline: a fall between deadlines is progress too. */
  buffered: number;
}

/** A connection's state during its handshake only. */
class HandshakeState {
  peer: PeerInfo | null;
  owner: unknown;
  hooks: ConnectionHooks<unknown> | null;
  settleOpened: ((error: HandshakeError | null) => void) | null = null;
  rejection: { response: HandshakeResponse; body: Uint8Array } | null = null;
  /** The handshake failed: `opened` rejects with this. */
  openError: HandshakeError | null = null;
  /** Server serving plain HTTP: the request being answered, where its body goes. */
  exchange: HttpBodySink | null = null;

  constructor(peer: PeerInfo | null, owner: unknown, hooks: ConnectionHooks<unknown> | null) {
    this.peer = peer;
    this.owner = owner;
    this.hooks = hooks;
  }
}

// Flags: booleans packed into one field (an idle connection's size is most of its cost).
const WAS_OPEN = 1 << 0;
const PUMPING = 1 << 1;
const EOF = 1 << 2;
const ENDED = 1 << 3;
const DESTROYED = 1 << 4;
const TRANSPORT_CLOSED = 1 << 5;
const TERMINATED = 1 << 6;
const NEED_DRAIN = 1 << 7;
const USER_PAUSED = 1 << 8;
const QUEUE_PAUSED = 1 << 9;
const TRANSPORT_PAUSED = 1 << 10;
/** The codec delivers whole messages (`ConnectionInit.assembleMessages`). */
const ASSEMBLE = 1 << 11;
/** Messages (or fragments) wait in `#held`: every later one joins them, to keep the order. */
const HOLDING = 1 << 12;
/** `#held` reached `maxQueuedMessages`: reading is paused until it is down to a quarter. */
const HELD_FULL = 1 << 13;
/** A microtask will deliver the held messages (and take the events the codec kept). */
const FLUSH_QUEUED = 1 << 14;
/** The read loop stopped while the codec still had events (HELD_FULL or QUEUE_PAUSED). */
const BACKLOG = 1 << 15;
/** While any of these is set (and until the peer's EOF), the codec's events are left in it. */
const RECEIVE_FULL = HELD_FULL | QUEUE_PAUSED;
/**
 * The application called `close()` while open: read on whatever is held, to find the peer's
 * Close (what no consumer takes beyond `maxQueuedMessages` is then dropped).
 */
const LOCAL_CLOSE = 1 << 16;
/** With any of these, read (and parse) everything: the bound on held messages no longer stops reading. */
const READ_ALL = EOF | LOCAL_CLOSE;
/** The transport was backed up: the codec holds pongs (`holdPongs`) until it drains. */
const PONGS_HELD = 1 << 17;
/**
 * Pongs are held once the transport holds this many bytes (or `highWaterMark`, when lower): a ping
 * flood from a peer that does not read then costs that much plus one pong, and a transport that
 * keeps a few frames for a moment still answers every ping.
 */
const PONG_HOLD_BYTES = 16 * 1024;
/** The server's budget paused reading (see `ServerBudget`). */
const SERVER_PAUSED = 1 << 18;
/** Published frames wait in the codec; the connection is in `publishedTo`, written at the end of the task. */
const PUBLISHED = 1 << 19;

/** Why a connection ends, as far as the session knows: made at its first problem (most connections have none). */
class Trouble {
  /** The session's reason, before the codec's. */
  error: SessionErrorCode | null = null;
  /** The transport's error. */
  cause: unknown = undefined;
  /** The last problem's message, for a `HandshakeError`. */
  lastProblem = '';
}

/** The promises `opened` and `closed`: made when first asked for (most connections are never awaited). */
interface Promises {
  opened: Promise<WebSocketConnection> | null;
  closed: Promise<SessionCloseInfo> | null;
  resolveClosed: ((info: SessionCloseInfo) => void) | null;
}

/** A fragment event held for a 'fragment' listener (streaming mode). */
type FragmentEvent = Extract<Event, { type: 'fragment' }>;

/** The one timer of a connection that wants one: the host's handle while armed, and for when. */
interface SessionTimer {
  handle: unknown;
  /** The armed deadline; Infinity while not armed. */
  at: number;
  readonly fire: () => void;
}

/**
 * A WebSocket connection, client or server, on any transport. `T` is the type of {@link data},
 * the application's per-connection value (`createServer<T>()`).
 *
 * **Receiving: nothing is dropped for want of a consumer.** The consumers of messages are the
 * 'message' listeners and one `for await` loop (`'fragment'` listeners when `assembleMessages`
 * is false). From the moment the connection opens:
 * - a message that arrives while there is no consumer is *held*, in arrival order; so are the
 *   ones after it, while any are held (nothing overtakes a held message);
 * - attaching a consumer (`on`/`once('message')`, starting a `for await` loop) delivers the held
 *   messages in order on a microtask, so the caller's synchronous setup (more listeners, a
 *   'close' listener) finishes first. A listener and a loop present together each get every
 *   message, as a listener and the loop do for live messages;
 * - reading pauses while `maxQueuedMessages` are held (or wait in the loop's queue) and
 *   resumes once a quarter of that is left: memory stays bounded by what the application lets
 *   in, as with a Node `Readable` before it flows;
 * - close: messages that arrived before it reach the consumers present before `close` fires
 *   and before the loop ends. With no consumer at all, they stay held (`close` is not delayed):
 *   a consumer attached later still gets them, and a loop started later yields them, then ends;
 * - a loop left early (`break`) puts the messages it had not taken back in front of the held
 *   ones (unless 'message' listeners, which have seen them, are attached);
 * - after `terminate()`, or a failure that terminates, new messages are dropped; held ones stay.
 */
export class WebSocketConnection<T = unknown> extends Emitter<ConnectionEvents> implements AsyncIterable<Message> {
  // Fields are few on purpose: an idle server holds one of these per connection. What only some
  // connections need (promises, the timer callback, drain waiters, the driver) is made on first use.
  readonly #codec: Connection;
  readonly #transport: Transport;
  readonly #options: ResolvedSessionOptions;
  /** What only the handshake needs; let go of once open (kept after a failed handshake, for `opened`). */
  #hs: HandshakeState | null;
  #driver: Driver | null = null;

  #request: SessionRequest | null = null;
  #promises: Promises | null = null;

  #flags = 0;
  // Driver: made while a deadline is wanted (most connections want none once open).
  #timer: SessionTimer | null = null;

  // Transport and ending
  #troubleState: Trouble | null = null;
  #trouble(): Trouble {
    return (this.#troubleState ??= new Trouble());
  }
  #info: SessionCloseInfo | null = null;

  // Flow control
  #drainWaiters: Array<() => void> | null = null;
  /** When `bufferedAmount` must have fallen to `highWaterMark`, or -1: a small integer, not a boxed Infinity. */
  #drainDeadline = -1;
  #queue: MessageQueue | null = null;
  /** Messages (or fragment events) no consumer has taken yet: made on the first one held. */
  #held: Fifo<Message | FragmentEvent> | null = null;
  /** With idle or keepalive on, once open: see {@link Backlog}. */
  #live: Backlog | null = null;
  /** Server: its registry, replaced by a {@link Subscription} at the first subscribe; null on a client. */
  #topics: Topics | Subscription | null = null;

  // A server's registry of live connections (see connection-registry.ts) and the neighbours there.
  #tracker: ConnectionRegistry | null = null;
  #prevTracked: WebSocketConnection | null = null;
  #nextTracked: WebSocketConnection | null = null;
  /** Server: the budget shared by the server's connections, and our backlog as last reported to it. */
  readonly #budget: ServerBudget | null;
  #reported = 0;

  /**
   * The application's value for this connection: on a server, what `verifyClient` answered as
   * `{ data }` (before the `connection` event), else undefined until you set it.
   */
  data: T = undefined as T;

  static {
    class ConnectionDriver implements Driver {
      readonly #c: WebSocketConnection;
      constructor(c: WebSocketConnection) {
        this.#c = c;
      }
      onData(chunk: Uint8Array): void {
        this.#c.#onData(chunk);
      }
      onDrain(): void {
        sessionInput.drain(this.#c);
      }
      onEnd(): void {
        this.#c.#onEnd();
      }
      onClose(error?: unknown): void {
        this.#c.#onClose(error);
      }
      pump(): void {
        this.#c.#pump();
      }
      send(command: Parameters<Connection['send']>[0]): void {
        sessionInput.send(this.#c, command);
      }
      receiveRequestHead(head: Parameters<Connection['receiveRequestHead']>[0]): void {
        sessionInput.receiveRequestHead(this.#c, head);
      }
      onHeaders(headers: Array<[string, string]>): void {
        sessionInput.headers(this.#c, headers);
      }
    }
    driverOf = (c) => (c.#driver ??= new ConnectionDriver(c));
    sessionInput = {
      data: (c, chunk) => c.#onData(chunk),
      drain: (c) => {
        c.#moved();
        c.#onDrain();
        if (c.#budget !== null && c.#reported !== 0) c.#report(c.bufferedAmount);
      },
      end: (c) => c.#onEnd(),
      close: (c, error) => c.#onClose(error),
      pump: (c) => c.#pump(),
      send: (c, command) => {
        c.#codec.send(command);
        c.#pump();
      },
      queue: (c, command) => c.#codec.send(command),
      receiveRequestHead: (c, head) => {
        c.#codec.receiveRequestHead(head);
        c.#pump();
      },
      headers: (c, headers) => {
        c.#codec.receiveHeaders(headers);
        c.#pump();
      },
      transport: (c) => c.#transport,
      reportBacklog: (c, bytes = c.bufferedAmount) => {
        if (c.#budget !== null) c.#report(bytes);
        return bytes;
      },
      serverPause: (c, on) => {
        c.#set(SERVER_PAUSED, on);
        c.#applyFlow();
      },
      serverEvict: (c, message) => {
        if (c.#info !== null) return;
        if (c.#codec.state === 'open') c.#codec.send({ type: 'close', code: 1013 });
        c.#fail('SERVER_BUFFER_OVERFLOW', message);
      },
      openError: (c) => c.#hs?.openError ?? null,
    };
    /** Write what publishes queued (see `publishedTo`). */
    const flushPublished = (): void => {
      publishFlushQueued = false;
      // By index: a write may lead to more publishes (a listener), which join the list. A throw
      // (from a listener) is reported and the others are still written.
      for (let i = 0; i < publishedTo.length; i++) {
        const c = publishedTo[i] as WebSocketConnection;
        try {
          c.#writePublished();
          c.#flags &= ~PUBLISHED;
          c.#afterSend();
        } catch (error) {
          c.#flags &= ~PUBLISHED;
          reportError(error);
        }
      }
      // Emptied with pop(), as `spareChunks`.
      while (publishedTo.length > 0) publishedTo.pop();
      while (taskFrames.length > 0) taskFrames.pop();
      loggedFrames = gathered = null;
      gatheredFrom = gatheredTo = -1;
    };
    /** `c` has something published to write at the end of the task. */
    const published = (c: WebSocketConnection): void => {
      if ((c.#flags & PUBLISHED) !== 0) return;
      c.#flags |= PUBLISHED;
      publishedTo.push(c);
      if (publishFlushQueued) return;
      publishFlushQueued = true;
      microtask(flushPublished);
    };
    setTopicDelivery({
      codec: (c) => c.#codec,
      framed: (c, frames, bytes, topics) => {
        if (!c.#mayPublish(bytes, topics)) return false;
        const sub = c.#topics;
        if (!(sub instanceof Subscription)) {
          c.#codec.sendFramed(frames); // not subscribed (published to by other means): no range
          published(c);
          return true;
        }
        const at = logFrames(frames);
        if ((c.#flags & PUBLISHED) !== 0 && sub.to === at && sub.from < sub.to) {
          sub.to = at + frames.length; // the next frames of the log: the range grows
          sub.bytes += bytes;
          return true;
        }
        c.#writePublished(); // a gap: what it has goes first, as it stands
        sub.from = at;
        sub.to = at + frames.length;
        sub.bytes = bytes;
        published(c);
        return true;
      },
      own: (c, kind, payload, compress, topics) => {
        // Framed (and compressed) by this connection: its bytes are about the payload's size.
        if (!c.#mayPublish(payload.length, topics)) return false;
        c.#writePublished();
        c.#codec.send({ type: 'fragment', kind, data: payload, fin: true, compress });
        published(c);
        return true;
      },
    });
    registryLinks = {
      join: (c, registry) => {
        const tail = registry.tail;
        c.#tracker = registry;
        c.#prevTracked = tail;
        if (tail !== null) tail.#nextTracked = c;
        else registry.head = c;
        registry.tail = c;
        registry.size++;
      },
      registryOf: (c) => c.#tracker,
      next: (c) => c.#nextTracked,
      wasOpen: (c) => c.#flag(WAS_OPEN),
    };
  }

  /** Leave the registry (the connection has ended). */
  #leaveRegistry(): void {
    const registry = this.#tracker;
    if (registry === null) return;
    const prev = this.#prevTracked;
    const next = this.#nextTracked;
    if (prev !== null) prev.#nextTracked = next;
    else registry.head = next;
    if (next !== null) next.#prevTracked = prev;
    else registry.tail = prev;
    this.#prevTracked = this.#nextTracked = null;
    this.#tracker = null;
    registry.size--;
    if (this.#flag(WAS_OPEN)) registry.openCount--;
    registry.left();
  }

  /** @internal Use `ServerSession` or `connectSession` (or an adapter's `createServer`/`connect`). */
  constructor(init: ConnectionInit) {
    super();
    this.#codec = init.codec;
    this.#transport = init.transport;
    this.#options = init.options;
    if (init.assembleMessages) this.#flags = ASSEMBLE;
    this.#budget = init.budget ?? null;
    this.#hs = new HandshakeState(init.peer ?? null, init.owner, init.hooks ?? null);
    if (init.topics !== undefined) this.#topics = init.topics;
  }

  // Flags are read and written through these, never through private accessors (`get #x()`):
  // V8 calls the runtime for every use of a private accessor, even in optimized code.
  /** Any of `bits` is set. */
  #flag(bits: number): boolean {
    return (this.#flags & bits) !== 0;
  }

  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** Resolves with this connection once open; rejects with a {@link HandshakeError} (client). */
  get opened(): Promise<WebSocketConnection> {
    const promises = (this.#promises ??= { opened: null, closed: null, resolveClosed: null });
    if (promises.opened === null) {
      if (this.#flag(WAS_OPEN)) {
        promises.opened = Promise.resolve(this);
      } else if (this.#hs!.openError !== null) {
        promises.opened = Promise.reject(this.#hs!.openError);
      } else {
        const hs = this.#hs!;
        promises.opened = new Promise((resolve, reject) => {
          hs.settleOpened = (error) => (error === null ? resolve(this) : reject(error));
        });
      }
      // A failed handshake is reported through `opened`, `error` and `close`: awaiting `opened` is optional.
      promises.opened.catch(ignore);
    }
    return promises.opened;
  }

  /** Resolves once the connection is gone, with how it ended. Never rejects. */
  get closed(): Promise<SessionCloseInfo> {
    const promises = (this.#promises ??= { opened: null, closed: null, resolveClosed: null });
    if (promises.closed === null) {
      const info = this.#info;
      promises.closed =
        info !== null ? Promise.resolve(info) : new Promise((resolve) => (promises.resolveClosed = resolve));
    }
    return promises.closed;
  }

  // ───────────────────────────── state ─────────────────────────────

  get readyState(): ReadyState {
    if (this.#info !== null) return 'closed';
    switch (this.#codec.state) {
      case 'handshake':
      case 'awaiting-accept':
        return 'connecting';
      case 'open':
        return this.#flag(TERMINATED) ? 'closing' : 'open';
      default:
        return 'closing';
    }
  }

  /** The negotiated subprotocol, or `''`. */
  get protocol(): string {
    return this.#codec.protocol ?? '';
  }

  /** The negotiated extensions as a `Sec-WebSocket-Extensions` value, or `''`. */
  get extensions(): string {
    const extensions = this.#codec.extensions;
    return extensions.length === 0
      ? ''
      : formatExtensionHeader(extensions.map((e) => ({ name: e.name, params: e.params })));
  }

  /** Server: the upgrade request. Null on a client. */
  get request(): SessionRequest | null {
    return this.#request;
  }

  /** Client: the server's handshake response, once it arrived. */
  get response(): HandshakeResponse | null {
    return this.#codec.response;
  }

  /**
   * The HTTP version of the handshake: `'2'` for an extended CONNECT on an HTTP/2 stream (RFC
   * 8441; many WebSockets then share one TCP connection), `'1.1'` for an upgrade.
   */
  get httpVersion(): '1.1' | '2' {
    return this.#codec.http2 ? '2' : '1.1';
  }

  /** Client: the URL connected to. */
  get url(): string | null {
    const url = this.#codec.url;
    return url === null ? null : `${url.secure ? 'wss' : 'ws'}://${url.hostHeader}${url.target}`;
  }

  /** Wire bytes accepted by `send()` (and control frames, and publishes) and not yet handed to the OS. */
  get bufferedAmount(): number {
    const queued = this.#codec.pendingOutputBytes + this.#transport.bufferedAmount;
    if ((this.#flags & PUBLISHED) === 0) return queued;
    const sub = this.#topics;
    return sub instanceof Subscription ? queued + sub.bytes : queued;
  }

  /** Hand the frames published to this connection in this task to its codec (see `publishedTo`). */
  #writePublished(): void {
    if ((this.#flags & PUBLISHED) === 0) return;
    const sub = this.#topics;
    if (!(sub instanceof Subscription) || sub.from === sub.to) return;
    const { from, to, bytes } = sub;
    sub.from = sub.to = sub.bytes = 0;
    const codec = this.#codec;
    // Closing meanwhile (or terminated): as a subscriber skipped at the publish.
    if (!codec.canSendFramed || this.#flag(TERMINATED)) return;
    if (to - from > 1 && bytes <= GATHER_LIMIT) {
      oneFrame[0] = gather(from, to, bytes);
      codec.sendFramed(oneFrame);
    } else {
      for (let i = from; i < to; i++) {
        oneFrame[0] = taskFrames[i] as Uint8Array;
        codec.sendFramed(oneFrame);
      }
    }
    oneFrame[0] = NO_BYTES;
  }

  /**
   * Messages received and not yet taken by the application: held for want of a consumer, plus
   * those waiting in the `for await` loop's queue. Reading pauses while this is at
   * `maxQueuedMessages` (fragments, in streaming mode, count one each).
   */
  get queuedMessages(): number {
    return (this.#held?.length ?? 0) + (this.#queue?.length ?? 0);
  }

  /** How the connection ended, once `close` has fired; else null. */
  get closeInfo(): SessionCloseInfo | null {
    return this.#info;
  }

  // ───────────────────────────── sending ─────────────────────────────

  /**
   * Send a message: a string as text, bytes as binary. Returns what became of it (see
   * {@link SendResult}): `'sent'`; `'buffered'` when `bufferedAmount` has reached
   * `highWaterMark` (it will go out: wait for `drain()` before sending more); `'dropped'` when
   * the connection is closing or closed (as browsers drop silently). Large byte payloads are
   * sent without a copy on a server: do not change them until drained.
   */
  send(data: SendData, options?: SendOptions): SendResult {
    const compress = options?.compress;
    // Checked before the state, as before: a bad argument throws even on a closed connection.
    const bytes = typeof data === 'string' ? null : toBytes(data, 'data');
    if (!this.#mayWrite('send')) return 'dropped';
    if (bytes === null) this.#codec.sendText(data as string, compress);
    else this.#codec.sendBinary(bytes, compress);
    return this.#afterSend();
  }

  /**
   * Streaming send: one frame of a message (`fin` ends it). A message in progress must be
   * finished before another starts. Bytes are binary unless `options.kind` is `'text'`. Same
   * result as `send()`.
   */
  sendFragment(data: SendData, fin: boolean, options?: FragmentOptions): SendResult {
    const kind: MessageKind = typeof data === 'string' ? 'text' : (options?.kind ?? 'binary');
    const bytes = typeof data === 'string' ? encodeUtf8(data) : toBytes(data, 'data');
    if (!this.#mayWrite('sendFragment')) return 'dropped';
    this.#codec.send({ type: 'fragment', kind, data: bytes, fin, compress: options?.compress });
    return this.#afterSend();
  }

  /** Send a ping (≤ 125 bytes; a string is sent as UTF-8). Same result as `send()` (`'dropped'` once closing). */
  ping(data?: SendData): SendResult {
    const bytes = controlBytes(data, 'ping data');
    if (!this.#mayWrite('ping')) return 'dropped';
    this.#codec.send({ type: 'ping', data: bytes });
    return this.#afterSend();
  }

  /** Send an unsolicited pong (≤ 125 bytes). Same result as `send()` (`'dropped'` once closing). */
  pong(data?: SendData): SendResult {
    const bytes = controlBytes(data, 'pong data');
    if (!this.#mayWrite('pong')) return 'dropped';
    this.#codec.send({ type: 'pong', data: bytes });
    return this.#afterSend();
  }

  /**
   * Start the closing handshake (RFC 6455 §7): send a Close frame with `code` and `reason`
   * (≤ 123 UTF-8 bytes); `closed` resolves once the peer answered and TCP is gone. Before the
   * handshake completes, aborts it. Invalid arguments throw, even when already closing.
   */
  close(code?: number, reason?: string): void {
    const before = this.#codec.state;
    this.#writePublished(); // what was published to it goes before the Close
    this.#codec.send({ type: 'close', code, reason });
    if (before === 'handshake' || before === 'awaiting-accept') this.#trouble().error ??= 'ABORTED';
    if (before === 'open') {
      // Read on to the peer's Close even with messages held (the loop below takes the backlog).
      this.#flags = (this.#flags | LOCAL_CLOSE) & ~BACKLOG;
      this.#applyFlow();
    }
    this.#pump();
  }

  /** Drop the connection now, without a closing handshake. */
  terminate(): void {
    if (this.#info !== null) return;
    const state = this.#codec.state;
    this.#abort(state === 'handshake' || state === 'awaiting-accept' ? 'ABORTED' : null);
  }

  /** Resolves once `bufferedAmount` is at most the low-water mark (at once if it is), or the connection is gone. */
  drain(): Promise<void> {
    if (this.#info !== null || this.#flag(DESTROYED) || this.bufferedAmount <= this.#options.lowWaterMark)
      return Promise.resolve();
    return new Promise((resolve) => (this.#drainWaiters ??= []).push(resolve));
  }

  // ───────────────────────────── topics ─────────────────────────────

  #registry(what: string): Topics {
    const topics = this.#topics;
    if (topics === null) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `${what}() needs a server connection with topics: a client has none, and handleUpgrade needs the option topics: createTopics()`,
      );
    }
    return topics instanceof Subscription ? topics.registry : topics;
  }

  /** Server: receive what is published to `topic` (on this server, or any through its broker). */
  subscribe(topic: string): void {
    checkTopic(topic);
    const registry = this.#registry('subscribe');
    if (this.#info !== null) return; // closed: it would never leave the topic
    let subscription = this.#topics;
    if (!(subscription instanceof Subscription)) this.#topics = subscription = new Subscription(registry);
    registry.subscribe(this, subscription, topic);
  }

  /** Server: stop receiving `topic`. Closing leaves every topic. */
  unsubscribe(topic: string): void {
    checkTopic(topic);
    const registry = this.#registry('unsubscribe');
    const subscription = this.#topics;
    if (subscription instanceof Subscription) registry.unsubscribe(this, subscription, topic);
  }

  isSubscribed(topic: string): boolean {
    checkTopic(topic);
    const subscription = this.#topics;
    return subscription instanceof Subscription && subscription.names.has(topic);
  }

  /** The topics this connection subscribes to, in the order subscribed. */
  get topics(): string[] {
    const subscription = this.#topics;
    return subscription instanceof Subscription ? [...subscription.names] : [];
  }

  /** The same as `topics` (Bun's name). */
  get subscriptions(): string[] {
    return this.topics;
  }

  /**
   * Server: publish `data` to every subscriber of `topic` but this connection (which need not
   * subscribe), here and through the server's broker. Returns how many local subscribers it
   * was written to. `options` may be Bun's `compress` boolean.
   */
  publish(topic: string, data: SendData, options?: PublishOptions | boolean): number {
    return this.#registry('publish').publishFrom(this, topic, data, options);
  }

  /** A published message of `bytes` may be written: else dropped for this one (or, as configured, terminate). */
  #mayPublish(bytes: number, topics: Topics): boolean {
    if (this.#flag(TERMINATED) || this.#info !== null) return false;
    const buffered = this.bufferedAmount;
    if (buffered === 0 || buffered + bytes <= topics.backpressureLimit) return true;
    if (topics.closeOnBackpressureLimit) {
      this.#fail(
        'BACKPRESSURE_LIMIT',
        `${buffered} bytes wait to be sent: a published message would pass backpressureLimit (${topics.backpressureLimit})`,
      );
    }
    return false;
  }

  // ───────────────────────────── receiving ─────────────────────────────

  /** Stop reading from the peer (the transport's own backpressure reaches the peer). */
  pause(): void {
    this.#flags |= USER_PAUSED;
    this.#applyFlow();
  }

  resume(): void {
    this.#flags &= ~USER_PAUSED;
    this.#applyFlow();
  }

  /**
   * Iterate over messages (strings for text, bytes for binary) until the connection closes:
   * first those held because nobody consumed them yet (a loop started after an `await` misses
   * nothing), then each as it arrives. While `maxQueuedMessages` wait for the loop, reading
   * pauses. Breaking out of the loop does not close the connection, and the messages it had
   * not taken wait for the next consumer. One loop at a time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    if (this.#queue !== null)
      throw new WebSocketUsageError('INVALID_STATE', 'this connection is already being iterated');
    if (!this.#flag(ASSEMBLE)) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        "iteration needs whole messages: listen to 'fragment' events when assembleMessages is false",
      );
    }
    const queue = new MessageQueue(this.#options.maxQueuedMessages, (full) => {
      this.#set(QUEUE_PAUSED, full);
      this.#applyFlow();
      if (!full) this.#scheduleFlush(); // take the events the codec kept meanwhile
    });
    this.#queue = queue;
    if (this.#flag(HOLDING))
      this.#scheduleFlush(); // it ends the queue too, once closed and delivered
    else if (this.#info !== null) queue.end();
    const release = (): void => {
      if (this.#queue === queue) this.#queue = null;
      const rest = queue.close();
      if (rest.length > 0 && this.listenerCount('message') === 0) {
        const held = (this.#held ??= new Fifo());
        held.unshift(rest);
        this.#flags |= HOLDING;
        this.#checkHeldFull(held);
      }
    };
    const iterator: AsyncIterableIterator<Message> = {
      next: () => queue.next(),
      return: (): Promise<IteratorResult<Message, undefined>> => {
        release();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // ───────────────────────────── transport handlers ─────────────────────────────

  #onData(chunk: Uint8Array): void {
    if ((this.#flags & EOF) !== 0) return;
    this.#codec.receiveData(chunk);
    this.#pump();
  }

  #onEnd(): void {
    if (!this.#flag(EOF)) {
      this.#flags |= EOF;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  #onDrain(): void {
    if (this.#flag(PONGS_HELD) && this.#transport.bufferedAmount === 0) {
      // Drained: pongs are queued one per ping again, and the one held goes now.
      this.#flags &= ~PONGS_HELD;
      this.#codec.holdPongs(false);
      if (this.#codec.hasOutput && !this.#flag(PUMPING)) {
        this.#pump(); // comes back here through #afterPump
        return;
      }
    }
    if (this.#drainWaiters === null && !this.#flag(NEED_DRAIN) && this.#drainDeadline < 0) return;
    const buffered = this.bufferedAmount;
    if (buffered <= this.#options.highWaterMark) this.#drainDeadline = -1;
    if (buffered > this.#options.lowWaterMark) return;
    this.#drained();
  }

  #onClose(error?: unknown): void {
    if (this.#flag(TRANSPORT_CLOSED)) return;
    this.#flags |= TRANSPORT_CLOSED | DESTROYED;
    if (this.#codec.closeInfo === null && !this.#flag(TERMINATED) && error !== undefined && error !== null) {
      const trouble = this.#trouble();
      trouble.error ??= 'TRANSPORT_ERROR';
      trouble.cause = error;
      trouble.lastProblem = describeTransportError(error).text;
      this.emit(
        'error',
        new WebSocketError('TRANSPORT_ERROR', `the connection failed: ${trouble.lastProblem}`, null, error),
      );
    }
    if (!this.#flag(EOF)) {
      this.#flags |= EOF;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  // ───────────────────────────── the driver ─────────────────────────────

  #mayWrite(what: string): boolean {
    const state = this.#codec.state;
    if (state === 'handshake' || state === 'awaiting-accept') {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `${what}() before the connection is open: await connection.opened first`,
      );
    }
    if (state !== 'open' || this.#flag(TERMINATED)) return false;
    this.#writePublished(); // what was published to it comes first
    return true;
  }

  #afterSend(): SendResult {
    this.#pump();
    // Terminated meanwhile (the send overflowed maxBufferedAmount): it will never leave.
    if (this.#flag(DESTROYED)) return 'dropped';
    if (this.bufferedAmount < this.#options.highWaterMark) return 'sent';
    this.#flags |= NEED_DRAIN;
    return 'buffered';
  }

  /** Take outputs and events until the codec has none; then bound the buffer and re-arm the timer. */
  #pump(): void {
    if ((this.#flags & PUMPING) !== 0) return; // the loop already running picks it up
    this.#flags |= PUMPING;
    const codec = this.#codec;
    try {
      // Every pending event first, then every output in one transport write: the echoes of a
      // read that held many frames (and the pongs, and what listeners sent) leave together.
      for (;;) {
        // While the application holds maxQueuedMessages unconsumed, the rest stays in the codec
        // (one read's bytes at most: the transport is paused), until the peer's EOF.
        while ((this.#flags & RECEIVE_FULL) === 0 || (this.#flags & READ_ALL) !== 0) {
          const next = codec.nextEventOrMessage();
          if (next === null) break;
          // A whole message comes as its data alone (no event object): the hot path.
          if (typeof next === 'string') this.#onMessage(next, false);
          else if (next instanceof Uint8Array) this.#onMessage(next, true);
          else this.#dispatch(next);
        }
        if ((this.#flags & RECEIVE_FULL) !== 0 && (this.#flags & READ_ALL) === 0) this.#flags |= BACKLOG;
        if (!codec.hasOutput) break;
        this.#perform();
      }
    } finally {
      this.#flags &= ~PUMPING;
    }
    this.#afterPump();
  }

  /** Hand the codec's output to the transport: its writes as one vectored write, then a shutdown or destroy. */
  #perform(): void {
    const codec = this.#codec;
    // One array for every connection's writes, lent to the transport for the call (a write that
    // re-enters a session meanwhile gets an array of its own).
    const chunks = spareChunks ?? [];
    spareChunks = null;
    if (codec.hasPendingPong) {
      // Bytes go to the transport anyway: the held pong goes with them (never held indefinitely
      // behind a stream whose buffer does not run dry), and holding goes on for the next ones.
      codec.holdPongs(false);
      codec.holdPongs(true);
    }
    codec.takeWrites(chunks);
    if (chunks.length > 0) this.#write(chunks);
    // Emptied with pop(): `length = 0` is a runtime call in V8, pop() of one or two is inline.
    while (chunks.length > 0) chunks.pop();
    spareChunks = chunks;
    if (!codec.hasOutput) return;
    // What follows the writes: a shutdown, a destroy (takeWrites took every write before them).
    for (const output of codec.takeOutput()) {
      if (output.type === 'write') this.#write([output.data]);
      else if (output.type === 'shutdown') this.#end();
      else if (output.type === 'head') this.#head(output.headers);
      else this.#destroy();
    }
  }

  #write(chunks: Uint8Array[]): void {
    if ((this.#flags & (DESTROYED | ENDED)) !== 0) return;
    const live = this.#live;
    if (live !== null && live.behind > 0) for (const chunk of chunks) live.writtenSince += chunk.length;
    this.#transport.write(chunks);
  }

  /** The transport handed queued bytes to the OS: activity, and maybe our ping has left. */
  #moved(): void {
    const live = this.#live;
    if (live === null) return;
    const buffered = this.#transport.bufferedAmount;
    live.buffered = buffered;
    const pingWaiting = live.behind > 0;
    // Everything queued up to the ping has gone once what is left is what was written after it.
    if (pingWaiting && buffered <= live.writtenSince) live.behind = 0;
    this.#codec.noteOutputProgress(pingWaiting);
  }

  /** HTTP/2: a header list for the transport (one that cannot send one cannot carry this connection). */
  #head(headers: Array<[string, string]>): void {
    if ((this.#flags & (DESTROYED | ENDED)) !== 0) return;
    const transport = this.#transport;
    if (transport.head === undefined) this.#destroy();
    else transport.head(headers);
  }

  #end(): void {
    if (this.#flag(DESTROYED | ENDED)) return;
    this.#flags |= ENDED;
    this.#transport.end();
  }

  #destroy(): void {
    if (this.#flag(DESTROYED)) return;
    this.#flags |= DESTROYED;
    this.#transport.destroy();
  }

  #onMessage(data: string | Uint8Array, isBinary: boolean): void {
    // One test for the common case: nothing held, not terminated.
    if ((this.#flags & (TERMINATED | HOLDING)) !== 0) {
      if ((this.#flags & TERMINATED) === 0) this.#hold(data);
      return;
    }
    const queue = this.#queue;
    if (queue !== null) queue.push(data);
    if (!this.emit2('message', data, isBinary) && queue === null) this.#hold(data);
  }

  // ───────────────────────────── held messages ─────────────────────────────

  /** Keep what no consumer took; pause reading at `maxQueuedMessages`. */
  #hold(item: Message | FragmentEvent): void {
    const held = (this.#held ??= new Fifo());
    // Closing at the application's request, with the bound reached and nobody reading: dropped.
    if ((this.#flags & LOCAL_CLOSE) !== 0 && held.length >= this.#options.maxQueuedMessages && !this.#hasConsumer())
      return;
    held.push(item);
    this.#flags |= HOLDING;
    this.#checkHeldFull(held);
    if (this.#hasConsumer()) this.#scheduleFlush();
  }

  #checkHeldFull(held: Fifo<Message | FragmentEvent>): void {
    if ((this.#flags & HELD_FULL) === 0 && held.length >= this.#options.maxQueuedMessages) {
      this.#flags |= HELD_FULL;
      this.#applyFlow();
    }
  }

  #hasConsumer(): boolean {
    if ((this.#flags & ASSEMBLE) === 0) return this.listenerCount('fragment') > 0;
    return this.#queue !== null || this.listenerCount('message') > 0;
  }

  protected override listenerAdded(type: string): void {
    if ((this.#flags & HOLDING) !== 0 && type === ((this.#flags & ASSEMBLE) !== 0 ? 'message' : 'fragment'))
      this.#scheduleFlush();
  }

  /** Deliver the held messages on a microtask: the code that attached a consumer finishes first. */
  #scheduleFlush(): void {
    if ((this.#flags & FLUSH_QUEUED) !== 0) return;
    this.#flags |= FLUSH_QUEUED;
    microtask(() => this.#flush());
  }

  /**
   * Give the held messages, oldest first, to the consumers there are (ones that arrive meanwhile,
   * e.g. read by a `send()` from a listener, join the end); then read on if reading was stopped.
   */
  #flush(): void {
    this.#flags &= ~FLUSH_QUEUED;
    const held = this.#held;
    if (held !== null) {
      while (held.length > 0 && this.#hasConsumer()) {
        const item = held.shift()!;
        if (typeof item === 'string') this.#deliver(item, false);
        else if (item instanceof Uint8Array) this.#deliver(item, true);
        else this.emit('fragment', item.data, { kind: item.kind, first: item.first, fin: item.fin });
      }
      if (held.length === 0) this.#flags &= ~HOLDING;
      if ((this.#flags & HELD_FULL) !== 0 && held.length <= this.#options.maxQueuedMessages >> 2) {
        this.#flags &= ~HELD_FULL;
        this.#applyFlow();
      }
    }
    if (this.#info !== null) {
      if ((this.#flags & HOLDING) === 0) this.#queue?.end();
      return;
    }
    if ((this.#flags & BACKLOG) !== 0 && (this.#flags & RECEIVE_FULL) === 0) {
      this.#flags &= ~BACKLOG;
      this.#pump();
    }
  }

  #deliver(data: Message, isBinary: boolean): void {
    this.#queue?.push(data);
    this.emit2('message', data, isBinary);
  }

  #dispatch(event: Event): void {
    switch (event.type) {
      case 'text':
        this.#onMessage(event.data, false);
        return;
      case 'binary':
        this.#onMessage(event.data, true);
        return;
      case 'fragment':
        if (this.#flag(TERMINATED)) return;
        if (this.#flag(HOLDING) || this.listenerCount('fragment') === 0) this.#hold(event);
        else this.emit('fragment', event.data, { kind: event.kind, first: event.first, fin: event.fin });
        return;
      case 'ping':
        this.emit('ping', event.data);
        return;
      case 'pong':
        this.emit('pong', event.data);
        return;
      case 'close':
        return; // the peer's Close; the codec answers it, `close` fires once TCP is gone.
      case 'request': {
        const hs = this.#hs!;
        this.#request = this.#buildRequest(event.request, hs.peer);
        hs.peer = null;
        // An owner's hook may run application code: it must not unwind the driver. (A try here, not
        // a closure handed to a helper: nothing made per handshake.)
        if (hs.hooks?.onRequest !== undefined) {
          try {
            hs.hooks.onRequest(hs.owner, this, this.#request);
          } catch (error) {
            reportError(error);
          }
        }
        return;
      }
      case 'open': {
        this.#flags |= WAS_OPEN;
        if (this.#tracker !== null) this.#tracker.openCount++;
        const options = this.#options;
        if (options.idleTimeout > 0 || options.keepaliveInterval > 0) {
          this.#live = { behind: 0, writtenSince: 0, buffered: 0 };
        }
        // The handshake (and the owner's part) ends here: let go of it.
        const hs = this.#hs!;
        this.#hs = null;
        const hooks = hs.hooks;
        if (hooks?.onOpen !== undefined) {
          try {
            hooks.onOpen(hs.owner, this);
          } catch (error) {
            reportError(error);
          }
        }
        hs.settleOpened?.(null);
        this.#budget?.opened(this);
        this.emit('open');
        return;
      }
      case 'rejected':
        this.#hs!.rejection = { response: event.response, body: event.body };
        return;
      case 'http-request': {
        const hs = this.#hs!;
        if (hs.hooks?.onHttpRequest === undefined) return;
        try {
          hs.exchange = hs.hooks.onHttpRequest(hs.owner, this, event.request, event.body, hs.peer);
        } catch (error) {
          reportError(error);
        }
        return;
      }
      case 'http-body':
        this.#hs!.exchange?.body(event.data);
        return;
      case 'http-body-end':
        this.#hs!.exchange?.end();
        return;
      case 'protocol-error':
        // A failure the session already knows of (the transport's, our own abort) caused it: keep its message.
        if (this.#flag(TERMINATED) || this.#trouble().error !== null) return;
        this.#trouble().lastProblem = event.message;
        this.emit('error', new WebSocketError(event.code, event.message, event.closeCode));
        return;
      case 'closed':
        if (!this.#flag(WAS_OPEN)) {
          const hs = this.#hs!;
          hs.exchange?.gone();
          hs.exchange = null;
          hs.hooks = hs.owner = null;
          hs.openError = this.#handshakeError(event.info);
          hs.settleOpened?.(hs.openError);
          hs.settleOpened = null;
        }
        return;
    }
  }

  #afterPump(): void {
    if (this.#info !== null) return;
    const options = this.#options;
    if (!this.#flag(DESTROYED)) {
      const transportBuffered = this.#transport.bufferedAmount;
      const buffered = this.#codec.pendingOutputBytes + transportBuffered;
      const holdAt = options.highWaterMark < PONG_HOLD_BYTES ? options.highWaterMark : PONG_HOLD_BYTES;
      if (transportBuffered > 0 && transportBuffered >= holdAt && !this.#flag(PONGS_HELD)) {
        // Backed up: until it drains, pongs wait in the codec, one for the latest ping (§5.5.3),
        // so that a peer flooding pings while it does not read costs one pong, not one per ping.
        // Not from the first queued byte: a transport keeps a few frames for a moment in normal
        // traffic (Bun's socket before it takes them, an HTTP/2 stream waiting for its window),
        // and a peer that reads wants a pong for each ping (conformance 2.10: ten of them).
        this.#flags |= PONGS_HELD;
        this.#codec.holdPongs(true);
      }
      if (buffered > options.maxBufferedAmount) {
        this.#fail(
          'SEND_BUFFER_OVERFLOW',
          `${buffered} bytes wait to be sent, over maxBufferedAmount (${options.maxBufferedAmount}): the peer is not reading`,
        );
        return;
      }
      if (this.#budget !== null && buffered !== this.#reported) this.#report(buffered);
      if (options.drainTimeout > 0 && buffered > options.highWaterMark && this.#drainDeadline < 0) {
        this.#drainDeadline = options.clock() + options.drainTimeout;
      }
      // Bytes the codec held (a send() from a listener while this loop ran) may have gone through a
      // transport that took them all at once (Bun, Deno): no onDrain will come for them.
      this.#onDrain();
    }
    if (this.#flag(TRANSPORT_CLOSED) && this.#codec.closeInfo !== null) {
      this.#finish(this.#codec.closeInfo);
      return;
    }
    this.#arm();
  }

  /** Tell the server's budget our backlog (it may pause reading everywhere, or terminate us). */
  #report(buffered: number): void {
    const before = this.#reported;
    this.#reported = buffered;
    this.#budget!.report(buffered, before);
  }

  /**
   * One timer, for the earliest deadline (the codec's, or the drain timeout). Asked after every
   * pump, so it reads two numbers and compares: no clock, and no re-arming while the deadline
   * stays where it is (the codec moves its keepalive and idle deadlines only at a deadline). A
   * later deadline leaves an armed timer alone: it fires, finds nothing due, and re-arms.
   */
  #arm(): void {
    const codec = this.#codec;
    let due = codec.nextDeadline();
    if (due === 0) {
      // A timed wait began in the codec (a close, the open connection's keepalive): its clock starts now.
      codec.tick(this.#options.clock());
      if (codec.hasOutput) {
        this.#pump(); // comes back here, with the wait started
        return;
      }
      due = codec.nextDeadline();
    }
    const drain = this.#drainDeadline;
    if (due === null && drain < 0) {
      // Most connections without keepalive need no timer once open: nothing more to work out.
      if (this.#timer !== null) this.#dropTimer();
      return;
    }
    const deadline = drain < 0 ? (due as number) : due === null ? drain : Math.min(due, drain);
    const timer = (this.#timer ??= { handle: null, at: Infinity, fire: () => this.#fire() });
    if (timer.handle !== null) {
      if (timer.at <= deadline) return;
      this.#options.timers.clearTimeout(timer.handle);
    }
    timer.at = deadline;
    timer.handle = this.#options.timers.setTimeout(timer.fire, Math.max(0, deadline - this.#options.clock()));
  }

  #dropTimer(): void {
    const timer = this.#timer;
    if (timer === null) return;
    if (timer.handle !== null) this.#options.timers.clearTimeout(timer.handle);
    this.#timer = null;
  }

  #fire(): void {
    const timer = this.#timer;
    if (timer !== null) {
      timer.handle = null;
      timer.at = Infinity;
    }
    const now = this.#options.clock();
    if (this.#drainDeadline >= 0 && now >= this.#drainDeadline) {
      if (this.bufferedAmount > this.#options.highWaterMark) {
        this.#fail(
          'DRAIN_TIMEOUT',
          `bufferedAmount stayed above highWaterMark (${this.#options.highWaterMark}) for ${this.#options.drainTimeout} ms`,
        );
        return;
      }
      this.#drainDeadline = -1;
    }
    const codec = this.#codec;
    const live = this.#live;
    if (live === null) {
      codec.tick(now);
      this.#pump();
      return;
    }
    // A transport may report progress only when a write completes (Node: a large write is one
    // callback): a smaller `bufferedAmount` than at the last deadline is progress as well.
    const backlog = this.#transport.bufferedAmount;
    if (backlog < live.buffered) this.#moved();
    live.buffered = backlog;
    const pinged = codec.awaitingPong;
    codec.tick(now);
    if (!codec.awaitingPong) live.behind = 0;
    else if (!pinged) live.behind = live.writtenSince = 0; // a new ping: see what is queued up to it
    this.#pump();
    // A new ping behind a backlog waits until what was queued before it has left (with nothing
    // queued it leaves with this write: its wait starts now).
    if (codec.awaitingPong && !pinged && backlog > 0) live.behind = this.#transport.bufferedAmount;
  }

  /** The session's own failure: report it, then terminate. */
  #fail(code: SessionErrorCode, message: string): void {
    if (this.#codec.closeInfo === null) {
      this.#trouble().error ??= code;
      this.#trouble().lastProblem = message;
      this.emit('error', new WebSocketError(code, message));
    }
    this.#abort(null);
  }

  #abort(error: SessionErrorCode | null): void {
    if (error !== null && this.#codec.closeInfo === null) this.#trouble().error ??= error;
    this.#flags |= TERMINATED;
    this.#destroy();
    if (!this.#flag(EOF)) {
      this.#flags |= EOF;
      this.#codec.receiveEof();
    }
    this.#pump();
  }

  #drained(): void {
    const waiters = this.#drainWaiters;
    if (waiters !== null) {
      this.#drainWaiters = null;
      for (const resolve of waiters) resolve();
    }
    if (this.#flag(NEED_DRAIN)) {
      this.#flags &= ~NEED_DRAIN;
      if (this.#info === null) this.emit('drain');
    }
  }

  #applyFlow(): void {
    const pause =
      (this.#flag(USER_PAUSED | SERVER_PAUSED) || (this.#flag(RECEIVE_FULL) && !this.#flag(LOCAL_CLOSE))) &&
      this.#info === null;
    if (pause === this.#flag(TRANSPORT_PAUSED)) return;
    this.#set(TRANSPORT_PAUSED, pause);
    if (pause) {
      this.#codec.pauseLiveness(true);
      this.#transport.pause?.();
      return;
    }
    // Idle and keepalive stood still while we did not read: they start afresh.
    this.#codec.pauseLiveness(false);
    if (this.#live !== null) this.#live.behind = 0;
    this.#transport.resume?.();
    if (this.#info === null && !this.#flag(PUMPING)) this.#arm();
  }

  #finish(codecInfo: CloseInfo): void {
    const trouble = this.#troubleState;
    const info: SessionCloseInfo = {
      ...codecInfo,
      error: trouble?.error ?? codecInfo.error ?? null,
    };
    if (trouble !== null && trouble.cause !== undefined) info.cause = trouble.cause;
    this.#info = info;
    const topics = this.#topics;
    if (topics instanceof Subscription) topics.registry.leaveAll(this, topics);
    this.#dropTimer();
    this.#drained();
    // What arrived before the close reaches the consumers there are before `close` fires (with
    // none, it stays held for the first to come).
    if (this.#flag(HOLDING) && this.#hasConsumer()) this.#flush();
    if (!this.#flag(HOLDING)) this.#queue?.end();
    this.#flags &= ~(USER_PAUSED | QUEUE_PAUSED | HELD_FULL | BACKLOG | SERVER_PAUSED);
    this.#leaveRegistry();
    if (this.#budget !== null) {
      const before = this.#reported;
      this.#reported = 0;
      this.#budget.closed(this, before);
    }
    const promises = this.#promises;
    if (promises !== null) {
      promises.resolveClosed?.(info);
      promises.resolveClosed = null;
    }
    this.emit('close', info);
  }

  #handshakeError(info: CloseInfo): HandshakeError {
    const trouble = this.#troubleState;
    const code = trouble?.error ?? info.error ?? 'ABORTED';
    const rejection = this.#hs!.rejection;
    if (rejection !== null) {
      const { status, statusText, headers } = rejection.response;
      return new HandshakeError(code, `the server refused the upgrade: ${status} ${statusText}`.trimEnd(), {
        status,
        headers,
        body: rejection.body,
      });
    }
    const response = this.#codec.response;
    const url = this.#codec.url;
    const message =
      code === 'ABORTED'
        ? 'the connection was closed before the handshake completed'
        : code === 'TRANSPORT_ERROR' && url !== null
          ? handshakeTransportMessage(
              trouble!.cause,
              url.hostname.includes(':') ? `[${url.hostname}]:${url.port}` : `${url.hostname}:${url.port}`,
            )
          : trouble?.lastProblem || code;
    return new HandshakeError(code, message, {
      status: response?.status ?? null,
      headers: response?.headers ?? null,
      cause: trouble?.cause,
    });
  }

  #buildRequest(request: HandshakeRequest, peer: PeerInfo | null): SessionRequest {
    return {
      method: request.method,
      url: request.target,
      path: request.path,
      query: request.query,
      headers: request.headers,
      host: request.host,
      origin: request.origin,
      protocols: request.protocols,
      remoteAddress: peer?.remoteAddress ?? null,
      remotePort: peer?.remotePort ?? null,
      secure: peer?.secure ?? false,
    };
  }
}
