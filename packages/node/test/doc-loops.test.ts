// The two driver loops the docs give for the bare codec, run as written over real sockets: the
// code blocks of packages/codec/README.md ("The loop") and docs/sans-io.md ("The loop, complete"),
// read from the files, drive a server Connection on a node:net socket, and `ws` is the client.
// If a doc's loop stops working (or a doc loses its block), this fails.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { serverConnection } from '@ws/codec/server';
import type { Connection, Event } from '@ws/codec';
import { HOST, until, within, wsClient } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The first ```js block after `heading` in `file`. */
function jsBlock(file: string, heading: string): string {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const at = text.indexOf(heading);
  expect(at, `${file} has "${heading}"`).toBeGreaterThanOrEqual(0);
  const match = /```js\n([\s\S]*?)```/.exec(text.slice(at));
  expect(match, `${file} has a js block after "${heading}"`).not.toBeNull();
  return (match as RegExpExecArray)[1] as string;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A node:net server that runs `start(socket)` for each connection; its port. */
async function netServer(start: (socket: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    start(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** Echo over the server a doc's loop drives: text, then a close from the client with a code. */
async function echoThrough(port: number): Promise<{ echoed: string; code: number }> {
  const ws = await within(wsClient(`ws://${HOST}:${port}/`), 5000, 'the handshake');
  const echoed = await within(
    new Promise<string>((resolve) => {
      ws.once('message', (data) => resolve(String(data)));
      ws.send('through the doc');
    }),
    5000,
    'the echo',
  );
  const code = await within(
    new Promise<number>((resolve) => {
      ws.once('close', (c) => resolve(c));
      ws.close(4001, 'bye');
    }),
    5000,
    'the close',
  );
  return { echoed, code };
}

describe('the docs’ driver loops, run as written', () => {
  it('packages/codec/README.md "The loop" echoes and closes', async () => {
    // The block imports serverConnection and calls rearmTimer, which the README leaves to you.
    const body = jsBlock('packages/codec/README.md', '## The loop').replace(/^import .*$/m, '');
    const run = new Function('serverConnection', 'socket', 'rearmTimer', body) as (
      make: typeof serverConnection,
      socket: net.Socket,
      rearm: (due: number | null) => void,
    ) => void;
    const closedInfos: unknown[] = [];
    const port = await netServer((socket) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let conn: Connection | undefined;
      const rearm = (due: number | null): void => {
        clearTimeout(timer);
        if (due !== null && conn !== undefined) {
          const c = conn;
          timer = setTimeout(() => c.tick(performance.now()), Math.max(0, due - performance.now()));
        }
      };
      // Catch the Connection the block makes, to tick it and to see its `closed`.
      run(
        (...args) => {
          conn = serverConnection(...args);
          const next = conn.nextEvent.bind(conn);
          conn.nextEvent = () => {
            const event = next();
            if (event?.type === 'closed') closedInfos.push(event.info);
            return event;
          };
          return conn;
        },
        socket,
        rearm,
      );
      socket.on('close', () => clearTimeout(timer));
    });
    const { echoed, code } = await echoThrough(port);
    expect(echoed).toBe('through the doc');
    expect(code).toBe(4001);
    expect(closedInfos).toMatchObject([{ code: 4001, reason: 'bye', wasClean: true }]);
  });

  it('docs/sans-io.md "The loop, complete" echoes and closes', async () => {
    const body = jsBlock('docs/sans-io.md', '## The loop, complete');
    const run = new Function('conn', 'socket', 'deliver', body) as (
      conn: Connection,
      socket: net.Socket & { timer?: ReturnType<typeof setTimeout> },
      deliver: (event: Event) => void,
    ) => void;
    const events: string[] = [];
    const port = await netServer((socket) => {
      const conn = serverConnection();
      const deliver = (event: Event): void => {
        events.push(event.type);
        if (event.type === 'request') conn.send({ type: 'accept', protocol: null });
        else if (event.type === 'text') conn.send({ type: 'text', data: event.data });
      };
      run(conn, socket, deliver);
      socket.on('close', () => clearTimeout((socket as { timer?: ReturnType<typeof setTimeout> }).timer));
    });
    const { echoed, code } = await echoThrough(port);
    expect(echoed).toBe('through the doc');
    expect(code).toBe(4001);
    await until(() => events.includes('closed'), 'the closed event', 5000);
    expect(events).toEqual(['request', 'open', 'text', 'close', 'closed']);
  });
});
