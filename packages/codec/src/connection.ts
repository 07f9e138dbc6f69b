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
 * The lifecycle lives in `transitions.ts`; this file only follows it.
 */
import { WebSocketUsageError, describe, type ProtocolErrorCode } from './errors.ts';
import type { Command, CloseInfo, Event, HandshakeRequest, HandshakeResponse, MessageKind, Output } from './events.ts';
import type { Extension, ExtensionFactory, ExtensionOffer } from './extensions/extension.ts';
import { FrameParser, FAILED, HEADER, NEED_MORE } from './frame-parser.ts';
import { COPY_THRESHOLD, firstByte, serializeFrame, unmaskedFrame } from './frame-serializer.ts';
import { buildClosePayload, parseClosePayload } from './close-frame.ts';
import { HeadParser, type RequestHead, type ResponseHead } from './http/head-parser.ts';
import type { HttpServerPhase, HttpServerSettings } from './http/server-exchange.ts';
import type { HeadersInit } from './http/headers.ts';
import { acceptExtensions, allowedRsv, chooseExtensions, offersOf } from './extension-negotiation.ts';
import {
  type ClientConnectionOptions,
  type Role,
  type ServerConnectionOptions,
  resolveLimits,
  resolveTimeouts,
  toBytes,
} from './connection-options.ts';
import type { RequestValidation, ServerHandshakeOptions } from './handshake/server.ts';
import type { WsUrl } from './handshake/client.ts';
import type { ClientRole, HandshakeRole, Http2ClientRole, Http2ServerRole, ServerRole } from './handshake/role.ts';
import type { HeaderList } from './handshake/extended-connect.ts';
import { DEFAULT_TIMEOUTS, type Limits, type Timeouts } from './limits.ts';
import { Opcode } from './opcode.ts';
import type { MaskKeyPool } from './random.ts';
import { transition, type ConnectionState, type TransitionInput } from './transitions.ts';
import {
  LIVE_IDLE,
  LIVE_PING,
  LIVE_PONG_TIMEOUT,
  Liveness,
  PENDING,
  PING_HELD,
  SEEN_ANY,
  SEEN_PEER,
  after,
} from './deadlines.ts';
import { Utf8Validator, decodeUtf8, decodeValidUtf8, encodeUtf8, encodeUtf8Transient } from './utf8.ts';
import { concat } from 'uint8arrays/concat';

export type {
  Role,
  ConnectionOptions,
  ServerConnectionOptions,
  ClientConnectionOptions,
} from './connection-options.ts';

const EMPTY = new Uint8Array(0);
const NONE: readonly never[] = Object.freeze([]);
/** No later events: shared, replaced by an array of the connection's own when two or more wait. */
const NO_EVENTS: Event[] = NONE as never[];
/** Where `serializeFrame` puts a frame's buffers, emptied at once: one for all connections. */
const FRAMES: Uint8Array[] = [];
const NO_WRITES: Uint8Array[] = NONE as never[];
/** How far `#processFrames` goes. */
const ALL_EVENTS = 0;
const ONE_EVENT = 1;
const ONE_EVENT_OR_MESSAGE = 2;
/** Bits of `#ends`: the transport actions that follow the pending writes, in this order. */
const END_SHUTDOWN = 1;
const END_DESTROY = 2;
/** An HTTP/2 header list (`#outHead`) goes before the writes. */
const END_HEAD = 4;
const ABNORMAL = 1006;
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
const NO_STATUS = 1005;

// Flags: booleans packed into one field (an idle server holds one connection per client).
const ASSEMBLE = 1 << 0;
const AUTO_PONG = 1 << 1;
const IN_MESSAGE = 1 << 2;
const FRAME_FIN = 1 << 3;
const FRAGMENT_STARTED = 1 << 4;
const CLOSE_SENT = 1 << 5;
const EOF = 1 << 6;
const SHUTDOWN = 1 << 7;
const DESTROYED = 1 << 8;
const HOLD_PONGS = 1 << 9;
// Engine tuning (options, fixed for the connection's life; see engine-tuning.ts).
const FRESH_ARRAYS = 1 << 10;
const STRICT_DECODER = 1 << 11;
/** The driver stopped reading (`pauseLiveness`): keepalive and idle stand still. */
const LIVENESS_PAUSED = 1 << 12;
/** The handshake is an HTTP/2 extended CONNECT (RFC 8441: the role's `http2` part, `@ws/codec/http2`). */
const HTTP2 = 1 << 13;

/** What only the handshake needs: one object, let go of once the connection is open. */
class HandshakeState {
  /** The role's parsers and serializers (see `handshake/role.ts`). */
  readonly role: HandshakeRole;
  /** Parses the peer's head; null once it is parsed (or given to `receiveRequestHead`). */
  head: HeadParser<'request'> | HeadParser<'response'> | null;
  readonly factories: readonly ExtensionFactory[];
  readonly origins: ServerHandshakeOptions['origins'];
  /** The handshake timeout counts from here (for an upgrade on a kept-alive connection: from its head); PENDING until a tick. */
  startedAt = PENDING;
  /** Bytes received so far. */
  bytesReceived = 0;
  /** Client: our key and the subprotocols offered, to check the response against. */
  key = '';
  offeredProtocols: readonly string[] = NONE;
  /** Client: the body of a response other than 101, while it is collected. */
  rejectBody: Uint8Array[] | null = null;
  rejectBodyBytes = 0;
  rejectBodyExpected = -1;
  /** Server: bytes received before our answer (see `#keepEarly`). */
  earlyBytes = 0;
  /** Server with `http`: the plain-HTTP requests before an upgrade; null once a request upgrades. */
  http: HttpServerPhase | null = null;

  constructor(
    role: HandshakeRole,
    head: HeadParser<'request'> | HeadParser<'response'>,
    factories: readonly ExtensionFactory[],
    origins: ServerHandshakeOptions['origins'],
  ) {
    this.role = role;
    this.head = head;
    this.factories = factories;
    this.origins = origins;
  }
}

/** How the connection closes: made once it starts to (an open connection holds none). */
class ClosingState {
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

/**
 * The message being received, when it does not take the whole-message fast path (fragmented,
 * over several reads, or for an extension): made for the first such message, then reused (an
 * idle connection, or one that only receives short messages, holds none).
 */
class IncomingMessage {
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

function httpSettings(limits: Limits, timeouts: Timeouts): HttpServerSettings {
  return {
    maxHeadBytes: limits.maxHeadBytes,
    maxHeaders: limits.maxHeaders,
    maxBodyBytes: limits.maxBodyBytes,
    headTimeout: timeouts.handshakeTimeout,
    keepAliveTimeout: timeouts.httpKeepAliveTimeout,
  };
}

export class Connection {
  readonly role: Role;
  readonly limits: Readonly<Limits>;
  readonly timeouts: Readonly<Timeouts>;

  // Fields are few on purpose (an idle server holds one connection per client): booleans are
  // bits of `#flags`, and what only some phases need is in objects made for them: `#hs` (the
  // handshake), `#message` (a message off the fast path), `#closingState`, `#live` (timeouts).
  #state: ConnectionState = 'handshake';
  #flags = 0;
  readonly #utf8Validator: ((bytes: Uint8Array) => boolean) | null;
  /** Activity since the liveness checks last looked (bits of deadlines.ts): set on the hot path, read at a deadline. */
  #seen = 0;
  #maskKeys: MaskKeyPool | null = null;

  // Handshake
  /** Null once open. */
  #hs: HandshakeState | null;
  #url: WsUrl | null = null;
  #request: HandshakeRequest | null = null;
  #response: HandshakeResponse | null = null;
  #protocol: string | null = null;
  #extensions: readonly Extension[] = NONE;

  // Receiving
  /** Made with the first frame bytes: a connection that has received none (an idle one) holds no parser. */
  #parser: FrameParser | null = null;
  /** Set while `#inMessage` (and kept after, for the next message that needs it). */
  #message: IncomingMessage | null = null;

  // Sending
  #sendingKind: MessageKind | null = null;
  /**
   * Output not yet taken: bytes to write, `#write` then `#moreWrites` (most sends leave one
   * write: no array; the shared {@link NO_WRITES} while there are no more), then the actions in
   * `#ends`. Nothing is ever written after a shutdown or a destroy, so this is the order they
   * were asked for.
   */
  #firstWrite: Uint8Array | null = null;
  #moreWrites: Uint8Array[] = NO_WRITES;
  #ends = 0;
  /** HTTP/2: the header list to send before the writes (with END_HEAD), else null. */
  #outHead: HeaderList | null = null;
  #outBytes = 0;
  /**
   * While pongs are held (`holdPongs`): the latest pong, kept apart from the writes. A later
   * pong replaces it (§5.5.3 lets us answer only the most recent ping), so a peer that floods
   * pings and does not read finds one pong waiting, not one per ping. It joins the writes when
   * holding ends, or before a Close, a shutdown or a destroy.
   */
  #pong: Uint8Array | null = null;

  // Events
  /**
   * Events not yet taken, oldest first: `#event`, then `#later` from `#laterHead` (most reads
   * queue one event at a time: no array; the shared {@link NO_EVENTS} while no more wait).
   * `#event` is null only when none waits.
   */
  #event: Event | null = null;
  #later: Event[] = NO_EVENTS;
  #laterHead = 0;

  // Closing
  #closingState: ClosingState | null = null;
  #closing(): ClosingState {
    return (this.#closingState ??= new ClosingState());
  }

  // Time
  /** Made when the connection opens with an idle or keepalive timeout: else null. */
  #live: Liveness | null = null;

  // Flags are read and written through these, never through private accessors (`get #x()`):
  // V8 calls the runtime for every use of a private accessor, even in optimized code.
  /** Any of `bits` is set. */
  #flag(bits: number): boolean {
    return (this.#flags & bits) !== 0;
  }

  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

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
    this.role = role;
    // Without overrides, every connection shares the frozen defaults.
    const limits = resolveLimits(options.limits);
    const timeouts = options.timeouts === undefined ? DEFAULT_TIMEOUTS : resolveTimeouts(options.timeouts);
    this.limits = limits;
    this.timeouts = timeouts;
    const engine = options.engine;
    if (engine !== undefined && (typeof engine !== 'object' || engine === null)) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `engine must be an object, got ${describe(engine)}`);
    }
    this.#flags =
      ((options.assembleMessages ?? true) ? ASSEMBLE : 0) |
      ((options.autoPong ?? true) ? AUTO_PONG : 0) |
      (engine?.freshArrays === true ? FRESH_ARRAYS : 0) |
      (engine?.strictDecoder === false ? 0 : STRICT_DECODER) |
      (handshake.http2 !== undefined ? HTTP2 : 0);
    this.#utf8Validator = options.utf8Validator ?? null;
    if (this.#utf8Validator !== null && typeof this.#utf8Validator !== 'function') {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `utf8Validator must be a function, got ${describe(this.#utf8Validator)}`,
      );
    }
    if ((options as { clock?: unknown }).clock !== undefined) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        'the codec takes no clock: time comes in as tick(now) (see nextDeadline())',
      );
    }
    const http = role === 'server' ? (options as ServerConnectionOptions).http : undefined;
    if (http != null && http !== false && typeof http !== 'function') {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `options.http must be HttpServerPhase from '@ws/codec/http' (to serve plain HTTP), got ${describe(http)}`,
      );
    }
    const head = role === 'server' ? new HeadParser('request', limits) : new HeadParser('response', limits);
    const hs = (this.#hs = new HandshakeState(handshake, head, options.extensions ?? NONE, options.origins ?? null));
    if (handshake.http2 !== undefined) {
      // The request comes as a header list; plain HTTP is the HTTP/2 server's own.
      hs.head = null;
    } else if (typeof http === 'function') {
      hs.head = null;
      hs.http = new http(httpSettings(limits, timeouts));
    }

    if (handshake.role === 'client') {
      // Only a client needs randomness (its key and masks): a server looks for none.
      const random = options.random ?? handshake.defaultRandomSource();
      if (random === null) {
        throw new WebSocketUsageError(
          'NO_RANDOM_SOURCE',
          'a client needs random bytes for its key and masks: this host has no crypto.getRandomValues, so pass options.random',
        );
      }
      this.#maskKeys = new handshake.MaskKeyPool(random);
      this.#url = handshake.parseWsUrl(url!);
      const protocols = options.protocols ?? NONE;
      hs.offeredProtocols = typeof protocols === 'string' ? [protocols] : protocols;
      const offers = offersOf(hs.factories);
      if (handshake.http2 !== undefined) {
        this.#outHead = handshake.http2.buildRequest(this.#url, {
          protocols: hs.offeredProtocols,
          extensions: offers,
          origin: options.origin ?? null,
          headers: options.headers,
        });
        this.#ends |= END_HEAD;
        return;
      }
      hs.key = handshake.generateKey(random);
      const request = handshake.buildClientRequest(this.#url, {
        key: hs.key,
        protocols: hs.offeredProtocols,
        extensions: offers,
        origin: options.origin ?? null,
        headers: options.headers,
      });
      this.#write(request);
    }
  }

  // ───────────────────────────── public state ─────────────────────────────

  get state(): ConnectionState {
    return this.#state;
  }

  /** The negotiated subprotocol, or null. */
  get protocol(): string | null {
    return this.#protocol;
  }

  /** The negotiated extensions. */
  get extensions(): readonly Extension[] {
    return this.#extensions;
  }

  /** Client: the parsed URL. */
  get url(): WsUrl | null {
    return this.#url;
  }

  /** Server: the validated request, from its arrival until the connection opens (the 'open' event carries it too). */
  get request(): HandshakeRequest | null {
    return this.#request;
  }

  /** Client: the server's response head, once it arrived. */
  get response(): HandshakeResponse | null {
    return this.#response;
  }

  /**
   * The handshake is an HTTP/2 extended CONNECT (RFC 8441; `http2ServerConnection()` and
   * `http2ClientConnection()` from `@ws/codec/http2`): the client's request and the server's
   * answer are header lists (a `head` output each), the peer's is given to `receiveHeaders()`;
   * no key, no accept. After a 200 the stream's DATA carries frames as TCP would; its end is
   * like TCP's FIN, its reset like a broken connection (1006).
   */
  get http2(): boolean {
    return this.#flag(HTTP2);
  }

  /** Data messages may be sent: the connection is open and we have not sent a Close. */
  get canSend(): boolean {
    return this.#state === 'open';
  }

  /** How the connection ended, once it has. */
  get closeInfo(): CloseInfo | null {
    return this.#closingState?.info ?? null;
  }

  /** Bytes in outputs not yet taken by `takeOutput()`. */
  get pendingOutputBytes(): number {
    return this.#outBytes;
  }

  /** The transport is finished with: no more output will come and no input is wanted. */
  get finished(): boolean {
    return this.#flag(DESTROYED) || (this.#state === 'closed' && this.#flag(EOF) && this.#flag(SHUTDOWN));
  }

  // ───────────────────────────── input ─────────────────────────────

  /**
   * Bytes from the peer, in order. The connection takes ownership of `data` (it may unmask
   * it in place and hand out views of it): pass a copy if you reuse the buffer.
   */
  receiveData(data: Uint8Array): void {
    toBytes(data, 'data');
    if (this.#flag(EOF)) throw new WebSocketUsageError('INVALID_STATE', 'receiveData() after receiveEof()');
    if (data.length === 0 || this.#flag(DESTROYED)) return;
    // Activity for keepalive and idle: a bit, looked at when their deadline comes (no clock here).
    this.#seen |= SEEN_PEER | SEEN_ANY;
    const state = this.#state;
    if (state === 'open' || state === 'closing') {
      // Parsed lazily, as events are read (as h11 does): what the application sends in answer
      // to one message goes out before whatever a later frame in the same read provokes.
      (this.#parser ?? this.#makeParser()).push(data);
      return;
    }
    switch (state) {
      case 'handshake':
        this.#hs!.bytesReceived += data.length;
        if (this.#hs!.rejectBody !== null) this.#collectRejectBody(data);
        else if (this.#flag(HTTP2)) this.#dataBeforeHead();
        else if (this.#hs!.http !== null) this.#receiveHttp(data);
        else if (this.role === 'server') this.#receiveRequestBytes(data);
        else this.#receiveResponseBytes(data);
        return;
      case 'awaiting-accept':
        this.#keepEarly(data);
        return;
      case 'closed':
        // §5.5.1, §7.1.7: after a Close or a failure nothing more is read; drop it.
        return;
    }
  }

  /** Server: the request head was parsed elsewhere (e.g. by `node:http`). Use instead of request bytes. */
  receiveRequestHead(head: RequestHead): void {
    if (
      this.role !== 'server' ||
      this.#state !== 'handshake' ||
      this.#hs!.bytesReceived > 0 ||
      this.#hs!.http !== null
    ) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'receiveRequestHead() is for a server connection that has received nothing yet',
      );
    }
    this.#hs!.head = null;
    this.#onRequestHead(head);
  }

  /**
   * HTTP/2 (see `http2`): the peer's header list, pseudo-headers first, as its HTTP/2
   * stack decoded it. A server gets the extended CONNECT here (then a `request` event, or a
   * refusal: a `head` output with a 4xx); a client gets the answer (then `open`, `rejected`
   * once the refusal's body has come, or a `protocol-error`). Never throws on what the peer sent.
   */
  receiveHeaders(headers: ReadonlyArray<readonly [string, string]>): void {
    const hs = this.#hs;
    if (
      !this.#flag(HTTP2) ||
      this.#state !== 'handshake' ||
      hs === null ||
      hs.bytesReceived > 0 ||
      this.#response !== null ||
      (this.role === 'client' && this.#outHead !== null)
    ) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'receiveHeaders() is for an http2 connection in its handshake, once (a client: after its request head was taken)',
      );
    }
    const count = Array.isArray(headers) ? headers.length : 0;
    if (count > this.limits.maxHeaders) {
      const message = `more than ${this.limits.maxHeaders} header fields`;
      if (this.role === 'server') this.#refuseRequest('TOO_MANY_HEADERS', 431, message, []);
      else this.#handshakeFailed('TOO_MANY_HEADERS', message);
      return;
    }
    if (hs.role.role === 'server') {
      this.#onValidated((hs.role.http2 as Http2ServerRole).validate(headers, hs));
      return;
    }
    const http2 = hs.role.http2 as Http2ClientRole;
    const answer = http2.readResponse(headers);
    this.#response = { status: answer.status ?? 0, statusText: '', httpVersion: '2', headers: answer.headers };
    if (answer.status === null) {
      this.#handshakeFailed('MALFORMED_HEAD', 'malformed response header list');
      return;
    }
    if (answer.status !== 200) {
      // A refusal: its body (bounded) comes as DATA, until the stream ends or content-length is reached.
      const length = answer.headers.get('content-length');
      hs.rejectBodyExpected = length !== null && /^\d+$/.test(length) ? Number(length) : -1;
      hs.rejectBody = [];
      if (hs.rejectBodyExpected === 0) this.#finishRejected();
      return;
    }
    const verdict = http2.verifyResponse(answer, {
      protocols: hs.offeredProtocols,
      offeredExtensions: hs.factories.map((f) => f.name),
    });
    if (verdict.ok) this.#openClient(verdict.protocol, verdict.extensions);
    else this.#handshakeFailed(verdict.code, verdict.message);
  }

  /** HTTP/2: DATA before the header list (an HTTP/2 stack never delivers that; a caller might). */
  #dataBeforeHead(): void {
    const message = 'data arrived before the header list';
    if (this.role === 'server') this.#refuseRequest('MALFORMED_HEAD', 400, message, []);
    else this.#handshakeFailed('MALFORMED_HEAD', message);
  }

  /** The peer closed its side of TCP (or the socket failed). */
  receiveEof(): void {
    if (this.#flag(EOF)) return;
    this.#flags |= EOF;
    if (this.#flag(DESTROYED)) return;
    switch (this.#state) {
      case 'handshake':
      case 'awaiting-accept':
        if (this.#hs!.rejectBody !== null) {
          this.#finishRejected();
          return;
        }
        if (this.#hs!.http !== null) {
          this.#hs!.http.eof();
          this.#afterHttp();
          return;
        }
        this.#protocolError('EOF_IN_HANDSHAKE', null, null, 'the peer closed the connection during the handshake');
        this.#toClosed('eof', 'EOF_IN_HANDSHAKE');
        this.#destroy();
        return;
      case 'open':
      case 'closing':
        // Nothing received is lost: parse what is buffered before acting on the EOF.
        this.#processFrames(ALL_EVENTS);
        if ((this.#state as ConnectionState) === 'closed') {
          this.#shutdownWrite();
          return;
        }
        this.#abandonMessage();
        this.#toClosed('eof', null);
        this.#shutdownWrite();
        return;
      case 'closed':
        this.#shutdownWrite();
        return;
    }
  }

  // ───────────────────────────── output ─────────────────────────────

  /** The next event, or null when there is none. */
  nextEvent(): Event | null {
    if (this.#event === null) {
      this.#processFrames(ONE_EVENT);
      if (this.#event === null) return null;
    }
    return this.#dequeue();
  }

  /**
   * @internal For a driver's read loop: what `nextEvent()` would return, except that a whole
   * message parsed here with no event before it comes as its data alone, with no event object:
   * a string for text, a Uint8Array for binary (the common case: a one-frame message, no
   * extension, all in the bytes at hand). Null when there is nothing.
   */
  nextEventOrMessage(): Event | string | Uint8Array | null {
    if (this.#event === null) {
      const data = this.#processFrames(ONE_EVENT_OR_MESSAGE);
      if (data !== null) return data;
      if (this.#event === null) return null;
    }
    return this.#dequeue();
  }

  /** Take the oldest queued event (`#event` is not null). */
  #dequeue(): Event {
    const event = this.#event!;
    const later = this.#later;
    if (later === NO_EVENTS) {
      this.#event = null;
    } else {
      this.#event = later[this.#laterHead++]!;
      if (this.#laterHead === later.length) {
        this.#later = NO_EVENTS;
        this.#laterHead = 0;
      }
    }
    return event;
  }

  /** Every pending event, oldest first. */
  takeEvents(): Event[] {
    this.#processFrames(ALL_EVENTS);
    const events: Event[] = [];
    if (this.#event !== null) {
      events.push(this.#event);
      const later = this.#later;
      for (let i = this.#laterHead; i < later.length; i++) events.push(later[i]!);
    }
    this.#event = null;
    this.#later = NO_EVENTS;
    this.#laterHead = 0;
    return events;
  }

  /** Outputs wait to be taken by `takeOutput()` (a held pong is not one: see `holdPongs`). */
  get hasOutput(): boolean {
    return this.#firstWrite !== null || this.#ends !== 0;
  }

  /** A held pong waits (see `holdPongs`); it counts in `pendingOutputBytes`. */
  get hasPendingPong(): boolean {
    return this.#pong !== null;
  }

  /**
   * For a driver whose transport is backed up (bytes wait that the OS has not taken): while on,
   * automatic and commanded pongs are not queued one per ping but kept as one, the latest
   * replacing the one before (§5.5.3), out of `takeOutput()`. Off (the default) again, that
   * pong joins the writes. A peer flooding pings while it does not read then costs one pong.
   */
  holdPongs(on: boolean): void {
    if (on) {
      this.#flags |= HOLD_PONGS;
      return;
    }
    this.#flags &= ~HOLD_PONGS;
    this.#releasePong();
  }

  /** What the transport must do, in order. Writes are ready to be corked or written as a vector. */
  takeOutput(): Output[] {
    const head = this.#outHead;
    this.#outHead = null;
    this.#ends &= ~END_HEAD;
    const writes: Uint8Array[] = [];
    this.takeWrites(writes);
    const out: Output[] = writes.map((data) => ({ type: 'write', data }));
    if (head !== null) out.unshift({ type: 'head', headers: head });
    if ((this.#ends & END_SHUTDOWN) !== 0) out.push({ type: 'shutdown' });
    if ((this.#ends & END_DESTROY) !== 0) out.push({ type: 'destroy' });
    this.#ends = 0;
    return out;
  }

  /**
   * The pending writes of `takeOutput()`, without an object each: their bytes are appended to
   * `into`, in order. What may follow them (shutdown, destroy) stays for `takeOutput()`; check
   * `hasOutput` afterwards. For a driver's hot path: one array reused for every write.
   */
  takeWrites(into: Uint8Array[]): void {
    // An HTTP/2 head goes first: `takeOutput()` gives it, then these writes.
    if (this.#firstWrite === null || (this.#ends & END_HEAD) !== 0) return;
    into.push(this.#firstWrite);
    this.#firstWrite = null;
    const more = this.#moreWrites;
    if (more !== NO_WRITES) {
      for (let i = 0; i < more.length; i++) into.push(more[i]!);
      this.#moreWrites = NO_WRITES;
    }
    this.#outBytes = this.#pong === null ? 0 : this.#pong.length;
  }

  // ───────────────────────────── commands ─────────────────────────────

  send(command: Command): void {
    if (typeof command !== 'object' || command === null) {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `a command must be an object, got ${describe(command)}`);
    }
    switch (command.type) {
      case 'accept':
        return this.#accept(command.protocol ?? null, command.headers, command.extensions ?? true);
      case 'reject':
        return this.#reject(command.status, command.statusText, command.headers, command.body);
      case 'text':
        if (typeof command.data !== 'string') {
          throw new WebSocketUsageError(
            'INVALID_ARGUMENT',
            `text data must be a string, got ${describe(command.data)}`,
          );
        }
        return this.#sendData('text', this.#textPayload(command.data), true, command.compress);
      case 'binary':
        return this.#sendData('binary', toBytes(command.data, 'binary data'), true, command.compress);
      case 'fragment':
        if (command.kind !== 'text' && command.kind !== 'binary') {
          throw new WebSocketUsageError(
            'INVALID_ARGUMENT',
            `fragment kind must be 'text' or 'binary', got ${describe(command.kind)}`,
          );
        }
        return this.#sendData(
          command.kind,
          toBytes(command.data, 'fragment data'),
          command.fin !== false,
          command.compress,
        );
      case 'ping':
      case 'pong':
        return this.#sendControl(
          command.type === 'ping' ? Opcode.Ping : Opcode.Pong,
          command.data === undefined ? EMPTY : toBytes(command.data, `${command.type} data`),
        );
      case 'close':
        return this.#close(command.code, command.reason);
      case 'http-response':
      case 'http-body':
      case 'http-end':
      case 'http-continue':
        return this.#sendHttp(command);
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
    this.#sendData('text', this.#textPayload(data), true, compress);
  }

  /**
   * A text message's bytes, to be framed at once. Without extensions they may be a view of the
   * encoder's shared scratch buffer: #writeFrame copies every payload under COPY_THRESHOLD into
   * its frame (and a scratch view is at most SCRATCH_BYTES long), so nothing keeps the view. An
   * extension might keep its input: it gets bytes of their own.
   */
  #textPayload(text: string): Uint8Array {
    return this.#extensions.length === 0 ? encodeUtf8Transient(text) : encodeUtf8(text);
  }

  /** Shorthand for `send({ type: 'binary', data })`. */
  sendBinary(data: Uint8Array, compress?: boolean): void {
    this.#sendData('binary', toBytes(data, 'binary data'), true, compress);
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
    if (this.#maskKeys !== null) return null;
    const extensions = this.#extensions;
    if (extensions.length === 0) return '';
    let key = '';
    for (let i = 0; i < extensions.length; i++) {
      const extension = extensions[i]!;
      const part = extension.sharedKey?.(length, compress) ?? null;
      if (part === null) return null;
      if (part !== '') key += `${extension.name}:${part};`;
    }
    return key;
  }

  /**
   * Server: the wire bytes of one whole message (one frame, as one or two chunks), for every
   * connection whose {@link sharedFrameKey} equals this one's. Sends nothing and changes nothing
   * on this connection; `sendFramed` sends the bytes. Throws when `sharedFrameKey` is null.
   */
  frameShared(kind: MessageKind, payload: Uint8Array, compress?: boolean): Uint8Array[] {
    if (this.sharedFrameKey(payload.length, compress) === null) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        'this connection frames its own messages (a client, or context takeover): use sendText/sendBinary',
      );
    }
    let rsv = 0;
    const extensions = this.#extensions;
    for (let i = 0; i < extensions.length; i++) {
      const encoded = extensions[i]!.encodeShared!(payload, compress);
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
      this.#flag(FRESH_ARRAYS),
    );
    return frames;
  }

  /** A whole message framed elsewhere may be sent now: open, and no fragmented message of ours in progress. */
  get canSendFramed(): boolean {
    return this.#state === 'open' && this.#sendingKind === null;
  }

  /**
   * Send the bytes `frameShared` made (on this connection or one with the same
   * `sharedFrameKey`), as they are. The chunks are shared: nothing may change them. Throws
   * `INVALID_STATE` unless {@link canSendFramed}.
   */
  sendFramed(frames: readonly Uint8Array[]): void {
    if (!this.canSendFramed) {
      const why =
        this.#state !== 'open'
          ? `in state ${this.#state}`
          : `while a fragmented ${this.#sendingKind} message is in progress`;
      throw new WebSocketUsageError('INVALID_STATE', `cannot send a framed message ${why}`);
    }
    if (this.#maskKeys !== null)
      throw new WebSocketUsageError('INVALID_STATE', 'a client masks its frames: framed messages are for servers');
    this.#seen |= SEEN_ANY;
    for (let i = 0; i < frames.length; i++) this.#write(frames[i]!);
  }

  // ───────────────────────────── time ─────────────────────────────

  /**
   * When `tick(now)` must next be called, in the time base of the `now`s you pass, or null when
   * nothing is timed. 0 when a timed wait has just begun (a handshake, a close, an open connection's
   * keepalive): call `tick(now)` at once, to start its clock (see deadlines.ts). Cheap enough to
   * ask after every read: a driver re-arms its timer only when the number changes.
   */
  nextDeadline(): number | null {
    let due: number | null;
    if (this.#state === 'open') {
      // Asked after every read: one field (no live state: nothing timed).
      const live = this.#live;
      if (live === null) return null;
      due = live.due;
    } else {
      due = this.#phaseDeadline();
    }
    return due === PENDING ? 0 : due === Infinity ? null : due;
  }

  /** The deadline of a state other than open (PENDING while its clock has not started). */
  #phaseDeadline(): number | null {
    if (this.#flag(DESTROYED)) return null;
    const t = this.timeouts;
    switch (this.#state) {
      case 'handshake':
      case 'awaiting-accept': {
        const hs = this.#hs!;
        if (hs.http !== null) return hs.http.deadline();
        return t.handshakeTimeout > 0 ? after(hs.startedAt, t.handshakeTimeout) : null;
      }
      case 'closing':
        return t.closeTimeout > 0 ? after(this.#closing().deadline, 0) : null;
      case 'closed':
        return t.closeTimeout > 0 && !this.finished ? after(this.#closing().deadline, 0) : null;
      default:
        return null;
    }
  }

  /**
   * The time is `now` (in the time base of every `now` you pass: any monotonic milliseconds):
   * start the clock of any wait that began since the last tick, and act on every deadline that
   * has passed. Call it when `nextDeadline()` comes; calling it early is harmless.
   */
  tick(now: number): void {
    if (typeof now !== 'number' || Number.isNaN(now)) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `tick(now) needs the time in milliseconds, got ${describe(now)}`,
      );
    }
    const t = this.timeouts;
    switch (this.#state) {
      case 'handshake':
      case 'awaiting-accept': {
        if (this.#flag(DESTROYED)) return;
        const hs = this.#hs!;
        if (hs.http !== null) {
          hs.http.tick(now);
          this.#afterHttp();
          return;
        }
        if (hs.startedAt === PENDING) hs.startedAt = now;
        if (t.handshakeTimeout === 0 || now < hs.startedAt + t.handshakeTimeout) return;
        this.#protocolError(
          'HANDSHAKE_TIMEOUT',
          null,
          null,
          `the handshake did not complete within ${t.handshakeTimeout} ms`,
        );
        this.#toClosed('timeout', 'HANDSHAKE_TIMEOUT');
        this.#destroy();
        return;
      }
      case 'open': {
        const live = this.#live;
        if (live === null || now < live.due) return;
        const seen = this.#seen;
        const action = live.check(now, seen);
        this.#seen = seen & ~live.read;
        if (action === LIVE_PING) {
          this.#writeFrame(true, 0, Opcode.Ping, EMPTY);
        } else if (action === LIVE_IDLE) {
          this.#close(1001, 'idle timeout', 'IDLE_TIMEOUT');
        } else if (action === LIVE_PONG_TIMEOUT) {
          // §7.1.7: fail the connection (a Close with 1011, then close TCP), as on a violation.
          this.#fail('PONG_TIMEOUT', 1011, `no answer to a keepalive ping within ${t.keepaliveTimeout} ms`);
        }
        return;
      }
      case 'closing':
      case 'closed': {
        if (this.#flag(DESTROYED) || t.closeTimeout === 0 || this.finished) return;
        const closing = this.#closing();
        if (closing.deadline === PENDING) closing.deadline = now + t.closeTimeout;
        if (now < closing.deadline) return;
        if (this.#state === 'closed') {
          // The transport lingered past closeTimeout after the close (closed's one row).
          this.#move('timeout');
          this.#destroy();
          return;
        }
        this.#protocolError('CLOSE_TIMEOUT', null, null, `no Close frame from the peer within ${t.closeTimeout} ms`);
        this.#abandonMessage();
        this.#toClosed('timeout', 'CLOSE_TIMEOUT');
        this.#destroy();
        return;
      }
    }
  }

  /**
   * For a driver that stops reading its transport (flow control): while paused, keepalive and
   * idle stand still (the peer's bytes, its pongs too, wait unread because of us), and on
   * resume they start afresh.
   */
  pauseLiveness(paused: boolean): void {
    if (paused === this.#flag(LIVENESS_PAUSED)) return;
    this.#set(LIVENESS_PAUSED, paused);
    const live = this.#live;
    if (live === null) return;
    if (paused) live.due = Infinity;
    else live.restart();
  }

  /**
   * For a driver with a send buffer: queued bytes were handed on (to the OS). That is activity
   * for the idle timeout; and with `pingWaiting` (our keepalive ping was still queued behind
   * them), the pong timeout starts again: a ping that has not left cannot have been answered.
   */
  noteOutputProgress(pingWaiting: boolean): void {
    this.#seen |= pingWaiting ? SEEN_ANY | PING_HELD : SEEN_ANY;
  }

  /** Open: keepalive and idle, when either is on, start with the next tick. */
  #startLiveness(): void {
    const t = this.timeouts;
    if (t.keepaliveInterval > 0 || t.idleTimeout > 0) {
      const live = (this.#live = new Liveness(t));
      if (this.#flag(LIVENESS_PAUSED)) live.due = Infinity;
    }
  }

  /** A keepalive ping is out and nothing has come from the peer since (as last checked). */
  get awaitingPong(): boolean {
    return this.#live?.awaitingPong ?? false;
  }

  // ───────────────────────────── handshake ─────────────────────────────

  /** Server with `http`: bytes of plain requests (or of the head that upgrades). */
  #receiveHttp(data: Uint8Array): void {
    this.#hs!.http!.receive(data);
    this.#afterHttp();
  }

  /** Carry out what the HTTP phase found: events to the caller, bytes to write, an upgrade, the end. */
  #afterHttp(): void {
    const hs = this.#hs;
    const http = hs?.http ?? null;
    if (http === null) return;
    for (const chunk of http.takeWrites()) this.#write(chunk);
    const events = http.events;
    // Taken one at a time: an upgrade or an end stops the phase, and what follows is not its.
    while (events.length > 0) {
      const event = events.shift()!;
      switch (event.type) {
        case 'http-request':
        case 'http-body':
        case 'http-body-end':
          this.#emit(event);
          break;
        case 'upgrade':
          hs!.http = null;
          hs!.startedAt = event.headStarted;
          this.#onRequestHead(event.request);
          if (event.rest.length > 0 && this.#state === 'awaiting-accept') this.#keepEarly(event.rest);
          return;
        case 'refuse':
          hs!.http = null;
          if (event.respond) {
            this.#refuseRequest(event.code, event.status, event.message, []);
          } else {
            this.#protocolError(event.code, null, null, event.message);
            this.#toClosed(
              event.code === 'HANDSHAKE_TIMEOUT' || event.code === 'REQUEST_TIMEOUT' ? 'timeout' : 'fail',
              event.code,
            );
            this.#destroy();
          }
          return;
        case 'close':
          hs!.http = null;
          this.#toClosed(event.reason === 'eof' ? 'eof' : event.reason === 'idle' ? 'timeout' : 'served', null);
          this.#shutdownWrite();
          return;
      }
    }
  }

  #sendHttp(command: Extract<Command, { type: 'http-response' | 'http-body' | 'http-end' | 'http-continue' }>): void {
    const http = this.#hs?.http ?? null;
    if (http === null) {
      if (this.role === 'server' && this.#state === 'closed') return; // refused or gone meanwhile: nothing to answer
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `${command.type} is for a server with http serving a plain request (state: ${this.#state})`,
      );
    }
    switch (command.type) {
      case 'http-response':
        http.respond({
          status: command.status,
          statusText: command.statusText,
          headers: command.headers,
          bodyLength: command.bodyLength,
        });
        break;
      case 'http-body':
        http.write(toBytes(command.data, 'http-body data'));
        break;
      case 'http-end':
        http.end();
        break;
      case 'http-continue':
        http.sendContinue();
        break;
    }
    this.#afterHttp();
  }

  #receiveRequestBytes(data: Uint8Array): void {
    const hs = this.#hs!;
    const result = (hs.head as HeadParser<'request'>).push(data);
    if (result === null) return;
    hs.head = null;
    if (!result.ok) {
      const { code, status, message } = result.error;
      this.#refuseRequest(code, status, message, []);
      return;
    }
    this.#onRequestHead(result.head);
    if (result.rest.length > 0 && this.#state === 'awaiting-accept') this.#keepEarly(result.rest);
  }

  #onRequestHead(head: RequestHead): void {
    const hs = this.#hs!;
    this.#onValidated((hs.role as ServerRole).validateRequest(head, hs)); // its `origins`
  }

  #onValidated(verdict: RequestValidation): void {
    if (!verdict.ok) {
      this.#refuseRequest(verdict.code, verdict.status, verdict.message, verdict.headers);
      return;
    }
    this.#request = verdict.request;
    this.#move('request');
    this.#emit({ type: 'request', request: verdict.request });
  }

  #refuseRequest(code: ProtocolErrorCode, status: number, message: string, headers: Array<[string, string]>): void {
    this.#writeRefusal(status, undefined, headers, message + '\n');
    this.#protocolError(code, null, status, message);
    this.#toClosed('fail', code);
    this.#shutdownWrite();
  }

  /**
   * Frames a client sent before our 101 (it may pipeline, though §4.1 says it should wait).
   * Kept until accept, at most `maxHeadBytes` of them: this is memory held for a client nobody
   * has authenticated yet (an async verifyClient may take a while), so it gets the head's bound,
   * not the frame limit's 64 MiB.
   */
  #keepEarly(data: Uint8Array): void {
    const hs = this.#hs!;
    hs.earlyBytes += data.length;
    if (hs.earlyBytes > this.limits.maxHeadBytes) {
      this.#refuseRequest('MESSAGE_TOO_LARGE', 400, 'too much data before the handshake completed', []);
      return;
    }
    (this.#parser ?? this.#makeParser()).push(data);
  }

  #accept(protocol: string | null, headers: HeadersInit | undefined, useExtensions: boolean): void {
    if (this.role !== 'server' || this.#state !== 'awaiting-accept') {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `accept is for a server that received a request and has not answered it (state: ${this.#state})`,
      );
    }
    const request = this.#request!;
    const server = this.#hs!.role as ServerRole;
    const { accepted, extensions } = useExtensions
      ? chooseExtensions(this.#hs!.factories, request.extensions)
      : { accepted: NONE as never[], extensions: NONE as never[] };
    let response: Uint8Array | HeaderList;
    try {
      const answer = {
        protocol,
        extensions: accepted.length > 0 ? server.formatExtensionHeader(accepted) : null,
        headers,
        freshArrays: this.#flag(FRESH_ARRAYS),
      };
      response =
        server.http2 !== undefined ? server.http2.accept(request, answer) : server.buildAcceptResponse(request, answer);
    } catch (error) {
      for (const extension of extensions) extension.dispose();
      throw error;
    }
    if (response instanceof Uint8Array) this.#write(response);
    else {
      this.#outHead = response;
      this.#ends |= END_HEAD;
    }
    this.#protocol = protocol;
    this.#setExtensions(extensions);
    this.#hs = null;
    // The request goes with the 'open' event: an open connection keeps none (the session has its own).
    this.#request = null;
    this.#move('accept');
    this.#startLiveness();
    this.#emit({
      type: 'open',
      protocol,
      extensions: extensions.length === 0 ? (NONE as never[]) : extensions.map((e) => e.name),
      request,
      response: null,
    });
  }

  #reject(
    status: number,
    statusText: string | undefined,
    headers: HeadersInit | undefined,
    body: Uint8Array | string | undefined,
  ): void {
    if (this.role !== 'server' || this.#state !== 'awaiting-accept') {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `reject is for a server that received a request and has not answered it (state: ${this.#state})`,
      );
    }
    this.#writeRefusal(status, statusText, headers, body);
    this.#toClosed('reject', null);
    this.#shutdownWrite();
  }

  /** A refusal: an HTTP/1.1 response, or over HTTP/2 a header list and its body. */
  #writeRefusal(
    status: number,
    statusText: string | undefined,
    headers: HeadersInit | undefined,
    body: Uint8Array | string | undefined,
  ): void {
    const server = this.#hs!.role as ServerRole;
    if (server.http2 === undefined) {
      this.#write(server.buildRejectResponse(status, { statusText, headers, body }));
      return;
    }
    const refusal = server.http2.reject(status, { headers, body });
    this.#outHead = refusal.headers;
    this.#ends |= END_HEAD;
    if (refusal.body.length > 0) this.#write(refusal.body);
  }

  #receiveResponseBytes(data: Uint8Array): void {
    const hs = this.#hs!;
    const result = (hs.head as HeadParser<'response'>).push(data);
    if (result === null) return;
    hs.head = null;
    if (!result.ok) {
      this.#handshakeFailed(result.error.code, result.error.message);
      return;
    }
    const head: ResponseHead = result.head;
    this.#response = {
      status: head.status,
      statusText: head.statusText,
      httpVersion: head.httpVersion,
      headers: head.headers,
    };
    if (head.status !== 101) {
      // §4.1: anything but 101 means no WebSocket; keep the body (bounded) for the caller.
      const length = head.headers.get('content-length');
      hs.rejectBodyExpected = length !== null && /^\d+$/.test(length) ? Number(length) : -1;
      hs.rejectBody = [];
      if (result.rest.length > 0) this.#collectRejectBody(result.rest);
      else if (hs.rejectBodyExpected === 0) this.#finishRejected();
      return;
    }
    const verdict = (hs.role as ClientRole).verifyResponse(head, {
      key: hs.key,
      protocols: hs.offeredProtocols,
      offeredExtensions: hs.factories.map((f) => f.name),
    });
    if (!verdict.ok) {
      this.#handshakeFailed(verdict.code, verdict.message);
      return;
    }
    if (!this.#openClient(verdict.protocol, verdict.extensions)) return;
    if (result.rest.length > 0) (this.#parser ?? this.#makeParser()).push(result.rest);
  }

  /** Client: the server accepted; make the extensions it chose and open. False if they do not fit. */
  #openClient(protocol: string | null, accepted: ExtensionOffer[]): boolean {
    const extensions = acceptExtensions(this.#hs!.factories, accepted);
    if (typeof extensions === 'string') {
      this.#handshakeFailed('UNEXPECTED_EXTENSION', extensions);
      return false;
    }
    this.#protocol = protocol;
    this.#setExtensions(extensions);
    this.#hs = null;
    this.#move('response');
    this.#startLiveness();
    this.#emit({
      type: 'open',
      protocol: protocol,
      extensions: extensions.map((e) => e.name),
      request: null,
      response: this.#response,
    });
    return true;
  }

  #collectRejectBody(data: Uint8Array): void {
    const hs = this.#hs!;
    const room = this.limits.maxRejectBodyBytes - hs.rejectBodyBytes;
    const wanted = hs.rejectBodyExpected >= 0 ? hs.rejectBodyExpected - hs.rejectBodyBytes : Infinity;
    const take = Math.min(data.length, room, wanted);
    if (take > 0) {
      hs.rejectBody!.push(data.subarray(0, take));
      hs.rejectBodyBytes += take;
    }
    if (hs.rejectBodyBytes >= hs.rejectBodyExpected && hs.rejectBodyExpected >= 0) this.#finishRejected();
    else if (hs.rejectBodyBytes >= this.limits.maxRejectBodyBytes) this.#finishRejected();
  }

  #finishRejected(): void {
    const hs = this.#hs!;
    const body = concat(hs.rejectBody!, hs.rejectBodyBytes);
    hs.rejectBody = null;
    this.#emit({ type: 'rejected', response: this.#response!, body });
    this.#toClosed('reject', 'BAD_STATUS');
    this.#destroy();
  }

  /** §4.1: a client that dislikes the server's answer fails the connection: no Close frame, just TCP. */
  #handshakeFailed(code: ProtocolErrorCode, message: string): void {
    this.#protocolError(code, null, null, message);
    this.#toClosed('fail', code);
    this.#destroy();
  }

  #setExtensions(extensions: Extension[]): void {
    this.#extensions = extensions.length === 0 ? NONE : extensions; // the shared empty list when none
    if (this.#parser !== null) this.#parser.allowedRsv = allowedRsv(this.#extensions);
  }

  #makeParser(): FrameParser {
    const parser = new FrameParser({
      expectMasked: this.role === 'server',
      maxFrameSize: this.limits.maxFrameSize,
      freshArrays: this.#flag(FRESH_ARRAYS),
    });
    parser.allowedRsv = allowedRsv(this.#extensions);
    this.#parser = parser;
    return parser;
  }

  // ───────────────────────────── receiving frames ─────────────────────────────

  /**
   * Parse buffered frames: all of them (ALL_EVENTS), or until an event is queued (ONE_EVENT), or
   * also until a whole message can be returned as its data (ONE_EVENT_OR_MESSAGE, with no event
   * queued before it: see `nextEventOrMessage`). Returns that data, else null.
   */
  #processFrames(mode: number): string | Uint8Array | null {
    try {
      return this.#parseFrames(mode);
    } catch (error) {
      // The host could not allocate for what the peer sent (a large message, a decompressor's
      // buffers): that connection fails as for a message over the limit; nothing escapes.
      if (!(error instanceof RangeError)) throw error;
      if (this.#state === 'open' || this.#state === 'closing')
        this.#fail('MESSAGE_TOO_LARGE', 1009, `out of memory while receiving: ${error.message}`);
      return null;
    }
  }

  #parseFrames(mode: number): string | Uint8Array | null {
    const parser = this.#parser;
    if (parser === null) return null; // nothing received yet
    while (this.#state === 'open' || this.#state === 'closing') {
      if (mode !== ALL_EVENTS && this.#event !== null) return null;
      const step = parser.next();
      if (step === NEED_MORE) return null;
      if (step === FAILED) {
        this.#fail(parser.errorCode!, parser.errorCloseCode, parser.errorMessage);
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
            (this.#flags & (IN_MESSAGE | ASSEMBLE)) === ASSEMBLE &&
            parser.length <= this.limits.maxMessageSize &&
            parser.payloadInOneChunk
          ) {
            // The common case, a whole one-frame message in the bytes at hand: its payload step
            // (one view) now, and none of the message assembly.
            const data = this.#wholeMessage(opcode, parser.wholePayload());
            if (data === null) continue; // it failed the connection
            if (mode === ONE_EVENT_OR_MESSAGE) return data; // no event is queued (checked above)
            this.#emit(typeof data === 'string' ? { type: 'text', data } : { type: 'binary', data });
            continue;
          }
          this.#onDataHeader(parser.opcode, parser.rsv, parser.fin, parser.length);
          // A payload that spans reads, or a fragment: unmasked into the message's buffer as it
          // arrives (a fragment so costs no array or view of its own, however short).
          if (!parser.payloadInOneChunk || !parser.fin || opcode === Opcode.Continuation) this.#direct();
        }
        continue;
      }
      // PAYLOAD
      if (parser.opcode >= 0x8) this.#onControl(parser.opcode, parser.payload);
      else this.#onDataChunk(parser.payload, parser.frameEnd);
    }
    return null;
  }

  /** A one-frame text or binary message, no extension involved, its payload at hand: its data, or null if it failed the connection. */
  #wholeMessage(opcode: number, data: Uint8Array): string | Uint8Array | null {
    if (opcode === Opcode.Binary) return data;
    const validate = this.#utf8Validator;
    // §8.1: text must be UTF-8.
    let text: string | null = null;
    if (validate === null || validate(data)) {
      try {
        text = validate === null ? decodeValidUtf8(data, (this.#flags & STRICT_DECODER) !== 0) : decodeUtf8(data);
      } catch {
        return this.#tooLongForString(data.length);
      }
    }
    if (text === null) {
      // Say why as the incremental check does (a bad byte, or a code point cut at the end).
      const check = new Utf8Validator();
      const cutShort = check.push(data) && !check.complete;
      this.#fail(
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
  #tooLongForString(bytes: number): null {
    this.#fail(
      'MESSAGE_TOO_LARGE',
      1009,
      `a text message of ${bytes} bytes is longer than a string can be on this host`,
    );
    return null;
  }

  #onDataHeader(opcode: number, rsv: number, fin: boolean, length: number): void {
    if (opcode === Opcode.Continuation) {
      // §5.4: a continuation needs a message in progress.
      if (!this.#flag(IN_MESSAGE))
        return this.#fail('UNEXPECTED_CONTINUATION', 1002, 'continuation frame without a message to continue');
      // Our extensions transform whole messages: only a message's first frame carries RSV bits (RFC 7692 §6.1).
      if (rsv !== 0) return this.#fail('RESERVED_BITS', 1002, 'RSV bits set on a continuation frame');
      if (++this.#message!.fragments > this.limits.maxFragments) {
        return this.#fail(
          'TOO_MANY_FRAGMENTS',
          1009,
          `message split into more than ${this.limits.maxFragments} frames`,
        );
      }
    } else {
      // §5.4: a new data message may not start inside another.
      if (this.#flag(IN_MESSAGE))
        return this.#fail('EXPECTED_CONTINUATION', 1002, 'new data frame while a fragmented message is in progress');
      const message = (this.#message ??= new IncomingMessage());
      message.decoder = null;
      if (rsv !== 0) {
        for (const extension of this.#extensions) {
          if ((rsv & extension.rsvBits) !== 0 && extension.decodeStart(rsv & extension.rsvBits)) {
            message.decoder = extension;
            break;
          }
        }
        if (message.decoder === null)
          return this.#fail('RESERVED_BITS', 1002, 'RSV bits set that no extension claimed for this message');
      }
      this.#flags |= IN_MESSAGE;
      message.kind = opcode === Opcode.Text ? 'text' : 'binary';
      message.fragments = 1;
      message.size = 0;
      message.utf8.reset();
      message.lastFragment = null;
      this.#flags &= ~FRAGMENT_STARTED;
    }
    this.#set(FRAME_FIN, fin);
    const message = this.#message!;
    if (message.decoder === null && message.size + length > this.limits.maxMessageSize) {
      // Known before a byte of it arrives: fail now rather than after buffering it.
      return this.#fail('MESSAGE_TOO_LARGE', 1009, `message exceeds the ${this.limits.maxMessageSize}-byte limit`);
    }
  }

  #onDataChunk(chunk: Uint8Array, frameEnd: boolean): void {
    const messageEnd = frameEnd && this.#flag(FRAME_FIN);
    const message = this.#message!;
    const decoder = message.decoder;
    if (decoder !== null) {
      if (chunk.length > 0 || messageEnd) {
        const problem = decoder.decode(chunk, messageEnd, message.sink ?? this.#makeSink(message));
        if (this.#state === 'closed' || !this.#flag(IN_MESSAGE)) return; // the sink failed the connection
        if (problem !== null) return this.#fail('EXTENSION_ERROR', 1007, `${decoder.name}: ${problem}`);
      }
    } else if (message.direct) {
      // The parser wrote it into the buffer already: count and check it.
      if (!this.#acceptStored(this.#parser!.stored)) return;
      if (frameEnd || message.size === message.buffer!.length) message.direct = false;
    } else if (chunk.length > 0 && !this.#acceptData(chunk)) {
      return;
    }
    if (messageEnd) this.#finishMessage();
    else if (!frameEnd && !message.direct) this.#direct();
  }

  /**
   * Where `message`'s decoder delivers its output, made once. Not inline in #onDataChunk: a
   * closure there would make the engine allocate a scope for `this` on every call, that is for
   * every fragment (JavaScriptCore does, ≈ 100 bytes each).
   */
  #makeSink(message: IncomingMessage): (chunk: Uint8Array) => boolean {
    const sink = (data: Uint8Array): boolean => this.#acceptData(data);
    message.sink = sink;
    return sink;
  }

  /**
   * The current data frame's payload continues in later reads: have the parser unmask it into
   * the message's buffer, grown first if it is full (see GROW_RATIO). Only for messages we
   * assemble without an extension.
   */
  #direct(): void {
    const message = this.#message!;
    if (
      !this.#flag(ASSEMBLE) ||
      !this.#flag(IN_MESSAGE) ||
      message.decoder !== null ||
      (this.#state !== 'open' && this.#state !== 'closing')
    )
      return;
    const parser = this.#parser!;
    const remaining = parser.payloadRemaining;
    if (remaining === 0) return;
    const size = message.size;
    const buffer = message.buffer;
    if (buffer === null || buffer.length === size) {
      const waiting = parser.bufferedAmount < remaining ? parser.bufferedAmount : remaining;
      if (!this.#grow(message, size, size + waiting, size + 1)) return;
    }
    parser.payloadInto(message.buffer!, message.size);
    message.direct = true;
  }

  /**
   * Give the message a buffer with room for `need` bytes and for about GROW_RATIO × `received`,
   * bounded by the declared end of a one-frame message or by `maxMessageSize`; its first
   * `filled` bytes are moved over. False if the host could not allocate it (then the connection
   * has failed with 1009, as for a message over the limit).
   */
  #grow(message: IncomingMessage, filled: number, received: number, need: number): boolean {
    // Undecoded and final: the frame's header said where the message ends.
    const cap =
      this.#flag(FRAME_FIN) && message.decoder === null
        ? message.size + this.#parser!.payloadRemaining
        : this.limits.maxMessageSize;
    let capacity = GROW_RATIO * received;
    if (capacity < GROW_MIN) capacity = GROW_MIN;
    // Within an eighth of the end: take it all, rather than grow again for the last few bytes.
    if (capacity + (capacity >>> 3) >= cap) capacity = cap;
    if (capacity < need) capacity = need;
    let grown: Uint8Array;
    try {
      grown = new Uint8Array(capacity);
    } catch {
      this.#fail('MESSAGE_TOO_LARGE', 1009, `could not allocate ${capacity} bytes for a message`);
      return false;
    }
    const buffer = message.buffer;
    if (buffer !== null) grown.set(buffer.length === filled ? buffer : buffer.subarray(0, filled));
    else if (message.first !== null) {
      grown.set(message.first);
      message.first = null;
    }
    message.buffer = grown;
    return true;
  }

  /** `n` bytes of the message's payload the parser has written into its buffer: counted and checked. False if it failed the connection. */
  #acceptStored(n: number): boolean {
    if (!this.#flag(IN_MESSAGE)) return false;
    const message = this.#message!;
    const at = message.size;
    message.size = at + n;
    if (message.size > this.limits.maxMessageSize) {
      this.#fail('MESSAGE_TOO_LARGE', 1009, `message exceeds the ${this.limits.maxMessageSize}-byte limit`);
      return false;
    }
    // §8.1: text must be UTF-8; fail at the first bad byte, even mid-message.
    if (message.kind === 'text' && !message.utf8.push(message.buffer!, at, at + n)) {
      this.#fail('INVALID_UTF8', 1007, 'text message is not valid UTF-8');
      return false;
    }
    return true;
  }

  /** A chunk of the message's (decoded) payload, not in its buffer yet. False if it failed the connection. */
  #acceptData(chunk: Uint8Array): boolean {
    if (!this.#flag(IN_MESSAGE)) return false;
    const message = this.#message!;
    message.size += chunk.length;
    if (message.size > this.limits.maxMessageSize) {
      this.#fail('MESSAGE_TOO_LARGE', 1009, `message exceeds the ${this.limits.maxMessageSize}-byte limit`);
      return false;
    }
    // §8.1: text must be UTF-8; fail at the first bad byte, even mid-message.
    if (message.kind === 'text' && !message.utf8.push(chunk)) {
      this.#fail('INVALID_UTF8', 1007, 'text message is not valid UTF-8');
      return false;
    }
    if (this.#flag(ASSEMBLE)) {
      if (message.first === null && message.buffer === null) message.first = chunk;
      else return this.#append(message, chunk);
    } else {
      const fragment: Extract<Event, { type: 'fragment' }> = {
        type: 'fragment',
        kind: message.kind,
        data: chunk,
        first: !this.#flag(FRAGMENT_STARTED),
        fin: false,
      };
      this.#flags |= FRAGMENT_STARTED;
      message.lastFragment = fragment;
      this.#emit(fragment);
    }
    return true;
  }

  /** Copy `chunk` (already counted in `message.size`) to the end of the message's buffer, grown first if needed. False if that failed the connection. */
  #append(message: IncomingMessage, chunk: Uint8Array): boolean {
    const size = message.size;
    const at = size - chunk.length;
    const buffer = message.buffer;
    if ((buffer === null || buffer.length < size) && !this.#grow(message, at, size, size)) return false;
    message.buffer!.set(chunk, at);
    return true;
  }

  #finishMessage(): void {
    const message = this.#message!;
    if (message.kind === 'text' && !message.utf8.complete) {
      this.#fail('INVALID_UTF8', 1007, 'text message ends inside a UTF-8 sequence');
      return;
    }
    this.#flags &= ~IN_MESSAGE;
    message.decoder = null;
    if (!this.#flag(ASSEMBLE)) {
      const last = message.lastFragment;
      // Mark the last chunk as the end if the application has not taken it yet; else send an empty end.
      if (last !== null && this.#lastQueued() === last) last.fin = true;
      else
        this.#emit({
          type: 'fragment',
          kind: message.kind,
          data: EMPTY,
          first: !this.#flag(FRAGMENT_STARTED),
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
      this.#emit({ type: 'binary', data });
      return;
    }
    let text: string;
    try {
      text = decodeUtf8(data); // checked as it arrived
    } catch {
      this.#tooLongForString(data.length);
      return;
    }
    this.#emit({ type: 'text', data: text });
  }

  #abandonMessage(): void {
    this.#flags &= ~IN_MESSAGE;
    const message = this.#message;
    if (message === null) return;
    message.first = null;
    message.buffer = null;
    message.direct = false;
    message.decoder = null;
  }

  #onControl(opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.Ping) {
      this.#emit({ type: 'ping', data: payload });
      // §5.5.2: answer with a pong carrying the same data, unless we already sent a Close.
      if (this.#flag(AUTO_PONG) && this.#state === 'open') this.#writeFrame(true, 0, Opcode.Pong, payload);
      return;
    }
    if (opcode === Opcode.Pong) {
      this.#emit({ type: 'pong', data: payload });
      return;
    }
    const parsed = parseClosePayload(payload);
    if (!parsed.ok) return this.#fail(parsed.code, parsed.closeCode, parsed.message);
    this.#closing().peerClose = { code: parsed.code, reason: parsed.reason };
    this.#emit({ type: 'close', code: parsed.code, reason: parsed.reason });
    this.#abandonMessage();
    if (this.#state === 'open') {
      // §5.5.1: echo the Close, with the peer's code (none if it sent none).
      this.#closing().initiator = 'remote';
      this.#sendCloseFrame(parsed.code === NO_STATUS ? undefined : parsed.code, '');
    }
    this.#toClosed('recv-close', null);
    // §7.1.1: the server closes TCP first; the client waits for it (bounded by closeTimeout).
    if (this.role === 'server') this.#shutdownWrite();
  }

  // ───────────────────────────── sending ─────────────────────────────

  #sendData(kind: MessageKind, payload: Uint8Array, fin: boolean, compress: boolean | undefined): void {
    if (this.#state !== 'open') {
      throw new WebSocketUsageError('INVALID_STATE', `cannot send a ${kind} message in state ${this.#state}`);
    }
    const first = this.#sendingKind === null;
    if (!first && this.#sendingKind !== kind) {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `a fragmented ${this.#sendingKind} message is in progress: finish it first`,
      );
    }
    let rsv = 0;
    const extensions = this.#extensions;
    for (let i = 0; i < extensions.length; i++) {
      const encoded = extensions[i]!.encode(payload, first, fin, compress);
      payload = encoded.payload;
      rsv |= encoded.rsv;
    }
    this.#sendingKind = fin ? null : kind;
    this.#seen |= SEEN_ANY;
    this.#writeFrame(fin, rsv, first ? (kind === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, payload);
  }

  #sendControl(opcode: number, payload: Uint8Array): void {
    if (this.#state !== 'open') {
      throw new WebSocketUsageError(
        'INVALID_STATE',
        `cannot send a ${opcode === Opcode.Ping ? 'ping' : 'pong'} in state ${this.#state}`,
      );
    }
    if (payload.length > 125) {
      throw new WebSocketUsageError(
        'CONTROL_PAYLOAD_TOO_LONG',
        `control frame payloads are at most 125 bytes (RFC 6455 §5.5), got ${payload.length}`,
      );
    }
    this.#seen |= SEEN_ANY;
    this.#writeFrame(true, 0, opcode, payload);
  }

  #close(code: number | undefined, reason: string | undefined, error: ProtocolErrorCode | null = null): void {
    if (reason !== undefined && typeof reason !== 'string') {
      throw new WebSocketUsageError('INVALID_ARGUMENT', `close reason must be a string, got ${describe(reason)}`);
    }
    switch (this.#state) {
      case 'handshake':
      case 'awaiting-accept':
        // Closing before the handshake completes aborts it, as a browser does.
        buildClosePayload(code, reason); // still check the arguments
        this.#toClosed('abort', null);
        this.#destroy();
        return;
      case 'open':
        this.#closing().initiator = 'local';
        this.#sendCloseFrame(code, reason ?? '');
        this.#move('send-close');
        this.#closing().deadline = PENDING;
        if (error !== null) this.#closing().error = error;
        return;
      case 'closing':
      case 'closed':
        buildClosePayload(code, reason);
        return; // already closing: nothing more to do (as WHATWG close()).
    }
  }

  #sendCloseFrame(code: number | undefined, reason: string): void {
    const payload = buildClosePayload(code, reason === '' ? undefined : reason);
    this.#releasePong();
    this.#writeFrame(true, 0, Opcode.Close, payload);
    this.#flags |= CLOSE_SENT;
    this.#closing().sentCode = code ?? null;
  }

  #writeFrame(fin: boolean, rsv: number, opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.Pong) return this.#writePong(payload);
    if (this.#maskKeys === null && payload.length < COPY_THRESHOLD) {
      // A server's frame in one buffer: the common case, without serializeFrame's argument checks.
      this.#write(unmaskedFrame(firstByte(fin, rsv, opcode), payload, (this.#flags & FRESH_ARRAYS) !== 0));
      return;
    }
    const frames = FRAMES;
    const keys = this.#maskKeys;
    serializeFrame(frames, fin, rsv, opcode, payload, keys === null ? null : keys.next(), this.#flag(FRESH_ARRAYS));
    for (let i = 0; i < frames.length; i++) this.#write(frames[i]!);
    // Emptied with pop(): `length = 0` is a runtime call in V8, pop() of one or two is inline.
    while (frames.length > 0) frames.pop();
  }

  /** A pong (≤ 125 bytes: one buffer): written, or while pongs are held, kept in place of the one held before. */
  #writePong(payload: Uint8Array): void {
    const frames = FRAMES;
    const keys = this.#maskKeys;
    serializeFrame(frames, true, 0, Opcode.Pong, payload, keys === null ? null : keys.next(), this.#flag(FRESH_ARRAYS));
    const frame = frames.pop()!;
    if (!this.#flag(HOLD_PONGS)) return this.#write(frame);
    if (this.#pong !== null) this.#outBytes -= this.#pong.length;
    this.#pong = frame;
    this.#outBytes += frame.length;
  }

  /**
   * A held pong joins the writes, first (it answers a ping older than what was queued since;
   * control frames may go between any two frames, §5.4): so before a Close, a shutdown or a destroy.
   */
  #releasePong(): void {
    const pong = this.#pong;
    if (pong === null) return;
    this.#pong = null;
    const first = this.#firstWrite;
    this.#firstWrite = pong;
    if (first !== null) {
      if (this.#moreWrites === NO_WRITES) this.#moreWrites = [first];
      else this.#moreWrites.unshift(first);
    }
  }

  #write(data: Uint8Array): void {
    if (this.#firstWrite === null) this.#firstWrite = data;
    else if (this.#moreWrites === NO_WRITES) this.#moreWrites = [data];
    else this.#moreWrites.push(data);
    this.#outBytes += data.length;
  }

  // ───────────────────────────── failing and closing ─────────────────────────────

  /** §7.1.7 Fail the WebSocket Connection: send a Close with `closeCode` if we still may, then close TCP. */
  #fail(code: ProtocolErrorCode, closeCode: number, message: string): void {
    const canSend = this.#state === 'open';
    this.#protocolError(code, canSend ? closeCode : null, null, message);
    if (canSend) {
      this.#closing().initiator = 'local';
      this.#sendCloseFrame(closeCode, '');
    }
    this.#abandonMessage();
    this.#toClosed('fail', code);
    this.#shutdownWrite();
  }

  #protocolError(code: ProtocolErrorCode, closeCode: number | null, status: number | null, message: string): void {
    this.#emit({ type: 'protocol-error', code, closeCode, status, message });
  }

  #move(input: TransitionInput): void {
    const next = transition(this.#state, input);
    if (next === null) throw new Error(`internal: no transition from ${this.#state} on ${input}`);
    this.#state = next;
  }

  /** Enter `closed` and emit the final event. */
  #toClosed(input: TransitionInput, error: ProtocolErrorCode | null): void {
    this.#move(input);
    const closing = this.#closing();
    closing.deadline = PENDING;
    const peer = closing.peerClose;
    const info: CloseInfo = {
      code: peer?.code ?? ABNORMAL,
      reason: peer?.reason ?? '',
      wasClean: peer !== null && this.#flag(CLOSE_SENT),
      initiator: closing.initiator,
      sentCode: closing.sentCode,
      error: error ?? closing.error,
    };
    closing.info = info;
    for (const extension of this.#extensions) extension.dispose();
    this.#emit({ type: 'closed', info });
  }

  #shutdownWrite(): void {
    if (this.#flag(SHUTDOWN | DESTROYED)) return;
    this.#releasePong();
    this.#flags |= SHUTDOWN;
    this.#ends |= END_SHUTDOWN;
  }

  #destroy(): void {
    if (this.#flag(DESTROYED)) return;
    this.#releasePong();
    // A head not yet sent has nothing left to open or answer.
    this.#outHead = null;
    this.#ends &= ~END_HEAD;
    this.#flags |= DESTROYED;
    this.#ends |= END_DESTROY;
  }

  #emit(event: Event): void {
    if (this.#event === null) this.#event = event;
    else if (this.#later === NO_EVENTS) this.#later = [event];
    else this.#later.push(event);
  }

  /** The newest event not yet taken, or null. */
  #lastQueued(): Event | null {
    const later = this.#later;
    return later.length > this.#laterHead ? later[later.length - 1]! : this.#event;
  }
}
