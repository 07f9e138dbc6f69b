// A server's registry of live connections, once for every runtime and for both kinds of server
// (a standalone `createServer` and an upgrade handler over sockets accepted elsewhere): the
// tracked count, close-all, and a graceful shutdown with a client that answers the close and one
// that never does. Each runtime's test file passes its server factory, its `connect` and a raw
// socket that completes the handshake and then goes silent. Failures are thrown.
import type {
  ConnectionSet,
  SessionCloseInfo,
  ShutdownOptions,
  WebSocketConnection,
} from '../../packages/codec/src/session/index.ts';
import net from 'node:net';
import { assert, assertEquals } from './assert.ts';
import { UPGRADE_REQUEST } from './backpressure.ts';
import { until, within } from './wait.ts';

/** What the scenarios use of a server or an upgrade handler (the same on every adapter). */
export interface TrackingServer {
  readonly connections: ConnectionSet;
  readonly registry: { readonly size: number };
  closeAll(code?: number, reason?: string): void;
  close(code?: number, reason?: string): Promise<void>;
  shutdown(options?: ShutdownOptions): Promise<void>;
}

/**
 * A runtime's server (or upgrade handler behind a listener of its own) on a free port of
 * 127.0.0.1, with `options` and `onConnection`. `stop()` closes the listener the test made (a
 * no-op for a standalone server, whose `close`/`shutdown` closes its own).
 */
export type TrackingServerFactory = (
  options: { timeouts?: { closeTimeout?: number } },
  onConnection: (ws: WebSocketConnection) => void,
) => Promise<{ server: TrackingServer; url: string; port: number; stop(): Promise<void> }>;

/** A runtime's `createServer` as a factory for the scenarios (its own listener, on 127.0.0.1). */
export function standaloneFactory(
  createServer: (
    options: object,
    onConnection: (ws: WebSocketConnection) => void,
  ) => TrackingServer & { listen(port: number, host: string): Promise<{ port: number }> },
): TrackingServerFactory {
  return async (options, onConnection) => {
    const server = createServer(options, onConnection);
    const { port } = await server.listen(0, '127.0.0.1');
    return { server, url: `ws://127.0.0.1:${port}`, port, stop: () => Promise.resolve() };
  };
}

/** A client of ours (answers a Close as the RFC says). */
export type Connect = (url: string) => Promise<WebSocketConnection>;

/**
 * A raw TCP peer: sends an upgrade, reads the 101, then never reads or writes again (so never
 * answers a Close). Resolves with how to drop it.
 */
export type SilentPeer = (port: number) => Promise<() => void>;

/** Every connection counted while open; closeAll closes each with its code and reason, and the server goes on accepting. */
export async function trackedAndCloseAll(factory: TrackingServerFactory, connect: Connect): Promise<void> {
  const opened: WebSocketConnection[] = [];
  const { server, url, stop } = await factory({}, (ws) => opened.push(ws));
  try {
    const clients = [];
    for (let i = 0; i < 3; i++) {
      clients.push(await within(connect(url), 10_000, 'connect'));
      await until(() => opened.length === i + 1, `connection ${i} open`);
    }
    assertEquals(server.connections.size, 3, 'three open');
    assertEquals(server.registry.size, 3, 'three tracked');
    assertEquals([...server.connections], opened, 'in order of opening');
    assert(
      opened.every((ws) => server.connections.has(ws)),
      'has() each',
    );

    // One leaves by itself.
    clients[0]!.close(1000, 'leaving');
    await within(clients[0]!.closed, 10_000, 'client 0 closed');
    await until(() => server.connections.size === 2, 'one gone');
    assert(!server.connections.has(opened[0]!), 'the closed one is no longer a member');

    const infos = clients.slice(1).map((client) => client.closed);
    server.closeAll(4001, 'maintenance');
    const seen: SessionCloseInfo[] = await within(Promise.all(infos), 10_000, 'closeAll reached the clients');
    assertEquals(
      seen.map((info) => [info.code, info.reason, info.wasClean]),
      [
        [4001, 'maintenance', true],
        [4001, 'maintenance', true],
      ],
      'each client got the code and reason',
    );
    await until(() => server.registry.size === 0, 'every connection ended');
    assertEquals(server.connections.size, 0, 'none open');

    // closeAll does not stop the server: a new client still connects.
    const late = await within(connect(url), 10_000, 'connect after closeAll');
    await until(() => server.connections.size === 1, 'the late one counted');
    late.close();
    await within(late.closed, 10_000, 'late closed');
  } finally {
    await within(server.close(), 15_000, 'server.close');
    await stop();
  }
  assertEquals(server.registry.size, 0, 'nothing tracked after close');
}

/**
 * shutdown(): the client that answers is closed cleanly with 1001, the silent one is terminated
 * once the shutdown timeout has passed (the server's own close timeout is far longer, so only the
 * shutdown's can end it), and the server stops accepting.
 */
export async function gracefulShutdown(
  factory: TrackingServerFactory,
  connect: Connect,
  silentPeer: SilentPeer,
): Promise<void> {
  const SHUTDOWN_TIMEOUT = 300;
  const CLOSE_TIMEOUT = 120_000; // the codec would wait this long for the silent peer's Close
  const serverSide: WebSocketConnection[] = [];
  const { server, url, port, stop } = await factory({ timeouts: { closeTimeout: CLOSE_TIMEOUT } }, (ws) => {
    ws.on('error', () => {});
    serverSide.push(ws);
  });
  let drop: (() => void) | undefined;
  try {
    const polite = await within(connect(url), 10_000, 'connect');
    await until(() => serverSide.length === 1, 'polite open');
    drop = await within(silentPeer(port), 10_000, 'silent peer upgrade');
    await until(() => serverSide.length === 2, 'silent open');
    assertEquals(server.connections.size, 2, 'both tracked');
    const [politeSide, silentSide] = serverSide as [WebSocketConnection, WebSocketConnection];

    // Bounded by the shutdown timeout: well under the close timeout the silent peer would otherwise hold it for.
    await within(server.shutdown({ timeout: SHUTDOWN_TIMEOUT }), CLOSE_TIMEOUT / 4, 'shutdown');
    assertEquals(server.registry.size, 0, 'nothing tracked after shutdown');
    assertEquals(server.connections.size, 0, 'none open after shutdown');
    const politeInfo = politeSide.closeInfo!;
    assertEquals([politeInfo.code, politeInfo.wasClean], [1001, true], 'the polite client closed cleanly with 1001');
    const clientInfo = await within(polite.closed, 10_000, 'polite client closed');
    assertEquals(
      [clientInfo.code, clientInfo.reason, clientInfo.wasClean],
      [1001, 'server shutting down', true],
      "the polite client's view",
    );
    const silentInfo = silentSide.closeInfo!;
    assertEquals([silentInfo.code, silentInfo.wasClean], [1006, false], 'the silent peer was terminated');

    // No longer accepting.
    // (An upgrade handler's own listener may still accept TCP: the handler must drop the socket.)
    let refused: boolean;
    try {
      const again = await within(connect(url), 10_000, 'connect after shutdown');
      again.terminate();
      refused = false;
    } catch {
      refused = true;
    }
    assert(refused, 'a connection after shutdown is refused or dropped');
  } finally {
    drop?.();
    await stop();
  }
}

/**
 * `handleSocket(socket, head)` where the bytes a router read end inside the first frame's header:
 * the connection keeps its own copy of `head`, so the router may reuse its buffer as soon as the
 * call returns (each runtime's upgrade-handler factory overwrites it then), and the frame completed
 * by the socket's next bytes comes back intact. (Bun's handler used to keep the caller's buffer:
 * the zeroed header bytes then made another frame.) The peer is a raw node:net socket, which every
 * runtime has.
 */
export async function headEndingInAFrame(factory: TrackingServerFactory): Promise<void> {
  const { server, port, stop } = await factory({}, (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data) => ws.send(data));
  });
  const socket = net.connect(port, '127.0.0.1');
  try {
    await within(
      new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)),
      10_000,
      'tcp',
    );
    // 1,000 bytes of text (a 16-bit length).
    const payload = new TextEncoder().encode('hello, head. '.repeat(84).slice(0, 1000));
    const mask = [0x11, 0x22, 0x33, 0x44];
    const frame = Uint8Array.of(
      0x81,
      0x80 | 126,
      payload.length >> 8,
      payload.length & 0xff,
      ...mask,
      ...payload.map((b, i) => b ^ (mask[i % 4] ?? 0)),
    );
    const split = 3; // the head ends inside the frame's header: the parser holds those bytes
    let received = new Uint8Array(0);
    socket.on('data', (chunk: Uint8Array) => {
      const next = new Uint8Array(received.length + chunk.length);
      next.set(received);
      next.set(chunk, received.length);
      received = next;
    });
    // The request and the start of the frame in one write (one read on loopback).
    const request = new TextEncoder().encode(UPGRADE_REQUEST);
    const first = new Uint8Array(request.length + split);
    first.set(request);
    first.set(frame.subarray(0, split), request.length);
    socket.write(first);
    const headEnd = (): number => {
      for (let i = 0; i + 3 < received.length; i++)
        if (received[i] === 13 && received[i + 1] === 10 && received[i + 2] === 13 && received[i + 3] === 10)
          return i + 4;
      return -1;
    };
    await until(() => headEnd() > 0, 'the 101');
    assert(new TextDecoder().decode(received.subarray(0, 12)) === 'HTTP/1.1 101', 'switched protocols');
    socket.write(frame.subarray(split));
    const at = headEnd();
    await until(() => received.length >= at + 4 + payload.length, 'the echo');
    assertEquals(
      [...received.subarray(at, at + 4)],
      [0x81, 126, payload.length >> 8, payload.length & 0xff],
      'its header',
    );
    const echoed = new TextDecoder().decode(received.subarray(at + 4, at + 4 + payload.length));
    assert(echoed === new TextDecoder().decode(payload), 'echoed intact (the head was not the connection’s own copy)');
  } finally {
    socket.destroy();
    await within(server.close(), 15_000, 'server.close');
    await stop();
  }
}
