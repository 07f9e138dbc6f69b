/**
 * A chat room on one port with Deno: the page at `/`, the WebSocket at `/ws`, every message
 * broadcast to everyone in the room. The room and its wire protocol are examples/node-chat/room.mjs,
 * shared with the Node and Bun examples; shutting down closes everyone with 1001 "server shutting
 * down".
 *
 * Why our own listener: `Deno.serve` answers HTTP well but cannot hand over its raw socket, and
 * `@ws/deno` needs the socket (its codec does the handshake). Two ports (Deno.serve for the page,
 * @ws/deno for /ws) would work but make the page know a second port and the Origin check compare
 * two origins. So this file owns the TCP listener, reads each connection's request head, answers
 * `GET /` itself with a tiny HTTP/1.1 response, and passes `/ws` connections — with the bytes
 * already read — to `server.handleSocket(conn, head)`, which validates the upgrade fully.
 * The head reader is bounded (16 KiB, 10 s) so a slow or huge request cannot hold a connection.
 *
 * Permissions: `--allow-net` (listen), `--allow-read` for index.html.
 */
import { createServer, permessageDeflate, type WebSocketConnection } from '@ws/deno';
import { chatServerOptions, createRoom } from '../node-chat/room.mjs';

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

const MAX_HEAD = 16 * 1024;
const HEAD_TIMEOUT = 10_000;
const encoder = new TextEncoder();

export async function createChatServer(options: ChatOptions = {}): Promise<ChatServer> {
  const page = await Deno.readFile(new URL('../node-chat/index.html', import.meta.url));
  const { people: room, join } = createRoom<WebSocketConnection>(options.log);
  /** Connections whose request head is still being read. */
  const routing = new Set<Deno.Conn>();
  let listener: Deno.Listener | null = null;
  let accepting: Promise<void> = Promise.resolve();

  const ws = createServer(chatServerOptions([permessageDeflate()]), join);

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
        ws.handleSocket(conn, bytes); // the codec checks method, headers, Origin…
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
