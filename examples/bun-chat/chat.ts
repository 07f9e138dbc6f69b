/**
 * A chat room on one port with Bun: the page at `/`, the WebSocket at `/ws`, every message
 * broadcast to everyone in the room. The room and its wire protocol are examples/node-chat/room.mjs,
 * shared with the Node and Deno examples; shutting down closes everyone with 1001 "server shutting
 * down".
 *
 * Why our own listener: `Bun.serve` answers HTTP well but cannot hand over its raw socket, and
 * `@ws/bun` needs the socket (its codec does the handshake). Two ports (Bun.serve for the page,
 * @ws/bun for /ws) would work but make the page know a second port and the Origin check compare
 * two origins. So this file owns the `Bun.listen` listener: every socket gets a `BunTransport`
 * (which already handles partial writes), a small reader collects the request head (bounded:
 * 16 KiB, 10 s), `GET /` is answered with a tiny HTTP/1.1 response, and `/ws` sockets — with the
 * bytes already read — go to `server.handleSocket(socket, head)`, which validates the upgrade.
 */
import type { Socket, TCPSocketListener } from 'bun';
import { BunTransport, createServer, permessageDeflate, socketHandlers, type WebSocketConnection } from '@ws/bun';
import { chatServerOptions, createRoom } from '../node-chat/room.mjs';

export interface ChatOptions {
  /** One line per join, leave and connection error. */
  log?: (line: string) => void;
}

export interface ChatServer {
  /** Who is in the room. */
  room: Map<string, WebSocketConnection>;
  listen(port?: number, host?: string): { port: number };
  /** Close every chat connection with `code` (default 1001 "server shutting down"), then stop listening. */
  close(code?: number, reason?: string): Promise<void>;
}

const MAX_HEAD = 16 * 1024;
const HEAD_TIMEOUT = 10_000;
const encoder = new TextEncoder();
const STATUS: Record<number, string> = { 200: 'OK', 404: 'Not Found', 405: 'Method Not Allowed', 431: 'Request Header Fields Too Large' };

export async function createChatServer(options: ChatOptions = {}): Promise<ChatServer> {
  const page = await Bun.file(new URL('../node-chat/index.html', import.meta.url)).bytes();
  const { people: room, join } = createRoom<WebSocketConnection>(options.log);
  /** Sockets whose request head is still being read, or that get a plain HTTP answer. */
  const plain = new Set<BunTransport>();
  let listener: TCPSocketListener<BunTransport> | null = null;

  const server = createServer(chatServerOptions([permessageDeflate()]), join);

  /** A plain HTTP/1.1 answer, then FIN (the transport writes what the socket did not take at once). */
  function respond(transport: BunTransport, status: number, type: string, body: Uint8Array): void {
    const head = `HTTP/1.1 ${status} ${STATUS[status]}\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n`;
    transport.write([encoder.encode(head), body]);
    transport.end();
  }

  /** Every accepted socket starts here: read its request head, then route it. */
  function open(socket: Socket<BunTransport>): void {
    const transport = new BunTransport();
    socket.data = transport;
    plain.add(transport);
    // Also bounds how long a plain HTTP client may keep its socket after our answer.
    const timer = setTimeout(() => transport.destroy(), HEAD_TIMEOUT);
    let buffer = new Uint8Array(0);
    let routed = false;
    transport.attach({
      onData(chunk) {
        if (routed) return;
        const joined = new Uint8Array(buffer.length + chunk.length);
        joined.set(buffer);
        joined.set(chunk, buffer.length);
        buffer = joined;
        const end = indexOfBlankLine(buffer);
        if (end === -1) {
          if (buffer.length > MAX_HEAD) {
            routed = true;
            respond(transport, 431, 'text/plain', encoder.encode('request head too large\n'));
          }
          return;
        }
        routed = true;
        const [method = '', target = ''] = new TextDecoder('latin1').decode(buffer.subarray(0, buffer.indexOf(13))).split(' ');
        const path = target.split('?')[0];
        if (path === '/ws') {
          clearTimeout(timer);
          plain.delete(transport);
          server.handleSocket(socket, buffer); // the codec checks the whole upgrade request
        } else if (path !== '/' && path !== '/index.html') respond(transport, 404, 'text/plain', encoder.encode('not found\n'));
        else if (method !== 'GET') respond(transport, 405, 'text/plain', encoder.encode('GET only\n'));
        else respond(transport, 200, 'text/html; charset=utf-8', page);
      },
      onDrain() {},
      onEnd() {
        if (!routed) transport.destroy(); // gave up before sending a whole head
      },
      onClose() {
        clearTimeout(timer);
        plain.delete(transport);
      },
    });
    transport.opened(socket);
  }

  return {
    room,
    listen(port = 8080, host = '127.0.0.1') {
      listener = Bun.listen<BunTransport>({ hostname: host, port, allowHalfOpen: true, socket: { ...socketHandlers, open } });
      return { port: listener.port };
    },
    async close(code = 1001, reason = 'server shutting down') {
      listener?.stop(false);
      for (const transport of plain) transport.destroy();
      await server.close(code, reason);
    },
  };
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.length; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  }
  return -1;
}
