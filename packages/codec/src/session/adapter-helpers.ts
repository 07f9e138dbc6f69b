/**
 * What every runtime adapter (`@ws/node`, `@ws/deno`, `@ws/bun`) does the same way around the
 * session: start a client on the transport it built, turn a throw from `createConnection` into
 * the rejection `connect` promises, and the events and address of its `WebSocketServer`. Sockets
 * stay the adapters': they dial, accept and build the transports.
 */
import { connectSession, type ClientSessionOptions } from './client-session.ts';
import type { Transport, TransportHandlers } from './transport.ts';
import { transportHandlers, type SessionRequest, type WebSocketConnection } from './websocket-connection.ts';

/** A transport whose socket events go to the handlers attached last (each adapter's transport). */
export interface AttachableTransport extends Transport {
  attach(handlers: TransportHandlers): void;
}

/**
 * Start a client handshake for `url` on `transport` (see `connectSession`) and attach the
 * connection's handlers to it. An invalid URL or option throws, after the transport is destroyed
 * (with the socket it may already be dialling).
 */
export function startClient(transport: AttachableTransport, url: string | { href: string }, options: ClientSessionOptions): WebSocketConnection {
  let connection: WebSocketConnection;
  try {
    connection = connectSession(transport, url, options);
  } catch (error) {
    transport.destroy();
    throw error;
  }
  transport.attach(transportHandlers(connection));
  return connection;
}

/**
 * The `opened` promise of the connection `create` returns; if `create` throws (an invalid URL or
 * option), a promise rejected with that error instead: `connect()` never throws.
 */
export function openedOrRejected(create: () => WebSocketConnection): Promise<WebSocketConnection> {
  try {
    return create().opened;
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The events of an adapter's `WebSocketServer`. */
export interface ServerEvents {
  [event: string]: unknown[];
  /** A handshake succeeded; the connection is open. */
  connection: [connection: WebSocketConnection, request: SessionRequest];
  /** The listening socket failed (on Deno: accepting a socket failed; the server keeps listening). */
  error: [error: Error];
}

/** The address a `WebSocketServer` listens on. */
export interface ServerAddress {
  address: string;
  family: string;
  port: number;
}
