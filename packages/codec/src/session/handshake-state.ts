/**
 * A connection's handshake phase, on the session's side: what only the handshake needs (the
 * peer's address, the owner's hooks, the `opened` promise's settle function, a refusal, a plain
 * HTTP exchange), in one object the connection lets go of once open. The codec runs the
 * handshake itself (RFC 6455 §4); this object takes its handshake events to the owner and the
 * application. A connection holds one exactly while its handshake runs, or after it failed: no
 * field needs a non-null assertion, and "the handshake succeeded" is "it holds none".
 */
import type { Event, HandshakeRequest, HandshakeResponse } from '../events.ts';
import type { SessionCore } from './session-core.ts';
import type { RequestHead } from '../http/head-parser.ts';
import type { ConnectionHooks } from './connection-wiring.ts';
import type { SessionRequest } from './connection-types.ts';
import { reportError } from './emitter.ts';
import type { HandshakeError } from './errors.ts';
import type { HttpBodySink } from './http-exchange.ts';
import type { PeerInfo } from './transport.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

export class HandshakeState {
  peer: PeerInfo | null;
  owner: unknown;
  hooks: ConnectionHooks<unknown> | null;
  settleOpened: ((error: HandshakeError | null) => void) | null = null;
  rejection: { response: HandshakeResponse; body: Uint8Array } | null = null;
  /** The handshake failed: `opened` rejects with this. */
  openError: HandshakeError | null = null;
  /** Server serving plain HTTP: the request being answered, where its body goes. */
  exchange: HttpBodySink | null = null;
  /** Server: the upgrade request the codec accepted (what the owner's `onOpen` gets). */
  accepted: SessionRequest | null = null;

  constructor(peer: PeerInfo | null, owner: unknown, hooks: ConnectionHooks<unknown> | null) {
    this.peer = peer;
    this.owner = owner;
    this.hooks = hooks;
  }

  /** The `opened` promise of a connection still in (or failed in) its handshake. */
  openedPromise(connection: WebSocketConnection): Promise<WebSocketConnection> {
    if (this.openError !== null) return Promise.reject(this.openError);
    return new Promise((resolve, reject) => {
      this.settleOpened = (error) => (error === null ? resolve(connection) : reject(error));
    });
  }

  /** Server: the codec accepted a request: it as the application sees it (the peer's address is let go of). */
  request(request: HandshakeRequest): SessionRequest {
    const peer = this.peer;
    this.peer = null;
    return (this.accepted = {
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
    });
  }

  /**
   * Server: the owner answers `request` (accept or reject commands). Its hook may run application
   * code: it must not unwind the driver. (A try here, not a closure handed to a helper: nothing
   * made per handshake.)
   */
  requested(connection: WebSocketConnection, request: SessionRequest): void {
    const hooks = this.hooks;
    if (hooks?.onRequest === undefined) return;
    try {
      hooks.onRequest(this.owner, connection, request);
    } catch (error) {
      reportError(error);
    }
  }

  /** The handshake succeeded (the connection has let go of this object): the owner's hook, then `opened`. */
  opened(connection: WebSocketConnection): void {
    const hooks = this.hooks;
    // A server's connection opens only on an accepted request; a client has no hooks.
    if (hooks?.onOpen !== undefined && this.accepted !== null) {
      try {
        hooks.onOpen(this.owner, connection, this.accepted);
      } catch (error) {
        reportError(error);
      }
    }
    this.settleOpened?.(null);
  }

  /** Server serving plain HTTP: a plain request arrived; the owner says where its body goes. */
  httpRequest(connection: WebSocketConnection, request: RequestHead, body: boolean): void {
    const hooks = this.hooks;
    if (hooks?.onHttpRequest === undefined) return;
    try {
      this.exchange = hooks.onHttpRequest(this.owner, connection, request, body, this.peer);
    } catch (error) {
      reportError(error);
    }
  }

  /** The handshake failed with `error`: `opened` rejects, an HTTP exchange is told, the owner let go of. */
  failed(error: HandshakeError): void {
    this.exchange?.gone();
    this.exchange = null;
    this.hooks = this.owner = null;
    this.openError = error;
    this.settleOpened?.(error);
    this.settleOpened = null;
  }
}

/** An event of the handshake phase (the codec yields them only then), for `core`'s phase `hs`. */
export function handshakeEvent(core: SessionCore, hs: HandshakeState, event: Event): void {
  switch (event.type) {
    case 'request':
      core.request = hs.request(event.request);
      hs.requested(core.connection, core.request);
      return;
    case 'rejected':
      hs.rejection = { response: event.response, body: event.body };
      return;
    case 'http-request':
      hs.httpRequest(core.connection, event.request, event.body);
      return;
    case 'http-body':
      hs.exchange?.body(event.data);
      return;
    case 'http-body-end':
      hs.exchange?.end();
      return;
  }
}
