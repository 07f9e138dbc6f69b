// A server created with default options pings a silent peer after exactly
// DEFAULT_SERVER_SESSION_TIMEOUTS.keepaliveInterval (30 s), on every runtime: run by each
// runtime's tests (vitest, deno test, bun test) against its own `createServer` and `connect`,
// over real sockets, with the server's session timers on a fake clock (its `timers` and
// `clock` options), so no test waits 30 s. Our client, with its defaults, never pings.
import { DEFAULT_SERVER_SESSION_TIMEOUTS } from '../../packages/codec/src/limits.ts';
import type { SessionOptions, WebSocketConnection } from '../../packages/codec/src/session/index.ts';
import { assertEquals } from './assert.ts';
import { fakeTimers } from './fake-timers.ts';
import { sleep, until, within } from './wait.ts';

/**
 * `serve(options, onConnection)` starts the runtime's server with `options` added to its
 * defaults and returns its URL and a close function; `connect` is the runtime's client.
 */
export async function checkServerKeepaliveDefault(
  serve: (
    options: Pick<SessionOptions, 'timers' | 'clock'>,
    onConnection: (ws: WebSocketConnection) => void,
  ) => Promise<{ url: string; close(): Promise<void> }>,
  connect: (url: string) => Promise<WebSocketConnection>,
): Promise<void> {
  const time = fakeTimers();
  const serverPongs: number[] = [];
  const server = await serve(time.options, (ws) => void ws.on('pong', () => serverPongs.push(1)));
  try {
    const ws = await within(connect(server.url), 10_000, 'connect');
    let pings = 0;
    ws.on('ping', () => pings++);
    const interval = DEFAULT_SERVER_SESSION_TIMEOUTS.keepaliveInterval;
    time.advance(interval - 1);
    await sleep(100); // a ping sent now would arrive within this on loopback
    assertEquals(pings, 0, 'pings before the keepalive interval');
    time.advance(1);
    await until(() => pings === 1, 'the keepalive ping at 30 s');
    await until(() => serverPongs.length === 1, 'our client’s automatic pong reaching the server');
    time.advance(interval);
    await until(() => pings === 2, 'the second keepalive ping');
    assertEquals(ws.readyState, 'open');
    ws.close();
    await within(ws.closed, 10_000, 'close');
  } finally {
    await server.close();
  }
}
