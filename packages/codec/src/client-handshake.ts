/**
 * The client's side of the opening handshake (RFC 6455 §4.1; over HTTP/2, RFC 8441): our
 * request (key, subprotocols, extension offers), then the server's answer: a 101 (200 over
 * HTTP/2) that checks out opens the connection with the extensions it chose; any other status
 * is a refusal, whose body (bounded by `maxRejectBodyBytes`) is read in its own phase,
 * {@link RefusalBody} (the table's `refusal-body`), before the `rejected` event; an answer that
 * does not check out fails the connection (§4.1: no Close frame, just TCP). The phase objects
 * exist only during the handshake.
 */
import { WebSocketUsageError, type ProtocolErrorCode } from './errors.ts';
import type { HandshakeResponse } from './events.ts';
import type { ExtensionFactory, ExtensionOffer } from './extensions/extension.ts';
import type { HeadParser } from './http/head-parser.ts';
import type { HeadersInit } from './http/headers.ts';
import type { ClientRole } from './handshake/role.ts';
import type { RandomSource } from './random.ts';
import { PENDING, livenessFor } from './deadlines.ts';
import { type ConnectionCore, LIVENESS_PAUSED, NONE, move } from './connection-core.ts';
import { emit } from './event-queue.ts';
import { failAndDestroy, toClosed } from './closing.ts';
import { destroy, write, writeHead } from './output-queue.ts';
import { acceptExtensions, offersOf, useExtensions } from './extension-negotiation.ts';
import { parserOf } from './message-receiver.ts';
import { concat } from 'uint8arrays/concat';

/** What only a client's handshake needs, until the server's answer arrives. */
export class ClientHandshake {
  readonly type = 'client';
  /** The client's parsers and serializers (see `handshake/role.ts`). */
  readonly role: ClientRole;
  /** Parses the response head (HTTP/1.1); null over HTTP/2 and once it is parsed. */
  head: HeadParser<'response'> | null;
  readonly factories: readonly ExtensionFactory[];
  /** The handshake timeout counts from here; PENDING until a tick. */
  startedAt = PENDING;
  /** Bytes received so far. */
  bytesReceived = 0;
  /** Our key and the subprotocols offered, to check the response against. */
  key = '';
  offeredProtocols: readonly string[] = NONE;

  constructor(role: ClientRole, head: HeadParser<'response'> | null, factories: readonly ExtensionFactory[]) {
    this.role = role;
    this.head = head;
    this.factories = factories;
  }
}

/** The server refused (a status other than 101, or 200 over HTTP/2): its body, while it is read. */
export class RefusalBody {
  readonly type = 'refusal';
  readonly response: HandshakeResponse;
  readonly chunks: Uint8Array[] = [];
  bytes = 0;
  /** From `Content-Length`, or -1: until the connection ends (or `maxRejectBodyBytes`). */
  readonly expected: number;
  /** The handshake timeout still runs. */
  startedAt: number;

  constructor(response: HandshakeResponse, startedAt: number) {
    this.response = response;
    this.startedAt = startedAt;
    const length = response.headers.get('content-length');
    this.expected = length !== null && /^\d+$/.test(length) ? Number(length) : -1;
  }
}

export interface ClientRequestOptions {
  protocols?: string | readonly string[];
  headers?: HeadersInit;
  origin?: string | null;
}

/** Make the client's handshake and queue its request (a head, or over HTTP/2 a header list). */
export function beginClientHandshake(
  core: ConnectionCore,
  role: ClientRole,
  head: HeadParser<'response'> | null,
  factories: readonly ExtensionFactory[],
  url: string | { href: string } | null,
  random: RandomSource | undefined,
  options: ClientRequestOptions,
): ClientHandshake {
  const hs = new ClientHandshake(role, head, factories);
  // Only a client needs randomness (its key and masks): a server looks for none.
  const source = random ?? role.defaultRandomSource();
  if (source === null) {
    throw new WebSocketUsageError(
      'NO_RANDOM_SOURCE',
      'a client needs random bytes for its key and masks: this host has no crypto.getRandomValues, so pass options.random',
    );
  }
  core.maskKeys = new role.MaskKeyPool(source);
  if (url === null) throw new WebSocketUsageError('INVALID_ARGUMENT', 'a client connection needs a URL');
  const wsUrl = (core.url = role.parseWsUrl(url));
  const protocols = options.protocols ?? NONE;
  hs.offeredProtocols = typeof protocols === 'string' ? [protocols] : protocols;
  const offers = offersOf(factories);
  const request = {
    protocols: hs.offeredProtocols,
    extensions: offers,
    origin: options.origin ?? null,
    headers: options.headers,
  };
  if (role.http2 !== undefined) {
    writeHead(core, role.http2.buildRequest(wsUrl, request));
    return hs;
  }
  hs.key = role.generateKey(source);
  write(core, role.buildClientRequest(wsUrl, { key: hs.key, ...request }));
  return hs;
}

/** Bytes of the response head (and whatever follows it: frames, or a refusal's body). */
export function receiveResponseBytes(core: ConnectionCore, hs: ClientHandshake, data: Uint8Array): void {
  const head = hs.head;
  if (head === null) return;
  const result = head.push(data);
  if (result === null) return;
  hs.head = null;
  if (!result.ok) {
    handshakeFailed(core, result.error.code, result.error.message);
    return;
  }
  const { status, statusText, httpVersion, headers } = result.head;
  const response: HandshakeResponse = (core.response = { status, statusText, httpVersion, headers });
  if (status !== 101) {
    // §4.1: anything but 101 means no WebSocket; keep the body (bounded) for the caller.
    const refusal = beginRefusal(core, hs, response);
    if (result.rest.length > 0) collectRefusalBody(core, refusal, result.rest);
    return;
  }
  const verdict = hs.role.verifyResponse(result.head, {
    key: hs.key,
    protocols: hs.offeredProtocols,
    offeredExtensions: hs.factories.map((f) => f.name),
  });
  if (!verdict.ok) {
    handshakeFailed(core, verdict.code, verdict.message);
    return;
  }
  if (!openClient(core, hs, verdict.protocol, verdict.extensions)) return;
  if (result.rest.length > 0) parserOf(core).push(result.rest);
}

/** HTTP/2: the answer's header list. */
export function receiveResponseHeaders(
  core: ConnectionCore,
  hs: ClientHandshake,
  headers: ReadonlyArray<readonly [string, string]>,
): void {
  const http2 = hs.role.http2;
  if (http2 === undefined) return;
  const answer = http2.readResponse(headers);
  const response: HandshakeResponse = (core.response = {
    status: answer.status ?? 0,
    statusText: '',
    httpVersion: '2',
    headers: answer.headers,
  });
  if (answer.status === null) {
    handshakeFailed(core, 'MALFORMED_HEAD', 'malformed response header list');
    return;
  }
  if (answer.status !== 200) {
    // A refusal: its body (bounded) comes as DATA, until the stream ends or content-length is reached.
    beginRefusal(core, hs, response);
    return;
  }
  const verdict = http2.verifyResponse(answer, {
    protocols: hs.offeredProtocols,
    offeredExtensions: hs.factories.map((f) => f.name),
  });
  if (verdict.ok) openClient(core, hs, verdict.protocol, verdict.extensions);
  else handshakeFailed(core, verdict.code, verdict.message);
}

/** The server accepted; make the extensions it chose and open. False if they do not fit (the connection failed). */
function openClient(
  core: ConnectionCore,
  hs: ClientHandshake,
  protocol: string | null,
  accepted: ExtensionOffer[],
): boolean {
  const extensions = acceptExtensions(hs.factories, accepted);
  if (typeof extensions === 'string') {
    handshakeFailed(core, 'UNEXPECTED_EXTENSION', extensions);
    return false;
  }
  core.protocol = protocol;
  useExtensions(core, extensions);
  core.hs = null;
  move(core, 'response');
  core.live = livenessFor(core.timeouts, (core.flags & LIVENESS_PAUSED) !== 0);
  emit(core, {
    type: 'open',
    protocol,
    extensions: extensions.map((e) => e.name),
    request: null,
    response: core.response,
  });
  return true;
}

/** The answer is a refusal: its body is read next (nothing to read when `Content-Length: 0`). */
function beginRefusal(core: ConnectionCore, hs: ClientHandshake, response: HandshakeResponse): RefusalBody {
  const refusal = new RefusalBody(response, hs.startedAt);
  core.hs = refusal;
  move(core, 'refusal');
  if (refusal.expected === 0) finishRefusal(core, refusal, 'reject');
  return refusal;
}

/** Bytes of the refusal's body: kept up to `maxRejectBodyBytes` and `Content-Length`, where it ends. */
export function collectRefusalBody(core: ConnectionCore, refusal: RefusalBody, data: Uint8Array): void {
  if (core.state !== 'refusal-body') return;
  const max = core.limits.maxRejectBodyBytes;
  const room = max - refusal.bytes;
  const wanted = refusal.expected >= 0 ? refusal.expected - refusal.bytes : Infinity;
  const take = Math.min(data.length, room, wanted);
  if (take > 0) {
    refusal.chunks.push(data.subarray(0, take));
    refusal.bytes += take;
  }
  if ((refusal.expected >= 0 && refusal.bytes >= refusal.expected) || refusal.bytes >= max)
    finishRefusal(core, refusal, 'reject');
}

/** The refusal's body is complete (`reject`), or the connection ended (`eof`): the `rejected` event, and the end. */
export function finishRefusal(core: ConnectionCore, refusal: RefusalBody, input: 'reject' | 'eof'): void {
  const body = concat(refusal.chunks, refusal.bytes);
  emit(core, { type: 'rejected', response: refusal.response, body });
  toClosed(core, input, 'BAD_STATUS');
  destroy(core);
}

/** §4.1: a client that dislikes the server's answer fails the connection: no Close frame, just TCP. */
export function handshakeFailed(core: ConnectionCore, code: ProtocolErrorCode, message: string): void {
  failAndDestroy(core, 'fail', code, message);
}
