// A standalone server keeps no closures per connection: the socket's listeners are shared and
// find their transport on the socket, and the server learns of a socket's close from the
// transport. What must hold: `connections` and `close()` track every socket, open or still in
// its handshake, and the request carries the peer's address.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, createServer, type WebSocketConnection } from '../src/index.ts';
import { HOST, ourServer, sleep, until, within, wsClient } from './helpers.ts';

describe('WebSocketServer: tracking sockets without per-connection closures', () => {
  it('connections come and go; the request holds the peer address; close() waits for all', async () => {
    const opened: WebSocketConnection[] = [];
    const { server, url } = await ourServer({}, (ws) => {
      opened.push(ws);
      ws.on('message', (data) => ws.send(data));
    });
    try {
      const clients = await Promise.all([wsClient(url), wsClient(url), wsClient(url)]);
      await until(() => server.connections.size === 3, 'three open');
      for (const [i, ws] of opened.entries()) {
        const local =
          (clients.find(
            (c) => (c as unknown as { _socket: net.Socket })._socket.localPort === ws.request!.remotePort,
          ) ?? null) !== null;
        expect(local, `connection ${i}: remotePort is a client's local port`).toBe(true);
        expect(ws.request!.remoteAddress).toBe(HOST);
      }
      // An echo still works (reads, writes, the drain path).
      const echo = new Promise<string>((resolve) => clients[0]!.once('message', (data) => resolve(String(data))));
      clients[0]!.send('x'.repeat(100_000));
      expect((await within(echo, 10_000, 'echo')).length).toBe(100_000);

      clients[1]!.close();
      await until(() => server.connections.size === 2, 'one gone');
      expect(server.connections.has(opened[1]!) || server.connections.has(opened[0]!)).toBe(true);
      clients[2]!.terminate();
      await until(() => server.connections.size === 1, 'two gone');

      // A socket that never finishes its handshake, then one that gives up mid-way.
      const { port } = server.address()!;
      const stuck = net.connect(port, HOST);
      await new Promise((resolve) => stuck.once('connect', resolve));
      stuck.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const quitter = net.connect(port, HOST);
      await new Promise((resolve) => quitter.once('connect', resolve));
      quitter.write('GET / HTTP/1.1\r\n');
      quitter.destroy();
      await sleep(50);
      const stuckClosed = new Promise((resolve) => stuck.once('close', resolve));
      await within(server.close(), 10_000, 'server.close');
      await within(stuckClosed, 10_000, 'the stuck socket dropped');
      expect(server.connections.size).toBe(0);
      expect(opened[0]!.readyState).toBe('closed');
    } finally {
      if (server.server.listening) await server.close();
    }
  });

  it('connections reads like a Set: in order of opening, and a loop that awaits sees every one open when it began', async () => {
    const opened: WebSocketConnection[] = [];
    const { server, url } = await ourServer({}, (ws) => opened.push(ws));
    try {
      const clients = [];
      // One at a time, so that the order of opening is known.
      for (let i = 0; i < 4; i++) {
        clients.push(await wsClient(url));
        await until(() => opened.length === i + 1, `connection ${i} open`);
      }
      expect([...server.connections]).toEqual(opened);
      expect([...server.connections.keys()]).toEqual(opened);
      expect([...server.connections.entries()]).toEqual(opened.map((ws) => [ws, ws]));
      const seen: WebSocketConnection[] = [];
      server.connections.forEach((ws, same, set) => {
        expect(same).toBe(ws);
        expect(set).toBe(server.connections);
        seen.push(ws);
      });
      expect(seen).toEqual(opened);

      // Connections that go while the loop awaits do not cut it short.
      const visited: WebSocketConnection[] = [];
      for (const ws of server.connections) {
        visited.push(ws);
        if (visited.length === 1) {
          clients[1]!.terminate();
          await until(() => !server.connections.has(opened[1]!), 'the second one gone');
        }
      }
      expect(visited).toEqual(opened);
      expect(server.connections.size).toBe(3);
      expect([...server.connections]).toEqual([opened[0], opened[2], opened[3]]);
      expect(server.connections.has(opened[3]!)).toBe(true);
      // Another server's connection, a client's, or anything else: not this server's.
      const other = await ourServer({}, () => {});
      try {
        const ours = await connect(other.url);
        await until(() => other.server.connections.size === 1, 'the other server has one');
        const [theirs] = [...other.server.connections];
        expect(other.server.connections.has(theirs!)).toBe(true);
        expect(server.connections.has(theirs!)).toBe(false);
        expect(server.connections.has(ours)).toBe(false);
        expect(server.connections.has({} as WebSocketConnection)).toBe(false);
        ours.close();
      } finally {
        await within(other.server.close(), 10_000, 'other server.close');
      }
      for (const client of clients) client.close();
    } finally {
      await within(server.close(), 10_000, 'server.close');
    }
  });
});

describe('createServer checks its options at once', () => {
  it('refuses options the session or codec would refuse, before any socket', () => {
    // At the first accept they would throw inside the server and take the process down.
    expect(() => createServer({ maxBufferedAmount: 1000 })).toThrow(
      expect.objectContaining({ name: 'WebSocketUsageError' }),
    );
    expect(() => createServer({ limits: { maxFrameSize: -1 } })).toThrow(
      expect.objectContaining({ name: 'WebSocketUsageError' }),
    );
    expect(() => createServer({ highWaterMark: 1024, maxBufferedAmount: 4096 })).not.toThrow();
  });
});
