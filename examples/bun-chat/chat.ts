/**
 * A chat room on one port with Bun: the page at `/`, the WebSocket at `/ws`, every message
 * broadcast to everyone in the room. The room and its wire protocol are examples/node-chat/room.mjs,
 * shared with the Node and Deno examples; shutting down closes everyone with 1001 "server shutting
 * down".
 *
 * One server answers both, in the shape Bun users know from `Bun.serve({ fetch, websocket })`
 * (options from room.mjs's chatHttpOptions):
 * `fetch` serves the plain HTTP requests (the page, 404s, and a 426 for a plain GET of `/ws`),
 * upgrades go to the WebSocket handshake, which `verifyClient` limits to `/ws`. HTTP parsing,
 * keep-alive, limits and timeouts are @ws/bun's, as for the upgrade.
 */
import { createServer, permessageDeflate, type WebSocketConnection } from '@ws/bun';
import { chatHttpOptions, chatServerOptions, createRoom } from '../node-chat/room.mjs';

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

export async function createChatServer(options: ChatOptions = {}): Promise<ChatServer> {
  const page = await Bun.file(new URL('../node-chat/index.html', import.meta.url)).bytes();
  const { people: room, join } = createRoom<WebSocketConnection>(options.log);

  const server = createServer({ ...chatServerOptions([permessageDeflate()]), ...chatHttpOptions(page) }, join);

  return {
    room,
    listen(port = 8080, host = '127.0.0.1') {
      void server.listen(port, host); // Bun.listen binds at once: the address is known now
      return { port: server.address()!.port };
    },
    close(code = 1001, reason = 'server shutting down') {
      return server.close(code, reason);
    },
  };
}
