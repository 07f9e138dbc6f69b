// The server side of the client-interop suites (Bun's built-in client in packages/bun/test/server.test.ts,
// the `ws` client in packages/node/test/ws-interop.test.ts): one routed server, whatever the runtime.
import type {
  ServerSessionOptions,
  SessionRequest,
  WebSocketConnection,
} from '../../packages/codec/src/session/index.ts';
import { within } from './wait.ts';

/** Subprotocols by server preference (b, then a); handshakes refused or delayed by path. */
export const ROUTED_OPTIONS: Pick<ServerSessionOptions, 'protocols' | 'verifyClient'> = {
  protocols: ['b', 'a'],
  verifyClient: (request) => {
    if (request.path === '/refuse') return { status: 403, headers: { 'x-why': 'nope' }, body: 'go away' };
    if (request.path === '/deny') return false;
    if (request.path === '/async') return new Promise((resolve) => setTimeout(() => resolve(true), 20));
    if (request.path === '/async-refuse') return Promise.resolve({ status: 429 });
    return true;
  },
};

/** What the routed server saw: each request and connection, and the pings and pongs it got (as text). */
export interface Seen {
  requests: SessionRequest[];
  connections: WebSocketConnection[];
  pings: string[];
  pongs: string[];
}

/**
 * The routed server's connection handler, recording into the returned `seen`: `/close?code=…&reason=…`
 * closes with them, `/ping` pings `srv-ping`, `/fragments` sends a text and a binary message in
 * fragments, anything else echoes.
 */
export function routedHandler(): { seen: Seen; handler: (ws: WebSocketConnection, request: SessionRequest) => void } {
  const seen: Seen = { requests: [], connections: [], pings: [], pongs: [] };
  const decoder = new TextDecoder();
  const handler = (ws: WebSocketConnection, request: SessionRequest): void => {
    seen.requests.push(request);
    seen.connections.push(ws);
    ws.on('error', () => {});
    ws.on('ping', (data) => seen.pings.push(decoder.decode(data)));
    ws.on('pong', (data) => seen.pongs.push(decoder.decode(data)));
    const params = new URLSearchParams(request.query);
    if (request.path === '/close') ws.close(Number(params.get('code')), params.get('reason') ?? '');
    else if (request.path === '/ping') ws.ping('srv-ping');
    else if (request.path === '/fragments') {
      ws.sendFragment('frag', false);
      ws.sendFragment('men', false);
      ws.sendFragment('ted ✓', true);
      ws.sendFragment(new Uint8Array([1, 2]), false);
      ws.sendFragment(new Uint8Array([3]), true);
    } else ws.on('message', (data) => ws.send(data));
  };
  return { seen, handler };
}

/** A runtime's `ourServer` helper: its server on a free port of 127.0.0.1. */
export type OurServer = (
  options: typeof ROUTED_OPTIONS,
  onConnection: (ws: WebSocketConnection, request: SessionRequest) => void,
) => Promise<{ server: { close(): Promise<unknown> }; url: string }>;

/** The routed server on `ourServer`: `start()` resolves with its ws:// URL, `close()` stops it; `seen` is what it saw. */
export function routedServer(ourServer: OurServer): {
  seen: Seen;
  start(): Promise<string>;
  close(): Promise<unknown>;
} {
  const { seen, handler } = routedHandler();
  let server: { close(): Promise<unknown> } | undefined;
  return {
    seen,
    start: async () => {
      const started = await ourServer(ROUTED_OPTIONS, handler);
      server = started.server;
      return started.url;
    },
    close: () => within(server!.close(), 15_000, 'server.close'),
  };
}
