/**
 * A server whose clients connect in memory: the same handshakes, options, registry, topics and
 * `connection` event as an adapter's `createServer`, over the session layer's in-memory sockets
 * (no socket is opened). For testing application handlers: pass the handler you give
 * `createServer`, then `await server.connect(url, options)` for each client. With a
 * `FakeClock`'s `timers` and `now` as both sides' `timers` and `clock`, every timeout runs on
 * the test's time.
 */
import { openedOrRejected } from './adapter-helpers.ts';
import { connectSession, type ClientSessionOptions } from './client-session.ts';
import { transportPair } from './memory-transport.ts';
import type { ConnectionHandler, ServerSessionOptions } from './server-session.ts';
import { SessionServer } from './session-server.ts';
import { transportHandlers } from './connection-wiring.ts';
import type { WebSocketConnection } from './websocket-connection.ts';

export class MemoryServer extends SessionServer {
  #port = 40000;

  /** A client connection to this server (in `connecting`), as an adapter's `createConnection`. */
  createConnection(url = 'ws://memory.test/', options: ClientSessionOptions = {}): WebSocketConnection {
    const [serverSide, clientSide] = transportPair();
    this.serve(serverSide, {
      remoteAddress: '192.0.2.1',
      remotePort: this.#port++,
      secure: url.startsWith('wss:'),
    });
    const client = connectSession(clientSide, url, options);
    clientSide.handlers = transportHandlers(client);
    return client;
  }

  /** A client connection, once open; rejects with a `HandshakeError` (a refusal's status, headers and body) as `connect` does. */
  connect(url = 'ws://memory.test/', options: ClientSessionOptions = {}): Promise<WebSocketConnection> {
    return openedOrRejected(() => this.createConnection(url, options));
  }
}

/** A server for in-memory clients: `createMemoryServer(options, onConnection)`, as `createServer`. */
export function createMemoryServer(options: ServerSessionOptions = {}, onConnection?: ConnectionHandler): MemoryServer {
  return new MemoryServer(options, onConnection);
}
