/**
 * One WebSocket connection, client or server, as a pure state machine (RFC 6455 §4–§7).
 *
 * Bytes in: `receiveData(bytes)` / `receiveEof()`. Decisions in: `send(command)`.
 * Out: `nextEvent()` (what the peer did) and `takeOutput()` (what the transport must do).
 * Time in: `nextDeadline()` says when to call `tick(now)`.
 *
 * It does the routine the RFC requires on its own: the pong for a ping (§5.5.2), the echo of
 * a Close (§5.5.1), refusing frames after a Close, closing TCP server-first (§7.1.1). A
 * peer's violation never throws: it becomes a `protocol-error` event, the Close code we send
 * and a `closed` event, and everything received before the violation is still delivered.
 * The lifecycle lives in `transitions.ts`; the work is done by one module per concern, each
 * taking the connection's state (`connection-core.ts`): the handshake phases
 * (`server-handshake.ts`, `client-handshake.ts`, `http-serving.ts`), extension negotiation,
 * receiving (`message-receiver.ts`), sending and output (`message-sender.ts`,
 * `output-queue.ts`), events, closing and deadlines. This class checks the caller's arguments
 * and dispatches.
 */
import { WebSocketUsageError, describe } from './errors.ts';
import type { Command, CloseInfo, Event, HandshakeRequest, HandshakeResponse, MessageKind, Output } from './events.ts';
import type { Extension } from './extensions/extension.ts';
import type { RequestHead } from './http/head-parser.ts';
import type { WsUrl } from './handshake/client.ts';
import type { HandshakeRole } from './handshake/role.ts';
import { DEFAULT_TIMEOUTS, type Limits, type Timeouts } from './limits.ts';
import { Opcode } from './opcode.ts';
import { type ConnectionState, ON_EOF, type TableState, reportedState } from './transitions.ts';
import { PING_HELD, SEEN_ANY, SEEN_PEER } from './deadlines.ts';
import { encodeUtf8, encodeUtf8Transient } from './utf8.ts';
import {
  type ClientConnectionOptions,
  type ServerConnectionOptions,
  resolveFlags,
  resolveLimits,
  resolveTimeouts,
  toBytes,
} from './connection-options.ts';
import {
  ConnectionCore,
  EMPTY,
  HTTP2,
  NONE,
  TRANSPORT,
  type Role,
  moveTransport,
  readsPeerBytes,
} from './connection-core.ts';
import { dequeue, takeAllEvents } from './event-queue.ts';
import * as output from './output-queue.ts';
import * as sender from './message-sender.ts';
import { ALL_EVENTS, ONE_EVENT, ONE_EVENT_OR_MESSAGE, parserOf, processFrames } from './message-receiver.ts';
import { abandonMessage } from './incoming-message.ts';
import { close, failAndDestroy, toClosed } from './closing.ts';
import * as deadlines from './connection-deadlines.ts';
import {
  ServerHandshake,
  accept,
  keepEarly,
  onRequestHead,
  receiveRequestBytes,
  receiveRequestHeaders,
  refuseRequest,
  reject,
} from './server-handshake.ts';
import {
  beginClientHandshake,
  collectRefusalBody,
  finishRefusal,
  handshakeFailed,
  receiveResponseBytes,
  receiveResponseHeaders,
} from './client-handshake.ts';
import { afterHttp, httpSettings, receiveHttp, sendHttp } from './http-serving.ts';

export type { Role } from './connection-core.ts';
export type { ConnectionOptions, ServerConnectionOptions, ClientConnectionOptions } from './connection-options.ts';

/** @internal For the table test (test/transitions.test.ts), which reads the state of each table a connection is in. */
export let coreOf: (connection: Connection) => Readonly<ConnectionCore>;

export class Connection {
  static {
    coreOf = (c) => c.#core;
  }

  /**
   * The connection's state: one object, shared with the modules that do the work. Its only field
   * (`role`, `limits` and `timeouts` are read from it): an idle server holds one per client.
   */
  readonly #core: ConnectionCore;

  /**
   * @internal Made by `serverConnection()` (`@ws/codec/server`) and `clientConnection()`
   * (`@ws/codec/client`), which bring their role's handshake: use those.
   */
  constructor(
    handshake: HandshakeRole,
    url: string | { href: string } | null,
    options: ServerConnectionOptions & ClientConnectionOptions,
  ) {
    if (typeof options !== 'object' || options === null) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `options must be an object, got ${describe(options)}`);
    }
    const role = handshake.role;
    const limits = resolveLimits(options.limits);
    // Without overrides, every connection shares the frozen defaults.
    const timeouts = options.timeouts === undefined ? DEFAULT_TIMEOUTS : resolveTimeouts(options.timeouts);
    const flags = resolveFlags(options, handshake.http2 !== undefined);
    const core = (this.#core = new ConnectionCore(role, limits, timeouts, flags, options.utf8Validator ?? null));
    const factories = options.extensions ?? NONE;
    if (handshake.role === 'client') {
      // Over HTTP/2 the answer comes as a header list: no head to parse.
      const head = handshake.http2 === undefined ? new handshake.HeadParser('response', limits) : null;
      core.hs = beginClientHandshake(core, handshake, head, factories, url, options.random, options);
      return;
    }
    const http = options.http;
    if (http != null && http !== false && typeof http !== 'function') {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `options.http must be HttpServerPhase from '@ws/codec/http' (to serve plain HTTP), got ${describe(http)}`,
      );
    }
    // Over HTTP/2 the request comes as a header list, and plain HTTP is the HTTP/2 server's own;
    // with `http`, the HTTP phase parses the heads.
    const parsesHead = handshake.http2 === undefined && typeof http !== 'function';
    const hs = (core.hs = new ServerHandshake(
      handshake,
      parsesHead ? new handshake.HeadParser('request', limits) : null,
      factories,
      options.origins ?? null,
      options.engine?.sha1Base64 ?? null,
    ));
    if (handshake.http2 === undefined && typeof http === 'function') hs.http = new http(httpSettings(limits, timeouts));
  }

  // ───────────────────────────── public state ─────────────────────────────

  get role(): Role {
    return this.#core.role;
  }

  /** The limits in force (the defaults, with the options' overrides). */
  get limits(): Readonly<Limits> {
    return this.#core.limits;
  }

  /** The timeouts in force (the defaults, with the options' overrides). */
  get timeouts(): Readonly<Timeouts> {
    return this.#core.timeouts;
  }

  get state(): ConnectionState {
    return reportedState(this.#core.state);
  }

  /** The negotiated subprotocol, or null. */
  get protocol(): string | null {
    return this.#core.protocol;
  }

  /** The negotiated extensions. */
  get extensions(): readonly Extension[] {
    return this.#core.extensions;
  }

  /** Client: the parsed URL. */
  get url(): WsUrl | null {
    return this.#core.url;
  }

  /** Server: the validated request, from its arrival until the connection opens (the 'open' event carries it too). */
  get request(): HandshakeRequest | null {
    return this.#core.request;
  }

  /** Client: the server's response head, once it arrived. */
  get response(): HandshakeResponse | null {
    return this.#core.response;
  }

  /**
   * The handshake is an HTTP/2 extended CONNECT (RFC 8441; `http2ServerConnection()` and
   * `http2ClientConnection()` from `@ws/codec/http2`): the client's request and the server's
   * answer are header lists (a `head` output each), the peer's is given to `receiveHeaders()`;
   * no key, no accept. After a 200 the stream's DATA carries frames as TCP would; its end is
   * like TCP's FIN, its reset like a broken connection (1006).
   */
  get http2(): boolean {
    return (this.#core.flags & HTTP2) !== 0;
  }

  /** Data messages may be sent: the connection is open and we have not sent a Close. */
  get canSend(): boolean {
    return this.#core.state === 'open';
  }

  /** How the connection ended, once it has. */
  get closeInfo(): CloseInfo | null {
    return this.#core.closing?.info ?? null;
  }

  /** Bytes in outputs not yet taken by `takeOutput()`. */
  get pendingOutputBytes(): number {
    return this.#core.outBytes;
  }

  /** The transport is finished with: no more output will come and no input is wanted. */
  get finished(): boolean {
    return deadlines.isFinished(this.#core);
  }

  // ───────────────────────────── input ─────────────────────────────

  /**
   * Bytes from the peer, in order. The connection takes ownership of `data` (it may unmask
   * it in place and hand out views of it): pass a copy if you reuse the buffer.
   */
  receiveData(data: Uint8Array): void {
    toBytes(data, 'data');
    const core = this.#core;
    // The transport's table: anything but both-open (one mask test) asks what to do with bytes.
    if ((core.flags & TRANSPORT) !== 0 && !readsPeerBytes(core)) return;
    if (data.length === 0) return;
    // Activity for keepalive and idle: a bit, looked at when their deadline comes (no clock here).
    core.seen |= SEEN_PEER | SEEN_ANY;
    const state = core.state;
    if (state === 'open' || state === 'closing') {
      // Parsed lazily, as events are read (as h11 does): what the application sends in answer
      // to one message goes out before whatever a later frame in the same read provokes.
      (core.parser ?? parserOf(core)).push(data);
      return;
    }
    // §5.5.1, §7.1.7: after a Close or a failure nothing more is read; drop it.
    const hs = core.hs;
    if (state === 'closed' || hs === null) return;
    switch (hs.type) {
      case 'refusal':
        collectRefusalBody(core, hs, data);
        return;
      case 'client':
        hs.bytesReceived += data.length;
        if ((core.flags & HTTP2) !== 0) this.#dataBeforeHead();
        else receiveResponseBytes(core, hs, data);
        return;
      case 'server':
        hs.bytesReceived += data.length;
        if (state === 'awaiting-accept') keepEarly(core, hs, data);
        else if ((core.flags & HTTP2) !== 0) this.#dataBeforeHead();
        else if (hs.http !== null) receiveHttp(core, hs, data);
        else receiveRequestBytes(core, hs, data);
        return;
    }
  }

  /** Server: the request head was parsed elsewhere (e.g. by `node:http`). Use instead of request bytes. */
  receiveRequestHead(head: RequestHead): void {
    const core = this.#core;
    const hs = core.hs;
    if (core.state !== 'handshake' || hs === null || hs.type !== 'server' || hs.bytesReceived > 0 || hs.http !== null) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'receiveRequestHead() is for a server connection that has received nothing yet',
      );
    }
    hs.head = null;
    onRequestHead(core, hs, head);
  }

  /**
   * HTTP/2 (see `http2`): the peer's header list, pseudo-headers first, as its HTTP/2
   * stack decoded it. A server gets the extended CONNECT here (then a `request` event, or a
   * refusal: a `head` output with a 4xx); a client gets the answer (then `open`, `rejected`
   * once the refusal's body has come, or a `protocol-error`). Never throws on what the peer sent.
   */
  receiveHeaders(headers: ReadonlyArray<readonly [string, string]>): void {
    const core = this.#core;
    const hs = core.hs;
    if (
      (core.flags & HTTP2) === 0 ||
      core.state !== 'handshake' ||
      hs === null ||
      hs.type === 'refusal' ||
      hs.bytesReceived > 0 ||
      core.response !== null ||
      (hs.type === 'client' && output.headPending(core))
    ) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'receiveHeaders() is for an http2 connection in its handshake, once (a client: after its request head was taken)',
      );
    }
    const count = Array.isArray(headers) ? headers.length : 0;
    if (count > core.limits.maxHeaders) {
      const message = `more than ${core.limits.maxHeaders} header fields`;
      if (hs.type === 'server') refuseRequest(core, hs, 'TOO_MANY_HEADERS', 431, message, []);
      else handshakeFailed(core, 'TOO_MANY_HEADERS', message);
      return;
    }
    if (hs.type === 'server') receiveRequestHeaders(core, hs, headers);
    else receiveResponseHeaders(core, hs, headers);
  }

  /** HTTP/2: DATA before the header list (an HTTP/2 stack never delivers that; a caller might). */
  #dataBeforeHead(): void {
    const core = this.#core;
    const hs = core.hs;
    const message = 'data arrived before the header list';
    if (hs !== null && hs.type === 'server') refuseRequest(core, hs, 'MALFORMED_HEAD', 400, message, []);
    else handshakeFailed(core, 'MALFORMED_HEAD', message);
  }

  /** The peer closed its side of TCP (or the socket failed). */
  receiveEof(): void {
    const core = this.#core;
    if (!moveTransport(core, ON_EOF)) return; // a second EOF, or the transport is gone
    switch (core.state) {
      case 'refusal-body':
      case 'handshake':
      case 'serving-http':
      case 'awaiting-accept': {
        const hs = core.hs;
        if (hs !== null && hs.type === 'refusal') {
          // The refusal's body ends with the connection.
          finishRefusal(core, hs, 'eof');
          return;
        }
        if (hs !== null && hs.type === 'server' && hs.http !== null) {
          hs.http.eof();
          afterHttp(core, hs);
          return;
        }
        failAndDestroy(core, 'eof', 'EOF_IN_HANDSHAKE', 'the peer closed the connection during the handshake');
        return;
      }
      case 'open':
      case 'closing':
        // Nothing received is lost: parse what is buffered before acting on the EOF.
        processFrames(core, ALL_EVENTS);
        if ((core.state as TableState) !== 'closed') {
          abandonMessage(core);
          toClosed(core, 'eof', null);
        }
        output.shutdownWrite(core);
        return;
      case 'closed':
        output.shutdownWrite(core);
        return;
    }
  }

  // ───────────────────────────── output ─────────────────────────────

  /** The next event, or null when there is none. */
  nextEvent(): Event | null {
    const core = this.#core;
    let event = core.event;
    if (event === null) {
      processFrames(core, ONE_EVENT);
      event = core.event;
      if (event === null) return null;
    }
    return dequeue(core, event);
  }

  /**
   * @internal For a driver's read loop: what `nextEvent()` would return, except that a whole
   * message parsed here with no event before it comes as its data alone, with no event object:
   * a string for text, a Uint8Array for binary (the common case: a one-frame message, no
   * extension, all in the bytes at hand). Null when there is nothing.
   */
  nextEventOrMessage(): Event | string | Uint8Array | null {
    const core = this.#core;
    let event = core.event;
    if (event === null) {
      const data = processFrames(core, ONE_EVENT_OR_MESSAGE);
      if (data !== null) return data;
      event = core.event;
      if (event === null) return null;
    }
    return dequeue(core, event);
  }

  /** Every pending event, oldest first. */
  takeEvents(): Event[] {
    processFrames(this.#core, ALL_EVENTS);
    return takeAllEvents(this.#core);
  }

  /** Outputs wait to be taken by `takeOutput()` (a held pong is not one: see `holdPongs`). */
  get hasOutput(): boolean {
    return output.hasOutput(this.#core);
  }

  /** A held pong waits (see `holdPongs`); it counts in `pendingOutputBytes`. */
  get hasPendingPong(): boolean {
    return this.#core.pong !== null;
  }

  /**
   * For a driver whose transport is backed up (bytes wait that the OS has not taken): while on,
   * automatic and commanded pongs are not queued one per ping but kept as one, the latest
   * replacing the one before (§5.5.3), out of `takeOutput()`. Off (the default) again, that
   * pong joins the writes. A peer flooding pings while it does not read then costs one pong.
   */
  holdPongs(on: boolean): void {
    output.holdPongs(this.#core, on);
  }

  /** What the transport must do, in order. Writes are ready to be corked or written as a vector. */
  takeOutput(): Output[] {
    return output.takeOutput(this.#core);
  }

  /**
   * The pending writes of `takeOutput()`, without an object each: their bytes are appended to
   * `into`, in order. What may follow them (shutdown, destroy) stays for `takeOutput()`; check
   * `hasOutput` afterwards. For a driver's hot path: one array reused for every write.
   */
  takeWrites(into: Uint8Array[]): void {
    output.takeWrites(this.#core, into);
  }

  // ───────────────────────────── commands ─────────────────────────────

  send(command: Command): void {
    if (typeof command !== 'object' || command === null) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `a command must be an object, got ${describe(command)}`);
    }
    const core = this.#core;
    switch (command.type) {
      case 'accept':
        return accept(core, command.protocol ?? null, command.headers, command.extensions ?? true);
      case 'reject':
        return reject(core, command.status, command.statusText, command.headers, command.body);
      case 'text':
        if (typeof command.data !== 'string') {
          throw new WebSocketUsageError(
            'INVALID_ARGUMENT',
            `text data must be a string, got ${describe(command.data)}`,
          );
        }
        return sender.sendData(core, 'text', this.#textPayload(command.data), true, command.compress);
      case 'binary':
        return sender.sendData(core, 'binary', toBytes(command.data, 'binary data'), true, command.compress);
      case 'fragment':
        if (command.kind !== 'text' && command.kind !== 'binary') {
          throw new WebSocketUsageError(
            'INVALID_ARGUMENT',
            `fragment kind must be 'text' or 'binary', got ${describe(command.kind)}`,
          );
        }
        return sender.sendData(
          core,
          command.kind,
          toBytes(command.data, 'fragment data'),
          command.fin !== false,
          command.compress,
        );
      case 'ping':
      case 'pong':
        return sender.sendControl(
          core,
          command.type === 'ping' ? Opcode.Ping : Opcode.Pong,
          command.data === undefined ? EMPTY : toBytes(command.data, `${command.type} data`),
        );
      case 'close':
        return close(core, command.code, command.reason);
      case 'http-response':
      case 'http-body':
      case 'http-end':
      case 'http-continue':
        return sendHttp(core, command);
      default:
        throw new WebSocketUsageError(
          'INVALID_ARGUMENT',
          `unknown command type ${describe((command as { type: unknown }).type)}`,
        );
    }
  }

  /** Shorthand for `send({ type: 'text', data })`. */
  sendText(data: string, compress?: boolean): void {
    // No command object: this is every session send of a string.
    if (typeof data !== 'string') {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `text data must be a string, got ${describe(data)}`);
    }
    sender.sendData(this.#core, 'text', this.#textPayload(data), true, compress);
  }

  /**
   * A text message's bytes, to be framed at once. Without extensions they may be a view of the
   * encoder's shared scratch buffer: writeFrame copies every payload under COPY_THRESHOLD into
   * its frame (and a scratch view is at most SCRATCH_BYTES long), so nothing keeps the view. An
   * extension might keep its input: it gets bytes of their own.
   */
  #textPayload(text: string): Uint8Array {
    return this.#core.extensions.length === 0 ? encodeUtf8Transient(text) : encodeUtf8(text);
  }

  /** Shorthand for `send({ type: 'binary', data })`. */
  sendBinary(data: Uint8Array, compress?: boolean): void {
    sender.sendData(this.#core, 'binary', toBytes(data, 'binary data'), true, compress);
  }

  // ───────────────────────────── shared frames (publish) ─────────────────────────────

  /**
   * Server: the key under which the frame of a whole message of `length` bytes (with the
   * per-message `compress` wish) is the same bytes for every connection giving the same key, so
   * a publish frames (and compresses) it once per key. `''` without extensions (or when none
   * transforms this message); null when this connection must frame it itself: a client (its
   * frames are masked), or an extension whose output depends on this connection's stream
   * (permessage-deflate with context takeover).
   */
  sharedFrameKey(length: number, compress?: boolean): string | null {
    return sender.sharedFrameKey(this.#core, length, compress);
  }

  /**
   * Server: the wire bytes of one whole message (one frame, as one or two chunks), for every
   * connection whose {@link sharedFrameKey} equals this one's. Sends nothing and changes nothing
   * on this connection; `sendFramed` sends the bytes. Throws when `sharedFrameKey` is null.
   */
  frameShared(kind: MessageKind, payload: Uint8Array, compress?: boolean): Uint8Array[] {
    return sender.frameShared(this.#core, kind, payload, compress);
  }

  /** A whole message framed elsewhere may be sent now: open, and no fragmented message of ours in progress. */
  get canSendFramed(): boolean {
    return sender.canSendFramed(this.#core);
  }

  /**
   * Send the bytes `frameShared` made (on this connection or one with the same
   * `sharedFrameKey`), as they are. The chunks are shared: nothing may change them. Throws
   * `INVALID_STATE` unless {@link canSendFramed}.
   */
  sendFramed(frames: readonly Uint8Array[]): void {
    sender.sendFramed(this.#core, frames);
  }

  // ───────────────────────────── time ─────────────────────────────

  /**
   * When `tick(now)` must next be called, in the time base of the `now`s you pass, or null when
   * nothing is timed. 0 when a timed wait has just begun outside `tick(now)` (a handshake, a close,
   * an open connection's keepalive), since only a tick tells the codec the time: call `tick(now)`
   * at once, to start its clock (see deadlines.ts); a wait that begins in a tick has its real
   * deadline at once. Cheap enough to ask after every read: a driver re-arms its timer only when
   * the number changes.
   */
  nextDeadline(): number | null {
    return deadlines.nextDeadline(this.#core);
  }

  /**
   * The time is `now` (in the time base of every `now` you pass: any monotonic milliseconds):
   * start the clock of any wait that began since the last tick, and act on every deadline that
   * has passed. Call it when `nextDeadline()` comes; calling it early is harmless.
   */
  tick(now: number): void {
    deadlines.tick(this.#core, now);
  }

  /**
   * For a driver that stops reading its transport (flow control): while paused, keepalive and
   * idle stand still (the peer's bytes, its pongs too, wait unread because of us), and on
   * resume they start afresh.
   */
  pauseLiveness(paused: boolean): void {
    deadlines.pauseLiveness(this.#core, paused);
  }

  /**
   * For a driver with a send buffer: queued bytes were handed on (to the OS). That is activity
   * for the idle timeout; and with `pingWaiting` (our keepalive ping was still queued behind
   * them), the pong timeout starts again: a ping that has not left cannot have been answered.
   */
  noteOutputProgress(pingWaiting: boolean): void {
    this.#core.seen |= pingWaiting ? SEEN_ANY | PING_HELD : SEEN_ANY;
  }

  /** A keepalive ping is out and nothing has come from the peer since (as last checked). */
  get awaitingPong(): boolean {
    return this.#core.live?.awaitingPong ?? false;
  }
}
