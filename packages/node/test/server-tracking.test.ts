// A standalone server keeps no closures per connection: the socket's listeners are shared and
// find their transport on the socket, and the server learns of a socket's close from the
// transport. What must hold: `connections` and `close()` track every socket, open or still in
// its handshake, and the request carries the peer's address.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { WebSocketConnection } from '../src/index.ts';
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
        const local = (clients.find((c) => (c as unknown as { _socket: net.Socket })._socket.localPort === ws.request!.remotePort) ?? null) !== null;
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
});
