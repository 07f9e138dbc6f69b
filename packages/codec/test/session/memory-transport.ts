// The session layer's in-memory sockets (src/session/memory-transport.ts) and a server and a
// client session joined through them.
import {
  ServerSession,
  connectSession,
  transportHandlers,
  type ClientSessionOptions,
  type PeerInfo,
  type ServerSessionOptions,
  type WebSocketConnection,
} from '../../src/session/index.ts';
import { MemoryTransport, transportPair } from '../../src/session/memory-transport.ts';

export { MemoryTransport, transportPair };

export interface Pair {
  server: Promise<WebSocketConnection>;
  client: WebSocketConnection;
  serverSession: ServerSession;
  serverTransport: MemoryTransport;
  clientTransport: MemoryTransport;
}

/** A server session and a client session joined in memory. */
export function pair(
  serverOptions: ServerSessionOptions = {},
  clientOptions: ClientSessionOptions = {},
  url = 'ws://example.test/chat?room=1',
  peer: PeerInfo = { remoteAddress: '192.0.2.1', remotePort: 40000 },
): Pair {
  const [serverTransport, clientTransport] = transportPair();
  let resolveServer!: (ws: WebSocketConnection) => void;
  const server = new Promise<WebSocketConnection>((resolve) => {
    resolveServer = resolve;
  });
  const serverSession = new ServerSession(serverTransport, serverOptions, (ws) => resolveServer(ws), peer);
  serverTransport.handlers = serverSession;
  const client = connectSession(clientTransport, url, clientOptions);
  clientTransport.handlers = transportHandlers(client);
  return { server, client, serverSession, serverTransport, clientTransport };
}

/** Let queued microtasks (deliveries) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
