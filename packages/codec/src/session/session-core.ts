/**
 * The driver behind a {@link WebSocketConnection}: its state and the loop that runs the codec
 * against a {@link Transport}. After every input (bytes, EOF, a timer) and every command (send,
 * close) it takes the codec's outputs and writes them in one vectored `write`, dispatches the
 * codec's events to listeners and to the `for await` queue, and keeps one deadline, the earliest
 * (the codec's, or the drain timeout), in the sweep its server's connections share
 * (`deadline-sweep.ts`: one host timer for them all). A listener that calls back into the
 * connection (send inside 'message') does not recurse: its output is picked up by the loop
 * already running.
 *
 * Memory is bounded both ways: the send buffer by `maxBufferedAmount` (beyond it the peer is
 * taken to have stopped reading and the connection is terminated), the receive side by
 * `maxQueuedMessages`: while that many messages are held, or wait in the iteration queue, the
 * transport is paused and the codec's already-received bytes stay unparsed (so the count never
 * passes the bound until the peer's EOF). Protocol rules all live in the codec; the connection's
 * protocol state is the codec's (`Connection.state`), and `flags` holds only what the session
 * alone knows (see connection-flags.ts).
 *
 * Internal: one per connection, held privately by it (its fields are not the application's to
 * see). The other session modules read it directly.
 */
import type { Connection } from '../connection.ts';
import { WebSocketUsageError } from '../errors.ts';
import type { Event } from '../events.ts';
import {
  ASSEMBLE,
  BACKLOG,
  DESTROYED,
  ENDED,
  EOF,
  HOLDING,
  LIVENESS,
  LOCAL_CLOSE,
  NEED_DRAIN,
  PONGS_HELD,
  PUBLISHED,
  PUMPING,
  READ_ALL,
  RECEIVE_FULL,
  SERVER_PAUSED,
  TERMINATED,
  TRANSPORT_CLOSED,
  TRANSPORT_PAUSED,
  USER_PAUSED,
} from './connection-flags.ts';
import { CAUSE, Trouble, failedMessage, finishConnection, handshakeError } from './connection-end.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import type { ConnectionEvents, SendResult, SessionRequest } from './connection-types.ts';
import type { ConnectionInit, Driver } from './connection-wiring.ts';
import type { SessionErrorCode, SessionCloseInfo } from './errors.ts';
import { WebSocketError, transportFailure } from './errors.ts';
import type { Fifo } from './fifo.ts';
import { HandshakeState, handshakeEvent } from './handshake-state.ts';
import { type Held, hold } from './held-messages.ts';
import type { Message, MessageQueue } from './message-queue.ts';
import type { ResolvedSessionOptions } from './options.ts';
import { publishedBytes, writePublished } from './publish-batch.ts';
import type { ServerBudget } from './server-budget.ts';
import { UNSCHEDULED } from './deadline-sweep.ts';
import { OutputProgress, armDeadline } from './session-timer.ts';
import { Subscription, type Topics } from './topics.ts';
import { transportErrorText } from './transport-error.ts';
import type { Transport } from './transport.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** @internal What the core needs of its connection beyond the public API, given once by `websocket-connection.ts`. */
export interface FacadeAccess {
  /** The connection's (protected) `emit`. */
  emit(connection: WebSocketConnection, type: keyof ConnectionEvents, args: unknown[]): boolean;
  /** Its `emit2('message', …)`, for the per-message event (no arguments array). */
  emitMessage(connection: WebSocketConnection, data: Message, isBinary: boolean): boolean;
  /** Its `emit1` and `emit0`: an event of one argument or none, without an arguments array (a handshake's and a close's events). */
  emit1(connection: WebSocketConnection, type: keyof ConnectionEvents, a: unknown): boolean;
  emit0(connection: WebSocketConnection, type: keyof ConnectionEvents): boolean;
  coreOf(connection: WebSocketConnection): SessionCore;
}

let facade: FacadeAccess;

/** @internal Called once by `websocket-connection.ts` as it loads. */
export function provideFacadeAccess(access: FacadeAccess): void {
  facade = access;
}

function coreOf(connection: WebSocketConnection): SessionCore {
  return facade.coreOf(connection);
}

/**
 * Pongs are held once the transport holds this many bytes (or `highWaterMark`, when lower): a ping
 * flood from a peer that does not read then costs that much plus one pong, and a transport that
 * keeps a few frames for a moment still answers every ping.
 */
const PONG_HOLD_BYTES = 16 * 1024;

/** The promises `opened` and `closed`: made when first asked for (most connections are never awaited). */
export interface Promises {
  opened: Promise<WebSocketConnection> | null;
  closed: Promise<SessionCloseInfo> | null;
  resolveClosed: ((info: SessionCloseInfo) => void) | null;
}

/** The array `perform` lends the transport for its writes, while not lent. */
let spareChunks: Uint8Array[] | null = [];

/** @internal */
export class SessionCore implements Driver {
  /** The connection this drives (the application's object, whose listeners get the events). */
  readonly connection: WebSocketConnection;
  // Fields are few on purpose: an idle server holds one of these per connection. What only some
  // connections need (promises, drain waiters) is made on first use.
  readonly codec: Connection;
  readonly transport: Transport;
  readonly options: ResolvedSessionOptions;
  /**
   * The handshake phase: what only the handshake needs, let go of once open (kept after a failed
   * handshake, for `opened`). Null exactly when the handshake succeeded.
   */
  hs: HandshakeState | null;

  request: SessionRequest | null = null;
  promises: Promises | null = null;

  flags = 0;
  /** Where the connection waits in its server's deadline sweep (`session-timer.ts`), or UNSCHEDULED. */
  slot = UNSCHEDULED;

  // Transport and ending
  troubleState: Trouble | null = null;
  trouble(): Trouble {
    return (this.troubleState ??= new Trouble());
  }
  info: SessionCloseInfo | null = null;

  // Flow control
  drainWaiters: Array<() => void> | null = null;
  /** When `bufferedAmount` must have fallen to `highWaterMark`, or -1: a small integer, not a boxed Infinity. */
  drainDeadline = -1;
  queue: MessageQueue | null = null;
  /** Messages (or fragment events) no consumer has taken yet: made on the first one held. */
  held: Fifo<Held> | null = null;
  /** With idle or keepalive on (LIVENESS), once bytes were seen queued: see {@link OutputProgress} (null: all zeros). */
  live: OutputProgress | null = null;
  /** Server: its registry, replaced by a {@link Subscription} at the first subscribe; null on a client. */
  topics: Topics | Subscription | null = null;

  // A server's registry of live connections (see connection-registry.ts) and the neighbours there.
  tracker: ConnectionRegistry | null = null;
  prevTracked: WebSocketConnection | null = null;
  nextTracked: WebSocketConnection | null = null;
  /** Server: the budget shared by the server's connections, and our backlog as last reported to it. */
  readonly budget: ServerBudget | null;
  reported = 0;

  constructor(connection: WebSocketConnection, init: ConnectionInit) {
    this.connection = connection;
    this.codec = init.codec;
    this.transport = init.transport;
    this.options = init.options;
    if (init.assembleMessages) this.flags = ASSEMBLE;
    this.budget = init.budget ?? null;
    this.hs = new HandshakeState(init.peer ?? null, init.owner, init.hooks ?? null);
    if (init.topics !== undefined) this.topics = init.topics;
  }

  /** Dispatch to the connection's listeners (its `emit` is protected: reached through {@link FacadeAccess}). */
  emit<K extends keyof ConnectionEvents>(type: K, ...args: ConnectionEvents[K]): boolean {
    return facade.emit(this.connection, type, args);
  }

  emit2(_type: 'message', data: Message, isBinary: boolean): boolean {
    return facade.emitMessage(this.connection, data, isBinary);
  }

  /** `emit(type, a)` without the arguments array. */
  emit1<K extends keyof ConnectionEvents>(type: K, a: ConnectionEvents[K][0]): boolean {
    return facade.emit1(this.connection, type, a);
  }

  /** `emit(type)` without the arguments array. */
  emit0<K extends keyof ConnectionEvents>(type: K): boolean {
    return facade.emit0(this.connection, type);
  }

  /** Leave the registry (the connection has ended). */
  leaveRegistry(): void {
    const registry = this.tracker;
    if (registry === null) return;
    const prev = this.prevTracked;
    const next = this.nextTracked;
    if (prev !== null) coreOf(prev).nextTracked = next;
    else registry.head = next;
    if (next !== null) coreOf(next).prevTracked = prev;
    else registry.tail = prev;
    this.prevTracked = this.nextTracked = null;
    this.tracker = null;
    registry.size--;
    if (this.hs === null) registry.openCount--; // it had opened
    registry.left();
  }

  // Plain fields and methods (not `#private`): this class is internal, and its connection holds it
  // in a private field. (Never private accessors, `get #x()`: V8 calls the runtime for each use.)
  /** Any of `bits` is set. */
  flag(bits: number): boolean {
    return (this.flags & bits) !== 0;
  }

  set(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  /** Wire bytes accepted by `send()` (and control frames, and publishes) and not yet handed to the OS. */
  get bufferedAmount(): number {
    const queued = this.codec.pendingOutputBytes + this.transport.bufferedAmount;
    return (this.flags & PUBLISHED) === 0 ? queued : queued + publishedBytes(this);
  }

  /** A published message of `bytes` may be written: else dropped for this one (or, as configured, terminate). */
  mayPublish(bytes: number, topics: Topics): boolean {
    if (this.flag(TERMINATED) || this.info !== null) return false;
    const buffered = this.bufferedAmount;
    if (buffered === 0 || buffered + bytes <= topics.backpressureLimit) return true;
    if (topics.closeOnBackpressureLimit) {
      this.fail(
        'BACKPRESSURE_LIMIT',
        `${buffered} bytes wait to be sent: a published message would pass backpressureLimit (${topics.backpressureLimit})`,
      );
    }
    return false;
  }

  // ───────────────────────────── transport handlers ─────────────────────────────

  onData(chunk: Uint8Array): void {
    if ((this.flags & EOF) !== 0) return;
    this.codec.receiveData(chunk);
    this.pump();
  }

  onEnd(): void {
    if (!this.flag(EOF)) {
      this.flags |= EOF;
      this.codec.receiveEof();
    }
    this.pump();
  }

  /** Bytes left the transport (or a pump ended): holding pongs, `drain` waiters and the drain deadline. */
  checkDrain(): void {
    if (this.flag(PONGS_HELD) && this.transport.bufferedAmount === 0) {
      // Drained: pongs are queued one per ping again, and the one held goes now.
      this.flags &= ~PONGS_HELD;
      this.codec.holdPongs(false);
      if (this.codec.hasOutput && !this.flag(PUMPING)) {
        this.pump(); // comes back here through #afterPump
        return;
      }
    }
    if (this.drainWaiters === null && !this.flag(NEED_DRAIN) && this.drainDeadline < 0) return;
    const buffered = this.bufferedAmount;
    if (buffered <= this.options.highWaterMark) this.drainDeadline = -1;
    if (buffered > this.options.lowWaterMark) return;
    this.drained();
  }

  onClose(error?: unknown): void {
    if (this.flag(TRANSPORT_CLOSED)) return;
    this.flags |= TRANSPORT_CLOSED | DESTROYED;
    if (this.codec.closeInfo === null && !this.flag(TERMINATED) && error !== undefined && error !== null) {
      const trouble = this.trouble();
      trouble.error ??= 'TRANSPORT_ERROR';
      trouble.cause = error;
      // Its words are found when asked for (lastProblemOf), or for a listener: a reset peer is
      // routine on a busy server (`closeInfo` has the cause).
      trouble.lastProblem = CAUSE;
      if (this.connection.listenerCount('error') > 0)
        this.emit1('error', transportFailure(failedMessage(transportErrorText(error)), error));
    }
    if (!this.flag(EOF)) {
      this.flags |= EOF;
      this.codec.receiveEof();
    }
    this.pump();
  }

  // The connection's `Driver` (what `transportHandlers` returns, `sessionInput` calls): no object of its own.

  /** The transport handed queued bytes to the OS. */
  onDrain(): void {
    this.moved();
    this.checkDrain();
    if (this.budget !== null && this.reported !== 0) this.report(this.budget, this.bufferedAmount);
  }

  send(command: Parameters<Connection['send']>[0]): void {
    this.codec.send(command);
    this.pump();
  }

  receiveRequestHead(head: Parameters<Connection['receiveRequestHead']>[0]): void {
    this.codec.receiveRequestHead(head);
    this.pump();
  }

  onHeaders(headers: Array<[string, string]>): void {
    this.codec.receiveHeaders(headers);
    this.pump();
  }

  // ───────────────────────────── the driver ─────────────────────────────

  mayWrite(what: string): boolean {
    const state = this.codec.state;
    if (state === 'handshake' || state === 'awaiting-accept') {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `${what}() before the connection is open: await connection.opened first`,
      );
    }
    if (state !== 'open' || this.flag(TERMINATED)) return false;
    if ((this.flags & PUBLISHED) !== 0) writePublished(this); // what was published to it comes first
    return true;
  }

  afterSend(): SendResult {
    this.pump();
    // Terminated meanwhile (the send overflowed maxBufferedAmount): it will never leave.
    if (this.flag(DESTROYED)) return 'dropped';
    if (this.bufferedAmount < this.options.highWaterMark) return 'sent';
    this.flags |= NEED_DRAIN;
    return 'buffered';
  }

  /** Take outputs and events until the codec has none; then bound the buffer and keep the deadline. */
  pump(): void {
    if ((this.flags & PUMPING) !== 0) return; // the loop already running picks it up
    this.flags |= PUMPING;
    const codec = this.codec;
    try {
      // Every pending event first, then every output in one transport write: the echoes of a
      // read that held many frames (and the pongs, and what listeners sent) leave together.
      for (;;) {
        // While the application holds maxQueuedMessages unconsumed, the rest stays in the codec
        // (one read's bytes at most: the transport is paused), until the peer's EOF.
        while ((this.flags & RECEIVE_FULL) === 0 || (this.flags & READ_ALL) !== 0) {
          const next = codec.nextEventOrMessage();
          if (next === null) break;
          // A whole message comes as its data alone (no event object): the hot path.
          if (typeof next === 'string') this.onMessage(next, false);
          else if (next instanceof Uint8Array) this.onMessage(next, true);
          else this.dispatch(next);
        }
        if ((this.flags & RECEIVE_FULL) !== 0 && (this.flags & READ_ALL) === 0) this.flags |= BACKLOG;
        if (!codec.hasOutput) break;
        this.perform();
      }
    } finally {
      this.flags &= ~PUMPING;
    }
    this.afterPump();
  }

  /** Hand the codec's output to the transport: its writes as one vectored write, then a shutdown or destroy. */
  perform(): void {
    const codec = this.codec;
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
    if (chunks.length > 0) this.write(chunks);
    // Emptied with pop(): `length = 0` is a runtime call in V8, pop() of one or two is inline.
    while (chunks.length > 0) chunks.pop();
    spareChunks = chunks;
    if (!codec.hasOutput) return;
    // What follows the writes: a shutdown, a destroy (takeWrites took every write before them).
    const outputs = codec.takeOutput();
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i] as (typeof outputs)[number];
      if (output.type === 'write') this.write([output.data]);
      else if (output.type === 'shutdown') this.end();
      else if (output.type === 'head') this.head(output.headers);
      else this.destroy();
    }
  }

  write(chunks: Uint8Array[]): void {
    if ((this.flags & (DESTROYED | ENDED)) !== 0) return;
    if (this.live !== null) this.live.written(chunks);
    this.transport.write(chunks);
  }

  /** The transport handed queued bytes to the OS: activity, and maybe our ping has left. */
  moved(): void {
    if ((this.flags & LIVENESS) === 0) return;
    const buffered = this.transport.bufferedAmount;
    const live = this.live;
    if (live !== null) live.moved(buffered, this.codec);
    else if (buffered > 0) (this.live = new OutputProgress()).moved(buffered, this.codec);
    else this.codec.noteOutputProgress(false); // no ping waits behind anything
  }

  /** HTTP/2: a header list for the transport (one that cannot send one cannot carry this connection). */
  head(headers: Array<[string, string]>): void {
    if ((this.flags & (DESTROYED | ENDED)) !== 0) return;
    const transport = this.transport;
    if (transport.head === undefined) this.destroy();
    else transport.head(headers);
  }

  end(): void {
    if (this.flag(DESTROYED | ENDED)) return;
    this.flags |= ENDED;
    this.transport.end();
  }

  destroy(): void {
    if (this.flag(DESTROYED)) return;
    this.flags |= DESTROYED;
    this.transport.destroy();
  }

  onMessage(data: string | Uint8Array, isBinary: boolean): void {
    // One test for the common case: nothing held, not terminated.
    if ((this.flags & (TERMINATED | HOLDING)) !== 0) {
      if ((this.flags & TERMINATED) === 0) hold(this, data);
      return;
    }
    const queue = this.queue;
    if (queue !== null) queue.push(data);
    if (!this.emit2('message', data, isBinary) && queue === null) hold(this, data);
  }

  dispatch(event: Event): void {
    switch (event.type) {
      case 'text':
        this.onMessage(event.data, false);
        return;
      case 'binary':
        this.onMessage(event.data, true);
        return;
      case 'fragment':
        if (this.flag(TERMINATED)) return;
        if (this.flag(HOLDING) || this.connection.listenerCount('fragment') === 0) hold(this, event);
        else this.emit('fragment', event.data, { kind: event.kind, first: event.first, fin: event.fin });
        return;
      case 'ping':
        this.emit1('ping', event.data);
        return;
      case 'pong':
        this.emit1('pong', event.data);
        return;
      case 'close':
        return; // the peer's Close; the codec answers it, `close` fires once TCP is gone.
      case 'open':
        this.opened();
        return;
      case 'protocol-error':
        // A failure the session already knows of (the transport's, our own abort) caused it: keep its message.
        if (this.flag(TERMINATED) || this.trouble().error !== null) return;
        this.trouble().lastProblem = event.message;
        this.emit1('error', new WebSocketError(event.code, event.message, event.closeCode));
        return;
      case 'closed': {
        const hs = this.hs;
        if (hs !== null) hs.failed(handshakeError(event.info, this.troubleState, hs, this.codec));
        return;
      }
      default:
        if (this.hs !== null) handshakeEvent(this, this.hs, event);
        return;
    }
  }

  /** The handshake succeeded: let go of its phase, start the open connection's parts, tell everyone. */
  opened(): void {
    const hs = this.hs;
    if (hs === null) return;
    this.hs = null;
    if (this.tracker !== null) this.tracker.openCount++;
    const options = this.options;
    if (options.idleTimeout > 0 || options.keepaliveInterval > 0) this.flags |= LIVENESS;
    hs.opened(this.connection);
    this.budget?.opened(this.connection);
    this.emit0('open');
  }

  afterPump(): void {
    if (this.info !== null) return;
    const options = this.options;
    if (!this.flag(DESTROYED)) {
      const transportBuffered = this.transport.bufferedAmount;
      const buffered = this.codec.pendingOutputBytes + transportBuffered;
      const holdAt = options.highWaterMark < PONG_HOLD_BYTES ? options.highWaterMark : PONG_HOLD_BYTES;
      if (transportBuffered > 0 && transportBuffered >= holdAt && !this.flag(PONGS_HELD)) {
        // Backed up: until it drains, pongs wait in the codec, one for the latest ping (§5.5.3),
        // so that a peer flooding pings while it does not read costs one pong, not one per ping.
        // Not from the first queued byte: a transport keeps a few frames for a moment in normal
        // traffic (Bun's socket before it takes them, an HTTP/2 stream waiting for its window),
        // and a peer that reads wants a pong for each ping (conformance 2.10: ten of them).
        this.flags |= PONGS_HELD;
        this.codec.holdPongs(true);
      }
      if (buffered > options.maxBufferedAmount) {
        this.fail(
          'SEND_BUFFER_OVERFLOW',
          `${buffered} bytes wait to be sent, over maxBufferedAmount (${options.maxBufferedAmount}): the peer is not reading`,
        );
        return;
      }
      if (this.budget !== null && buffered !== this.reported) this.report(this.budget, buffered);
      if (options.drainTimeout > 0 && buffered > options.highWaterMark && this.drainDeadline < 0) {
        this.drainDeadline = options.clock() + options.drainTimeout;
      }
      // Bytes the codec held (a send() from a listener while this loop ran) may have gone through a
      // transport that took them all at once (Bun, Deno): no onDrain will come for them.
      this.checkDrain();
    }
    if (this.flag(TRANSPORT_CLOSED) && this.codec.closeInfo !== null) {
      finishConnection(this, this.codec.closeInfo);
      return;
    }
    this.arm();
  }

  /** Tell the server's budget our backlog (it may pause reading everywhere, or terminate us). */
  report(budget: ServerBudget, buffered: number): void {
    const before = this.reported;
    this.reported = buffered;
    budget.report(buffered, before);
  }

  /**
   * One deadline in the sweep, the earliest (the codec's, or the drain timeout): see
   * `armDeadline`. Asked after every pump, so it reads two numbers and compares: no clock, and
   * no heap update while the deadline stays where it is (the codec moves its keepalive and idle
   * deadlines only at a deadline).
   */
  arm(): void {
    const codec = this.codec;
    let due = codec.nextDeadline();
    if (due === 0) {
      // A timed wait began in the codec (a close, the open connection's keepalive): its clock starts now.
      codec.tick(this.options.clock());
      if (codec.hasOutput) {
        this.pump(); // comes back here, with the wait started
        return;
      }
      due = codec.nextDeadline();
    }
    const slot = this.slot;
    // Most connections need no deadline once open: nothing more to work out.
    if (slot === UNSCHEDULED && due === null && this.drainDeadline < 0) return;
    armDeadline(this.connection, slot, due, this.drainDeadline, this.options);
  }

  /** The session's own failure: report it, then terminate. */
  fail(code: SessionErrorCode, message: string): void {
    if (this.codec.closeInfo === null) {
      this.trouble().error ??= code;
      this.trouble().lastProblem = message;
      this.emit1('error', new WebSocketError(code, message));
    }
    this.abort(null);
  }

  abort(error: SessionErrorCode | null): void {
    if (error !== null && this.codec.closeInfo === null) this.trouble().error ??= error;
    this.flags |= TERMINATED;
    this.destroy();
    if (!this.flag(EOF)) {
      this.flags |= EOF;
      this.codec.receiveEof();
    }
    this.pump();
  }

  drained(): void {
    const waiters = this.drainWaiters;
    if (waiters !== null) {
      this.drainWaiters = null;
      for (const resolve of waiters) resolve();
    }
    if (this.flag(NEED_DRAIN)) {
      this.flags &= ~NEED_DRAIN;
      if (this.info === null) this.emit0('drain');
    }
  }

  applyFlow(): void {
    const pause =
      (this.flag(USER_PAUSED | SERVER_PAUSED) || (this.flag(RECEIVE_FULL) && !this.flag(LOCAL_CLOSE))) &&
      this.info === null;
    if (pause === this.flag(TRANSPORT_PAUSED)) return;
    this.set(TRANSPORT_PAUSED, pause);
    if (pause) {
      this.codec.pauseLiveness(true);
      this.transport.pause?.();
      return;
    }
    // Idle and keepalive stood still while we did not read: they start afresh.
    this.codec.pauseLiveness(false);
    if (this.live !== null) this.live.behind = 0;
    this.transport.resume?.();
    if (this.info === null && !this.flag(PUMPING)) this.arm();
  }
}
