/**
 * A chat room on one port with Deno: the page at `/`, the WebSocket at `/ws`, every message
 * broadcast to everyone in the room. The same room and wire protocol as examples/node-chat:
 *   page → server  { "type": "say", "text": "…" }
 *   server → page  { "type": "welcome", "name", "people" } once, then
 *                  { "type": "message", "from", "text", "at" } · { "type": "join" | "leave", "name" }
 * The name comes from the URL (`/ws?name=alice`). A name already in the room is closed with
 * 4009 "name taken"; anything but a well-formed `say` with 1008 (1003 for binary); shutting
 * down closes everyone with 1001 "server shutting down".
 *
 * Why our own listener: `Deno.serve` answers HTTP well but cannot hand over its raw socket, and
 * `@ws/deno` needs the socket (its codec does the handshake). Two ports (Deno.serve for the page,
 * @ws/deno for /ws) would work but make the page know a second port and the Origin check compare
 * two origins. So this file owns the TCP listener, reads each connection's request head, answers
 * `GET /` itself with a tiny HTTP/1.1 response, and passes `/ws` connections — with the bytes
 * already read — to `server.handleConnection(conn, head)`, which validates the upgrade fully.
 * The head reader is bounded (16 KiB, 10 s) so a slow or huge request cannot hold a connection.
 *
 * Permissions: `--allow-net` (listen), `--allow-read` for index.html.
 */
import { createServer, permessageDeflate, type SessionRequest, type WebSocketConnection } from '@ws/deno';

export interface ChatOptions {
  /** One line per join, leave and connection error. */
  log?: (line: string) => void;
}

export interface ChatServer {
  /** Who is in the room. */
  room: Map<string, WebSocketConnection>;
  listen(port?: number, host?: string): Deno.NetAddr;
  /** Close every chat connection with `code` (default 1001 "server shutting down"), then stop listening. */
  close(code?: number, reason?: string): Promise<void>;
}

const NAME = /^[\p{L}\p{N}_.-]{1,24}$/u;
const MAX_TEXT = 2000;
const MAX_HEAD = 16 * 1024;
const HEAD_TIMEOUT = 10_000;
const encoder = new TextEncoder();

export async function createChatServer(options: ChatOptions = {}): Promise<ChatServer> {
  const log = options.log ?? (() => {});
  const page = await Deno.readFile(new URL('../node-chat/index.html', import.meta.url));
  const room = new Map<string, WebSocketConnection>();
  /** Connections whose request head is still being read. */
  const routing = new Set<Deno.Conn>();
  let guests = 0;
  let listener: Deno.Listener | null = null;
  let accepting: Promise<void> = Promise.resolve();

  const broadcast = (message: unknown): void => {
    const data = JSON.stringify(message);
    for (const peer of room.values()) peer.send(data);
  };

  const onConnection = (ws: WebSocketConnection, request: SessionRequest): void => {
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
      let message: { type?: unknown; text?: unknown } | null;
      try {
        message = JSON.parse(data as string);
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
  };

  const ws = createServer(
    {
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
    },
    onConnection,
  );

  /** Read one request head: the bytes up to and including the blank line, or null. */
  async function readHead(conn: Deno.Conn): Promise<Uint8Array | null> {
    const buffer = new Uint8Array(MAX_HEAD);
    let length = 0;
    const timer = setTimeout(() => conn.close(), HEAD_TIMEOUT);
    try {
      while (length < MAX_HEAD) {
        const n = await conn.read(buffer.subarray(length));
        if (n === null) return null;
        length += n;
        const end = indexOfBlankLine(buffer, length);
        if (end !== -1) return buffer.slice(0, length); // the head, and anything after it
      }
      return null; // too large
    } catch {
      return null; // timed out (closed) or reset
    } finally {
      clearTimeout(timer);
    }
  }

  async function respond(conn: Deno.Conn, status: string, type: string, body: Uint8Array): Promise<void> {
    const head = `HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n`;
    const headBytes = encoder.encode(head);
    const bytes = new Uint8Array(headBytes.length + body.length);
    bytes.set(headBytes);
    bytes.set(body, headBytes.length);
    for (let offset = 0; offset < bytes.length; ) offset += await conn.write(bytes.subarray(offset));
  }

  async function route(conn: Deno.Conn): Promise<void> {
    routing.add(conn);
    let handedOver = false;
    try {
      const bytes = await readHead(conn);
      if (bytes === null) return;
      const [method = '', target = ''] = new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0x0d))).split(' ');
      const path = target.split('?')[0];
      if (path === '/ws') {
        handedOver = true;
        ws.handleConnection(conn, bytes); // the codec checks method, headers, Origin…
      } else if (method === 'GET' && (path === '/' || path === '/index.html')) {
        await respond(conn, '200 OK', 'text/html; charset=utf-8', page);
      } else {
        await respond(conn, '404 Not Found', 'text/plain', encoder.encode('not found\n'));
      }
    } catch {
      // the client went away
    } finally {
      routing.delete(conn);
      if (!handedOver) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    }
  }

  async function acceptLoop(l: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await l.accept();
      } catch {
        return; // closed
      }
      void route(conn);
    }
  }

  return {
    room,
    listen(port = 0, host = '127.0.0.1') {
      listener = Deno.listen({ hostname: host, port });
      accepting = acceptLoop(listener);
      return listener.addr as Deno.NetAddr;
    },
    async close(code = 1001, reason = 'server shutting down') {
      try {
        listener?.close();
      } catch {
        // already closed
      }
      listener = null;
      await accepting;
      for (const conn of routing) conn.close(); // route() sees the read fail and cleans up
      await ws.close(code, reason);
    },
  };
}

function indexOfBlankLine(buffer: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (buffer[i] === 0x0a && buffer[i - 1] === 0x0d && buffer[i - 2] === 0x0a && buffer[i - 3] === 0x0d) return i + 1;
  }
  return -1;
}
