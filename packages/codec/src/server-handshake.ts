/**
 * The server's side of the opening handshake (RFC 6455 §4.2): the request head (as bytes, as a
 * head parsed elsewhere, or over HTTP/2 as a header list, RFC 8441), its validation, the
 * `request` event, then the application's `accept` (extensions negotiated, the 101 or 200) or
 * `reject`; frames a client pipelines before our answer are kept, bounded, until then. A bad
 * request is refused with its HTTP status. The phase object, {@link ServerHandshake}, exists
 * only during the handshake; plain-HTTP serving before an upgrade is `http-serving.ts`.
 */
import type { ProtocolErrorCode } from './errors.ts';
import type { HandshakeRequest } from './events.ts';
import { reportedState } from './transitions.ts';
import { WebSocketUsageError } from './errors.ts';
import type { ExtensionFactory } from './extensions/extension.ts';
import type { HeadParser, RequestHead } from './http/head-parser.ts';
import type { HttpServerPhase } from './http/server-exchange.ts';
import type { HeadersInit } from './http/headers.ts';
import type { Refusal, ServerHandshakeOptions } from './handshake/server.ts';
import type { ServerRole } from './handshake/role.ts';
import type { HeaderList } from './handshake/extended-connect.ts';
import { PENDING, livenessFor } from './deadlines.ts';
import { type ConnectionCore, LIVENESS_PAUSED, FRESH_ARRAYS, NONE, move } from './connection-core.ts';
import { emit } from './event-queue.ts';
import { protocolError, toClosed } from './closing.ts';
import { shutdownWrite, write, writeHead } from './output-queue.ts';
import { NOTHING_CHOSEN, chooseExtensions, useExtensions } from './extension-negotiation.ts';
import { parserOf } from './message-receiver.ts';

/** What only a server's handshake needs: made with the connection, let go of once it opens. */
export class ServerHandshake {
  readonly type = 'server';
  /** The server's parsers and serializers (see `handshake/role.ts`). */
  readonly role: ServerRole;
  /** Parses the request head; null once it is parsed (or given to `receiveRequestHead`, or over HTTP/2). */
  head: HeadParser<'request'> | null;
  readonly factories: readonly ExtensionFactory[];
  /** Read by the role's `validateRequest` (a `ServerHandshakeOptions`). */
  readonly origins: ServerHandshakeOptions['origins'];
  /** The handshake timeout counts from here (for an upgrade on a kept-alive connection: from its head); PENDING until a tick. */
  startedAt = PENDING;
  /** Bytes received so far. */
  bytesReceived = 0;
  /** Bytes received before our answer (see {@link keepEarly}). */
  earlyBytes = 0;
  /** With `http`: the plain-HTTP requests before an upgrade; null once a request upgrades. */
  http: HttpServerPhase | null = null;
  /** The engine's SHA-1 for `Sec-WebSocket-Accept` (see `engine-tuning.ts`), or null for the codec's own. */
  readonly sha1Base64: ((text: string) => string) | null;

  constructor(
    role: ServerRole,
    head: HeadParser<'request'> | null,
    factories: readonly ExtensionFactory[],
    origins: ServerHandshakeOptions['origins'],
    sha1Base64: ((text: string) => string) | null = null,
  ) {
    this.role = role;
    this.head = head;
    this.factories = factories;
    this.origins = origins;
    this.sha1Base64 = sha1Base64;
  }
}

/** Bytes of the request head (and whatever follows it). */
export function receiveRequestBytes(core: ConnectionCore, hs: ServerHandshake, data: Uint8Array): void {
  const head = hs.head;
  if (head === null) return; // given elsewhere (receiveRequestHead): nothing more is a head
  const outcome = head.pushHead(data);
  if (outcome === null) return;
  hs.head = null;
  if ('code' in outcome) {
    refuseRequest(core, hs, outcome.code, outcome.status, outcome.message, []);
    return;
  }
  const rest = head.rest;
  onRequestHead(core, hs, outcome);
  if (rest.length > 0 && core.state === 'awaiting-accept') keepEarly(core, hs, rest);
}

export function onRequestHead(core: ConnectionCore, hs: ServerHandshake, head: RequestHead): void {
  onValidated(core, hs, hs.role.checkRequest(head, hs)); // its `origins`
}

/** HTTP/2: the extended CONNECT's header list. */
export function receiveRequestHeaders(
  core: ConnectionCore,
  hs: ServerHandshake,
  headers: ReadonlyArray<readonly [string, string]>,
): void {
  const http2 = hs.role.http2;
  if (http2 === undefined) return;
  const verdict = http2.validate(headers, hs);
  onValidated(core, hs, verdict.ok ? verdict.request : verdict);
}

/** The request, or its refusal (which alone has `ok`). */
function onValidated(core: ConnectionCore, hs: ServerHandshake, verdict: HandshakeRequest | Refusal): void {
  if ('ok' in verdict) {
    refuseRequest(core, hs, verdict.code, verdict.status, verdict.message, verdict.headers);
    return;
  }
  core.request = verdict;
  move(core, 'request');
  emit(core, { type: 'request', request: verdict });
}

/** The request is bad: answer with `status`, report it, and close our side. */
export function refuseRequest(
  core: ConnectionCore,
  hs: ServerHandshake,
  code: ProtocolErrorCode,
  status: number,
  message: string,
  headers: Array<[string, string]>,
): void {
  writeRefusal(core, hs, status, undefined, headers, `${message}\n`);
  protocolError(core, code, null, status, message);
  toClosed(core, 'fail', code);
  shutdownWrite(core);
}

/**
 * Frames a client sent before our 101 (it may pipeline, though §4.1 says it should wait).
 * Kept until accept, at most `maxHeadBytes` of them: this is memory held for a client nobody
 * has authenticated yet (an async verifyClient may take a while), so it gets the head's bound,
 * not the frame limit's 64 MiB.
 */
export function keepEarly(core: ConnectionCore, hs: ServerHandshake, data: Uint8Array): void {
  hs.earlyBytes += data.length;
  if (hs.earlyBytes > core.limits.maxHeadBytes) {
    refuseRequest(core, hs, 'MESSAGE_TOO_LARGE', 400, 'too much data before the handshake completed', []);
    return;
  }
  parserOf(core).push(data);
}

/** The phase, when the connection is a server that received a request and has not answered it. */
function awaitingAnswer(core: ConnectionCore, what: string): ServerHandshake {
  const hs = core.hs;
  if (core.state !== 'awaiting-accept' || hs === null || hs.type !== 'server') {
    throw new WebSocketUsageError(
      'INVALID_STATE',
      `${what} is for a server that received a request and has not answered it (state: ${reportedState(core.state)})`,
    );
  }
  return hs;
}

/** See {@link accept}. */
const ANSWER: {
  protocol: string | null;
  extensions: string | null;
  headers: HeadersInit | undefined;
  freshArrays: boolean;
  sha1Base64: ((text: string) => string) | null;
} = { protocol: null, extensions: null, headers: undefined, freshArrays: false, sha1Base64: null };

/** The `accept` command. */
export function accept(
  core: ConnectionCore,
  protocol: string | null,
  headers: HeadersInit | undefined,
  negotiate: boolean,
): void {
  const hs = awaitingAnswer(core, 'accept');
  const request = core.request;
  if (request === null) throw new Error('internal: awaiting-accept without a request');
  const server = hs.role;
  const { accepted, extensions } = negotiate ? chooseExtensions(hs.factories, request.extensions) : NOTHING_CHOSEN;
  let response: Uint8Array | HeaderList;
  // The answer's options in one object for every handshake, filled in here and emptied after
  // (the builders read them and keep none).
  const answer = ANSWER;
  try {
    answer.protocol = protocol;
    answer.extensions = accepted.length > 0 ? server.formatExtensionHeader(accepted) : null;
    answer.headers = headers;
    answer.freshArrays = (core.flags & FRESH_ARRAYS) !== 0;
    answer.sha1Base64 = hs.sha1Base64;
    response =
      server.http2 !== undefined ? server.http2.accept(request, answer) : server.buildAcceptResponse(request, answer);
  } catch (error) {
    for (const extension of extensions) extension.dispose();
    throw error;
  } finally {
    answer.protocol = answer.extensions = answer.sha1Base64 = null;
    answer.headers = undefined;
  }
  if (response instanceof Uint8Array) write(core, response);
  else writeHead(core, response);
  core.protocol = protocol;
  useExtensions(core, extensions);
  core.hs = null;
  // The request goes with the 'open' event: an open connection keeps none (the session has its own).
  core.request = null;
  move(core, 'accept');
  core.live = livenessFor(core.timeouts, (core.flags & LIVENESS_PAUSED) !== 0);
  emit(core, {
    type: 'open',
    protocol,
    extensions: extensions.length === 0 ? (NONE as never[]) : extensions.map((e) => e.name),
    request,
    response: null,
  });
}

/** The `reject` command. */
export function reject(
  core: ConnectionCore,
  status: number,
  statusText: string | undefined,
  headers: HeadersInit | undefined,
  body: Uint8Array | string | undefined,
): void {
  const hs = awaitingAnswer(core, 'reject');
  writeRefusal(core, hs, status, statusText, headers, body);
  toClosed(core, 'reject', null);
  shutdownWrite(core);
}

/** A refusal: an HTTP/1.1 response, or over HTTP/2 a header list and its body. */
function writeRefusal(
  core: ConnectionCore,
  hs: ServerHandshake,
  status: number,
  statusText: string | undefined,
  headers: HeadersInit | undefined,
  body: Uint8Array | string | undefined,
): void {
  const server = hs.role;
  if (server.http2 === undefined) {
    write(core, server.buildRejectResponse(status, { statusText, headers, body }));
    return;
  }
  const refusal = server.http2.reject(status, { headers, body });
  writeHead(core, refusal.headers);
  if (refusal.body.length > 0) write(core, refusal.body);
}
