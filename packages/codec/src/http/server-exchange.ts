/**
 * Plain HTTP/1.1 on a WebSocket server's connection (RFC 9112), before any upgrade: the loop of
 * request heads, request bodies and responses that a connection runs while it serves pages,
 * health checks and 404s, until an upgrade request hands it to the WebSocket handshake or it
 * closes. One request at a time: a request that arrives before the previous response ended
 * (pipelined) waits, bounded, for its turn.
 *
 * Pure and host-free: bytes in, and time as `tick(now)` (a wait that begins starts PENDING,
 * timed from the next tick, see deadlines.ts); events, bytes to write and a deadline out. The
 * WebSocket connection (`connection.ts`) runs it while in its handshake state and turns its
 * results into codec events; the decisions it leaves to the application are the responses.
 *
 * Timeouts: a head must arrive within `headTimeout` of the connection (or, on a kept-alive
 * connection, of its first byte), as the WebSocket handshake must (slow-loris); a body must
 * make progress every `headTimeout`; a kept-alive connection with no new request closes after
 * `keepAliveTimeout`. While the application prepares a response nothing is timed.
 */
import { PENDING, after } from '../deadlines.ts';
import { WebSocketUsageError, type ProtocolErrorCode } from '../errors.ts';
import { listNames } from '../handshake/header-values.ts';
import { BodyDecoder, requestFraming } from './body-decoder.ts';
import { sameAsciiCase } from './ascii-case.ts';
import { requestHost } from './request-host.ts';
import { HeadParser, type RequestHead } from './head-parser.ts';
import {
  CONTINUE_RESPONSE,
  LAST_CHUNK,
  encodeChunk,
  requestKeepsAlive,
  serializeResponseHead,
  type ResponseFraming,
  type ResponseHeadInit,
} from './response.ts';

export interface HttpServerSettings {
  maxHeadBytes: number;
  maxHeaders: number;
  /** Request body bytes (declared or received); over it: 413. */
  maxBodyBytes: number;
  /** For a head, and between two reads of a body (0: off). */
  headTimeout: number;
  /** A kept-alive connection waits this long for its next request (0: forever). */
  keepAliveTimeout: number;
}

/** What the phase found, in order. The first three become codec events as they are. */
export type HttpPhaseEvent =
  /** A plain request: answer with a response; its body (`body: true`) follows as events. */
  | { type: 'http-request'; request: RequestHead; body: boolean }
  | { type: 'http-body'; data: Uint8Array }
  | { type: 'http-body-end' }
  /** The response is complete and the connection stays open (kept alive) for the next request. */
  | { type: 'answered' }
  /** An upgrade request: the WebSocket handshake takes the connection (with `rest`, bytes after the head). */
  | { type: 'upgrade'; request: RequestHead; rest: Uint8Array; headStarted: number }
  /** The peer broke HTTP, a limit or a timeout: answer `status` (if `respond`) and close. */
  | { type: 'refuse'; code: ProtocolErrorCode; status: number; message: string; respond: boolean }
  /** Close without an error: after a final response, the peer's EOF between requests, or an idle keep-alive. */
  | { type: 'close'; reason: 'served' | 'eof' | 'idle' };

/** Bytes a pipelined request may hold while it waits: one read's worth past a head. */
const PIPELINE_SLACK = 64 * 1024;

// Where the exchange is.
const WAITING = 0; // for the first byte of a head
const HEAD = 1; // in a head
const BODY = 2; // the request is delivered, its body is arriving
const ANSWERING = 3; // the request is complete, the response is not
const DONE = 4; // upgraded, refused or closed

/** No writes or pipelined bytes: shared, replaced by an array of the phase's own at the first (most upgrades have none). */
const NO_CHUNKS: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

/** `list` with `chunk` at its end: a list of its own in place of {@link NO_CHUNKS}. */
function append(list: Uint8Array[], chunk: Uint8Array): Uint8Array[] {
  if (list === NO_CHUNKS) return [chunk];
  list.push(chunk);
  return list;
}

export class HttpServerPhase {
  readonly #settings: HttpServerSettings;
  #state = WAITING;
  #head: HeadParser<'request'> | null = null;
  #body: BodyDecoder | null = null;
  /** The request being answered (from its head to its response's end). */
  #request: RequestHead | null = null;
  #keepAlive = false;
  /** The response head is written; its framing. */
  #responding: ResponseFraming | null = null;
  #declaredLength = 0;
  #writtenLength = 0;
  #expectContinue = false;
  /** Bytes after the current request (a pipelined one), kept until its turn. */
  #pipelined: Uint8Array[] = NO_CHUNKS;
  #pipelinedBytes = 0;
  #overflow = false;
  #eof = false;
  /** Served at least one request: the wait for the next is an idle keep-alive. */
  #served = false;
  /** When the current wait started (connection, last response end, or last body bytes). */
  #since: number;
  #headStarted: number;
  /**
   * What the phase found and the caller has not taken (see {@link nextEvent}): the oldest, then
   * the rest from `#eventsHead` in a list made when two wait (an upgrade is one event, alone).
   */
  #first: HttpPhaseEvent | null = null;
  #events: HttpPhaseEvent[] | null = null;
  #eventsHead = 0;
  #writes: Uint8Array[] = NO_CHUNKS;

  constructor(settings: HttpServerSettings) {
    this.#settings = settings;
    this.#since = PENDING;
    this.#headStarted = PENDING;
  }

  /** Start the clock of a wait that began since the last call (see {@link PENDING}). */
  stamp(now: number): void {
    if (this.#since === PENDING) this.#since = now;
    if (this.#headStarted === PENDING) this.#headStarted = now;
  }

  /** The oldest event not yet taken, or undefined. */
  nextEvent(): HttpPhaseEvent | undefined {
    const first = this.#first;
    if (first === null) return undefined;
    const events = this.#events;
    if (events === null || this.#eventsHead >= events.length) {
      this.#first = null;
    } else {
      this.#first = events[this.#eventsHead++] ?? null;
      if (this.#eventsHead >= events.length) {
        events.length = 0;
        this.#eventsHead = 0;
      }
    }
    return first;
  }

  #event(event: HttpPhaseEvent): void {
    // No event waits in the list while none is first (nextEvent moves the next one up).
    if (this.#first === null) this.#first = event;
    else if (this.#events === null) this.#events = [event];
    else this.#events.push(event);
  }

  /** Bytes to write, in order, since last taken. */
  takeWrites(): Uint8Array[] {
    const writes = this.#writes;
    this.#writes = NO_CHUNKS;
    return writes;
  }

  get hasWrites(): boolean {
    return this.#writes.length > 0;
  }

  /** The request being answered, or null. */
  get request(): RequestHead | null {
    return this.#request;
  }

  receive(data: Uint8Array): void {
    if (data.length === 0) return;
    switch (this.#state) {
      case WAITING:
      case HEAD:
        this.#receiveHead(data);
        return;
      case BODY:
        this.#since = PENDING;
        this.#receiveBody(data);
        return;
      case ANSWERING:
        this.#keep(data);
        return;
      default:
        return; // done: nothing more is read
    }
  }

  #receiveHead(data: Uint8Array): void {
    let head = this.#head;
    if (this.#state === WAITING || head === null) {
      this.#state = HEAD;
      // The first request's head counts from the connection (as a WebSocket handshake does).
      if (this.#served) this.#headStarted = PENDING;
      // The settings hold the parser's two limits (it reads only those): no object of its own.
      head = this.#head = new HeadParser('request', this.#settings);
    }
    const outcome = head.pushHead(data);
    if (outcome === null) return;
    this.#head = null;
    if ('code' in outcome) {
      this.#refuse(outcome.code, outcome.status, outcome.message);
      return;
    }
    const request = outcome;
    const rest = head.rest;
    // An upgrade to websocket (or a malformed Upgrade) is the handshake's: it checks the rest.
    if (listNames(request.headers.get('upgrade') ?? '', 'websocket', true) !== 0) {
      this.#state = DONE;
      this.#event({ type: 'upgrade', request, rest, headStarted: this.#headStarted });
      return;
    }
    // RFC 9112 §3.2: one valid Host (required from HTTP/1.1 on); an absolute-form target's
    // authority checked like it and equal to it, as for an upgrade (http/request-host.ts).
    const host = requestHost(request, request.httpVersion !== '1.0');
    if (typeof host !== 'string') {
      this.#refuse(host.code, host.status, host.message);
      return;
    }
    const framing = requestFraming(request, this.#settings.maxBodyBytes);
    if ('code' in framing) {
      this.#refuse(framing.code, framing.status, framing.message);
      return;
    }
    this.#request = request;
    this.#keepAlive = requestKeepsAlive(request.httpVersion, request.headers.get('connection'));
    this.#responding = null;
    const hasBody = framing.type !== 'none';
    // RFC 9110 §10.1.1: a 1.1 client waiting for 100 Continue before it sends the body.
    this.#expectContinue =
      hasBody && request.httpVersion !== '1.0' && sameAsciiCase(request.headers.get('expect') ?? '', '100-continue');
    this.#event({ type: 'http-request', request, body: hasBody });
    if (hasBody) {
      this.#state = BODY;
      this.#since = PENDING;
      this.#body = new BodyDecoder(framing, this.#settings.maxBodyBytes, this.#settings.maxHeadBytes);
      if (rest.length > 0) this.#receiveBody(rest);
    } else {
      this.#state = ANSWERING;
      if (rest.length > 0) this.#keep(rest);
    }
  }

  #receiveBody(data: Uint8Array): void {
    const body = this.#body;
    if (body === null) return; // only in BODY, which always has its decoder
    const out = body.push(data);
    for (const chunk of out.data) this.#event({ type: 'http-body', data: chunk });
    if (out.error !== null) {
      this.#refuse(out.error.code, out.error.status, out.error.message);
      return;
    }
    if (out.rest !== null) {
      this.#body = null;
      this.#expectContinue = false;
      this.#state = ANSWERING;
      this.#event({ type: 'http-body-end' });
      if (out.rest.length > 0) this.#keep(out.rest);
    }
  }

  /** A pipelined request's bytes: kept for its turn, within a bound; past it, this connection serves no more. */
  #keep(data: Uint8Array): void {
    if (this.#overflow) return;
    this.#pipelinedBytes += data.length;
    if (this.#pipelinedBytes > this.#settings.maxHeadBytes + PIPELINE_SLACK) {
      this.#overflow = true;
      this.#pipelined = NO_CHUNKS;
      return;
    }
    this.#pipelined = append(this.#pipelined, data);
  }

  /** Send `100 Continue` if the request waits for it and nothing was answered yet. */
  sendContinue(): void {
    if (!this.#expectContinue || this.#responding !== null || this.#state !== BODY) return;
    this.#expectContinue = false;
    this.#writes = append(this.#writes, CONTINUE_RESPONSE);
  }

  /**
   * The response's head. A response started before the request body ended closes the
   * connection after it (the rest of the body is not read). Throws WebSocketUsageError when no
   * request waits for a response, or for a bad status.
   */
  respond(init: ResponseHeadInit): void {
    const request = this.#request;
    if (request === null || this.#responding !== null || (this.#state !== BODY && this.#state !== ANSWERING)) {
      throw new WebSocketUsageError('INVALID_STATE', 'respond() is for a request that has not been answered yet');
    }
    const keepAlive = this.#keepAlive && this.#state === ANSWERING && !this.#overflow && !this.#eof;
    const head = serializeResponseHead(init, { method: request.method, httpVersion: request.httpVersion, keepAlive });
    this.#writes = append(this.#writes, head.head);
    this.#keepAlive = head.keepAlive;
    this.#responding = head.framing;
    this.#declaredLength = init.bodyLength ?? 0;
    this.#writtenLength = 0;
    this.#expectContinue = false;
  }

  /** Body bytes of the response (dropped when it has no body: HEAD, 204, 304). */
  write(data: Uint8Array): void {
    const framing = this.#responding;
    if (framing === null || this.#request === null)
      throw new WebSocketUsageError('INVALID_STATE', 'write() before respond() or after end()');
    if (data.length === 0) return;
    switch (framing) {
      case 'none':
        return;
      case 'length':
        if (this.#writtenLength + data.length > this.#declaredLength) {
          throw new WebSocketUsageError(
            'INVALID_ARGUMENT',
            `the response body is longer than its bodyLength (${this.#declaredLength})`,
          );
        }
        this.#writtenLength += data.length;
        this.#writes = append(this.#writes, data);
        return;
      case 'chunked':
        for (const part of encodeChunk(data)) this.#writes = append(this.#writes, part);
        return;
      case 'close':
        this.#writes = append(this.#writes, data);
        return;
    }
  }

  /** The response is complete: the next request's turn, or the end of the connection. */
  end(): void {
    const framing = this.#responding;
    if (framing === null || this.#request === null)
      throw new WebSocketUsageError('INVALID_STATE', 'end() before respond() or after end()');
    if (framing === 'length' && this.#writtenLength !== this.#declaredLength) {
      throw new WebSocketUsageError(
        'INVALID_ARGUMENT',
        `the response body is shorter than its bodyLength (${this.#writtenLength} of ${this.#declaredLength})`,
      );
    }
    if (framing === 'chunked') this.#writes = append(this.#writes, LAST_CHUNK);
    this.#request = null;
    this.#responding = null;
    if (!this.#keepAlive || this.#state !== ANSWERING) {
      this.#state = DONE;
      this.#event({ type: 'close', reason: 'served' });
      return;
    }
    this.#served = true;
    this.#state = WAITING;
    this.#since = this.#headStarted = PENDING;
    this.#event({ type: 'answered' });
    const pipelined = this.#pipelined;
    this.#pipelined = NO_CHUNKS;
    this.#pipelinedBytes = 0;
    for (const chunk of pipelined) this.receive(chunk);
    if (this.#eof && this.#state === WAITING) this.eof();
  }

  /** The peer half-closed. */
  eof(): void {
    this.#eof = true;
    switch (this.#state) {
      case WAITING:
        this.#state = DONE;
        this.#event({ type: 'close', reason: 'eof' });
        return;
      case HEAD:
        if (this.#served)
          this.#refuse('EOF_IN_REQUEST', 400, 'the connection closed in the middle of a request head', false);
        else this.#refuse('EOF_IN_HANDSHAKE', 400, 'the connection closed in the middle of the request head', false);
        return;
      case BODY:
        this.#refuse('EOF_IN_REQUEST', 400, 'the connection closed in the middle of a request body', false);
        return;
      default:
        // ANSWERING: the answer still goes out, then the connection closes.
        return;
    }
  }

  /** When `tick` must next be called, {@link PENDING} when a wait began that `stamp` has not timed, or null. */
  deadline(): number | null {
    const s = this.#settings;
    switch (this.#state) {
      case WAITING:
        if (this.#served) return s.keepAliveTimeout > 0 ? after(this.#since, s.keepAliveTimeout) : null;
        return s.headTimeout > 0 ? after(this.#headStarted, s.headTimeout) : null;
      case HEAD:
        return s.headTimeout > 0 ? after(this.#headStarted, s.headTimeout) : null;
      case BODY:
        return s.headTimeout > 0 && this.#responding === null ? after(this.#since, s.headTimeout) : null;
      default:
        return null;
    }
  }

  tick(now: number): void {
    this.stamp(now);
    const deadline = this.deadline();
    if (deadline === null || now < deadline) return;
    const s = this.#settings;
    if (this.#state === WAITING && this.#served) {
      this.#state = DONE;
      this.#event({ type: 'close', reason: 'idle' });
    } else if (this.#state === BODY) {
      this.#refuse('REQUEST_TIMEOUT', 408, `no request body bytes for ${s.headTimeout} ms`, this.#responding === null);
    } else {
      // As the WebSocket handshake's timeout: no answer to a peer that may be holding sockets open.
      this.#refuse('HANDSHAKE_TIMEOUT', 408, `the request head did not arrive within ${s.headTimeout} ms`, false);
    }
  }

  #refuse(code: ProtocolErrorCode, status: number, message: string, respond = this.#responding === null): void {
    this.#state = DONE;
    this.#head = null;
    this.#body = null;
    this.#pipelined = NO_CHUNKS;
    this.#event({ type: 'refuse', code, status, message, respond });
  }
}
