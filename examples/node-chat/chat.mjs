/**
 * A chat room on an existing `node:http` server: the page at `/`, WebSocket upgrades at `/ws`
 * handed to `@ws/node`'s `handleUpgrade`, every message broadcast to everyone in the room.
 *
 * The room and its wire protocol are in room.mjs (shared with the Deno and Bun examples);
 * shutting down closes everyone with 1001 "server shutting down". The page shows the code and
 * reason.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { handleUpgrade, permessageDeflate } from '@ws/node';

import { chatServerOptions, createRoom } from './room.mjs';

const PAGE = readFileSync(new URL('./index.html', import.meta.url));

/** @param {import('./chat.d.mts').ChatOptions} [options] */
export function createChatServer(options = {}) {
  const { people: room, join } = createRoom(options.log);
  /** Every WebSocket connection, open or still in its handshake. */
  const connections = new Set();
  const wsOptions = chatServerOptions([permessageDeflate()]);

  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && (pathname === '/' || pathname === '/index.html')) {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': PAGE.length,
        'cache-control': 'no-store',
      });
      res.end(PAGE);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });

  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const ws = handleUpgrade(req, socket, head, wsOptions, join);
    connections.add(ws);
    void ws.closed.then(() => connections.delete(ws));
  });

  return {
    server,
    room,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve(server.address());
        });
      });
    },
    /** Close every chat connection (1001 by default), then the HTTP server. */
    async close(code = 1001, reason = 'server shutting down') {
      const closing = [...connections].map((ws) => {
        ws.close(code, reason); // one still in its handshake is aborted
        return ws.closed;
      });
      const stopped = new Promise((resolve) => server.close(() => resolve()));
      await Promise.all(closing);
      server.closeAllConnections(); // idle keep-alive HTTP connections
      await stopped;
    },
  };
}
