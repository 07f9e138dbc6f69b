/**
 * How a {@link WebSocketConnection} is wired to the rest: the owner's hooks and the init a
 * server or client session builds it with, and the internal entry points into its driver
 * (`sessionInput` for adapters that keep the connection, `transportHandlers` for those that want
 * an object, `registryLinks` for a {@link ConnectionRegistry}). The functions themselves are the
 * connection's (they reach its private state); it hands them over once, through
 * {@link wireConnections}, when its module loads.
 */
import type { Connection } from '../connection.ts';
import type { RequestHead } from '../http/head-parser.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import type { SessionRequest } from './connection-types.ts';
import type { HandshakeError } from './errors.ts';
import type { HttpBodySink } from './http-exchange.ts';
import type { ResolvedSessionOptions } from './options.ts';
import type { ServerBudget } from './server-budget.ts';
import type { Topics } from './topics.ts';
import type { PeerInfo, Transport, TransportHandlers } from './transport.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

/**
 * @internal The owner's part in a server's handshake (a client has none). Shared by every connection of an owner (methods
 * taking the owner as an argument), so a connection holds two references instead of closures.
 */
export interface ConnectionHooks<O> {
  /** Server: the codec accepted a request; the callee answers with accept/reject commands. */
  onRequest?(owner: O, connection: WebSocketConnection, request: SessionRequest): void;
  /** The handshake on `request` succeeded: called just before the `open` event is dispatched. */
  onOpen?(owner: O, connection: WebSocketConnection, request: SessionRequest): void;
  /** Server serving plain HTTP: a plain request arrived; returns where its body goes (null: nowhere). */
  onHttpRequest?(
    owner: O,
    connection: WebSocketConnection,
    request: RequestHead,
    body: boolean,
    peer: PeerInfo | null,
  ): HttpBodySink | null;
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
 * {@link TransportHandlers} an adapter calls: the connection's internal core, no object of its own.
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
  /** A Close frame was sent or received: the closing handshake started (RFC 6455 §7.1.3). */
  closingStarted(connection: WebSocketConnection): boolean;
}

/** @internal */
export let registryLinks: RegistryLinks;

let driverOf: (connection: WebSocketConnection) => Driver;

/** @internal Called once by `websocket-connection.ts` as it loads, with functions that reach the connection's state. */
export function wireConnections(
  input: SessionInput,
  links: RegistryLinks,
  driverFor: (connection: WebSocketConnection) => Driver,
): void {
  sessionInput = input;
  registryLinks = links;
  driverOf = driverFor;
}

/** The handlers an adapter wires its socket's events to. */
export function transportHandlers(connection: WebSocketConnection): TransportHandlers {
  return driverOf(connection);
}

/** @internal */
export function driver(connection: WebSocketConnection): Driver {
  return driverOf(connection);
}
