/**
 * A chat room on an existing `node:http` server: the page at `/`, WebSocket upgrades at `/ws`
 * handed to `@ws/node`'s `handleUpgrade`, every message broadcast to everyone in the room.
 *
 * The wire protocol is JSON in text messages:
 *   page → server  { "type": "say", "text": "…" }
 *   server → page  { "type": "welcome", "name", "people" } once, then
 *                  { "type": "message", "from", "text", "at" } · { "type": "join" | "leave", "name" }
 * The name comes from the URL (`/ws?name=alice`). A name already in the room is closed with
 * 4009 "name taken"; anything but a well-formed `say` with 1008 (1003 for binary); shutting
 * down closes everyone with 1001 "server shutting down". The page shows the code and reason.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { handleUpgrade, permessageDeflate } from '@ws/node';

const PAGE = readFileSync(new URL('./index.html', import.meta.url));
const NAME = /^[\p{L}\p{N}_.-]{1,24}$/u;
const MAX_TEXT = 2000;

/** @param {import('./chat.d.mts').ChatOptions} [options] */
export function createChatServer(options = {}) {
  const log = options.log ?? (() => {});
  /** @type {Map<string, import('@ws/node').WebSocketConnection>} name → connection */
  const room = new Map();
  /** Every WebSocket connection, open or still in its handshake. */
  const connections = new Set();
  let guests = 0;

  const wsOptions = {
    // A browser always sends Origin: accept only pages served by this server (no cross-site
    // WebSocket hijacking); tools that send no Origin are allowed.
    origins: (origin, head) => origin === null || origin === `http://${head.headers.get('host')}`,
    limits: { maxMessageSize: 16 * 1024 },
    // Browsers offer compression; accept it (messages under 1 KiB are still sent as they are).
    extensions: [permessageDeflate()],
    // A reader that stops reading is dropped once 1 MiB waits for it, rather than held in memory.
    highWaterMark: 256 * 1024,
    maxBufferedAmount: 1024 * 1024,
    // Find dead peers: a ping after 30 s of silence, closed if nothing comes back.
    timeouts: { keepaliveInterval: 30_000 },
  };

  function broadcast(message) {
    const data = JSON.stringify(message);
    for (const peer of room.values()) peer.send(data);
  }

  function onConnection(ws, request) {
    const asked = new URLSearchParams(request.query).get('name')?.trim() || `guest-${++guests}`;
    ws.on('error', (error) => log(`${asked}: ${error.code} ${error.message}`));
    if (!NAME.test(asked)) return ws.close(1008, 'bad name: 1-24 letters, digits, _ . -');
    if (room.has(asked)) return ws.close(4009, 'name taken');
    const name = asked;
    room.set(name, ws);
    log(`${name} joined from ${request.remoteAddress}`);
    ws.send(JSON.stringify({ type: 'welcome', name, people: [...room.keys()] }));
    broadcast({ type: 'join', name });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text only');
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        return ws.close(1008, 'not JSON');
      }
      if (message?.type !== 'say' || typeof message.text !== 'string' || message.text.length > MAX_TEXT) return ws.close(1008, 'bad message');
      const text = message.text.trim();
      if (text !== '') broadcast({ type: 'message', from: name, text, at: Date.now() });
    });
    ws.on('close', (info) => {
      room.delete(name);
      log(`${name} left (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
      broadcast({ type: 'leave', name });
    });
  }

  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && (pathname === '/' || pathname === '/index.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': PAGE.length, 'cache-control': 'no-store' });
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
    const ws = handleUpgrade(req, socket, head, wsOptions, onConnection);
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
