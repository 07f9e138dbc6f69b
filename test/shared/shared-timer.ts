// A server's idle connections share one timer, on every runtime: run by each runtime's tests
// (vitest, deno test, bun test) against its own `createServer` and `connect`, over real
// sockets, with the server's session timers on a fake clock (its `timers` and `clock`
// options). With keepalive on, N open connections hold one armed timer between them, and each
// still gets its ping when the interval has passed (and the next an interval after, once
// answered); with idleTimeout, each still closes with 1001 no sooner than the timeout and by
// twice it; no timer is left once they have all closed.
import type { SessionOptions, WebSocketConnection } from '../../packages/codec/src/session/index.ts';
import { assertEquals } from './assert.ts';
import { fakeTimers } from './fake-timers.ts';
import { sleep, until, within } from './wait.ts';

type Serve = (
  options: Pick<SessionOptions, 'timers' | 'clock' | 'timeouts'>,
  onConnection: (ws: WebSocketConnection) => void,
) => Promise<{ url: string; close(): Promise<void> }>;

const CONNECTIONS = 20;

async function openAll(connect: (url: string) => Promise<WebSocketConnection>, url: string, opened: () => number) {
  const clients: WebSocketConnection[] = [];
  for (let i = 0; i < CONNECTIONS; i++) clients.push(await within(connect(url), 10_000, `connect ${i}`));
  await until(() => opened() === CONNECTIONS, 'every server connection open');
  return clients;
}

/** Keepalive: one armed timer for every connection, and every connection still pinged at the interval. */
export async function checkKeepaliveSharesOneTimer(
  serve: Serve,
  connect: (url: string) => Promise<WebSocketConnection>,
): Promise<void> {
  const time = fakeTimers();
  const interval = 1000;
  let opened = 0;
  let pongs = 0;
  const server = await serve(
    { ...time.options, timeouts: { keepaliveInterval: interval, keepaliveTimeout: 500 } },
    (ws) => {
      opened++;
      ws.on('pong', () => pongs++);
    },
  );
  try {
    const clients = await openAll(connect, server.url, () => opened);
    const pings = clients.map(() => 0);
    clients.forEach((ws, i) => void ws.on('ping', () => (pings[i] = (pings[i] ?? 0) + 1)));
    assertEquals(time.pendingCount(), 1, `timers armed for ${CONNECTIONS} idle server connections`);
    time.advance(interval - 1);
    await sleep(100); // a ping sent now would arrive within this on loopback
    assertEquals(pings.filter((n) => n > 0).length, 0, 'connections pinged before the keepalive interval');
    time.advance(1);
    await until(() => pings.every((n) => n === 1), 'a keepalive ping on every connection at the interval');
    assertEquals(time.pendingCount(), 1, 'timers armed after the pings');
    await until(() => pongs === CONNECTIONS, 'every pong back at the server');
    time.advance(interval); // answered: the next ping an interval after the first
    await until(() => pings.every((n) => n === 2), 'a second ping on every connection');
    for (const ws of clients) assertEquals(ws.readyState, 'open');
    for (const ws of clients) ws.close();
    await within(Promise.all(clients.map((ws) => ws.closed)), 10_000, 'close');
    await until(() => time.pendingCount() === 0, 'no timer armed once every connection has closed');
  } finally {
    await server.close();
  }
}

/** Idle timeout: every connection closes with 1001 between 1× and 2× `idleTimeout` through the shared timer. */
export async function checkIdleCloseSharesOneTimer(
  serve: Serve,
  connect: (url: string) => Promise<WebSocketConnection>,
): Promise<void> {
  const time = fakeTimers();
  const idle = 1000;
  let opened = 0;
  const server = await serve({ ...time.options, timeouts: { keepaliveInterval: 0, idleTimeout: idle } }, () => {
    opened++;
  });
  try {
    const clients = await openAll(connect, server.url, () => opened);
    assertEquals(time.pendingCount(), 1, `timers armed for ${CONNECTIONS} idle server connections`);
    time.advance(idle - 1);
    await sleep(100); // a Close sent now would arrive within this on loopback
    assertEquals(clients.filter((ws) => ws.readyState !== 'open').length, 0, 'closed before idleTimeout');
    time.advance(idle + 1); // by 2 × idleTimeout
    const infos = await within(Promise.all(clients.map((ws) => ws.closed)), 10_000, 'idle close');
    for (const info of infos) assertEquals([info.code, info.reason], [1001, 'idle timeout']);
    await until(() => time.pendingCount() === 0, 'no timer armed once every connection has closed');
  } finally {
    await server.close();
  }
}
