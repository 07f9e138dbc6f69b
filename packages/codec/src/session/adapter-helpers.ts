/**
 * What every runtime adapter (`@ws/node`, `@ws/deno`, `@ws/bun`) does the same way around the
 * session: start a client on the transport it built, turn a throw from `createConnection` into
 * the rejection `connect` promises, and the events and address of its `WebSocketServer`. Sockets
 * stay the adapters': they dial, accept and build the transports.
 */
import { connectSession, type ClientSessionOptions } from './client-session.ts';
import type { SendData } from './data.ts';
import { Emitter } from './emitter.ts';
import { topicsOf, type ServerSessionOptions } from './server-session.ts';
import type { PublishOptions, Topics } from './topics.ts';
import type { Transport, TransportHandlers } from './transport.ts';
import type { SessionRequest } from './connection-types.ts';
import { transportHandlers } from './connection-wiring.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/** A transport whose socket events go to the handlers attached last (each adapter's transport). */
export interface AttachableTransport extends Transport {
  attach(handlers: TransportHandlers): void;
}

/**
 * Start a client handshake for `url` on `transport` (see `connectSession`) and attach the
 * connection's handlers to it. An invalid URL or option throws, after the transport is destroyed
 * (with the socket it may already be dialling).
 */
export function startClient(
  transport: AttachableTransport,
  url: string | { href: string },
  options: ClientSessionOptions,
  make?: Parameters<typeof connectSession>[3],
): WebSocketConnection {
  let connection: WebSocketConnection;
  try {
    connection = connectSession(transport, url, options, make);
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

/** The events of an adapter's `WebSocketServer` (whose connections' `data` is a `T`). */
export interface ServerEvents<T = unknown> {
  /** A handshake succeeded; the connection is open. */
  connection: [connection: WebSocketConnection<T>, request: SessionRequest];
  /** The listening socket failed (on Deno: accepting a socket failed; the server keeps listening). */
  error: [error: Error];
}

/** The address a `WebSocketServer` listens on. */
export interface ServerAddress {
  address: string;
  family: string;
  port: number;
}

/**
 * What every adapter's `WebSocketServer` shares above its listener: its events and its topics
 * (`publish` and `subscriberCount` with Bun's meaning).
 */
export class TopicServer<T = unknown> extends Emitter<ServerEvents<T>> {
  /** This server's topics (`options.topics`, or its own made from the topic options). */
  readonly topics: Topics;
  readonly #ownTopics: boolean;

  constructor(options: ServerSessionOptions<T>) {
    super();
    this.topics = topicsOf(options);
    this.#ownTopics = options.topics === undefined;
  }

  /**
   * Send `data` to every subscriber of `topic` (a string as text, bytes as binary), on this
   * server and, through its broker, on every other. Framed once for all local subscribers.
   * Returns how many local subscribers it was written to.
   */
  publish(topic: string, data: SendData, options?: PublishOptions | boolean): number {
    return this.topics.publish(topic, data, options);
  }

  /** How many connections of this server subscribe to `topic`. */
  subscriberCount(topic: string): number {
    return this.topics.subscriberCount(topic);
  }

  /** For `close()`: leave the broker, unless the topics were given (and are shared). */
  protected leaveBroker(): void {
    if (this.#ownTopics) this.topics.close();
  }
}
